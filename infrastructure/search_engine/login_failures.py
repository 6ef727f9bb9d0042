"""Login failure counters in their own index (alias `<users alias>-login-failures`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.errors import VersionConflict
from domain.timestamps import format_time, parse_time
from infrastructure.search_engine.client import Conflict, NotFound
from infrastructure.search_engine.documents import document_version, version_guard
from infrastructure.search_engine.indices import AliasedIndex
from infrastructure.search_engine.mapping import LOGIN_FAILURES
from ports.login_failures import FailureRecord


class SearchEngineLoginFailureRepository(AliasedIndex):
    MAPPING = LOGIN_FAILURES

    def get(self, key: str) -> FailureRecord | None:
        try:
            found = self._missing.run(lambda: self._client.get(self.index, key))
        except NotFound:
            return None
        source = found["_source"]
        return FailureRecord(key, source["failures"], parse_time(source["last_failure_at"]), document_version(found))

    def put(self, record: FailureRecord) -> FailureRecord:
        guard: dict[str, Any] = {"create": True} if record.version is None else version_guard(record.version)
        document = {"failures": record.failures, "last_failure_at": format_time(record.last_failure_at)}
        try:
            written = self._missing.run(lambda: self._client.put(self.index, record.key, document, **guard))
        except Conflict:
            raise VersionConflict(record.key) from None
        return replace(record, version=document_version(written))

    def delete(self, key: str) -> None:
        try:
            self._missing.run(lambda: self._client.delete(self.index, key))
        except NotFound:
            pass

    def purge(self, last_failure_before: datetime) -> int:
        query = {"range": {"last_failure_at": {"lt": format_time(last_failure_before)}}}
        answer = self._missing.run(lambda: self._client.delete_by_query(self.index, query))
        return int(answer.get("deleted", -1))
