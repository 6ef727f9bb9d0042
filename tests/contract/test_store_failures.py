"""What each real store does when it cannot answer, and how the Elasticsearch client talks."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from domain.errors import StoreAccessDenied, StoreUnavailable
from infrastructure.search_engine.client import connect
from infrastructure.search_engine.user_repository import SearchEngineUserRepository
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.contract.test_user_repository import make_user


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("engine", ["elasticsearch", "opensearch"])
def test_a_search_engine_that_does_not_answer_is_store_unavailable(engine):
    client = connect(f"http://127.0.0.1:{closed_port()}", engine=engine, request_timeout_s=1)
    repository = SearchEngineUserRepository(client, "users")
    try:
        for call in (lambda: repository.get("a@example.com"), lambda: repository.add(make_user()), repository.check):
            with pytest.raises(StoreUnavailable) as caught:
                call()
            assert "127.0.0.1" not in str(caught.value)  # what reaches logs names no address or payload
    finally:
        client.close()


def test_sqlite_that_cannot_be_read_is_store_unavailable(tmp_path):
    database = SqliteDatabase(tmp_path / "esauth.sqlite3")
    repository = SqliteUserRepository(database)
    database.connection().execute("DROP TABLE users")
    try:
        with pytest.raises(StoreUnavailable):
            repository.get("a@example.com")
        with pytest.raises(StoreUnavailable):
            repository.check()
    finally:
        database.close()


class Recorder(BaseHTTPRequestHandler):
    """Answers like an Elasticsearch node and remembers the media types it was sent."""

    seen: list[tuple[str, str | None, str | None]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        Recorder.seen.append((self.command, self.headers.get("Accept"), self.headers.get("Content-Type")))
        body = json.dumps({"_id": "a", "_seq_no": 0, "_primary_term": 1, "result": "created"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST = do_GET = _answer

    def log_message(self, *args) -> None:
        pass


def test_the_client_sends_plain_json_that_es8_es9_and_opensearch_all_accept():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = connect(f"http://127.0.0.1:{server.server_address[1]}", engine="elasticsearch")
    try:
        Recorder.seen.clear()
        SearchEngineUserRepository(client, "users").add(make_user())
        assert Recorder.seen == [("PUT", "application/json", "application/json")]
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join()


class Scripted(BaseHTTPRequestHandler):
    """Answers every request with `status` (no product header: both clients must cope), or
    drops the connection unanswered when `status` is None; counts what it was sent."""

    status: int | None = None
    seen: list[str] = []

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Scripted.seen.append(self.command)
        if Scripted.status is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = json.dumps({"error": {"type": "security_exception", "reason": "no"}, "status": Scripted.status}).encode()
        self.send_response(Scripted.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST = do_GET = do_HEAD = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def scripted():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Scripted.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("engine", ["elasticsearch", "opensearch"])
@pytest.mark.parametrize("status", [401, 403])
def test_a_refusal_by_the_cluster_is_named_as_such_not_as_unreachable(scripted, engine, status):
    Scripted.status = status
    client = connect(scripted, engine=engine)
    try:
        with pytest.raises(StoreAccessDenied) as caught:
            SearchEngineUserRepository(client, "users").get("a@example.com")
        assert str(status) in str(caught.value)
    finally:
        client.close()


@pytest.mark.parametrize("engine", ["elasticsearch", "opensearch"])
def test_a_sign_up_whose_answer_is_lost_is_sent_once_and_never_becomes_already_exists(scripted, engine):
    Scripted.status = None  # the create may have landed: only the answer is lost
    client = connect(scripted, engine=engine)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            SearchEngineUserRepository(client, "users").add(make_user())
        assert not isinstance(caught.value, StoreAccessDenied)
        assert Scripted.seen == ["PUT"]  # not retried: a second create would answer 409
        Scripted.seen.clear()
        with pytest.raises(StoreUnavailable):
            SearchEngineUserRepository(client, "users").get("a@example.com")
        assert Scripted.seen == ["GET", "GET"]  # a read is safe to send again, once
    finally:
        client.close()


def test_esauth_names_a_credentials_refusal_and_exits_2(scripted, monkeypatch, capsys, tmp_path):
    from entrypoints.cli import main

    Scripted.status = 401
    monkeypatch.setenv("ESAUTH_ELASTICSEARCH_URL", scripted)
    monkeypatch.setenv("ESAUTH_ES_ENGINE", "opensearch")
    monkeypatch.setenv("ESAUTH_DATA_DIR", str(tmp_path))
    assert main(["init"]) == 2
    err = capsys.readouterr().err
    # The start-up check names the settings to fix (tests/e2e/test_secured_cluster.py has every case).
    assert "ESAUTH_ES_API_KEY or ESAUTH_ES_USERNAME/ESAUTH_ES_PASSWORD" in err and "401" in err
    assert "not reachable" not in err
