"""Whether a password was seen in a data breach: an outside service the domain may ask."""

from __future__ import annotations

from typing import Protocol


class BreachedPasswords(Protocol):
    def is_breached(self, password: str) -> bool:
        """True if the password (exactly as typed) was seen in a breach. False when it was not,
        and when the service cannot say: an outage of it must never block a sign-up."""
