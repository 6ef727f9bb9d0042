"""A real `esauth serve` as an operator runs it: JSON logs, the probes, /metrics, and store
outages told in two lines (SQLite made unwritable, osmem stopped), never a traceback each."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.harness import EsauthServer, StartServer, esauth_command
from tests.e2e.seed_session import log_in, sign_up
from tests.e2e.test_elasticsearch import Osmem, osmem, wait_for  # noqa: F401 (osmem is a fixture)
from tests.e2e.workers import one_connection_per_worker, wait_for_workers
from infrastructure.prometheus_metrics import SNAPSHOT_EVERY_S

FAILED_REQUESTS = 12
START_LINE = "store is not answering"
END_LINE = re.compile(r"store answers again after \d+\.\d s; (\d+) requests failed meanwhile")


def json_lines(server: EsauthServer) -> list[dict]:
    """Every line the server wrote to stderr, each of which must be one JSON object."""
    lines = []
    for line in server.stderr().splitlines():
        parsed = json.loads(line)  # fails the test on any line that is not JSON
        assert isinstance(parsed, dict), line
        lines.append(parsed)
    return lines


def probe_until_told(server: EsauthServer, client, timeout_s: float = 10) -> None:
    """Poll /health/ready, as an orchestrator does, until the outage's end line is written
    (it waits for a second without failures, so a line written at once would be a flap)."""
    deadline = time.monotonic() + timeout_s
    while not END_LINE.search(server.stderr()):
        assert time.monotonic() < deadline, f"no end-of-outage line within {timeout_s} s:\n{server.stderr()[-3000:]}"
        client.get("/health/ready")
        time.sleep(0.1)


def assert_told_once(stderr: str, failed_at_least: int) -> None:
    starts = [line for line in stderr.splitlines() if START_LINE in line]
    ends = [match for match in map(END_LINE.search, stderr.splitlines()) if match]
    assert len(starts) == 1 and len(ends) == 1, f"one line each, not one per request:\n{stderr[-4000:]}"
    assert int(ends[0][1]) >= failed_at_least
    assert "Traceback" not in stderr


@pytest.fixture
def immutable(tmp_path: Path):
    """`chattr +i` on files, undone whatever happens (root ignores permissions; not this flag)."""
    if shutil.which("chattr") is None:  # e2fsprogs is essential on Debian, but a slim image may lack it
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "e2fsprogs"], env=env, check=True, timeout=600)
    assert shutil.which("chattr"), "chattr (Debian's e2fsprogs) is needed to make SQLite unwritable for root"
    flagged: list[Path] = []

    def flag(*paths: Path) -> None:
        subprocess.run(["chattr", "+i", *map(str, paths)], check=True, capture_output=True)
        flagged.extend(paths)

    def unflag() -> None:
        if flagged:
            subprocess.run(["chattr", "-i", *map(str, flagged)], check=True, capture_output=True)
            flagged.clear()

    flag.undo = unflag  # type: ignore[attr-defined]
    try:
        yield flag
    finally:
        unflag()


def test_sqlite_that_stops_taking_writes_is_told_once_ready_says_503_and_live_stays_200(
    start_server: StartServer, tmp_path: Path, immutable
) -> None:
    server = start_server(data_dir=tmp_path / "data", ESAUTH_ACCESS_LOG="true")
    client = server.client()
    assert sign_up(client).status == 200
    assert client.get("/health/ready").status == 200
    database = tmp_path / "data" / "esauth.sqlite3"
    wal = database.with_name(database.name + "-wal")
    assert wal.exists(), "WAL mode: writes land in the -wal file first"

    immutable(database, wal)  # reads still work, every write fails: a full or read-only disk
    for _ in range(FAILED_REQUESTS):
        assert log_in_status(client) == 503
    assert client.get("/health/ready").status == 503
    assert client.get("/health/live").status == 200
    immutable.undo()

    wait_for(server, lambda: client.get("/health/ready"), 10)
    log_in(client)
    probe_until_told(server, client)
    server.stop()
    stderr = server.stderr()
    assert_told_once(stderr, FAILED_REQUESTS)
    assert re.search(r"ERROR esauth.store the sqlite store is not answering \(sqlite: OperationalError: [a-zA-Z /]+\)", stderr)
    assert re.search(r"INFO esauth.access POST /v1/auth/login 503 [\d.]+ms client=127.0.0.1 request_id=\w+", stderr)


def log_in_status(client) -> int:
    return client.post("/v1/auth/login", {"email_address": "test@abc.com", "password": "correct horse battery"}).status


@pytest.mark.elasticsearch
def test_a_stopped_elasticsearch_is_told_once_in_json_logs_and_metrics_count_the_errors(
    start_server: StartServer, osmem: Osmem, es_index: str, tmp_path: Path
) -> None:
    # osmem through elasticsearch-py, as tests/engines.py runs it (auto would pick opensearch-py from its root).
    env = {"ESAUTH_ELASTICSEARCH_URL": osmem.url, "ESAUTH_ES_ENGINE": "elasticsearch", "ESAUTH_ES_INDEX": es_index,
           "ESAUTH_SESSION_CHECK_CACHE_MS": "0"}
    server = start_server(ESAUTH_LOG_FORMAT="json", ESAUTH_ACCESS_LOG="true", **env)
    client = server.client()
    assert sign_up(client).status == 200
    log_in(client)
    assert client.get("/health/ready").json == {"status": "ok", "store": "elasticsearch"}  # the write probe lands

    osmem.stop()
    for _ in range(FAILED_REQUESTS // 2):
        assert client.get("/v1/test").status == 503
        assert log_in_status(client) == 503
    assert client.get("/health/ready").status == 503
    assert client.get("/health/live").status == 200
    metrics = client.get("/metrics").body.decode()
    errors = sum(float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("esauth_store_errors_total{"))
    assert errors >= FAILED_REQUESTS

    osmem.start()
    init = subprocess.run(
        [*esauth_command(), "init"], env={**server.env, **env}, capture_output=True, text=True, timeout=60
    )  # osmem is in memory: the operator's init makes the indices again
    assert init.returncode == 0, init.stderr
    wait_for(server, lambda: sign_up(client, email="second@abc.com"), 15)
    log_in(client, email="second@abc.com")
    probe_until_told(server, client)
    server.stop()

    lines = json_lines(server)
    assert_told_once("\n".join(line.get("message", "") for line in lines), FAILED_REQUESTS)
    access = [line for line in lines if line["logger"] == "esauth.access"]
    assert {(line["method"], line["route"], line["status"]) for line in access} >= {
        ("GET", "/v1/test", 503), ("POST", "/v1/auth/login", 503), ("POST", "/v1/users/new", 200),
    }
    assert all({"duration_ms", "request_id", "client"} <= line.keys() for line in access)
    audit = [line for line in lines if line["logger"] == "esauth.audit"]
    assert [line["event"] for line in audit][:2] == ["signup", "login_ok"], "audit events are objects"
    assert not any("Traceback" in json.dumps(line) for line in lines)


def test_with_two_workers_every_scrape_counts_the_requests_of_both(start_server: StartServer) -> None:
    server = start_server(workers=2)
    pids = set(wait_for_workers(server, 2).values())
    with one_connection_per_worker(server, pids) as pinned:
        first, second = (pinned[pid] for pid in sorted(pinned))
        for _ in range(3):
            assert first.request("GET", "/health/live").status == 200
        for _ in range(5):
            assert second.request("GET", "/health/live").status == 200
        time.sleep(SNAPSHOT_EVERY_S * 1.5)  # each worker has written its figures since
        for connection in (first, second, first):
            text = connection.request("GET", "/metrics").body.decode()
            assert 'esauth_http_requests_total{method="GET",route="/health/live",status="200"} 8.0' in text, text
