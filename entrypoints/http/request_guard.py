"""Request hygiene for a cookie-authenticated API: CSRF refusals, security headers, request ids."""

from __future__ import annotations

import itertools
import re
import secrets
from typing import Any, Iterable

import falcon

from entrypoints.http.origins import normalize_origin, request_origin

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
FORM_PATHS = "/ui/"
"""HTML forms post url-encoded bodies; only the hosted pages, which check a CSRF token, take them."""


class CrossSiteGuard:
    """Refuses what a browser could be tricked into sending with the user's cookie.

    - A state-changing request that carries a body must be `application/json`: a cross-site page
      cannot send that without a CORS preflight, which we never grant. The hosted pages under
      /ui/ also take HTML forms, and check a CSRF token on each (entrypoints/ui/csrf.py).
    - When the browser says where the request comes from (`Origin`, `Sec-Fetch-Site`), a
      cross-site origin is refused with 403 unless it is in `allowed_origins`.
    Clients that send neither header (curl, servers) are not browsers and pass.
    """

    def __init__(self, allowed_origins: Iterable[str] = (), trusted_proxies: int = 0) -> None:
        self._allowed = frozenset(filter(None, (normalize_origin(origin) for origin in allowed_origins)))
        self._trusted_proxies = trusted_proxies

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.method not in UNSAFE_METHODS:
            return
        has_body = bool(req.content_length) or req.get_header("Transfer-Encoding") is not None
        media_type = (req.content_type or "").split(";", 1)[0].strip().lower()
        form = media_type == FORM_MEDIA_TYPE and req.path.startswith(FORM_PATHS)
        if has_body and media_type != falcon.MEDIA_JSON and not form:
            raise falcon.HTTPUnsupportedMediaType(description="Content-Type: 'application/json' required")
        origin = req.get_header("Origin")
        if origin is not None:
            if not self._origin_allowed(origin, req):
                raise falcon.HTTPForbidden(description="Cross-site requests are not allowed from this origin.")
        elif (req.get_header("Sec-Fetch-Site") or "").lower() in ("cross-site", "same-site"):
            raise falcon.HTTPForbidden(description="Cross-site requests are not allowed.")

    def _origin_allowed(self, origin: str, req: falcon.Request) -> bool:
        """Listed, or this very origin (see request_origin)."""
        given = normalize_origin(origin)
        if given is None:
            return False
        return given in self._allowed or given == request_origin(req, self._trusted_proxies)


class ResponseHeaders:
    """Headers every answer carries, and a request id that ties a response to its log lines."""

    def __init__(self) -> None:
        # Ids need to be unique, not secret: a random per-process prefix and a counter, 32 hex
        # digits like a token_hex(16), without a getrandom() call on every request.
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count()

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        given = req.get_header("X-Request-ID")
        if given is None or not REQUEST_ID.fullmatch(given):
            given = f"{self._prefix}{next(self._counter):016x}"
        req.context.request_id = given

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        resp.set_header("Cache-Control", "no-store")
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("X-Request-ID", req.context.get("request_id") or "")
