"""Both cluster clients under esauth's own concurrency, on every engine."""

from __future__ import annotations

import logging
import threading

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
