"""TokenSigner over itsdangerous: URL-safe, signed (not encrypted), every configured key verifies."""

from __future__ import annotations

from typing import Any, Sequence

from itsdangerous import BadSignature, URLSafeSerializer

from domain.errors import InvalidToken


class ItsdangerousTokenSigner:
    def __init__(self, secret_keys: Sequence[str], salt: str) -> None:
        """`secret_keys[0]` signs; all verify (itsdangerous signs with the last of a list)."""
        if not secret_keys:
            raise ValueError("at least one secret key is required")
        self._serializer = URLSafeSerializer(list(reversed(secret_keys)), salt=salt)

    def sign(self, payload: dict[str, Any]) -> str:
        return self._serializer.dumps(payload)

    def unsign(self, token: str) -> dict[str, Any]:
        try:
            payload = self._serializer.loads(token)
        except BadSignature:
            raise InvalidToken("This reset token is not valid.") from None
        if not isinstance(payload, dict):
            raise InvalidToken("This reset token is not valid.")
        return payload
