"""The search engines' stamp clock (infrastructure.search_engine.user_repository.StampClock):
stamps and marks that a step of the wall clock cannot send back behind the change window."""

from __future__ import annotations

from infrastructure.search_engine.user_repository import StampClock

MS = 1_000_000


class Clocks:
    """A wall clock and a monotonic one, in ns, moved by hand."""

    def __init__(self) -> None:
        self.wall, self.steady = 1_764_000_000_000 * MS, 5_000 * MS

    def tick(self, ms: int) -> None:
        self.wall += ms * MS
        self.steady += ms * MS


def test_it_reads_the_wall_clock_while_that_runs_true() -> None:
    clocks = Clocks()
    stamps = StampClock(lambda: clocks.wall, lambda: clocks.steady)
    clocks.tick(250)
    assert stamps() == clocks.wall // MS


def test_a_step_back_does_not_send_stamps_back_and_time_goes_on_at_the_monotonic_pace() -> None:
    clocks = Clocks()
    stamps = StampClock(lambda: clocks.wall, lambda: clocks.steady)
    before = stamps()
    clocks.wall -= 30_000 * MS  # NTP corrects a clock that ran ahead
    clocks.tick(1_000)
    assert stamps() == before + 1_000


def test_a_step_forward_is_followed() -> None:
    clocks = Clocks()
    stamps = StampClock(lambda: clocks.wall, lambda: clocks.steady)
    stamps()
    clocks.wall += 30_000 * MS
    assert stamps() == clocks.wall // MS
