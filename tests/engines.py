"""The search engines the tests run against, and the summary line saying which ones ran.

Every test that takes `search_engine_url` runs once per engine:
- `osmem`: osmem-server, in memory, answering as Elasticsearch (so elasticsearch-py talks to it);
- `opensearch`: a real OpenSearch node (tests/opensearch/node.py), started once per session;
- `cluster`: only that, when ESAUTH_ELASTICSEARCH_URL points the tests at a cluster of yours.

Without java 21+ or mvn the real node's tests are skipped with the reason, and the summary says
so; OPENSEARCH_TESTS_REQUIRED=1 (set by .ci/run) turns that into a failure, so CI never falls back
silently.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from typing import Iterator

import pytest

from infrastructure.search_engine.client import SearchClient, connect
from tests.opensearch.node import OpenSearchUnavailable, start_opensearch, unavailable_reason

REQUIRE_OPENSEARCH = os.environ.get("OPENSEARCH_TESTS_REQUIRED", "").strip().lower() in ("1", "true", "yes")

_ran: dict[str, str] = {}
"""Engine name -> what it was (version, start time), for the summary."""
_not_run: dict[str, str] = {}


def report(name: str, ran: str | None = None, not_run: str | None = None) -> None:
    """What the summary's `search engines` section says of `name` (appended to, when it ran)."""
    if ran is not None:
        _ran[name] = f"{_ran[name]}; {ran}" if name in _ran else ran
    if not_run is not None:
        _not_run[name] = not_run


@dataclass(frozen=True)
class SearchEngine:
    name: str
    url: str
    client: str
    """ESAUTH_ES_ENGINE for it: osmem answers as Elasticsearch (its root says OpenSearch, but it
    sends the product header), so elasticsearch-py is what it tests."""

    @property
    def real(self) -> bool:
        """A real engine: near-real-time search, real mapping and sort rules."""
        return self.name != "osmem"

    def connect(self, **kwargs) -> SearchClient:
        return connect(self.url, engine=self.client, **kwargs)

    def env(self, index: str) -> dict[str, str]:
        """What `esauth serve` needs to keep its users here, in `index`."""
        return {"ESAUTH_ELASTICSEARCH_URL": self.url, "ESAUTH_ES_ENGINE": self.client, "ESAUTH_ES_INDEX": index}


def drop_indices(client: SearchClient, *aliases: str) -> None:
    """Delete every index a test made under these aliases (numbered ones, or a legacy one)."""
    for alias in aliases:
        for name in [*(f"{alias}-{n:06d}" for n in range(1, 4)), alias]:  # numbered first: then the alias is gone
            if client.index_exists(name):
                client.delete_index(name)


def settle(repository) -> None:
    """Make a search-engine repository's writes searchable now, as a refresh does; searches are
    near-real-time on a real engine. Nothing to do for other stores."""
    client = getattr(repository, "_client", None)
    if isinstance(client, SearchClient):
        client.refresh(repository.index)


def engine_names() -> list[str]:
    return ["cluster"] if os.environ.get("ESAUTH_ELASTICSEARCH_URL") else ["osmem", "opensearch"]


def _describe(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        version = json.load(answer).get("version", {})
    return f"{version.get('distribution', 'elasticsearch')} {version.get('number', '?')}"


@pytest.fixture(scope="session")
def osmem_url() -> Iterator[str]:
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    _ran["osmem"] = "osmem-server (in memory, answers as Elasticsearch)"
    try:
        yield server.url
    finally:
        stop_osmem(server)


def stop_osmem(server) -> None:
    """Stop an osmem-server and close the pipe its own close() leaves open."""
    server.close()
    if server.process.stdout is not None:
        server.process.stdout.close()


@pytest.fixture(scope="session")
def opensearch_node() -> Iterator[str]:
    """One real OpenSearch node for the whole session (about 6 s to start here)."""
    reason = unavailable_reason()
    if reason:
        _not_run["opensearch"] = reason
        if REQUIRE_OPENSEARCH:
            pytest.fail(f"OPENSEARCH_TESTS_REQUIRED is set but the real node cannot start: {reason}")
        pytest.skip(f"real OpenSearch node not run: {reason}")
    try:
        with start_opensearch(nodes=1) as cluster:
            _ran["opensearch"] = f"real node, {_describe(cluster.url)}, started in {cluster.start_seconds:.1f} s"
            yield cluster.url
    except OpenSearchUnavailable as error:
        _not_run["opensearch"] = str(error).splitlines()[0]
        if REQUIRE_OPENSEARCH:
            pytest.fail(f"the real OpenSearch node did not start: {error}")
        pytest.skip(f"real OpenSearch node not run: {error}")


def engine_for(request, name: str) -> SearchEngine:
    """The engine `name` (one of engine_names()), started for this session if it is not yet:
    for fixtures that take the engines as some of their own parameters."""
    if name == "cluster":
        url = os.environ["ESAUTH_ELASTICSEARCH_URL"]
        _ran.setdefault("cluster", f"ESAUTH_ELASTICSEARCH_URL, {_describe(url)}")
        return SearchEngine("cluster", url, os.environ.get("ESAUTH_ES_ENGINE", "auto"))
    if name == "osmem":
        return SearchEngine("osmem", request.getfixturevalue("osmem_url"), "elasticsearch")
    return SearchEngine("opensearch", request.getfixturevalue("opensearch_node"), "opensearch")


@pytest.fixture(scope="session", params=engine_names())
def search_engine(request) -> SearchEngine:
    return engine_for(request, request.param)


@pytest.fixture(scope="session")
def real_engine(request) -> SearchEngine:
    """A real engine only: ESAUTH_ELASTICSEARCH_URL's cluster, else the real OpenSearch node."""
    url = os.environ.get("ESAUTH_ELASTICSEARCH_URL")
    if url:
        return SearchEngine("cluster", url, os.environ.get("ESAUTH_ES_ENGINE", "auto"))
    return SearchEngine("opensearch", request.getfixturevalue("opensearch_node"), "opensearch")


@pytest.fixture(scope="session")
def search_engine_url(search_engine: SearchEngine) -> str:
    return search_engine.url


def pytest_terminal_summary(terminalreporter) -> None:
    if not _ran and not _not_run:
        return
    terminalreporter.section("search engines")
    for name, what in _ran.items():
        terminalreporter.write_line(f"ran      {name}: {what}")
    for name, why in _not_run.items():
        if name not in _ran:
            terminalreporter.write_line(f"NOT RUN  {name}: {why}")
