"""Signed, tamper-proof tokens (password reset). Expiry is the domain's rule, carried in the payload."""

from __future__ import annotations

from typing import Any, Protocol


class TokenSigner(Protocol):
    def sign(self, payload: dict[str, Any]) -> str:
        """A URL-safe token carrying the payload, signed."""

    def unsign(self, token: str) -> dict[str, Any]:
        """The payload, or `InvalidToken` if the token was not made by `sign` with our key."""
