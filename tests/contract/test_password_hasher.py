"""One contract for every PasswordHasher: the fake, argon2 and the pool over it must all pass it."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from infrastructure.hashing.argon2_hasher import Argon2Hasher, Argon2Parameters
from infrastructure.hashing.pool import PooledHasher
from tests.conftest import CHEAP_ARGON2
from tests.fakes import FakeHasher, GatedHasher, RecordingMetrics


class PasswordHasherContract:
    """Subclasses provide `hasher` and `stronger`: the same kind with other parameters."""

    def test_a_hash_verifies_its_password_only(self, hasher):
        hashed = hasher.hash("correct horse")
        assert hashed != "correct horse"
        assert hasher.verify(hashed, "correct horse") is True
        assert hasher.verify(hashed, "correct horsE") is False
        assert hasher.verify(hashed, "") is False

    def test_a_malformed_hash_does_not_verify_and_needs_rehash(self, hasher):
        for broken in ("", "plain", "$argon2id$v=19$garbage"):
            assert hasher.verify(broken, "anything") is False
            assert hasher.needs_rehash(broken) is True

    def test_own_hashes_need_no_rehash_but_other_parameters_do(self, hasher, stronger):
        assert hasher.needs_rehash(hasher.hash("pw")) is False
        assert stronger.needs_rehash(hasher.hash("pw")) is True
        assert stronger.verify(hasher.hash("pw"), "pw") is True  # old hashes still verify


class TestFakeHasher(PasswordHasherContract):
    @pytest.fixture
    def hasher(self):
        return FakeHasher(cost=1)

    @pytest.fixture
    def stronger(self):
        return FakeHasher(cost=2)


class TestArgon2Hasher(PasswordHasherContract):
    @pytest.fixture
    def hasher(self):
        return Argon2Hasher(CHEAP_ARGON2)

    @pytest.fixture
    def stronger(self):
        return Argon2Hasher(Argon2Parameters(CHEAP_ARGON2.time_cost + 1, CHEAP_ARGON2.memory_cost_kib * 2, 1))

    def test_hashes_are_salted(self, hasher):
        assert hasher.hash("same") != hasher.hash("same")

    def test_hashes_are_argon2id_with_the_given_parameters(self, hasher):
        assert hasher.hash("pw").startswith("$argon2id$v=19$m=8,t=1,p=1$")


class TestPooledHasher(PasswordHasherContract):
    @pytest.fixture
    def hasher(self):
        pooled = PooledHasher(Argon2Hasher(CHEAP_ARGON2), workers=2)
        yield pooled
        pooled.close()

    @pytest.fixture
    def stronger(self):
        pooled = PooledHasher(Argon2Hasher(Argon2Parameters(CHEAP_ARGON2.time_cost + 1, CHEAP_ARGON2.memory_cost_kib * 2, 1)), workers=1)
        yield pooled
        pooled.close()


class PairingHasher(FakeHasher):
    """Records the threads and the most calls in flight at once; calls wait to run in pairs."""

    def __init__(self) -> None:
        super().__init__(cost=1)
        self.threads: set[str] = set()
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        self._pair = threading.Barrier(2, timeout=5)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.threads.add(threading.current_thread().name)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self._pair.wait()
        with self._lock:
            self.in_flight -= 1
        return super().verify(password_hash, password)


def test_the_pool_runs_at_most_its_workers_at_once_on_its_own_threads():
    inner = PairingHasher()
    pooled = PooledHasher(inner, workers=2)
    hashed = inner.hash("pw")
    try:
        with ThreadPoolExecutor(max_workers=6) as callers:
            results = list(callers.map(lambda _: pooled.verify(hashed, "pw"), range(6)))
    finally:
        pooled.close()
    assert results == [True] * 6
    assert inner.most_in_flight == 2
    assert inner.threads and all(name.startswith("esauth-hash") for name in inner.threads)


def test_a_closed_pool_refuses_work():
    pooled = PooledHasher(FakeHasher(cost=1), workers=1)
    pooled.close()
    with pytest.raises(RuntimeError):
        pooled.hash("pw")


def test_the_queue_depth_counts_the_hashes_no_worker_has_started_and_saturation_follows_it():
    inner = GatedHasher()
    metrics = RecordingMetrics()
    pooled = PooledHasher(inner, workers=1, metrics=metrics)
    hashed = "fake$1$pw"
    try:
        with ThreadPoolExecutor(max_workers=3) as callers:
            results = [callers.submit(pooled.verify, hashed, "pw") for _ in range(3)]
            assert inner.started.acquire(timeout=5)  # one runs, two wait behind it
            deadline = time.monotonic() + 5
            while pooled.queue_depth < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
            assert pooled.queue_depth == 2
            assert pooled.saturated(limit=2) and not pooled.saturated(limit=3)
            inner.open()
            assert [result.result(timeout=5) for result in results] == [True] * 3
    finally:
        inner.open()
        pooled.close()
    assert pooled.queue_depth == 0 and not pooled.saturated(limit=1)
    waits = [seconds for (seconds,) in metrics.of("hash_wait")]
    assert len(waits) == 3 and all(wait >= 0 for wait in waits)
    assert max(waits) > 0, "the hashes that queued report the time they waited"
