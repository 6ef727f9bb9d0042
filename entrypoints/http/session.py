"""Sessions carried in a signed cookie (itsdangerous), checked against the user on each request."""

from __future__ import annotations

import hashlib
import math
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple, Sequence

import falcon
from itsdangerous import BadData, BadSignature, URLSafeSerializer

from domain.access_tokens import AccessTokens
from domain.auth import AuthService
from domain.errors import NotPermitted, ReauthenticationRequired, SessionExpired, SessionInvalid, SessionRequired, TokenRefused
from domain.session import Session, SessionPolicy
from entrypoints.http.audit import AuditLog
from entrypoints.http.context import KNOWN_METHODS
from entrypoints.http.client_address import client_address, rate_key
from entrypoints.http.rate_limit import ClientLimiter
from ports.clock import Clock

SALT = "esauth.session.v1"
VERIFIED_COOKIES_KEPT = 10_000
"""The default bound of verified cookies kept; `esauth serve` keeps as many as its session view
keeps users (one live cookie each). Only cookies whose signature verified are kept, so forged
ones cannot fill it."""
HEADER_SLACK = 256
"""Bytes of other cookies a Cookie header may carry beside the session's and still be the key
its verified session is kept under. A longer header is kept under the session cookie alone, so
no client makes an entry much larger than its own signed cookie, or one entry per padding."""
REISSUES_KEPT = 10_000
"""Sessions whose re-issue this process remembers (the oldest forgotten first)."""


class SessionCookies:
    """Turns a Session into a cookie value and back.

    `secret_keys[0]` signs; every key verifies, so keys rotate without logging anyone out, and
    a cookie signed by an older key is re-issued under the newest one.
    """

    def __init__(
        self,
        secret_keys: Sequence[str],
        policy: SessionPolicy,
        secure: bool = True,
        domain: str | None = None,
        kept: int = VERIFIED_COOKIES_KEPT,
    ) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is required")
        self.policy = policy
        self.secure = secure
        self.domain = domain
        self.secret_keys = tuple(secret_keys)  # the hosted pages derive their CSRF keys from these
        # `__Host-` makes browsers refuse the cookie unless Secure, host-only and Path=/. A cookie
        # shared with subdomains has a Domain, which `__Host-` forbids: it takes `__Secure-`
        # (Secure required) instead.
        if not secure:
            self.name = "session"
        else:
            self.name = "__Secure-session" if domain else "__Host-session"
        # hashlib.sha1 itself rather than itsdangerous's lazy wrapper of it: the same signatures,
        # but hmac can hand a hashlib constructor to OpenSSL instead of its pure-Python path.
        options = {"signer_kwargs": {"digest_method": hashlib.sha1}}
        self._serializer = URLSafeSerializer(secret_keys[0], salt=SALT, **options)
        # Built once: itsdangerous would make a signer and derive its key on every loads().
        self._signers = [URLSafeSerializer(key, salt=SALT, **options).make_signer(SALT) for key in secret_keys]
        # A client sends the same Cookie header many times a minute; what it yields is a pure
        # function of the header and the keys, so verified results are kept by header (no parse,
        # no HMAC on a repeat; expiry and revocation are still checked on every request), or by
        # the session cookie alone where the header carries more than HEADER_SLACK beside it.
        # Emptied when full, so the bound must hold the users taking turns: one past it, and a
        # round of them all would verify every cookie again (10,032 on a bound of 10,000 cost
        # 2.7x the CPU per request of 10,000, in-process).
        self.kept = kept
        self._verified: dict[str, tuple[Session, bool]] = {}

    def encode(self, session: Session) -> str:
        return self._serializer.dumps(
            {
                "u": session.email_address,
                "s": session.session_id,
                "i": int(session.issued_at.timestamp()),
                "l": int(session.last_seen.timestamp()),
                "a": int(session.proven_at.timestamp()),
            }
        )

    def from_request(self, req: falcon.Request) -> tuple[Session, bool] | None:
        """The request's session and whether an older key signed it; None without a session
        cookie, SessionInvalid if it is forged."""
        header = req.get_header("Cookie")
        if header is None:
            return None
        known = self._verified.get(header)
        if known is not None:
            return known
        values = req.get_cookie_values(self.name)
        if not values:
            return None
        value = values[0]
        key = header if len(header) <= len(value) + HEADER_SLACK else f"{self.name}={value}"
        if key is not header:  # the header was looked up above; a padded one is kept by its cookie
            known = self._verified.get(key)
            if known is not None:
                return known
        decoded = self.decode(value)
        if len(self._verified) >= self.kept:
            self._verified.clear()
        if self.kept:
            self._verified[key] = decoded
        return decoded

    def decode(self, value: str) -> tuple[Session, bool]:
        """The session and whether it was signed by an older key; SessionInvalid if forged."""
        for index, signer in enumerate(self._signers):
            try:
                payload = signer.unsign(value)
            except BadSignature:
                continue
            try:
                data = self._serializer.load_payload(payload)
            except BadData:
                raise SessionInvalid("malformed session") from None
            old_key = index > 0
            break
        else:
            raise SessionInvalid("bad signature")
        try:
            session = Session(
                email_address=str(data["u"]),
                session_id=str(data["s"]),
                issued_at=datetime.fromtimestamp(int(data["i"]), timezone.utc),
                last_seen=datetime.fromtimestamp(int(data["l"]), timezone.utc),
                # A cookie of an earlier release has no "a": its login time is when it was proven.
                authenticated_at=datetime.fromtimestamp(int(data["a"]), timezone.utc) if "a" in data else None,
            )
        except (KeyError, TypeError, ValueError, OverflowError):
            raise SessionInvalid("malformed session") from None
        return session, old_key

    def set(self, resp: falcon.Response, session: Session, now: datetime) -> None:
        resp.set_cookie(
            self.name,
            self.encode(session),
            max_age=self.policy.max_age(session, now),
            domain=self.domain,
            path="/",
            secure=self.secure,
            http_only=True,
            same_site="Lax",
        )

    def clear(self, resp: falcon.Response) -> None:
        # Not unset_cookie: it writes no Secure flag, and a `__Host-` cookie needs one.
        resp.set_cookie(
            self.name,
            "",
            expires=datetime(1970, 1, 1, tzinfo=timezone.utc),
            max_age=0,
            domain=self.domain,
            path="/",
            secure=self.secure,
            http_only=True,
            same_site="Lax",
        )


