"""SearchClient over elasticsearch-py 9: Elasticsearch 8.x/9.x, and osmem-server in the tests."""

from __future__ import annotations

from typing import Any, Mapping

from elastic_transport import TransportError, Urllib3HttpNode
from elasticsearch import ApiError, Elasticsearch, UnsupportedProductError

from infrastructure.search_engine.client import ADMIN_TIMEOUT_S, CONNECTIONS_PER_NODE, SearchClient, write_wait


class PlainJsonNode(Urllib3HttpNode):
    """Sends plain `application/json`.

    The 9.x client asks for `application/vnd.elasticsearch+json; compatible-with=9`, which
    Elasticsearch 8.x and osmem-server refuse; plain JSON suits them all.
    """

    def perform_request(self, method: str, target: str, body: bytes | None = None, headers: Any = None, **kwargs: Any):
        if headers is not None:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                if name in headers:
                    headers[name] = "application/json"
        return super().perform_request(method, target, body=body, headers=headers, **kwargs)


class ElasticsearchClient(SearchClient):
    """Fails fast (no library retries: client.SearchClient retries reads only)."""

    engine = "elasticsearch"

    def __init__(self, url: str | None, request_timeout_s: float = 5.0, options: Mapping[str, Any] | None = None) -> None:
        self.library = Elasticsearch(
            [part.strip() for part in url.split(",")] if url else None,  # None: a cloud_id among the options
            node_class=PlainJsonNode,
            request_timeout=request_timeout_s,
            max_retries=0,
            retry_on_timeout=False,
            connections_per_node=CONNECTIONS_PER_NODE,
            **dict(options or {}),
        )
        self._write_wait = write_wait(request_timeout_s)

    @property
    def _admin(self) -> Elasticsearch:
        return self.library.options(request_timeout=ADMIN_TIMEOUT_S)

    def _failure(self, error: Exception) -> tuple[int | None, Any]:
        if isinstance(error, ApiError):
            return error.meta.status, error.body
        if isinstance(error, TransportError):
            return None, None
        raise error

    def root(self) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.info()), safe=True)

    def any_root(self) -> dict[str, Any]:
        """`GET /` of any engine: the answer the product check refused (OpenSearch, ES < 7.14) too."""

        def call() -> dict[str, Any]:
            try:
                return dict(self.library.info())
            except UnsupportedProductError as refused:
                return dict(refused.body) if isinstance(refused.body, Mapping) else {}

        return self._call(call, safe=True)

    def get(self, index: str, id: str) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.get(index=index, id=id)), safe=True)

    def put(self, index, id, document, *, create=False, if_seq_no=None, if_primary_term=None, require_alias=True):
        return self._call(
            lambda: dict(
                self.library.index(
                    index=index, id=id, document=document, op_type="create" if create else None,
                    if_seq_no=if_seq_no, if_primary_term=if_primary_term, require_alias=require_alias or None,
                    timeout=self._write_wait,
                )
            ),
            safe=False,
        )

    def delete(self, index: str, id: str, *, if_seq_no: int | None = None, if_primary_term: int | None = None) -> dict[str, Any]:
        return self._call(
            lambda: dict(
                self.library.delete(index=index, id=id, if_seq_no=if_seq_no, if_primary_term=if_primary_term, timeout=self._write_wait)
            ),
            safe=False,
        )

    def bulk_create(self, index, documents):
        lines = self._bulk_lines(index, documents)
        return self._call(lambda: dict(self.library.bulk(operations=lines, refresh=True)), safe=False)

    def search(self, index: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.search(index=index, **body)), safe=True)

    def delete_by_query(self, index: str, query: Mapping[str, Any]) -> dict[str, Any]:
        return self._call(
            lambda: dict(self.library.delete_by_query(index=index, query=query, conflicts="proceed")), safe=False
        )

    def aliases(self, name: str) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.indices.get_alias(name=name)), safe=True)

    def index_exists(self, name: str) -> bool:
        return self._call(lambda: bool(self.library.indices.exists(index=name)), safe=True)

    def create_index(self, name, mappings, aliases) -> None:
        self._call(lambda: self._admin.indices.create(index=name, mappings=mappings, aliases=aliases), safe=False)

    def mapping(self, index: str) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.indices.get_mapping(index=index)), safe=True)

    def put_mapping(self, index, properties) -> None:
        self._call(lambda: self._admin.indices.put_mapping(index=index, properties=properties), safe=False)

    def update_aliases(self, actions) -> None:
        self._call(lambda: self._admin.indices.update_aliases(actions=actions), safe=False)

    def reindex(self, source: str, dest: str) -> dict[str, Any]:
        return self._call(
            lambda: dict(
                self.library.options(request_timeout=600).reindex(
                    source={"index": source}, dest={"index": dest, "op_type": "create"},
                    conflicts="proceed", refresh=True, wait_for_completion=True,
                )
            ),
            safe=False,
        )

    def refresh(self, index: str) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.indices.refresh(index=index)), safe=True)

    def put_settings(self, index, settings) -> None:
        self._call(lambda: self._admin.indices.put_settings(index=index, settings=settings), safe=False)

    def delete_index(self, name: str) -> None:
        self._call(lambda: self._admin.indices.delete(index=name), safe=False)

    def health(self, index: str, timeout_s: float) -> dict[str, Any]:
        return self._call(
            lambda: dict(
                self.library.options(request_timeout=timeout_s, ignore_status=408).cluster.health(index=index, timeout="0s")
            ),
            safe=True,
        )

    def close(self) -> None:
        self.library.close()
