"""SecretBox on cryptography's Fernet (AES-128-CBC + HMAC-SHA256, a timestamped token format).

A well-kept library rather than our own construction: authenticated encryption is easy to get
wrong, and MultiFernet already does what key rotation needs (the first key seals, every key
opens). Each configured key is stretched with HKDF under a label of its own, so the TOTP keys
never equal a signing key even when they are configured as the same string."""

from __future__ import annotations

import base64
from typing import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LABEL = b"esauth.totp-secret.v1"


def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=LABEL).derive(key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


class FernetSecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        self._newest = _fernet(keys[0])
        self._all = MultiFernet([_fernet(key) for key in keys])

    def seal(self, plaintext: str) -> str:
        return self._newest.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str | None:
        try:
            return self._all.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            return None

    def is_current(self, sealed: str) -> bool:
        try:
            self._newest.decrypt(sealed.encode("ascii"))
        except (InvalidToken, UnicodeError):
            return False
        return True
