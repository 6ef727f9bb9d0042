"""Both cluster clients under esauth's own concurrency, on every engine."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import threading

from infrastructure.search_engine.client import connect
from tests.e2e.harness import REPO_ROOT
from tests.engines import drop_indices

THREADS = 8  # esauth serve's default request threads
CALLS = 25


def test_eight_threads_reuse_their_connections_instead_of_opening_one_per_call(search_engine, caplog):
    # opensearch-py keeps one connection per node unless told otherwise: the other seven threads'
    # connections were discarded after every call ("Connection pool is full"), a TCP set-up each time.
    client = search_engine.connect()
    try:
        failures: list[BaseException] = []

        def read() -> None:
            try:
                for _ in range(CALLS):
                    client.root()
            except BaseException as error:  # pragma: no cover - reported below
                failures.append(error)

        with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
            threads = [threading.Thread(target=read) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        assert failures == []
        assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
    finally:
        client.close()


def test_a_forced_opensearch_engine_never_loads_elasticsearch_py(opensearch_node, tmp_path):
    """elasticsearch-py is 28 MiB of a worker's RSS, 8 MiB more beside opensearch-py; only detection
    and the Elasticsearch engine need it. The whole app, as a worker builds it, in a fresh
    interpreter (this session has loaded both), so no import anywhere brings it back."""
    script = (
        "import os, sys\n"
        "from entrypoints.bootstrap import build_app, build_services\n"
        "from entrypoints.config import Settings\n"
        "settings = Settings.from_env(os.environ)\n"
        "services = build_services(settings)\n"
        "build_app(settings, services)\n"
        "assert services.users.kind == 'opensearch', services.users.kind\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('elasticsearch', 'elastic_transport')], 'loaded'\n"
        "services.close()\n"
    )
    index = f"esauth-imports-{secrets.token_hex(4)}"
    env = {
        **os.environ, "ESAUTH_ELASTICSEARCH_URL": opensearch_node, "ESAUTH_ES_ENGINE": "opensearch",
        "ESAUTH_ES_INDEX": index, "ESAUTH_SECRET_KEY": "k" * 48, "ESAUTH_COOKIE_SECURE": "false",
        "ESAUTH_DATA_DIR": str(tmp_path),
    }
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT, env=env)
    finally:
        client = connect(opensearch_node, engine="opensearch")
        drop_indices(client, *(f"{index}{part}" for part in ("", "-ids", "-gone", "-login-failures")))
        client.close()
    assert done.returncode == 0, done.stderr[-2000:]
