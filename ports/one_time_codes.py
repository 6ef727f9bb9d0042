"""Time-based one-time codes (RFC 6238): what the second factor needs of an authenticator app's
algorithm. The rules (drift window, replay, recovery codes) stay in domain.second_factor."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class OneTimeCodes(Protocol):
    digits: int

    def new_secret(self) -> str:
        """A fresh shared secret, as base32 text an authenticator app takes."""

    def uri(self, secret: str, account: str, issuer: str) -> str:
        """The otpauth:// URI (and QR code content) that enrols `secret` in an app."""

    def step(self, instant: datetime) -> int:
        """The time step `instant` falls in."""

    def code(self, secret: str, step: int) -> str:
        """The code of `secret` for time step `step`."""
