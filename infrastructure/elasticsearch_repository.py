"""Users in Elasticsearch (8.x, 9.x, or a compatible server such as osmem-server)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from domain.errors import UserAlreadyExists, UserNotFound, VersionConflict
from domain.user import User
from infrastructure.elasticsearch_client import document_version, ensure_index, store_errors, version_guard
from infrastructure.user_document import from_document, to_document

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "email_address": {"type": "keyword"},
        "password_hash": {"type": "keyword", "index": False, "doc_values": False},
        "first_name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "last_name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "is_active": {"type": "boolean"},
        "is_admin": {"type": "boolean"},
        "created_at": {"type": "date"},
        "last_login_at": {"type": "date"},
        "login_count": {"type": "integer"},
        "session_ids": {"type": "keyword", "index": False, "doc_values": False},
    },
}


class ElasticsearchUserRepository:
    """UserRepository over one index; the normalized email is the document `_id`.

    Sign-up uses `op_type=create`, so the server's own atomic create decides races; updates
    carry `if_seq_no`/`if_primary_term`; reads are realtime GETs by id.
    """

    kind = "elasticsearch"

    def __init__(self, client: Elasticsearch, index: str = "esauth-users") -> None:
        self._es = client
        self.index = index

    def ensure_index(self) -> bool:
        """Create the index with its mapping if missing; True if it was created."""
        return ensure_index(self._es, self.index, MAPPING)

    def get(self, email_address: str) -> User | None:
        try:
            with store_errors():
                found = self._es.get(index=self.index, id=email_address)
        except NotFoundError:
            return None
        return from_document(found["_source"], document_version(found))

    def add(self, user: User) -> User:
        try:
            created = self._write(user, op_type="create")
        except ConflictError:
            raise UserAlreadyExists(user.email_address) from None
        return replace(user, version=document_version(created))

    def update(self, user: User) -> User:
        if user.version is None:
            raise VersionConflict("an update needs the version it was read at")
        try:
            written = self._write(user, **version_guard(user.version))
        except ConflictError:
            if self.get(user.email_address) is None:
                raise UserNotFound(user.email_address) from None
            raise VersionConflict(user.email_address) from None
        return replace(user, version=document_version(written))

    def _write(self, user: User, **guard: Any) -> Any:
        with store_errors():
            return self._es.index(index=self.index, id=user.email_address, document=to_document(user), **guard)

    def check(self) -> None:
        with store_errors():
            self._es.options(request_timeout=2).indices.exists(index=self.index)