class SessionMiddleware:
    """Resolves the login for resources that declare `login_required` (True, or the set of
    methods that need it, e.g. {"GET"} where POST is public), and refuses non-admins where a
    resource declares `admin_required` the same way.

    Sudo mode is `recent_auth_required` (declared the same way, on a resource that is also
    `session_required`): a session that last proved a credential longer ago than the policy's
    `sudo_max_age` gets 403 ReauthenticationRequired before the request is read, and proves it
    again at POST /v1/auth/reauthenticate. Any resource that changes credentials declares it
    (email change: `recent_auth_required = True`).

    The login is a session cookie or, except where a resource declares `session_required`
    (changing credentials, making tokens), an `Authorization: Bearer` personal access token. Such
    a resource finds `req.context.user` set, and `req.context.session` (None for a token) or
    `req.context.token`. A resource may set `req.context.issue_session` to a Session to send a
    new cookie, or `req.context.end_session` to clear it.

    A refused bearer token spends one of the client's rate-limit tokens, as a login does; while
    the client has none left, every bearer attempt from it is refused unchecked, so guessing
    gets no more answers than logging in would.
    """

    def __init__(
        self,
        cookies: SessionCookies,
        auth: AuthService,
        audit: AuditLog,
        clock: Clock,
        tokens: AccessTokens,
        limiter: ClientLimiter,
        trusted_proxies: int = 0,
    ) -> None:
        self._cookies = cookies
        self._auth = auth
        self._audit = audit
        self._clock = clock
        self._tokens = tokens
        self._limiter = limiter
        self._trusted_proxies = trusted_proxies
        self._reissues = Reissues(cookies.policy)
        self._needs_of: dict[tuple[int, str], tuple[Any, Needs]] = {}

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict) -> None:
        needs = self._needs(resource, req.method)
        if not needs.login:
            return
        bearer = _bearer_token(req)
        if bearer is not None and not needs.session:
            self._token_login(req, resource, bearer, needs.admin)
            return
        try:
            found = self._cookies.from_request(req)
        except SessionInvalid:
            req.context.clear_session_cookie = self._cookies.clear  # a forged cookie is cleared
            raise
        if found is None:
            if bearer is not None:
                raise SessionRequired("a token cannot do this")
            raise SessionInvalid("no session cookie")
        req.context.clear_session_cookie = self._cookies.clear  # so is one refused below
        session, old_key = found
        now = self._clock()
        try:
            self._cookies.policy.check(session, now)
        except SessionExpired:
            self._audit.record(req, "session_expired", session.email_address)
            raise
        admin_only = needs.admin
        try:
            # Admin rights are read from the store: a demotion elsewhere must count at once.
            req.context.user = self._auth.session_user(session, fresh=admin_only)
        except SessionInvalid:
            self._audit.record(req, "session_revoked", session.email_address)
            raise
        req.context.session = session
        if admin_only and not req.context.user.is_admin:
            raise NotPermitted("administrators only")  # before the request is read at all
        if needs.recent_auth:
            try:
                self._cookies.policy.check_recent(session, now)  # sudo mode, before the body is read
            except ReauthenticationRequired:
                self._audit.record(req, "reauthentication_required", session.email_address)
                raise
        reissue = self._reissues.due(session, old_key, now)
        if reissue is not None:
            if reissue is not session:  # moved on because it is in use, not only re-signed
                self._auth.seen(reissue, now)  # "last seen" in the list of sessions, as coarse as this
            req.context.issue_session = reissue

    def _needs(self, resource: Any, method: str) -> "Needs":
        """What `resource` requires of a `method` request: read from its attributes once, since
        the resources live as long as the app (only for the methods HTTP defines, so a client
        inventing methods cannot grow the table). Keyed by identity, as some resources are
        dataclasses that cannot be hashed; the entry holds the resource, so its id stays its own."""
        kept = self._needs_of.get((id(resource), method))
        if kept is not None and kept[0] is resource:
            return kept[1]
        needs = Needs(*(_required(resource, attribute, method) for attribute in Needs._fields))
        if method in KNOWN_METHODS:
            self._needs_of[(id(resource), method)] = (resource, needs)
        return needs

    def _token_login(self, req: falcon.Request, resource: Any, bearer: str, admin_only: bool) -> None:
        client = rate_key(client_address(req, self._trusted_proxies))
        wait = self._limiter.wait(client)
        if wait > 0:
            self._audit.record(req, "token_throttled")
            req.context.throttled_by = "client"  # the per-client bucket, not an account's login throttle
            retry_after = str(max(1, math.ceil(wait)))
            message = "Too many bad tokens from this address. Try again later."
            if getattr(resource, "answers_proxies", False):  # auth_request understands 401, not 429
                raise falcon.HTTPUnauthorized(description=message, headers={"Retry-After": retry_after})
            raise falcon.HTTPTooManyRequests(description=message, retry_after=int(retry_after))
        try:
            user, token, first_use = self._tokens.authenticate(bearer, fresh=admin_only)
        except TokenRefused as refused:
            self._limiter.take(client)
            # The id the token names, known or not: naming the account (a keyed digest of its
            # email) would cost time only when it exists, a timing oracle for ids.
            self._audit.record(req, "token_refused", user_id=refused.user_id)
            raise
        if first_use:
            self._audit.record(req, "token_used", user.email_address, token_id=token.token_id)
        req.context.user = user
        req.context.token = token
        if admin_only and not user.is_admin:
            raise NotPermitted("administrators only")

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        if not req_succeeded:
            return
        if req.context.end_session:
            self._cookies.clear(resp)
        elif req.context.issue_session is not None:
            self._cookies.set(resp, req.context.issue_session, self._clock())


