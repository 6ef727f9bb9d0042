"""Login failure counters in their own Elasticsearch index, beside the users'."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from domain.errors import VersionConflict
from domain.timestamps import format_time, parse_time
from infrastructure.elasticsearch_client import document_version, ensure_index, store_errors, version_guard
from ports.login_failures import FailureRecord

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "failures": {"type": "integer"},
        "last_failure_at": {"type": "date"},
    },
}


class ElasticsearchLoginFailureRepository:
    def __init__(self, client: Elasticsearch, index: str) -> None:
        self._es = client
        self.index = index

    def ensure_index(self) -> bool:
        return ensure_index(self._es, self.index, MAPPING)

    def get(self, key: str) -> FailureRecord | None:
        try:
            with store_errors():
                found = self._es.get(index=self.index, id=key)
        except NotFoundError:
            return None
        source = found["_source"]
        return FailureRecord(key, source["failures"], parse_time(source["last_failure_at"]), document_version(found))

    def put(self, record: FailureRecord) -> FailureRecord:
        guard: dict[str, Any] = {"op_type": "create"} if record.version is None else version_guard(record.version)
        document = {"failures": record.failures, "last_failure_at": format_time(record.last_failure_at)}
        try:
            with store_errors():
                written = self._es.index(index=self.index, id=record.key, document=document, **guard)
        except ConflictError:
            raise VersionConflict(record.key) from None
        return replace(record, version=document_version(written))

    def delete(self, key: str) -> None:
        try:
            with store_errors():
                self._es.delete(index=self.index, id=key)
        except NotFoundError:
            pass

    def purge(self, last_failure_before: datetime) -> int:
        try:
            with store_errors():
                answer = self._es.delete_by_query(
                    index=self.index,
                    query={"range": {"last_failure_at": {"lt": format_time(last_failure_before)}}},
                    conflicts="proceed",
                )
        except NotFoundError:
            return 0
        return int(answer.get("deleted", -1))
