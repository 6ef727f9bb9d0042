"""The challenge of a WebAuthn ceremony under way, carried in a signed cookie.

Signed (itsdangerous, every configured key verifies, the newest signs), HttpOnly, SameSite=Strict
and short-lived (its own timestamp, checked against the injected clock, and Max-Age): the browser
that asked for the options is the one that must answer them. A registration's cookie also names
the session that asked, and a second step's the pending sign-in, so no other can finish it. That it is used once is the
store's business (domain.passkeys records each answered challenge on the user in the guarded
write); the cookie is cleared whatever the outcome.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta, timezone
from typing import Sequence

import falcon
from itsdangerous import BadData, URLSafeSerializer

from domain.errors import PasskeyRefused
from ports.clock import Clock

SALT = "esauth.webauthn.v1"
REGISTER = "register"
SIGN_IN = "sign-in"
SECOND_FACTOR = "second-factor"


class CeremonyCookies:
    def __init__(self, secret_keys: Sequence[str], lifetime: timedelta, clock: Clock, secure: bool = True) -> None:
        self.name = "__Host-webauthn" if secure else "webauthn"
        self._secure = secure
        self._lifetime = lifetime
        self._clock = clock
        # itsdangerous takes keys oldest first and signs with the last; ours are newest first.
        self._serializer = URLSafeSerializer(list(reversed(secret_keys)), salt=SALT)

    def start(self, resp: falcon.Response, purpose: str, challenge: bytes, session_id: str = "") -> None:
        value = self._serializer.dumps({
            "p": purpose,
            "c": base64.urlsafe_b64encode(challenge).decode("ascii"),
            "s": session_id,
            "t": int(self._clock().timestamp()),
        })
        self._set(resp, value, int(self._lifetime.total_seconds()))

    def finish(self, req: falcon.Request, resp: falcon.Response, purpose: str, session_id: str = "") -> bytes:
        """The challenge this browser was given for `purpose` (and session); PasskeyRefused if it
        has none, or a forged, expired or other one. The cookie is cleared in every case."""
        self._set(resp, "", 0)
        values = req.get_cookie_values(self.name)
        if not values:
            raise PasskeyRefused("no ceremony under way in this browser")
        try:
            data = self._serializer.loads(values[0])
            issued = datetime.fromtimestamp(int(data["t"]), timezone.utc)
            challenge = base64.urlsafe_b64decode(str(data["c"]).encode("ascii"))
            given_purpose, given_session = data["p"], data["s"]
        except (BadData, KeyError, TypeError, ValueError, OverflowError, binascii.Error):
            raise PasskeyRefused("a forged or malformed ceremony cookie") from None
        if given_purpose != purpose or given_session != session_id:
            raise PasskeyRefused("the ceremony was started for something else")
        age = self._clock() - issued
        if not timedelta(0) <= age <= self._lifetime:
            raise PasskeyRefused("the challenge expired")
        return challenge

    def _set(self, resp: falcon.Response, value: str, max_age: int) -> None:
        resp.set_cookie(
            self.name, value, max_age=max_age, path="/", secure=self._secure, http_only=True, same_site="Strict",
            expires=None if max_age else datetime(1970, 1, 1, tzinfo=timezone.utc),
        )
