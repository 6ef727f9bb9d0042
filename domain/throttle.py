"""Per-account login throttling: exponential delays after a few failures, never a permanent lock."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import LoginThrottled, VersionConflict
from ports.clock import Clock
from ports.login_failures import FailureRecord, LoginFailureRepository

WRITE_ATTEMPTS = 5


def failure_key(email_address: str) -> str:
    """The key failures are counted under: a digest, so attacker-chosen strings never reach the store as-is."""
    return hashlib.sha256(email_address.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ThrottlePolicy:
    """After `free_failures` consecutive failures, each attempt waits base * 2**(extra failures), capped.

    NIST 800-63B asks for at most 100 consecutive failures an account can suffer; with the 15-minute
    cap an attacker gets about 4 guesses an hour, and the rightful user is delayed, never locked out.
    Failures older than `forget_after` no longer count.
    """

    free_failures: int = 5
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)

    def current(self, record: FailureRecord | None, now: datetime) -> FailureRecord | None:
        """The record if it still counts, else None."""
        if record is None or now - record.last_failure_at > self.forget_after:
            return None
        return record

    def retry_after(self, record: FailureRecord | None, now: datetime) -> timedelta:
        """How long the next attempt must wait; zero when it may go ahead."""
        record = self.current(record, now)
        if record is None or record.failures < self.free_failures:
            return timedelta(0)
        extra = record.failures - self.free_failures
        delay = self.max_delay if extra >= 32 else min(self.max_delay, self.base_delay * (2**extra))
        return max(timedelta(0), record.last_failure_at + delay - now)

    def after_failure(self, record: FailureRecord | None, key: str, now: datetime) -> FailureRecord:
        """The record after one more failure; a stale record restarts at one, keeping its version."""
        live = self.current(record, now)
        failures = live.failures + 1 if live is not None else 1
        return FailureRecord(key, failures, now, version=record.version if record is not None else None)


class FailureCounter:
    """Applies the policy to the shared failure store: check before a password is tried, count a
    wrong one, forget them on success. Used by login and by password change alike."""

    def __init__(self, failures: LoginFailureRepository, clock: Clock, policy: ThrottlePolicy = ThrottlePolicy()) -> None:
        self._failures = failures
        self._clock = clock
        self._policy = policy

    def check(self, email_address: str) -> FailureRecord | None:
        """Raise LoginThrottled if this email must wait; else the record to pass to the others."""
        record = self._failures.get(failure_key(email_address))
        wait = self._policy.retry_after(record, self._clock())
        if wait > timedelta(0):
            raise LoginThrottled(math.ceil(wait.total_seconds()))
        return record

    def failed(self, email_address: str, record: FailureRecord | None) -> None:
        key = failure_key(email_address)
        for _ in range(WRITE_ATTEMPTS):
            try:
                self._failures.put(self._policy.after_failure(record, key, self._clock()))
                return
            except VersionConflict:
                record = self._failures.get(key)
        raise VersionConflict("too many concurrent failures for one key")

    def succeeded(self, email_address: str, record: FailureRecord | None) -> None:
        if record is not None:
            self._failures.delete(failure_key(email_address))
