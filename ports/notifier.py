"""How esauth reaches a user outside the API (e-mail)."""

from __future__ import annotations

from typing import Protocol


class Notifier(Protocol):
    def send_password_reset(self, email_address: str, token: str) -> None:
        """Deliver a password-reset token. May return before delivery; must not raise for
        delivery failures (they are logged), so the caller's answer never depends on them."""

    def send_email_verification(self, email_address: str, token: str, change: bool = False) -> None:
        """Deliver a token that proves the address (at sign-up, on request, or, with `change`,
        for the new address an account asked to move to). Same delivery rules."""

    def send_email_changed(self, email_address: str, new_email_address: str) -> None:
        """Tell an address that its account signs in with `new_email_address` now (no token:
        the owner is told, in case it was not them). Same delivery rules."""
