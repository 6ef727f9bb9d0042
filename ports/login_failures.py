"""Where consecutive login failures are counted, shared by every server process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class FailureRecord:
    """Consecutive failed logins for one key (a digest of the email, known to us or not)."""

    key: str
    failures: int
    last_failure_at: datetime
    version: str | None = field(default=None, compare=False)


class LoginFailureRepository(Protocol):
    """Raises `StoreUnavailable` when the store does not answer."""

    def get(self, key: str) -> FailureRecord | None:
        """The record with its current `version`, or None. Must see the latest write."""

    def put(self, record: FailureRecord) -> FailureRecord:
        """Create (when `version` is None) or replace under the version guard.

        Raises `VersionConflict` if the record was created or changed meanwhile.
        """

    def delete(self, key: str) -> None:
        """Forget the key's failures; no error if there are none."""

    def purge(self, last_failure_before: datetime) -> int:
        """Delete every record whose last failure is older than that; returns how many (or -1
        when the store cannot tell). Keeps the store from growing with every address ever tried."""
