"""What only a real engine shows (osmem makes every write searchable at once, allows any sort,
and has no shards): each test here runs on the real OpenSearch node, or on
ESAUTH_ELASTICSEARCH_URL's cluster when that is set."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import replace

import pytest

from domain.errors import StoreUnavailable
from infrastructure.search_engine import user_repository
from infrastructure.search_engine.client import NotFound, Refused
from infrastructure.search_engine.user_repository import SearchEngineUserRepository
from infrastructure.user_document import to_document
from tests.contract.test_user_repository import make_user
from tests.e2e.harness import REPO_ROOT, esauth_command, start_server  # noqa: F401 - a fixture
from tests.e2e.seed_session import log_in, sign_up
from tests.engines import SearchEngine, drop_indices


@pytest.fixture
def engine(real_engine: SearchEngine) -> SearchEngine:
    return real_engine


@pytest.fixture
def repo(engine, es_index):
    client = engine.connect()
    repository = SearchEngineUserRepository(client, es_index)
    repository.ensure_index()
    yield repository
    drop_indices(client, es_index)
    client.close()


def test_a_write_is_got_at_once_but_found_by_search_only_after_a_refresh(repo):
    repo._client.put_settings(f"{repo.index}-000001", {"refresh_interval": "-1"})
    repo.add(make_user("ada@example.com", first_name="Ada"))
    assert repo.get("ada@example.com").first_name == "Ada"  # GET by id is realtime
    assert repo.search(("ada",), 10).users == ()  # search is near-real-time
    repo._client.refresh(repo.index)
    assert [u.email_address for u in repo.search(("ada",), 10).users] == ["ada@example.com"]


def test_the_backfill_ends_on_a_stale_page_with_refresh_interval_minus_1(repo, monkeypatch):
    monkeypatch.setattr(user_repository, "BACKFILL_PAGE", 2)
    for n in range(5):  # users stored before name_words existed: no such field
        document = to_document(replace(make_user(f"old{n}@example.com", first_name=f"Name{n}")))
        repo._client.put(repo.index, f"old{n}@example.com", document)
    repo._client.refresh(repo.index)
    repo._client.put_settings(f"{repo.index}-000001", {"refresh_interval": "-1"})

    outcome: list[int] = []
    worker = threading.Thread(target=lambda: outcome.append(repo.backfill_search_fields()), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the backfill re-reads its stale page forever"
    assert outcome == [5]
    repo._client.refresh(repo.index)
    assert [u.email_address for u in repo.search(("name3",), 10).users] == ["old3@example.com"]
    assert repo.backfill_search_fields() == 0


def test_a_sort_on_id_is_refused_so_the_search_sorts_on_keywords(repo):
    repo.add(make_user("ada@example.com"))
    repo._client.refresh(repo.index)
    with pytest.raises(Refused):
        repo._client.search(repo.index, {"sort": [{"_id": "asc"}]})
    assert len(repo.search((), 10).users) == 1


def test_the_strict_mapping_refuses_an_unknown_field(repo):
    with pytest.raises(Refused) as refused:
        repo._client.put(repo.index, "x@example.com", {**to_document(make_user("x@example.com")), "password": "plain"})
    assert refused.value.error_type == "strict_dynamic_mapping_exception"
    assert repo.get("x@example.com") is None


def test_a_red_index_makes_the_health_check_fail(engine, es_index):
    client = engine.connect()
    try:
        # A primary that may live on no node: the index exists but is red.
        client.library.indices.create(
            index=f"{es_index}-000001",
            body={"settings": {"index.routing.allocation.require._name": "no-such-node", "number_of_replicas": 0},
                  "aliases": {es_index: {"is_write_index": True}}},
            params={"wait_for_active_shards": "0"},
        )
        repository = SearchEngineUserRepository(client, es_index)
        with pytest.raises(StoreUnavailable, match="red"):
            repository.check()
    finally:
        drop_indices(client, es_index)
        client.close()


def test_two_processes_creating_the_index_at_once_both_succeed_on_one_index(engine, es_index, tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ESAUTH_")},
           **engine.env(es_index), "ESAUTH_DATA_DIR": str(tmp_path)}
    runs = [subprocess.Popen([*esauth_command(), "init"], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    client = engine.connect()
    try:
        assert [run.returncode for run in runs] == [0, 0], outputs
        created = sum(f"index {es_index}: created" in out for out, _ in outputs)
        assert created in (1, 2), outputs  # both may report created only if both saw nothing, never an error
        assert list(client.aliases(es_index)) == [f"{es_index}-000001"]
        assert client.mapping(es_index)[f"{es_index}-000001"]["mappings"]["dynamic"] == "strict"
    finally:
        drop_indices(client, es_index, f"{es_index}-login-failures")
        client.close()


def test_a_lost_index_is_503_until_init_repairs_it_and_no_write_recreates_it(engine, es_index, start_server):  # noqa: F811
    server = start_server(**engine.env(es_index))
    client = engine.connect()
    try:
        http = server.client()
        assert sign_up(http).status == 200
        client.delete_index(f"{es_index}-000001")
        answer = sign_up(http, email="second@abc.com")
        assert answer.status == 503, answer
        assert client.index_exists(es_index) is False  # the sign-up made no index
        assert server.client().get("/health").status == 503
        init = subprocess.run([*esauth_command(), "init"], cwd=REPO_ROOT, env=server.env, capture_output=True,
                              text=True, timeout=120)
        assert init.returncode == 0, init.stderr
        assert sign_up(http, email="second@abc.com").status == 200
        log_in(http, email="second@abc.com")
        assert server.stderr().count("requests fail until `esauth init` repairs it") == 1, server.stderr()  # one line, not one per request
    finally:
        drop_indices(client, es_index, f"{es_index}-login-failures")
        client.close()


def test_a_write_given_up_on_by_the_client_does_not_land_once_a_primary_is_back(engine, es_index):
    """A write waiting for a primary that is not there (a failover under way) gives up on the
    engine's side when the client does, instead of waiting the engine's default minute and
    landing once a primary is back: stamped before it was sent, a write landing that late is
    older than any look reaches back (CHANGE_WINDOW_MS), so other processes' session views would
    never hear of it (a logout-all, a deactivation)."""
    client = engine.connect(request_timeout_s=2.0)
    index = f"{es_index}-000001"
    try:
        client.library.indices.create(
            index=index,
            body={"settings": {"index.routing.allocation.require._name": "no-such-node", "number_of_replicas": 0},
                  "aliases": {es_index: {"is_write_index": True}}},
            params={"wait_for_active_shards": "0"},
        )
        with pytest.raises(StoreUnavailable):
            client.put(es_index, "ada@example.com", {"email_address": "ada@example.com"})
        time.sleep(0.5)  # past the engine's wait too, however the two timers were staggered
        client.put_settings(index, {"routing.allocation.require._name": None})  # a primary again
        deadline = time.monotonic() + 30
        while client.health(index, 2.0)["status"] == "red":
            assert time.monotonic() < deadline, "the primary was not assigned again"
            time.sleep(0.1)
        time.sleep(1.0)  # what was still waiting would land now
        client.refresh(index)
        with pytest.raises(NotFound):
            client.get(es_index, "ada@example.com")
    finally:
        drop_indices(client, es_index)
        client.close()
