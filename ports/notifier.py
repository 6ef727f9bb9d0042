"""How esauth reaches a user outside the API (e-mail)."""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    def send_password_reset(self, email_address: str, token: str) -> None:
        """Deliver a password-reset token. May return before delivery; must not raise for
        delivery failures (they are logged), so the caller's answer never depends on them."""
