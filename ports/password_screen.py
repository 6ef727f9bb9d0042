"""Which passwords are known to be bad: a list the domain asks, wherever the list comes from."""

from __future__ import annotations

from typing import Protocol


class PasswordScreen(Protocol):
    def is_listed(self, password: str) -> bool:
        """True if the password is on the list of known-bad ones.

        The domain passes the password in its matching form (`domain.passwords.matching_form`),
        and a list holds its entries in that form, so every implementation matches alike."""
