"""The user stores esauth is measured on, one starter each.

A starter returns a Store: the ESAUTH_* settings that point `esauth serve` at it, and the pid
whose CPU the report shows as "store CPU". Adding a store to the bench is one entry in STARTERS
(and its name is then accepted by --stores).
"""

from __future__ import annotations

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
    return Store("elasticsearch", {"ESAUTH_ELASTICSEARCH_URL": server.url,
                                   "ESAUTH_ES_INDEX": f"esauth-bench-{nonce}"}, server.pid, server.close)


STARTERS: dict[str, Callable[[Processes, Path, str], Store]] = {
    "sqlite": sqlite,
    "elasticsearch": osmem,
}
