"""Per-account login throttling: exponential delays after a few failures, never a permanent lock."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import LoginThrottled, StoreUnavailable, VersionConflict
from domain.user import canonical_email
from ports.clock import Clock
from ports.login_failures import FailureRecord, LoginFailureRepository



def failure_key(email_address: str) -> str:
    """The key failures are counted under: a digest, so attacker-chosen strings never reach the store as-is."""
    return hashlib.sha256(canonical_email(email_address).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ThrottlePolicy:
    """After `free_failures` consecutive failures, each attempt waits base * 2**(extra failures), capped.

    At the 15-minute cap an attacker gets about 4 guesses an hour per account, and the rightful
    user is delayed, never locked out for good. (NIST 800-63B's limit of 100 consecutive failures
    is not enforced as a hard stop: that would let anyone lock any account.) Failures older than
    `forget_after` no longer count.
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
    """Applies the policy to the shared failure store, for login and password change alike.

    An attempt is counted as a failure *before* its password is tried (`reserve`), under the
    store's version guard, and forgiven once it succeeds (`release`). Every guess is therefore
    counted before it is checked, across every process: concurrent requests cannot buy more
    guesses than the policy allows while earlier ones are still hashing, and none goes uncounted.
    """

    PURGE_EVERY = timedelta(hours=1)

    def __init__(self, failures: LoginFailureRepository, clock: Clock, policy: ThrottlePolicy = ThrottlePolicy()) -> None:
        self._failures = failures
        self._clock = clock
        self._policy = policy
        self._last_purge: datetime | None = None

    def reserve(self, email_address: str) -> None:
        """Count this attempt, or raise LoginThrottled if the account must wait or another attempt
        for it is under way."""
        key = failure_key(email_address)
        record = self._failures.get(key)
        now = self._clock()
        wait = self._policy.retry_after(record, now)
        if wait > timedelta(0):
            raise LoginThrottled(math.ceil(wait.total_seconds()))
        try:
            self._failures.put(self._policy.after_failure(record, key, now))
        except VersionConflict:
            raise LoginThrottled(1) from None
        self._purge_now_and_then(now)

    def _purge_now_and_then(self, now: datetime) -> None:
        """Records that no longer count are deleted once an hour per process, so addresses an
        attacker sprays do not pile up forever. A failed purge is retried the next hour."""
        if self._last_purge is not None and timedelta(0) <= now - self._last_purge < self.PURGE_EVERY:
            return
        self._last_purge = now
        try:
            self._failures.purge(now - self._policy.forget_after)
        except StoreUnavailable:
            pass

    def release(self, email_address: str) -> None:
        """The attempt succeeded: forget this account's failures."""
        self._failures.delete(failure_key(email_address))
