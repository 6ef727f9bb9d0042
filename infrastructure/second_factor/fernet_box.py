"""SecretBox on cryptography's Fernet (AES-128-CBC + HMAC-SHA256, a timestamped token format).

A well-kept library rather than our own construction: authenticated encryption is easy to get
wrong, and MultiFernet already does what key rotation needs (the first key seals, every key
opens). Each configured key is stretched with HKDF under a label of its own, so the TOTP keys
never equal a signing key even when they are configured as the same string.

cryptography is imported, and the keys derived, at the first seal or open rather than at start-up:
its OpenSSL bindings are 6.6 MiB of every worker's RSS, which a worker that never meets a TOTP
enrolment or code need not carry. What could fail later is checked at start-up instead: each key
encodes as UTF-8 (all derivation asks of it), and the package is there to be imported."""

from __future__ import annotations

import base64
import importlib.util
import threading
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet

LABEL = b"esauth.totp-secret.v1"


def _fernet(key: str) -> "Fernet":
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=LABEL).derive(key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


class FernetSecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        for key in keys:
            key.encode("utf-8")  # what derivation needs of a key: a bad one stops start-up, not a login
        if importlib.util.find_spec("cryptography.fernet") is None:  # found, not loaded (a few KiB)
            raise ImportError("cryptography is not installed: TOTP secrets cannot be sealed")
        self._keys = tuple(keys)
        self._lock = threading.Lock()
        self._fernets: tuple["Fernet", "MultiFernet"] | None = None

    def seal(self, plaintext: str) -> str:
        newest, _ = self._ready()
        return newest.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str | None:
        from cryptography.fernet import InvalidToken

        _, every = self._ready()
        try:
            return every.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            return None

    def is_current(self, sealed: str) -> bool:
        from cryptography.fernet import InvalidToken

        newest, _ = self._ready()
        try:
            newest.decrypt(sealed.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True

    def _ready(self) -> tuple["Fernet", "MultiFernet"]:
        """The newest key's Fernet and every key's, made at the first use."""
        fernets = self._fernets
        if fernets is None:
            with self._lock:
                if self._fernets is None:
                    from cryptography.fernet import MultiFernet

                    self._fernets = (_fernet(self._keys[0]), MultiFernet([_fernet(key) for key in self._keys]))
                fernets = self._fernets
        return fernets
