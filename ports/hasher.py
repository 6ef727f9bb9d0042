"""How passwords are hashed."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str:
        """A new salted hash of the password with the configured parameters."""

    def verify(self, password_hash: str, password: str) -> bool:
        """True if the password matches; False for a mismatch or a malformed hash."""

    def needs_rehash(self, password_hash: str) -> bool:
        """True if the hash was made with parameters other than the configured ones."""
