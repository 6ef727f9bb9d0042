"""Bearer tokens over each real store: usable at once from another process, with no search involved."""

from __future__ import annotations

import pytest

from domain.access_tokens import AccessTokens
from domain.errors import TokenRefused
from domain.user import User
from domain.users import Users
from infrastructure.search_engine.user_repository import SearchEngineUserRepository
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.contract.test_user_repository import CREATED, make_user
from tests.engines import drop_indices
from tests.fakes import FakeClock


class NoSearch:
    """Fails the test if the token check ever searches: on Elasticsearch a search is near-real-time."""

    def __init__(self, repository) -> None:
        self._repository = repository

    def search(self, *args, **kwargs):
        raise AssertionError("a bearer check must not search")

    def __getattr__(self, name):
        return getattr(self._repository, name)


@pytest.fixture
def sqlite_repository(tmp_path):
    database = SqliteDatabase(tmp_path / "esauth.sqlite3")
    yield SqliteUserRepository(database)
    database.close()


@pytest.fixture
def search_engine_repository(search_engine, es_index):
    client = search_engine.connect()
    repository = SearchEngineUserRepository(client, es_index)
    assert repository.ensure_index() == "created" and repository.id_links.ensure_index() == "created"
    assert repository.tombstones.ensure_index() == "created"
    yield repository
    drop_indices(client, es_index, f"{es_index}-ids", f"{es_index}-gone")
    client.close()


def test_on_sqlite(sqlite_repository) -> None:
    check_a_token_made_on_one_process_works_at_once_on_another_and_dies_when_revoked(sqlite_repository)


@pytest.mark.elasticsearch
def test_on_a_search_engine(search_engine_repository) -> None:
    check_a_token_made_on_one_process_works_at_once_on_another_and_dies_when_revoked(search_engine_repository)


def check_a_token_made_on_one_process_works_at_once_on_another_and_dies_when_revoked(repository) -> None:
    clock = FakeClock(CREATED)
    here, there = Users(repository, clock), Users(NoSearch(repository), clock)
    user: User = here.add(make_user())
    token, entry = AccessTokens(here, clock).create(user.email_address, "ci")

    found, used, first_use = AccessTokens(there, clock).authenticate(token)
    assert (found.user_id, used.token_id, first_use) == (user.user_id, entry.token_id, True)

    AccessTokens(here, clock).revoke(user.email_address, entry.token_id)
    clock.advance(seconds=1)
    with pytest.raises(TokenRefused):
        AccessTokens(there, clock).authenticate(token)
