"""Per-account login throttling: exponential delays after a few failures, never a permanent lock."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.errors import LoginThrottled, StoreUnavailable, VersionConflict
from domain.user import User, canonical_email
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
    """Applies the policy, for login and password change alike.

    A known account keeps its count on the user itself (`failed_logins`), so a login costs one
    guarded write of the user whatever its outcome. Addresses nobody registered are counted in
    the shared failure store under a digest, the same way, so throttling does not tell them apart.

    Counting is optimistic: an attempt is checked against the count it read, the password is
    tried, and the outcome is written under the store's version guard *after re-checking the
    count it is written over*. If that count now says wait (concurrent attempts got there first),
    the outcome is withheld and the caller answers LoginThrottled. Every answer that tells a
    guess's result is therefore backed by a write that counted it, in order, across processes:
    concurrent guesses get no more answers than the policy allows. (They may all be hashed:
    bounded by the per-client rate limit and the hashing pool's queue.)
    """

    PURGE_EVERY = timedelta(hours=1)
    COUNT_ATTEMPTS = 5

    def __init__(self, failures: LoginFailureRepository, clock: Clock, policy: ThrottlePolicy = ThrottlePolicy()) -> None:
        self._failures = failures
        self._clock = clock
        self._policy = policy
        self._last_purge: datetime | None = None

    # -- known accounts: the count lives on the user --------------------------------------------

    def check_user(self, user: User, now: datetime) -> None:
        """Raise LoginThrottled if the account must wait before its password is tried."""
        self._raise_if_waiting(_record_of(user), now)

    def failed(self, user: User, now: datetime) -> User:
        """The user with one more failure counted (after `check_user` passed on this very user)."""
        record = self._policy.after_failure(_record_of(user), user.email_address, now)
        return replace(user, failed_logins=record.failures, last_failed_login_at=record.last_failure_at)

    @staticmethod
    def cleared(user: User) -> User:
        """The user with the count forgotten: the right password, or a completed reset."""
        return replace(user, failed_logins=0, last_failed_login_at=None)

    # -- unknown addresses: the count lives in the failure store --------------------------------

    def check_unknown(self, email_address: str) -> FailureRecord | None:
        """Raise LoginThrottled if this address must wait; else the record to count onto."""
        record = self._failures.get(failure_key(email_address))
        self._raise_if_waiting(record, self._clock())
        return record

    def count_unknown(self, email_address: str, record: FailureRecord | None) -> None:
        """Count a failure onto `record` (as read by `check_unknown`), re-reading and re-checking
        on conflicts; LoginThrottled if the address must wait by then."""
        key = failure_key(email_address)
        for _ in range(self.COUNT_ATTEMPTS):
            now = self._clock()
            try:
                self._failures.put(self._policy.after_failure(record, key, now))
            except VersionConflict:
                record = self._failures.get(key)
                self._raise_if_waiting(record, now)
                continue
            self._purge_now_and_then(now)
            return
        raise LoginThrottled(1)

    def _raise_if_waiting(self, record: FailureRecord | None, now: datetime) -> None:
        wait = self._policy.retry_after(record, now)
        if wait > timedelta(0):
            raise LoginThrottled(math.ceil(wait.total_seconds()))

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


def _record_of(user: User) -> FailureRecord | None:
    if user.last_failed_login_at is None:
        return None
    return FailureRecord(user.email_address, user.failed_logins, user.last_failed_login_at)
