"""Both cluster clients under esauth's own concurrency, on every engine."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

from tests.e2e.harness import REPO_ROOT

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


def test_a_forced_opensearch_engine_never_loads_elasticsearch_py():
    """elasticsearch-py is 28 MiB of a worker's RSS, 8 MiB more beside opensearch-py; only detection
    and the Elasticsearch engine need it. In a fresh interpreter: this session has loaded both."""
    script = (
        "import sys\n"
        "from infrastructure.search_engine.client import connect\n"
        "client = connect('http://127.0.0.1:9', engine='opensearch')\n"
        "assert type(client).__name__ == 'OpenSearchClient'\n"
        "assert 'opensearchpy' in sys.modules\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('elasticsearch', 'elastic_transport')], 'loaded'\n"
        "client.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
