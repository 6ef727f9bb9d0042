"""The pending sign-in: a password proven, a second factor owed. A small piece any factor reuses.

How a factor plugs in (TOTP does exactly this, in entrypoints/http/second_factor_resources.py):

    step = SecondFactorStep(auth, PendingLoginCookies(keys, lifetime, secure, domain), audit)
    # password step: LoginResource catches SecondFactorRequired and calls
    step.begin(req, resp, required.pending)           # sets the pending cookie, audits
    # second step, in the factor's own resource:
    user = step.finish(req, check, factor="passkey")  # check: domain.second_factor.SecondFactorCheck

`finish` reads the pending cookie (401 without a valid one), lets AuthService.finish_login run
`check` on the current user under the login throttle (the device's bucket for the account's own
device cookie: the factor's resource declares `reads_device_cookie = True`), audits the outcome,
leaves the new session in `req.context.issue_session` and the new device cookie in
`req.context.issue_device` (their middlewares send them) and clears the pending cookie.

The pending cookie is its own cookie, never the session cookie, so it can do nothing else: no
route that needs a login reads it. It is signed (its own salt), HttpOnly, SameSite=Strict, lives
`lifetime` (ESAUTH_MFA_PENDING_TTL) and is bound to the password it proved: a password change or
reset kills it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Sequence

import falcon
from itsdangerous import BadData, URLSafeTimedSerializer

from domain.auth import AuthService
from domain.errors import InvalidSecondFactor, LoginThrottled, PendingLoginInvalid
from domain.second_factor import PendingLogin, SecondFactorCheck
from domain.user import User
from entrypoints.http.audit import AuditLog
from entrypoints.http.user_agent import summarize

SALT = "esauth.pending-login.v1"


class PendingLoginCookies:
    def __init__(self, secret_keys: Sequence[str], lifetime: timedelta, secure: bool = True, domain: str | None = None) -> None:
        self.lifetime = lifetime
        self._secure = secure
        self._domain = domain
        if not secure:
            self.name = "esauth-pending"
        else:
            self.name = "__Secure-esauth-pending" if domain else "__Host-esauth-pending"
        # itsdangerous takes the keys oldest first and signs with the last.
        self._serializer = URLSafeTimedSerializer(list(reversed(secret_keys)), salt=SALT)

    def set(self, resp: falcon.Response, pending: PendingLogin) -> None:
        value = self._serializer.dumps(
            {"u": pending.email_address, "t": int(pending.started_at.timestamp()), "f": pending.fingerprint}
        )
        self._write(resp, value, int(self.lifetime.total_seconds()))

    def read(self, req: falcon.Request) -> PendingLogin:
        """The request's pending sign-in; PendingLoginInvalid if it has none that is valid."""
        values = req.get_cookie_values(self.name)
        if not values:
            raise PendingLoginInvalid("no pending sign-in")
        try:
            data = self._serializer.loads(values[0], max_age=int(self.lifetime.total_seconds()))
            return PendingLogin(
                email_address=str(data["u"]),
                started_at=datetime.fromtimestamp(int(data["t"]), timezone.utc),
                fingerprint=str(data["f"]),
            )
        except (BadData, KeyError, TypeError, ValueError, OverflowError):
            raise PendingLoginInvalid("a bad or expired pending sign-in") from None

    def clear(self, resp: falcon.Response) -> None:
        self._write(resp, "", 0)

    def _write(self, resp: falcon.Response, value: str, max_age: int) -> None:
        resp.set_cookie(
            self.name,
            value,
            max_age=max_age,
            expires=None if value else datetime(1970, 1, 1, tzinfo=timezone.utc),
            domain=self._domain,
            path="/",
            secure=self._secure,
            http_only=True,
            same_site="Strict",
        )


class SecondFactorStep:
    """Begins and finishes two-step sign-ins, whatever the second factor."""

    def __init__(self, auth: AuthService, cookies: PendingLoginCookies, audit: AuditLog) -> None:
        self._auth = auth
        self.cookies = cookies
        self._audit = audit

    def begin(self, req: falcon.Request, resp: falcon.Response, pending: PendingLogin) -> None:
        self.cookies.set(resp, pending)
        self._audit.record(req, "second_factor_required", pending.email_address)

    def answer(self, resp: falcon.Response, pending: PendingLogin) -> None:
        """The API's answer to a right password when a second factor is owed: 202, no session."""
        resp.status = falcon.HTTP_202
        resp.media = {
            "message": "Password accepted; a second factor is needed: POST /v1/auth/login/mfa with a code.",
            "success": True,
            "data": {
                "second_factor_required": True,
                "methods": list(pending.methods),
                "expires_in": int(self.cookies.lifetime.total_seconds()),
            },
        }

    def finish(self, req: falcon.Request, resp: falcon.Response, check: SecondFactorCheck, factor: str) -> User:
        """Open the session a pending sign-in owes once `check` accepts the proof."""
        try:
            pending = self.cookies.read(req)
        except PendingLoginInvalid:
            self.cookies.clear(resp)
            raise
        email = pending.email_address
        try:
            user, session = self._auth.finish_login(
                pending, check, summarize(req.user_agent), self._audit.client(req), device_cookie=req.context.device_cookie
            )
        except InvalidSecondFactor:
            self._audit.record(req, "login_failed", email, factor=factor)
            raise
        except LoginThrottled as throttled:
            self._audit.record(req, "login_throttled", email, retry_after_s=throttled.retry_after_s, factor=factor)
            raise
        except PendingLoginInvalid:
            self.cookies.clear(resp)
            raise
        self._audit.record(req, "login_ok", email, factor=factor)
        if session.evicted:
            self._audit.record(req, "session_evicted", email, count=len(session.evicted))
        self.cookies.clear(resp)
        req.context.issue_session = session
        req.context.issue_device = session.device_cookie
        return user
