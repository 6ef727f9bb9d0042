"""One message per address per cooldown, whichever process sends it: resets, verifications, changes."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from domain.errors import StoreUnavailable, VersionConflict
from domain.user import canonical_email
from ports.clock import Clock
from ports.login_failures import FailureRecord, LoginFailureRepository


def cooldown_key(email_address: str) -> str:
    """Not hex-only, so it can never be a login-failure key (a bare SHA-256 hex digest)."""
    digest = hashlib.sha256(canonical_email(email_address).encode("utf-8", "surrogatepass")).hexdigest()
    return f"mail-{digest}"


class MailCooldown:
    """Claims the right to mail an address, at most once per `period`, for every process sharing
    the store.

    The claims live in the login-failure store, which already is what this needs: a record per
    key with a time, created or replaced under a version guard, and purged once a day old (long
    after any cooldown). `failures` counts the messages sent in a row, `last_failure_at` is the
    last one's time. Two processes claiming one address at once: the guarded write lets one
    through. A period of zero claims nothing and lets every message go.
    """

    def __init__(self, store: LoginFailureRepository, clock: Clock, period: timedelta) -> None:
        self._store = store
        self._clock = clock
        self.period = period

    def claim(self, email_address: str) -> bool:
        """True if a message may go to this address now (and the next must wait); False while
        the last one is younger than the period, or another process just claimed it. A store
        that does not answer refuses the claim: no message rather than unbounded messages."""
        if self.period <= timedelta(0):
            return True
        key = cooldown_key(email_address)
        now = self._clock()
        try:
            record = self._store.get(key)
            if record is not None and timedelta(0) <= now - record.last_failure_at < self.period:
                return False
            sent = 1 if record is None else record.failures + 1
            self._store.put(FailureRecord(key, sent, now, version=record.version if record is not None else None))
        except (VersionConflict, StoreUnavailable):
            return False
        return True
