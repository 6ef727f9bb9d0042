"""The Elasticsearch client as esauth uses it: plain JSON, fail-fast, store errors as domain errors."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from elastic_transport import TlsError, TransportError, Urllib3HttpNode
from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    BadRequestError,
    ConflictError,
    Elasticsearch,
    NotFoundError,
)

from domain.errors import StoreUnavailable
from infrastructure.search_engine import connection
from infrastructure.search_engine.connection import ClusterAccess


class PlainJsonNode(Urllib3HttpNode):
    """Sends plain `application/json`.

    The 9.x client asks for `application/vnd.elasticsearch+json; compatible-with=9`, which
    Elasticsearch 8.x and OpenSearch-compatible servers refuse; plain JSON suits them all.
    """

    def perform_request(self, method: str, target: str, body: bytes | None = None, headers: Any = None, **kwargs: Any):
        if headers is not None:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                if name in headers:
                    headers[name] = "application/json"
        return super().perform_request(method, target, body=body, headers=headers, **kwargs)


def connect(url: str | None, request_timeout_s: float = 5.0, **access_options: Any) -> Elasticsearch:
    """A client that fails fast, so a dead store becomes a prompt 503 rather than a hung thread.

    `access_options` are TLS and credential keywords (search_engine.connection.elasticsearch_options);
    with a `cloud_id` among them, `url` is None.
    """
    return Elasticsearch(
        url,
        node_class=PlainJsonNode,
        request_timeout=request_timeout_s,
        max_retries=1,
        retry_on_timeout=False,
        **access_options,
    )


def check_access(client: Elasticsearch, access: ClusterAccess) -> None:
    """The start-up request (GET /): AccessProblem for a TLS or credential refusal, StoreUnavailable
    for an outage."""
    with store_errors():
        connection.check_access(client.info, access, (TlsError,), AuthenticationException, AuthorizationException)


@contextmanager
def store_errors() -> Iterator[None]:
    """409 and 404 pass through for the caller to interpret; any other failure is StoreUnavailable."""
    try:
        yield
    except (ConflictError, NotFoundError):
        raise
    except ApiError as error:
        raise StoreUnavailable(f"elasticsearch: {error.meta.status} {error.error}") from error
    except TransportError as error:
        raise StoreUnavailable(f"elasticsearch: {type(error).__name__}") from error


def ensure_index(client: Elasticsearch, index: str, mapping: dict[str, Any]) -> bool:
    """Create the index with its mapping if missing; True if this call created it."""
    with store_errors():
        if client.indices.exists(index=index):
            return False
        try:
            client.indices.create(index=index, mappings=mapping)
        except BadRequestError as error:
            if error.error != "resource_already_exists_exception":  # another server won
                raise
            return False
        return True


def document_version(response: Any) -> str:
    """The concurrency token of a GET or write answer, for if_seq_no/if_primary_term."""
    return f"{response['_seq_no']}:{response['_primary_term']}"


def version_guard(version: str) -> dict[str, int]:
    seq_no, primary_term = (int(part) for part in version.split(":"))
    return {"if_seq_no": seq_no, "if_primary_term": primary_term}
