"""Per-account login throttling: exponential delays after a few failures, never a permanent lock."""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.devices import DeviceCookie, DevicePolicy, device_key
from domain.errors import DeviceLocked, LoginThrottled, StoreUnavailable, VersionConflict
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
        """The record after one more failure; a stale record restarts at one, keeping its version.

        The new failure is never dated before the one it counts on: a process whose clock is
        behind another's must not shorten the delay that one set."""
        live = self.current(record, now)
        if live is None:
            return FailureRecord(key, 1, now, version=record.version if record is not None else None)
        return FailureRecord(key, live.failures + 1, max(now, live.last_failure_at), version=record.version)


def lockout_policy(devices: DevicePolicy) -> ThrottlePolicy:
    """A device's lockout as a throttle: free until `failures`, then one fixed wait of `window`,
    and failures more than `window` apart restart the count."""
    return ThrottlePolicy(devices.failures, devices.window, devices.window, devices.window)


@dataclass(frozen=True)
class TrustedDevice:
    """An attempt made with the account's own device cookie, and that device's count as read."""

    cookie: DeviceCookie
    record: FailureRecord | None


class FailureCounter:
    """Applies the policy, for login and password change alike.

    Two kinds of bucket (OWASP's device cookies): an attempt with the account's own valid
    device cookie counts in that device's bucket, under the device policy, and nothing else
    holds it back; every other attempt counts in the account's bucket for untrusted clients.
    An attacker failing from elsewhere thus throttles only the untrusted bucket, never the
    rightful user's device; a stolen cookie failing too often locks out that device alone.
    Device counts live in the failure store beside unknown addresses' (a device's key is a
    digest of its nonce), so every process sees a lockout.

    A registered account keeps its count on the user itself (`failed_logins`), so a login costs
    one guarded write of the user whatever its outcome. Addresses nobody registered are counted
    in the shared failure store under a digest of the email, and every attempt reads that store
    too (a registered account honours the larger count, so counts from before the account or an
    upgrade still apply): known and unknown addresses make the same reads and one write, and
    are throttled alike.

    Counting is optimistic: an attempt is checked against the count it read, the password is
    tried, and the outcome is written under the store's version guard *after re-checking the
    count it is written over*. If that count now says wait (concurrent attempts got there first),
    the outcome is withheld and the caller answers LoginThrottled. Every answer that tells a
    guess's result is therefore backed by a write (or a fresh read) that saw it allowed, in
    order, across processes: concurrent guesses get no more answers than the policy allows.
    They may all be hashed, bounded by the per-client rate limit and the hashing pool's queue.
    Callers must do no extra work (such as hashing a new password) before the outcome is
    written, or its time would tell a withheld right guess from a wrong one.
    """

    PURGE_EVERY = timedelta(hours=1)
    COUNT_ATTEMPTS = 5

    def __init__(
        self,
        failures: LoginFailureRepository,
        clock: Clock,
        policy: ThrottlePolicy = ThrottlePolicy(),
        devices: DevicePolicy = DevicePolicy(),
    ) -> None:
        if devices.window > policy.forget_after:
            raise ValueError("a device's lockout window must not outlast the purge of old failures")
        self._failures = failures
        self._clock = clock
        self._policy = policy
        self._device_policy = lockout_policy(devices)
        self._last_purge: datetime | None = None
        # Not hex-only, so no email's digest can be this key; one per process, so probes of
        # several processes never conflict.
        self._probe_key = f"write-probe-{uuid.uuid4().hex}"

    def check(self, email_address: str) -> FailureRecord | None:
        """Raise LoginThrottled if the failure store says this address must wait; else its
        record there (for `count_unknown`, or for `check_user` to honour)."""
        record = self.read(email_address)
        self.check_untrusted(record)
        return record

    def read(self, email_address: str) -> FailureRecord | None:
        """The address's record in the failure store, not yet judged: a login first learns
        which bucket it counts in."""
        record = self._failures.get(failure_key(email_address))
        self._purge_now_and_then(self._clock())
        return record

    def check_untrusted(self, stored: FailureRecord | None) -> None:
        """Raise LoginThrottled if the address's stored count says wait."""
        self._raise_if_waiting(stored)

    def probe_write(self) -> None:
        """Write and delete a record no address counts under; StoreUnavailable if the store
        refuses either. One left behind by a failed delete is replaced, and purged with the old
        records after a day at worst."""
        record = FailureRecord(self._probe_key, 0, self._clock())
        try:
            self._failures.put(record)
        except VersionConflict:
            left = self._failures.get(self._probe_key)
            self._failures.put(replace(record, version=left.version if left is not None else None))
        self._failures.delete(self._probe_key)

    # -- registered accounts: the count lives on the user ---------------------------------------

    def check_user(self, user: User, stored: FailureRecord | None = None) -> None:
        """Raise LoginThrottled if the account must wait, by the larger of its own count and
        the stored one."""
        self._raise_if_waiting(self._larger(_record_of(user), stored))

    def failed(self, user: User, stored: FailureRecord | None = None) -> User:
        """The user with one more failure counted on top of the larger count (after
        `check_user` passed on this very user)."""
        record = self._policy.after_failure(self._larger(_record_of(user), stored), user.email_address, self._clock())
        return replace(user, failed_logins=record.failures, last_failed_login_at=record.last_failure_at)

    @staticmethod
    def cleared(user: User) -> User:
        """The user with the count forgotten: the right password, or a completed reset."""
        return replace(user, failed_logins=0, last_failed_login_at=None)

    def forget(self, email_address: str) -> None:
        """After the account's own count was cleared: drop a count the store holds for the
        address. Best effort: the outcome is already written, and a count left behind is
        honoured until forgotten."""
        try:
            self._failures.delete(failure_key(email_address))
        except StoreUnavailable:
            pass

    # -- unregistered addresses: the count lives in the failure store ---------------------------

    def count_unknown(self, email_address: str, record: FailureRecord | None) -> None:
        """Count a failure onto `record` (as read by `check`), re-reading and re-checking on
        conflicts; LoginThrottled if the address must wait by then."""
        self._count(failure_key(email_address), record, self._policy, LoginThrottled)

    # -- devices: each counts in its own bucket in the failure store ----------------------------

    def trusted_device(self, cookie: DeviceCookie | None, user: User | None) -> TrustedDevice | None:
        """The attempt's device if its cookie was issued to this account, else None (untrusted);
        DeviceLocked if that device is locked out. A cookie's count is read whether or not it
        fits, so an existing account costs no more store calls than a missing one."""
        if cookie is None:
            return None
        record = self._failures.get(device_key(cookie.nonce))
        if not cookie.fits(user):
            return None
        self._raise_if_waiting(record, self._device_policy, DeviceLocked)
        return TrustedDevice(cookie, record)

    def device_failed(self, device: TrustedDevice) -> None:
        """Count a failure in the device's bucket, re-reading and re-checking on conflicts."""
        self._count(device_key(device.cookie.nonce), device.record, self._device_policy, DeviceLocked)

    def recheck_device(self, device: TrustedDevice) -> None:
        """A fresh read before a right guess is answered: failures that concurrent guesses with
        this cookie counted meanwhile withhold it (DeviceLocked), as for the account's count."""
        self._raise_if_waiting(self._failures.get(device_key(device.cookie.nonce)), self._device_policy, DeviceLocked)

    def forget_device(self, device: TrustedDevice) -> None:
        """After a successful login from the device (which gets a new nonce): drop its old count.
        Best effort, as `forget`; a count left behind is purged with the old records."""
        if device.record is None:
            return
        try:
            self._failures.delete(device_key(device.cookie.nonce))
        except StoreUnavailable:
            pass

    def _count(self, key: str, record: FailureRecord | None, policy: ThrottlePolicy, throttled: type[LoginThrottled]) -> None:
        for _ in range(self.COUNT_ATTEMPTS):
            try:
                self._failures.put(policy.after_failure(record, key, self._clock()))
            except VersionConflict:
                record = self._failures.get(key)
                self._raise_if_waiting(record, policy, throttled)
                continue
            return
        raise throttled(1)

    def _larger(self, own: FailureRecord | None, stored: FailureRecord | None) -> FailureRecord | None:
        """Of two counts for one account, the one that throttles more (a count that no longer
        counts is none)."""
        now = self._clock()
        own, stored = self._policy.current(own, now), self._policy.current(stored, now)
        if own is None or stored is None:
            return own or stored
        return max(own, stored, key=lambda record: (record.failures, record.last_failure_at))

    def _raise_if_waiting(
        self, record: FailureRecord | None, policy: ThrottlePolicy | None = None, throttled: type[LoginThrottled] = LoginThrottled
    ) -> None:
        wait = (policy or self._policy).retry_after(record, self._clock())
        if wait > timedelta(0):
            raise throttled(math.ceil(wait.total_seconds()))

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
