"""The throttle's arithmetic: free failures, doubling delays, the cap, and forgetting old failures."""

from datetime import datetime, timedelta, timezone

from domain.throttle import FailureCounter, ThrottlePolicy, failure_key
from ports.login_failures import FailureRecord
from tests.fakes import InMemoryLoginFailureRepository

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
POLICY = ThrottlePolicy()


def record(failures, at=T0):
    return FailureRecord("k", failures, at, version="3")


def test_no_wait_below_the_free_failures():
    assert POLICY.retry_after(None, T0) == timedelta(0)
    assert POLICY.retry_after(record(4), T0) == timedelta(0)


def test_the_wait_doubles_from_one_second_and_counts_from_the_last_failure():
    assert POLICY.retry_after(record(5), T0) == timedelta(seconds=1)
    assert POLICY.retry_after(record(8), T0) == timedelta(seconds=8)
    assert POLICY.retry_after(record(8), T0 + timedelta(seconds=5)) == timedelta(seconds=3)
    assert POLICY.retry_after(record(8), T0 + timedelta(seconds=9)) == timedelta(0)


def test_the_wait_is_capped_at_fifteen_minutes_even_for_huge_counts():
    assert POLICY.retry_after(record(15), T0) == timedelta(minutes=15)
    assert POLICY.retry_after(record(10_000), T0) == timedelta(minutes=15)


def test_failures_older_than_a_day_no_longer_count():
    old = record(50, at=T0 - timedelta(hours=24, seconds=1))
    assert POLICY.retry_after(old, T0) == timedelta(0)
    restarted = POLICY.after_failure(old, "k", T0)
    assert (restarted.failures, restarted.last_failure_at, restarted.version) == (1, T0, "3")


def test_a_failure_counted_by_a_clock_behind_the_last_one_is_not_dated_earlier():
    last = record(5, at=T0 + timedelta(seconds=30))
    behind = POLICY.after_failure(last, "k", T0)
    assert (behind.failures, behind.last_failure_at) == (6, T0 + timedelta(seconds=30))


def test_after_failure_counts_up_and_keeps_the_version_for_the_guarded_write():
    assert POLICY.after_failure(None, "k", T0) == FailureRecord("k", 1, T0)
    nxt = POLICY.after_failure(record(2), "k", T0 + timedelta(seconds=1))
    assert (nxt.failures, nxt.version) == (3, "3")


def test_the_key_is_a_digest_of_the_normalized_email():
    assert failure_key(" Ada@Example.com ") == failure_key("ada@example.com")
    assert "ada" not in failure_key("ada@example.com")
    assert len(failure_key("x")) == 64


def test_the_counter_purges_stale_records_at_most_once_an_hour(clock):
    store = InMemoryLoginFailureRepository()
    store.put(FailureRecord(failure_key("old@example.com"), 9, clock.now - timedelta(days=2)))
    counter = FailureCounter(store, clock)
    counter.check("new@example.com")
    assert store.get(failure_key("old@example.com")) is None
    store.put(FailureRecord(failure_key("old2@example.com"), 9, clock.now - timedelta(days=2)))
    clock.advance(minutes=59)
    counter.check("new2@example.com")
    assert store.get(failure_key("old2@example.com")) is not None  # not yet: once an hour
    clock.advance(minutes=1)
    counter.check("new3@example.com")
    assert store.get(failure_key("old2@example.com")) is None
