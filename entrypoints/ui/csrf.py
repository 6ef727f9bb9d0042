"""CSRF tokens for the hosted forms: a signed double-submit bound to the session.

A random nonce rides in its own HttpOnly cookie; each form carries HMAC(key, nonce, session id).
A cross-site page can neither read the nonce nor compute the HMAC, and a nonce planted from
elsewhere is useless without the key. Forms shown before sign-in carry one too (bound to "no
session"), so nobody can be signed in to an attacker's account (login CSRF). No server state:
esauth keeps no session table.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Sequence

FIELD = "csrf_token"
NONCE_BYTES = 32


class CsrfTokens:
    def __init__(self, secret_keys: Sequence[str], secure: bool) -> None:
        # Derived, so a CSRF token can never double as a cookie or reset-token signature.
        self._keys = [hashlib.sha256(b"esauth.csrf.v1:" + key.encode()).digest() for key in secret_keys]
        self.cookie_name = "__Host-csrf" if secure else "csrf"
        self.secure = secure

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(NONCE_BYTES)

    @staticmethod
    def usable_nonce(value: str | None) -> bool:
        return value is not None and 32 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()

    def token(self, nonce: str, session_id: str) -> str:
        return self._mac(self._keys[0], nonce, session_id)

    def valid(self, given: str | None, nonce: str | None, session_id: str) -> bool:
        """Constant-time check against every key, so a key rotation expires no open form."""
        if not given or not self.usable_nonce(nonce):
            return False
        return any(hmac.compare_digest(given, self._mac(key, nonce, session_id)) for key in self._keys)

    @staticmethod
    def _mac(key: bytes, nonce: str, session_id: str) -> str:
        return hmac.new(key, f"{nonce}\0{session_id}".encode(), hashlib.sha256).hexdigest()
