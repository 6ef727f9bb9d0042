"""`GET`/`HEAD /v1/auth/verify`: the question a proxy asks before it lets a request through.

Shaped like oauth2-proxy's `/oauth2/auth` and Kratos's `/sessions/whoami` so nginx `auth_request`,
Traefik ForwardAuth and Caddy `forward_auth` can use it as they are: 200 with the identity in
`X-Auth-Request-*` headers (the proxy copies them to the upstream), 401 without a valid login.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import falcon

from entrypoints.http.audit import AuditLog
from entrypoints.http.context import KNOWN_METHODS
from entrypoints.http.representations import PublicUserJson

USER_HEADER = "X-Auth-Request-User"
EMAIL_HEADER = "X-Auth-Request-Email"
ADMIN_HEADER = "X-Auth-Request-Admin"
IDENTITY_HEADERS = (USER_HEADER, EMAIL_HEADER, ADMIN_HEADER)

METHOD = re.compile(r"[A-Z]{3,10}")
MAX_FORWARDED_URI = 8192
URI = re.compile(r"/[\x21-\x7e]*")
"""An origin-form request target (RFC 9112 3.2.1): a path from the root, printable ASCII, no spaces."""


def header_email(email: str) -> str:
    """The email as a header value: HTTP headers are ASCII by practice (WSGI: latin-1), so an
    internationalised address is percent-encoded as UTF-8; an ASCII one is sent as it is."""
    return email if email.isascii() else quote(email, safe="@!#$&'*+-/=?^_`{|}~.%")


class ForwardedRequest:
    """What the proxy says about the request it is asking about, checked before any session."""

    def __init__(self, req: falcon.Request) -> None:
        env = req.env  # read directly: this runs on every request a proxy forwards
        self.method = env.get("HTTP_X_FORWARDED_METHOD")
        self.uri = env.get("HTTP_X_FORWARDED_URI") or env.get("HTTP_X_ORIGINAL_URI")

    def problem(self) -> str | None:
        """Why the proxy's description cannot be trusted to be a real request, or None."""
        if self.method is not None and (not METHOD.fullmatch(self.method) or self.method not in KNOWN_METHODS):
            return "method"
        if self.uri is not None and (len(self.uri) > MAX_FORWARDED_URI or not URI.fullmatch(self.uri) or self.uri.startswith("//")):
            return "uri"
        return None

    def path(self) -> str | None:
        """The path without its query, for the audit log: a query string can carry secrets."""
        return None if self.uri is None else self.uri.split("?", 1)[0][:256]


class ForwardedRequestGuard:
    """Runs before the session check (as middleware on the verify route only), so a request the
    proxy describes as impossible is refused with 403 whoever is logged in. 403 is one of the
    three answers nginx's auth_request understands (2xx, 401, 403)."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict) -> None:
        if not isinstance(resource, VerifyResource):
            return
        forwarded = ForwardedRequest(req)
        if forwarded.uri is not None or forwarded.method is not None:
            req.context.audit_target = f"{(forwarded.method or '?')[:16]} {forwarded.path() or '?'}"
        problem = forwarded.problem()
        if problem is not None:
            self._audit.record(req, "verify_refused", reason=f"forwarded {problem}")
            raise falcon.HTTPForbidden(description="The proxy forwarded a request that is not allowed.")


class VerifyResource:
    """Login required (cookie or bearer token); the session middleware answers 401 otherwise and
    re-issues the cookie when due, which a proxy passes back to the browser."""

    login_required = True
    answers_proxies = True  # refusals are 401 or 403, the answers auth_request understands

    def __init__(self, user_json: PublicUserJson) -> None:
        self._user_json = user_json

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.on_head(req, resp)
        # Spliced from the kept JSON of the user, as the probe does: the same cost as GET /v1/test.
        resp.text = '{"message": "Authenticated", "success": true, "data": {"user": ' + self._user_json(req.context.user) + "}}"

    def on_head(self, req: falcon.Request, resp: falcon.Response) -> None:
        user = req.context.user
        resp.set_header(USER_HEADER, user.user_id)
        resp.set_header(EMAIL_HEADER, header_email(user.email_address))
        resp.set_header(ADMIN_HEADER, "true" if user.is_admin else "false")
