"""A store outage is told in two lines, whatever the number of failed calls in between."""

from __future__ import annotations

import logging

import pytest

from domain.errors import StoreUnavailable, UserAlreadyExists
from infrastructure.store_watch import ObservedStore, OutageLog
from tests.contract.test_user_repository import make_user
from tests.fakes import InMemoryUserRepository, RecordingMetrics


class Flaky(InMemoryUserRepository):
    """Fails its reads and/or writes while told to."""

    def __init__(self) -> None:
        super().__init__()
        self.reads_fail = self.writes_fail = False

    def get(self, email_address):
        if self.reads_fail:
            raise StoreUnavailable("test: reads down") from OSError("disk gone")
        return super().get(email_address)

    def add(self, user):
        if self.writes_fail:
            raise StoreUnavailable("test: writes down")
        return super().add(user)


def store_lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "esauth.store"]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def watched(caplog, clock):
    caplog.set_level(logging.INFO, logger="esauth.store")
    flaky, metrics = Flaky(), RecordingMetrics()
    outages = OutageLog("test", clock=clock)
    return flaky, ObservedStore(flaky, metrics, outages), outages, metrics


def test_many_failures_make_one_start_line_with_the_cause_and_one_end_line_with_the_count(watched, caplog, clock) -> None:
    flaky, store, outages, metrics = watched
    flaky.reads_fail = True
    for _ in range(50):
        with pytest.raises(StoreUnavailable):
            store.get("a@example.com")
        outages.request_failed()
        clock.now += 0.05
    flaky.reads_fail = False
    clock.now += 1
    assert store.get("a@example.com") is None
    store.get("a@example.com")

    assert store_lines(caplog) == [
        "the test store is not answering (test: reads down: disk gone): requests needing it get 503",
        "the test store answers again after 3.5 s; 50 requests failed meanwhile (50 failed store calls)",
    ]
    failed = [event for event in metrics.of("store_call") if event[3]]
    assert len(failed) == 50 and all(event[:2] == ("test", "get") for event in failed)


def test_reads_that_work_during_a_write_outage_neither_end_it_nor_restart_it(watched, caplog, clock) -> None:
    flaky, store, outages, _ = watched
    flaky.writes_fail = True
    for n in range(3):
        with pytest.raises(StoreUnavailable):
            store.add(make_user(f"u{n}@example.com"))
        clock.now += 5
        store.get("a@example.com")
    assert len(store_lines(caplog)) == 1 and outages.down
    flaky.writes_fail = False
    store.add(make_user("u9@example.com"))
    assert len(store_lines(caplog)) == 2 and not outages.down


def test_a_success_right_after_a_failure_does_not_end_the_outage(watched, caplog, clock) -> None:
    """Threads hold their own connections and can see the store differently for a moment."""
    flaky, store, outages, _ = watched
    flaky.reads_fail = True
    with pytest.raises(StoreUnavailable):
        store.get("a@example.com")
    flaky.reads_fail = False
    clock.now += OutageLog.QUIET_S / 2
    store.get("a@example.com")
    assert outages.down and len(store_lines(caplog)) == 1
    clock.now += OutageLog.QUIET_S / 2
    store.add(make_user("u9@example.com"))
    with pytest.raises(UserAlreadyExists):  # an answer, if not a yes, also counts as the store up
        store.add(make_user("u9@example.com"))
    assert not outages.down and len(store_lines(caplog)) == 2


def test_everything_else_passes_through_to_the_adapter(watched) -> None:
    flaky, store, _, _ = watched
    assert store.kind == flaky.kind
    assert store.inner is flaky
