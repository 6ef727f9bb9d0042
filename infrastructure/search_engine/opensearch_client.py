"""SearchClient over opensearch-py: OpenSearch 1.x-3.x, AWS's managed one included.

Where it differs from elasticsearch-py: request bodies go in `body=`, per-call timeouts are
`request_timeout=`, errors carry `status_code` and `info`, and there is no product check.
"""

from __future__ import annotations

from typing import Any, Mapping

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError

from infrastructure.search_engine.client import ADMIN_TIMEOUT_S, CONNECTIONS_PER_NODE, SearchClient, write_wait


class OpenSearchClient(SearchClient):
    """Fails fast (no library retries: client.SearchClient retries reads only)."""

    engine = "opensearch"

    def __init__(self, url: str, request_timeout_s: float = 5.0, options: Mapping[str, Any] | None = None) -> None:
        self.library = OpenSearch(
            [part.strip() for part in url.split(",")],
            timeout=request_timeout_s,
            max_retries=0,
            retry_on_timeout=False,
            pool_maxsize=CONNECTIONS_PER_NODE,
            **dict(options or {}),
        )
        # opensearch-py reads a `timeout` param as its own request timeout unless `request_timeout`
        # is given beside it: then `timeout` goes to the engine, as the write's wait for a primary.
        self._write_params = {"request_timeout": request_timeout_s, "timeout": write_wait(request_timeout_s)}

    def _failure(self, error: Exception) -> tuple[int | None, Any]:
        if isinstance(error, OpenSearchConnectionError):
            return None, None
        if isinstance(error, TransportError):
            status = error.status_code
            return (status if isinstance(status, int) else None), error.info
        raise error

    def root(self) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.info()), safe=True)

    def get(self, index: str, id: str) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.get(index=index, id=id)), safe=True)

    def put(self, index, id, document, *, create=False, if_seq_no=None, if_primary_term=None, require_alias=True):
        params: dict[str, Any] = dict(self._write_params)
        if create:
            params["op_type"] = "create"
        if if_seq_no is not None:
            params.update(if_seq_no=if_seq_no, if_primary_term=if_primary_term)
        if require_alias:
            params["require_alias"] = "true"
        return self._call(lambda: dict(self.library.index(index=index, id=id, body=document, params=params)), safe=False)

    def delete(self, index: str, id: str, *, if_seq_no: int | None = None, if_primary_term: int | None = None) -> dict[str, Any]:
        params: dict[str, Any] = dict(self._write_params)
        if if_seq_no is not None:
            params.update(if_seq_no=if_seq_no, if_primary_term=if_primary_term)
        return self._call(lambda: dict(self.library.delete(index=index, id=id, params=params)), safe=False)

    def bulk_create(self, index, documents):
        lines = self._bulk_lines(index, documents)
        return self._call(lambda: dict(self.library.bulk(body=lines, params={"refresh": "true"})), safe=False)

    def search(self, index: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.search(index=index, body=dict(body))), safe=True)

    def delete_by_query(self, index: str, query: Mapping[str, Any]) -> dict[str, Any]:
        return self._call(
            lambda: dict(self.library.delete_by_query(index=index, body={"query": query}, params={"conflicts": "proceed"})),
            safe=False,
        )

    def aliases(self, name: str) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.indices.get_alias(name=name)), safe=True)

    def index_exists(self, name: str) -> bool:
        return self._call(lambda: bool(self.library.indices.exists(index=name)), safe=True)

    def create_index(self, name, mappings, aliases) -> None:
        body = {"mappings": mappings, "aliases": aliases}
        self._call(lambda: self.library.indices.create(index=name, body=body, request_timeout=ADMIN_TIMEOUT_S), safe=False)

    def mapping(self, index: str) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.indices.get_mapping(index=index)), safe=True)

    def put_mapping(self, index, properties) -> None:
        self._call(lambda: self.library.indices.put_mapping(index=index, body={"properties": properties}, request_timeout=ADMIN_TIMEOUT_S), safe=False)

    def update_aliases(self, actions) -> None:
        self._call(lambda: self.library.indices.update_aliases(body={"actions": actions}, request_timeout=ADMIN_TIMEOUT_S), safe=False)

    def reindex(self, source: str, dest: str) -> dict[str, Any]:
        body = {"source": {"index": source}, "dest": {"index": dest, "op_type": "create"}, "conflicts": "proceed"}
        return self._call(
            lambda: dict(
                self.library.reindex(
                    body=body, params={"refresh": "true", "wait_for_completion": "true", "request_timeout": 600}
                )
            ),
            safe=False,
        )

    def refresh(self, index: str) -> dict[str, Any]:
        return self._call(lambda: dict(self.library.indices.refresh(index=index)), safe=True)

    def put_settings(self, index, settings) -> None:
        self._call(lambda: self.library.indices.put_settings(index=index, body={"index": settings}, request_timeout=ADMIN_TIMEOUT_S), safe=False)

    def delete_index(self, name: str) -> None:
        self._call(lambda: self.library.indices.delete(index=name, request_timeout=ADMIN_TIMEOUT_S), safe=False)

    def health(self, index: str, timeout_s: float) -> dict[str, Any]:
        return self._call(
            lambda: dict(
                self.library.cluster.health(index=index, params={"timeout": "0s", "request_timeout": timeout_s}, ignore=408)
            ),
            safe=True,
        )

    def close(self) -> None:
        self.library.close()
