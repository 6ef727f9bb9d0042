"""Sealing small secrets at rest (the TOTP secret): a store dump alone must not yield them."""

from __future__ import annotations

from typing import Protocol


class SecretBox(Protocol):
    def seal(self, plaintext: str) -> str:
        """An authenticated ciphertext of `plaintext`, as text a document can hold."""

    def open(self, sealed: str) -> str | None:
        """The plaintext, or None if no configured key opens it (tampered, or its key is gone)."""

    def is_current(self, sealed: str) -> bool:
        """Whether the newest key sealed it; else a caller re-seals it when it next writes."""
