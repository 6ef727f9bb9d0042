"""What esauth asks of a search engine, whichever official client speaks it.

SearchClient is the engine-neutral surface the repositories use; each library's adapter
(elasticsearch_client, opensearch_client) implements it. Failures are translated here, once:
404, 409 and 400 come back as NotFound, Conflict and Refused for the caller to interpret, a
401/403 is StoreAccessDenied (named as such, never "not reachable"), anything else is
StoreUnavailable. Only safe calls (reads) are retried, once, after a connection failure: a
write whose first attempt may have landed is never sent again, so a sign-up that landed cannot
come back as "already exists".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Mapping, TypeVar

from domain.errors import StoreAccessDenied, StoreUnavailable

T = TypeVar("T")

ENGINES = ("elasticsearch", "opensearch")

ADMIN_TIMEOUT_S = 30.0
"""For index and alias changes (start-up and `esauth init`, never a request): making an index
waits for its shards, which takes seconds on a busy cluster, well past a request's timeout."""
# Connections kept open per node: elasticsearch-py's own default, above esauth's 8 request threads
# plus its background tasks, so no thread opens a TCP connection per call (opensearch-py keeps 1).
CONNECTIONS_PER_NODE = 10


def write_wait(request_timeout_s: float) -> str:
    """The `timeout` a write tells the engine: how long it may wait for a primary (its default
    is a minute). No longer than the client waits for the answer, so a write the client gave up
    on is given up by the engine too, instead of landing once a primary is back, long after it
    was stamped (a look reaches back only CHANGE_WINDOW_MS: other processes would never hear of
    it)."""
    return f"{max(1, int(request_timeout_s * 1000))}ms"

ClientOptions = Callable[[str], Mapping[str, Any]]
"""Extra keyword arguments for the library client of an engine ("elasticsearch" or
"opensearch"): TLS and credentials, from the secured-cluster settings."""


class NotFound(Exception):
    """A 404: no such document, or (`index_missing`) no such index or alias."""

    def __init__(self, error_type: str | None) -> None:
        super().__init__(error_type or "not found")
        self.error_type = error_type

    @property
    def index_missing(self) -> bool:
        return self.error_type == "index_not_found_exception"


class Conflict(Exception):
    """A 409: the document exists (create) or changed since it was read (guarded write)."""


class Refused(Exception):
    """A 400: the engine refused the request; `error_type` says why."""

    def __init__(self, error_type: str | None, reason: str | None) -> None:
        super().__init__(f"{error_type}: {reason}")
        self.error_type = error_type
        self.reason = reason


def error_type(body: Any) -> str | None:
    """The `error.type` of an engine's error answer, if it has one."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            return error.get("type")
        if isinstance(error, str):
            return error
    return None


def error_reason(body: Any) -> str | None:
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return body["error"].get("reason")
    return None


def engine_of(root: Mapping[str, Any]) -> str:
    """The engine a cluster's root answer (`GET /`) describes."""
    version = root.get("version") if isinstance(root, Mapping) else None
    if isinstance(version, Mapping) and version.get("distribution") == "opensearch":
        return "opensearch"
    return "elasticsearch"


def translate(engine: str, failure: str, status: int | None, body: Any) -> Exception:
    """The exception for an engine's failed call: `status` None means no HTTP answer at all."""
    kind = error_type(body)
    if status is None:
        return StoreUnavailable(f"{engine}: {failure}")
    if status == 404:
        return NotFound(kind)
    if status == 409:
        return Conflict(kind)
    if status == 400:
        return Refused(kind, error_reason(body))
    if status == 401:
        return StoreAccessDenied(f"{engine}: 401 the cluster refused esauth's credentials", 401)
    if status == 403:
        return StoreAccessDenied(f"{engine}: 403 esauth's credentials lack a privilege ({kind})", 403)
    return StoreUnavailable(f"{engine}: {status} {kind}")


