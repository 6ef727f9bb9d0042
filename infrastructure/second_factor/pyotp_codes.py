"""OneTimeCodes by pyotp: RFC 6238 with HMAC-SHA1, 6 digits, 30 s steps (what every
authenticator app reads from an otpauth:// URI without extra parameters)."""

from __future__ import annotations

from datetime import datetime

import pyotp

SECRET_CHARS = 32
"""160 bits of base32, the HMAC-SHA1 key length RFC 4226 recommends."""


class PyotpCodes:
    def __init__(self, digits: int, interval_s: int) -> None:
        self.digits = digits
        self._interval_s = interval_s
        # pyotp counts time steps on a TOTP object; the secret plays no part in that count.
        self._steps = pyotp.TOTP(pyotp.random_base32(SECRET_CHARS), interval=interval_s)

    def _totp(self, secret: str) -> pyotp.TOTP:
        return pyotp.TOTP(secret, digits=self.digits, interval=self._interval_s)

    def new_secret(self) -> str:
        return pyotp.random_base32(SECRET_CHARS)

    def uri(self, secret: str, account: str, issuer: str) -> str:
        return self._totp(secret).provisioning_uri(name=account, issuer_name=issuer)

    def step(self, instant: datetime) -> int:
        return self._steps.timecode(instant)

    def code(self, secret: str, step: int) -> str:
        return self._totp(secret).generate_otp(step)
