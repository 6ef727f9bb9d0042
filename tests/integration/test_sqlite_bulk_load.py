"""SqliteUserRepository.add_many, the bulk load `make bench` grows its stores with (a million
users in one transaction per chunk, not one commit each): users stored as `add` stores them, and
all or nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from domain.errors import UserAlreadyExists
from domain.user import User
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.user_repository import SqliteUserRepository

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def user(i: int) -> User:
    return User(email_address=f"user-{i}@abc.com", password_hash="$argon2id$...", created_at=NOW,
                first_name="Bulk", session_ids=(f"s{i}",))


@pytest.fixture
def repository(tmp_path: Path):
    database = SqliteDatabase(tmp_path / "esauth.sqlite3")
    try:
        yield SqliteUserRepository(database)
    finally:
        database.close()


def test_users_loaded_in_bulk_read_back_as_added_ones(repository: SqliteUserRepository) -> None:
    assert repository.add_many(user(i) for i in range(1, 301)) == 300
    added = repository.add(user(0))
    for i in (1, 150, 300):
        found = repository.get(f"user-{i}@abc.com")
        assert found is not None and found.version is not None
        assert replace(found, version=None) == replace(user(i), user_id=found.user_id)
    # Each its own guarded version, as after add: an update at the read version lands once.
    loaded = repository.get("user-7@abc.com")
    assert repository.update(replace(loaded, first_name="Changed")).first_name == "Changed"
    assert added.version is not None


def test_a_batch_meeting_a_stored_address_changes_nothing(repository: SqliteUserRepository) -> None:
    repository.add(user(5))
    with pytest.raises(UserAlreadyExists):
        repository.add_many(user(i) for i in range(1, 10))
    assert [repository.get(f"user-{i}@abc.com") is not None for i in range(1, 10)] == [i == 5 for i in range(1, 10)]
    assert repository.add_many([user(1), user(2)]) == 2  # the connection is usable after the rollback
