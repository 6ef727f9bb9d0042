"""One contract for both client limiters: the per-process dict and the table the workers share."""

from __future__ import annotations

import threading
from typing import Callable, Iterator

import pytest

from entrypoints.http.rate_limit import ClientLimiter, TokenBucketLimiter
from entrypoints.server.shared_buckets import WAYS, SharedTokenBuckets
from tests.fakes import FakeClock

MakeLimiter = Callable[[int], ClientLimiter]


class ClientLimiterContract:
    """Tests use `make_limiter(per_minute)`; subclasses provide it for their implementation."""

    def test_a_burst_gets_the_allowance_then_waits_for_the_next_token(self, make_limiter: MakeLimiter, clock: FakeClock) -> None:
        limiter = make_limiter(6)
        assert [limiter.take("1.1.1.1") for _ in range(6)] == [0.0] * 6
        assert limiter.take("1.1.1.1") == pytest.approx(10.0)  # 6 a minute: one every 10 s
        clock.advance(seconds=5)
        assert limiter.take("1.1.1.1") == pytest.approx(5.0)
        clock.advance(seconds=5)
        assert limiter.take("1.1.1.1") == 0.0
        assert limiter.take("1.1.1.1") > 0

    def test_wait_tells_the_time_to_the_next_token_and_spends_nothing(self, make_limiter: MakeLimiter, clock: FakeClock) -> None:
        limiter = make_limiter(6)
        assert limiter.wait("1.1.1.1") == 0.0
        assert [limiter.take("1.1.1.1") for _ in range(6)] == [0.0] * 6
        assert limiter.wait("1.1.1.1") == pytest.approx(10.0)
        assert limiter.wait("1.1.1.1") == pytest.approx(10.0)  # asking again spent nothing
        clock.advance(seconds=10)
        assert limiter.wait("1.1.1.1") == 0.0
        assert limiter.take("1.1.1.1") == 0.0 and limiter.take("1.1.1.1") > 0

    def test_clients_have_buckets_of_their_own(self, make_limiter: MakeLimiter) -> None:
        limiter = make_limiter(2)
        assert limiter.take("1.1.1.1") == limiter.take("1.1.1.1") == 0.0
        assert limiter.take("1.1.1.1") > 0
        assert limiter.take("2.2.2.2") == 0.0

    def test_a_clock_that_goes_back_refills_nothing(self, make_limiter: MakeLimiter, clock: FakeClock) -> None:
        limiter = make_limiter(1)
        assert limiter.take("1.1.1.1") == 0.0
        clock.advance(seconds=-120)
        assert limiter.take("1.1.1.1") > 0

    def test_concurrent_takes_never_spend_more_than_the_allowance(self, make_limiter: MakeLimiter) -> None:
        limiter = make_limiter(50)
        granted: list[float] = []
        lock = threading.Lock()

        def burst() -> None:
            for _ in range(20):
                wait = limiter.take("1.1.1.1")
                with lock:
                    granted.append(wait)

        threads = [threading.Thread(target=burst) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert granted.count(0.0) == 50


class TestTokenBucketLimiter(ClientLimiterContract):
    @pytest.fixture
    def make_limiter(self, clock: FakeClock) -> MakeLimiter:
        return lambda per_minute: TokenBucketLimiter(per_minute, clock)


class TestSharedTokenBuckets(ClientLimiterContract):
    @pytest.fixture
    def make_limiter(self, clock: FakeClock) -> Iterator[MakeLimiter]:
        made: list[SharedTokenBuckets] = []

        def make(per_minute: int, groups: int = 64) -> SharedTokenBuckets:
            made.append(SharedTokenBuckets(per_minute, clock, groups=groups))
            return made[-1]

        yield make
        for limiter in made:
            limiter.close()

    def test_a_full_group_gives_up_its_fullest_bucket_not_a_spent_one(self, make_limiter, clock: FakeClock) -> None:
        limiter = make_limiter(3, groups=1)  # one group: every client competes for WAYS buckets
        for _ in range(3):
            assert limiter.take("spent") == 0.0
        clock.advance(seconds=1)
        for number in range(WAYS * 4):  # many one-off clients: their buckets stay nearly full
            assert limiter.take(f"10.0.0.{number}") == 0.0
        assert limiter.take("spent") > 0, "an emptied bucket was forgotten while fuller ones were kept"
