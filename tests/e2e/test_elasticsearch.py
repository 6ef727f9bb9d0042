"""The seed's session on Elasticsearch, and a store that goes away and comes back."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from infrastructure.search_engine.client import connect
from infrastructure.search_engine.login_failures import SearchEngineLoginFailureRepository
from infrastructure.search_engine.user_repository import SearchEngineUserRepository
from tests.engines import SearchEngine
from tests.e2e.harness import HOST, EsauthServer, Response, StartServer, free_port
from tests.e2e.seed_session import assert_error, log_in, run_seed_session, sign_up

RECOVERY_TIMEOUT_S = 15.0

LEAK_MARKERS = (
    "Traceback",
    "ConnectionError",
    "TransportError",
    "ApiError",
    "urllib3",
    "Errno",
    "refused",
    "StoreUnavailable",
    "File \"",
)


def test_seed_curl_session_on_each_search_engine(
    start_server: StartServer, search_engine: SearchEngine, es_index: str
) -> None:
    server = start_server(**search_engine.env(es_index))
    run_seed_session(server, store="elasticsearch" if search_engine.name == "osmem" else "opensearch")
    assert server.alive()


# --------------------------------------------------------------------------------------------
# Store down and back


class Osmem:
    """An osmem-server we own, on a fixed address, that can be stopped and started again."""

    def __init__(self) -> None:
        self.addr = f"{HOST}:{free_port()}"
        self.url = f"http://{self.addr}"
        self._server = None

    def start(self) -> None:
        from osmem_server import OsmemServer

        self._server = OsmemServer.start(japanese=False, addr=self.addr)
        assert self._server.url.rstrip("/") == self.url, self._server.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        try:
            server.close()
        finally:
            # OsmemServer.close() leaves its pipes open; close them, or they warn when collected.
            for pipe in (server.process.stdin, server.process.stdout):
                if pipe is not None:
                    pipe.close()
            if server.process.poll() is None:
                server.process.kill()
            server.process.wait()


@pytest.fixture
def osmem() -> Iterator[Osmem]:
    store = Osmem()
    store.start()
    try:
        yield store
    finally:
        store.stop()


def ensure_index(url: str, index: str) -> None:
    client = connect(url, engine="elasticsearch")
    try:
        SearchEngineUserRepository(client, index).ensure_index()
        SearchEngineLoginFailureRepository(client, f"{index}-login-failures").ensure_index()
    finally:
        client.close()


def assert_store_unavailable(response: Response, allow_store_kind: bool = False) -> None:
    body = assert_error(response, 503)
    text = response.body.decode()
    for marker in LEAK_MARKERS:
        assert marker not in text, f"503 leaks {marker!r}: {text}"
    if not allow_store_kind:
        assert "elasticsearch" not in text.lower(), f"503 names the store: {text}"
    assert body["error"] == "503: Service Unavailable", body


def wait_for(server: EsauthServer, check, timeout_s: float) -> tuple[Response, float]:
    """Poll `check()` until it returns a 200 response; (response, seconds it took)."""
    start = time.monotonic()
    last = None
    while time.monotonic() - start < timeout_s:
        assert server.alive(), f"esauth died.\nstderr:\n{server.stderr()}"
        last = check()
        if last.status == 200:
            return last, time.monotonic() - start
        time.sleep(0.05)
    pytest.fail(
        f"esauth did not recover within {timeout_s} s after the store came back (last: {last!r}).\n"
        f"stderr (tail):\n{server.stderr()[-3000:]}",
        pytrace=False,
    )


def test_store_down_answers_503_and_recovers_without_restart(
    start_server: StartServer, osmem: Osmem, es_index: str
) -> None:
    # No session-check cache: every logged-in request must reach the store (the cache has its own tests).
    server = start_server(
        ESAUTH_ELASTICSEARCH_URL=osmem.url, ESAUTH_ES_ENGINE="elasticsearch", ESAUTH_ES_INDEX=es_index,
        ESAUTH_SESSION_CHECK_CACHE_MS="0",
    )
    client = server.client()
    assert client.get("/health").json == {"status": "ok", "store": "elasticsearch"}
    assert sign_up(client).status == 200
    log_in(client)
    assert client.get("/v1/test").status == 200

    osmem.stop()

    began = time.monotonic()
    health = client.get("/health")
    assert_store_unavailable(health, allow_store_kind=True)
    login = client.post("/v1/auth/login", {"email_address": "test@abc.com", "password": "correct horse battery"})
    assert_store_unavailable(login)
    assert not login.set_cookies()
    assert_store_unavailable(sign_up(client, email="second@abc.com"))
    assert_store_unavailable(client.get("/v1/test"))  # a logged-in request needs the store too
    assert time.monotonic() - began < 10, "a dead store should fail fast, not hang request threads"
    assert server.alive(), f"esauth exited when the store went away.\nstderr:\n{server.stderr()}"

    osmem.start()
    returned = time.monotonic()
    ensure_index(osmem.url, es_index)  # osmem is in-memory; a real cluster would have kept the index

    health, health_s = wait_for(server, lambda: client.get("/health"), RECOVERY_TIMEOUT_S)
    assert health.json == {"status": "ok", "store": "elasticsearch"}
    created, _ = wait_for(server, lambda: sign_up(client, email="second@abc.com"), RECOVERY_TIMEOUT_S)
    assert created.json["message"] == "'second@abc.com' added successfully!"
    recovery_s = time.monotonic() - returned
    log_in(client, email="second@abc.com")
    assert client.get("/v1/test").status == 200
    assert server.alive()

    print(f"\nRECOVERY: /health 200 {health_s:.3f} s after the index was re-created; "
          f"sign-up 200 {recovery_s:.3f} s after osmem was started again")
