"""Fixtures shared by every test layer."""

from __future__ import annotations

import uuid

import pytest
from argon2 import profiles

from infrastructure.hashing.argon2_hasher import Argon2Hasher, Argon2Parameters
from tests.fakes import FakeClock

pytest_plugins = ["tests.engines"]

CHEAP_ARGON2 = Argon2Parameters(
    time_cost=profiles.CHEAPEST.time_cost,
    memory_cost_kib=profiles.CHEAPEST.memory_cost,
    parallelism=profiles.CHEAPEST.parallelism,
)
"""Tests hash cheaply unless the parameters are what is under test."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cheap_hasher() -> Argon2Hasher:
    return Argon2Hasher(CHEAP_ARGON2)


@pytest.fixture
def es_index() -> str:
    """An index name of this test's own, so tests sharing one server never see each other's users."""
    return f"esauth-test-{uuid.uuid4().hex[:12]}"