class SearchClient(ABC):
    """The calls esauth makes, in esauth's terms; `engine` names the engine spoken to."""

    engine: str

    def _call(self, call: Callable[[], T], *, safe: bool) -> T:
        attempts = 2 if safe else 1
        for attempt in range(attempts):
            try:
                return call()
            except Exception as error:  # noqa: BLE001 - translated or re-raised below
                status, body = self._failure(error)
                if status is None and attempt + 1 < attempts:
                    continue
                raise self._translate(error, status, body) from error
        raise AssertionError("unreachable")

    @abstractmethod
    def _failure(self, error: Exception) -> tuple[int | None, Any]:
        """(HTTP status, body) of a library error; status None for a transport failure.
        Re-raises what is not a library error."""

    def _translate(self, error: Exception, status: int | None, body: Any) -> Exception:
        return translate(self.engine, type(error).__name__, status, body)

    # documents
    @abstractmethod
    def get(self, index: str, id: str) -> dict[str, Any]: ...

    @abstractmethod
    def put(
        self, index: str, id: str, document: Mapping[str, Any], *, create: bool = False,
        if_seq_no: int | None = None, if_primary_term: int | None = None, require_alias: bool = True,
    ) -> dict[str, Any]:
        """Index a document; `require_alias` (esauth's own writes) makes a missing alias a
        NotFound instead of the engine creating an index with a dynamic mapping."""

    @abstractmethod
    def delete(self, index: str, id: str, *, if_seq_no: int | None = None, if_primary_term: int | None = None) -> dict[str, Any]:
        """Delete a document; with the guard, only the version read (else Conflict)."""

    @abstractmethod
    def bulk_create(self, index: str, documents: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """Create many documents (id -> document) in one request, refreshed: for seeding, not serving."""

    @staticmethod
    def _bulk_lines(index: str, documents: Mapping[str, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        lines: list[Mapping[str, Any]] = []
        for id, document in documents.items():
            lines += [{"create": {"_index": index, "_id": id}}, document]
        return lines

    @abstractmethod
    def search(self, index: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    @abstractmethod
    def delete_by_query(self, index: str, query: Mapping[str, Any]) -> dict[str, Any]: ...

    # indices and aliases
    @abstractmethod
    def aliases(self, name: str) -> dict[str, Any]:
        """`GET /_alias/<name>`: {index: {"aliases": {...}}}; NotFound when no such alias."""

    @abstractmethod
    def index_exists(self, name: str) -> bool: ...

    @abstractmethod
    def create_index(self, name: str, mappings: Mapping[str, Any], aliases: Mapping[str, Any]) -> None: ...

    @abstractmethod
    def mapping(self, index: str) -> dict[str, Any]: ...

    @abstractmethod
    def put_mapping(self, index: str, properties: Mapping[str, Any]) -> None: ...

    @abstractmethod
    def update_aliases(self, actions: list[Mapping[str, Any]]) -> None: ...

    @abstractmethod
    def reindex(self, source: str, dest: str) -> dict[str, Any]:
        """Copy every document, waiting for the end, refreshed; `op_type: create` keeps what is there."""

    @abstractmethod
    def refresh(self, index: str) -> dict[str, Any]: ...

    @abstractmethod
    def put_settings(self, index: str, settings: Mapping[str, Any]) -> None: ...

    @abstractmethod
    def delete_index(self, name: str) -> None: ...

    @abstractmethod
    def health(self, index: str, timeout_s: float) -> dict[str, Any]:
        """`GET /_cluster/health/<index>`, answered at once (also when red)."""

    @abstractmethod
    def close(self) -> None: ...


def connect(
    url: str | None,
    *,
    engine: str = "auto",
    request_timeout_s: float = 5.0,
    options: ClientOptions | None = None,
) -> SearchClient:
    """A client for the engine at `url`: `engine` forced, or `auto` from its root answer.
    `url` may list several nodes of one cluster, comma-separated: the client spreads calls over
    them and leaves out a node that fails until it answers again.

    Detection asks `GET /` through elasticsearch-py, reading the answer also when its product
    check refuses it (any OpenSearch), with the elasticsearch-py options (the same TLS and pin).
    """
    if engine not in ("auto", *ENGINES):
        raise ValueError(f"unknown engine {engine!r}")
    options = options or (lambda _engine: {})
    if engine == "auto":
        from infrastructure.search_engine.elasticsearch_client import ElasticsearchClient

        probe = ElasticsearchClient(url, request_timeout_s, options("elasticsearch"))
        try:
            engine = engine_of(probe.any_root())
        finally:
            probe.close()
    if engine == "opensearch":
        from infrastructure.search_engine.opensearch_client import OpenSearchClient

        return OpenSearchClient(url, request_timeout_s, options("opensearch"))
    # Imported only here and for detection: elasticsearch-py is 28 MiB of every worker, 8 of
    # them on top of opensearch-py's, which a forced OpenSearch engine never needs.
    from infrastructure.search_engine.elasticsearch_client import ElasticsearchClient

    return ElasticsearchClient(url, request_timeout_s, options("elasticsearch"))
