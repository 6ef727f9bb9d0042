"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
import uuid
from typing import Iterator

import pytest
from argon2 import profiles

from infrastructure.argon2_hasher import Argon2Hasher, Argon2Parameters
from tests.fakes import FakeClock

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


@pytest.fixture(scope="session")
def elasticsearch_url() -> Iterator[str]:
    """A real cluster when ESAUTH_ELASTICSEARCH_URL is set, else an osmem-server for this run."""
    url = os.environ.get("ESAUTH_ELASTICSEARCH_URL")
    if url:
        yield url
        return
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    try:
        yield server.url
    finally:
        stop_osmem(server)


def stop_osmem(server) -> None:
    """Stop an osmem-server and close the pipe its own close() leaves open."""
    server.close()
    if server.process.stdout is not None:
        server.process.stdout.close()


@pytest.fixture
def es_index() -> str:
    """An index name of this test's own, so tests sharing one server never see each other's users."""
    return f"esauth-test-{uuid.uuid4().hex[:12]}"
