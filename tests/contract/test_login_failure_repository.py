"""One contract for every LoginFailureRepository: the fake, SQLite and each search engine."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from domain.devices import device_key
from domain.errors import VersionConflict
from domain.throttle import failure_key
from infrastructure.search_engine.login_failures import SearchEngineLoginFailureRepository
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.store_watch import ObservedStore, OutageLog
from infrastructure.sqlite.login_failures import SqliteLoginFailureRepository
from ports.login_failures import FailureRecord
from tests.fakes import RecordingMetrics, InMemoryLoginFailureRepository

AT = datetime(2026, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
KEY = "a" * 64


class LoginFailureRepositoryContract:
    def test_a_key_without_failures_is_none(self, repo):
        assert repo.get(KEY) is None

    def test_a_read_from_before_a_delete_cannot_write_over_a_record_made_again(self, repo):
        stale = repo.put(FailureRecord(KEY, 1, AT))
        repo.delete(KEY)
        again = repo.put(FailureRecord(KEY, 1, AT))
        with pytest.raises(VersionConflict):
            repo.put(FailureRecord(KEY, 2, AT, version=stale.version))
        assert repo.get(KEY) == again and repo.get(KEY).version == again.version

    def test_put_creates_then_get_round_trips(self, repo):
        created = repo.put(FailureRecord(KEY, 1, AT))
        assert created.version is not None
        found = repo.get(KEY)
        assert (found.key, found.failures, found.last_failure_at, found.version) == (KEY, 1, AT, created.version)

    def test_a_second_create_of_one_key_conflicts(self, repo):
        repo.put(FailureRecord(KEY, 1, AT))
        with pytest.raises(VersionConflict):
            repo.put(FailureRecord(KEY, 1, AT))
        assert repo.get(KEY).failures == 1

    def test_put_with_the_current_version_replaces_and_a_stale_one_conflicts(self, repo):
        created = repo.put(FailureRecord(KEY, 1, AT))
        updated = repo.put(replace(created, failures=2))
        assert updated.version != created.version
        with pytest.raises(VersionConflict):
            repo.put(replace(created, failures=7))
        assert repo.get(KEY).failures == 2

    def test_delete_forgets_and_is_idempotent(self, repo):
        repo.put(FailureRecord(KEY, 3, AT))
        repo.delete(KEY)
        assert repo.get(KEY) is None
        repo.delete(KEY)
        assert repo.put(FailureRecord(KEY, 1, AT)).failures == 1

    def test_purge_deletes_only_records_older_than_the_cutoff(self, repo):
        repo.put(FailureRecord("a" * 64, 3, AT - timedelta(days=2)))
        repo.put(FailureRecord("b" * 64, 3, AT))
        assert repo.purge(AT - timedelta(days=1)) in (1, -1)
        assert repo.get("a" * 64) is None
        assert repo.get("b" * 64).failures == 3
        assert repo.purge(AT - timedelta(days=1)) in (0, -1)

    def test_a_devices_lockout_record_lives_apart_from_its_accounts_count_and_ages_out_alike(self, repo):
        """The device lockout list is records under device keys (domain.devices.device_key)."""
        device, account = device_key("a-nonce-of-128-random-bits"), failure_key("ada@example.com")
        repo.put(FailureRecord(device, 10, AT))
        repo.put(FailureRecord(account, 5, AT))
        assert (repo.get(device).failures, repo.get(account).failures) == (10, 5)
        repo.delete(device)
        assert repo.get(device) is None and repo.get(account).failures == 5
        repo.put(FailureRecord(device, 10, AT - timedelta(days=2)))
        repo.purge(AT - timedelta(days=1))
        assert repo.get(device) is None and repo.get(account).failures == 5

    def test_concurrent_increments_from_one_read_let_exactly_one_win(self, repo):
        created = repo.put(FailureRecord(KEY, 1, AT))
        barrier = threading.Barrier(6)

        def increment(_: int) -> bool:
            barrier.wait()
            try:
                repo.put(replace(created, failures=2))
                return True
            except VersionConflict:
                return False

        with ThreadPoolExecutor(6) as pool:
            assert sum(pool.map(increment, range(6))) == 1


class TestInMemoryLoginFailureRepository(LoginFailureRepositoryContract):
    @pytest.fixture
    def repo(self):
        return InMemoryLoginFailureRepository()


class TestObservedSqliteLoginFailureRepository(LoginFailureRepositoryContract):
    """What the composition root hands the domain: the adapter behind the metrics and outage watch."""

    @pytest.fixture
    def repo(self, tmp_path):
        database = SqliteDatabase(tmp_path / "esauth.sqlite3")
        yield ObservedStore(SqliteLoginFailureRepository(database), RecordingMetrics(), OutageLog("sqlite"))
        database.close()


class TestSqliteLoginFailureRepository(LoginFailureRepositoryContract):
    @pytest.fixture
    def repo(self, tmp_path):
        database = SqliteDatabase(tmp_path / "esauth.sqlite3")
        yield SqliteLoginFailureRepository(database)
        database.close()


@pytest.mark.elasticsearch
class TestSearchEngineLoginFailureRepository(LoginFailureRepositoryContract):
    @pytest.fixture
    def repo(self, search_engine, es_index):
        client = search_engine.connect()
        repository = RefreshingLoginFailureRepository(client, es_index)
        assert repository.ensure_index() == "created"
        yield repository
        client.delete_index(f"{es_index}-000001")
        client.close()


class RefreshingLoginFailureRepository(SearchEngineLoginFailureRepository):
    """purge is a delete-by-query, which sees writes once the index refreshes (about 1 s on a
    real engine); in use it removes day-old records, so the tests refresh instead of waiting."""

    def purge(self, last_failure_before):
        self._client.refresh(self.index)
        return super().purge(last_failure_before)
