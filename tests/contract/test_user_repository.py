"""One contract for every UserRepository: the fake, SQLite and Elasticsearch must all pass it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from domain.errors import UserAlreadyExists, UserNotFound, VersionConflict
from domain.user import User
from infrastructure.elasticsearch_client import connect
from infrastructure.elasticsearch_repository import ElasticsearchUserRepository
from infrastructure.sqlite_database import SqliteDatabase
from infrastructure.sqlite_repository import SqliteUserRepository
from tests.fakes import InMemoryUserRepository

CREATED = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=timezone.utc)


def make_user(email: str = "ada@example.com", **fields) -> User:
    return User(email_address=email, password_hash="$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", created_at=CREATED, **fields)


class UserRepositoryContract:
    """Not collected by itself: subclasses provide the `repo` fixture."""

    def test_a_missing_user_is_none(self, repo):
        assert repo.get("nobody@example.com") is None

    def test_add_then_get_round_trips_every_field(self, repo):
        user = make_user(first_name="Ada Ünïcode", last_name="Lövelace 💡", is_active=False, session_ids=("s1", "s2"))
        added = repo.add(user)
        assert added.version is not None
        found = repo.get("ada@example.com")
        assert found == user
        assert found.version == added.version
        assert found.created_at == CREATED

    def test_add_of_a_taken_email_is_refused_and_keeps_the_first(self, repo):
        repo.add(make_user(first_name="First"))
        with pytest.raises(UserAlreadyExists) as caught:
            repo.add(make_user(first_name="Second"))
        assert caught.value.email_address == "ada@example.com"
        assert repo.get("ada@example.com").first_name == "First"

    def test_update_with_the_current_version_is_written(self, repo):
        added = repo.add(make_user())
        updated = repo.update(replace(added, first_name="Ada", session_ids=("s1",)))
        assert updated.version != added.version
        found = repo.get("ada@example.com")
        assert (found.first_name, found.session_ids, found.version) == ("Ada", ("s1",), updated.version)

    def test_update_with_a_stale_version_is_refused_and_changes_nothing(self, repo):
        added = repo.add(make_user())
        repo.update(replace(added, first_name="Winner"))
        with pytest.raises(VersionConflict):
            repo.update(replace(added, first_name="Loser"))
        assert repo.get("ada@example.com").first_name == "Winner"

    def test_update_of_a_missing_user_is_refused(self, repo):
        added = repo.add(make_user("other@example.com"))
        with pytest.raises(UserNotFound):
            repo.update(replace(added, email_address="ghost@example.com"))
        assert repo.get("ghost@example.com") is None

    def test_check_passes_when_the_store_answers(self, repo):
        repo.check()

    def test_concurrent_creates_of_one_email_let_exactly_one_win(self, repo):
        contenders = 8
        barrier = threading.Barrier(contenders)

        def create(n: int) -> str:
            barrier.wait()
            try:
                repo.add(make_user("race@example.com", first_name=f"n{n}"))
                return "created"
            except UserAlreadyExists:
                return "exists"

        with ThreadPoolExecutor(contenders) as pool:
            outcomes = list(pool.map(create, range(contenders)))
        assert sorted(outcomes) == ["created"] + ["exists"] * (contenders - 1)
        assert repo.get("race@example.com").first_name.startswith("n")

    def test_concurrent_updates_from_one_read_let_exactly_one_win(self, repo):
        added = repo.add(make_user())
        contenders = 6
        barrier = threading.Barrier(contenders)

        def update(n: int) -> str:
            barrier.wait()
            try:
                repo.update(replace(added, first_name=f"n{n}"))
                return f"n{n}"
            except VersionConflict:
                return "conflict"

        with ThreadPoolExecutor(contenders) as pool:
            outcomes = list(pool.map(update, range(contenders)))
        winners = [o for o in outcomes if o != "conflict"]
        assert len(winners) == 1
        assert repo.get("ada@example.com").first_name == winners[0]


class TestInMemoryUserRepository(UserRepositoryContract):
    @pytest.fixture
    def repo(self):
        return InMemoryUserRepository()


class TestSqliteUserRepository(UserRepositoryContract):
    @pytest.fixture
    def repo(self, tmp_path):
        database = SqliteDatabase(tmp_path / "esauth.sqlite3")
        yield SqliteUserRepository(database)
        database.close()

    def test_users_survive_a_restart(self, tmp_path):
        first = SqliteDatabase(tmp_path / "esauth.sqlite3")
        SqliteUserRepository(first).add(make_user())
        first.close()
        second = SqliteDatabase(tmp_path / "esauth.sqlite3")
        try:
            assert SqliteUserRepository(second).get("ada@example.com") == make_user()
            assert second.connection().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            second.close()


@pytest.mark.elasticsearch
class TestElasticsearchUserRepository(UserRepositoryContract):
    @pytest.fixture
    def repo(self, elasticsearch_url, es_index):
        client = connect(elasticsearch_url)
        repository = ElasticsearchUserRepository(client, es_index)
        assert repository.ensure_index() is True
        yield repository
        client.indices.delete(index=es_index)
        client.close()

    def test_documents_are_keyed_by_the_email(self, repo):
        repo.add(make_user())
        assert repo._es.get(index=repo.index, id="ada@example.com")["_source"]["email_address"] == "ada@example.com"

    def test_ensure_index_is_idempotent(self, repo):
        assert repo.ensure_index() is False
