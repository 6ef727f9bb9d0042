"""bench's --seed-minutes: a store's seedings share one budget, spent only while seeding."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from esauth_bench.seeding import SeedBudget  # noqa: E402


def test_time_between_seedings_does_not_spend_the_budget() -> None:
    budget = SeedBudget(minutes=1)
    first = budget.deadline() - time.monotonic()
    budget.spend(20)
    later = budget.deadline() - time.monotonic()
    assert 59 < first <= 60 and 39 < later <= 40


def test_a_spent_budget_has_its_deadline_already_past() -> None:
    budget = SeedBudget(minutes=0.5)
    budget.spend(31)
    assert budget.deadline() < time.monotonic()