class Reissues:
    """When this process last re-issued each session, so that a client which never stores the
    new cookie (a service replaying a fixed one) gets it at most once per refresh interval, not
    on every answer: each re-issue costs a signature and a "last seen" write of the user.

    A client that does store it sends the new cookie next and is not due again for the interval
    anyway; its idle clock is the cookie's, so a client that keeps replaying an old cookie still
    ends at the idle timeout, as it always did."""

    def __init__(self, policy: SessionPolicy, kept: int = REISSUES_KEPT) -> None:
        self._policy = policy
        self._kept = kept
        self._at: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def due(self, session: Session, old_key: bool, now: datetime) -> Session | None:
        """The session to send as a new cookie now (its last_seen moved to `now` when it is in
        use), or None."""
        policy = self._policy
        if not old_key and policy.fresh(session.last_seen, now):
            return None
        with self._lock:
            last = self._at.get(session.session_id)
            if last is not None and timedelta(0) <= now - last and policy.fresh(last, now):
                return None  # re-issued here lately: the client kept the old cookie
            if last is None and len(self._at) >= self._kept:
                del self._at[next(iter(self._at))]
            self._at[session.session_id] = now
        return policy.touch(session, now) or session


CLEAR_SITE_DATA = '"cache"'
"""What a browser is told to drop at sign-out: its cache, since an app behind the same host that
lets its pages be cached (`max-age`) would otherwise be shown from it after sign-out (the browser
test through nginx caught it). Not "cookies": the session cookie is cleared by name already, and
"cookies" drops every cookie of the whole registrable domain (the protected apps' own ones, and
the device cookie that keeps this browser's sign-ins apart from an attacker's failures)."""


def signing_out(req: falcon.Request, resp: falcon.Response) -> None:
    """The caller's own session has ended: the middleware clears the cookie, and the browser is
    told to drop its cached pages."""
    req.context.end_session = True
    resp.set_header("Clear-Site-Data", CLEAR_SITE_DATA)


def _bearer_token(req: falcon.Request) -> str | None:
    """The token of an `Authorization: Bearer` header (RFC 6750), or None for any other scheme."""
    header = req.get_header("Authorization")
    if header is None or header[:7].lower() not in ("bearer ", "bearer"):
        return None
    return header[7:].strip()


class Needs(NamedTuple):
    """What a resource requires of a request, from its `<field>_required` attributes."""

    login: bool
    session: bool
    """A session cookie, not a bearer token."""
    admin: bool
    recent_auth: bool
    """A login within the sudo window (SessionPolicy.check_recent)."""


def _required(resource: Any, need: str, method: str) -> bool:
    """Whether `resource.<need>_required` (True, or a set of methods) applies to `method`."""
    required = getattr(resource, f"{need}_required", False)
    if required is not True and method not in (required or ()):
        return False
    # A method the resource lacks gets its 405 whether or not the caller is logged in.
    return hasattr(resource, f"on_{method.lower()}")
