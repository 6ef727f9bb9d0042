"""Users in Elasticsearch (8.x, 9.x, or a compatible server such as osmem-server)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Iterator

from elastic_transport import TransportError, Urllib3HttpNode
from elasticsearch import ApiError, BadRequestError, ConflictError, Elasticsearch, NotFoundError

from domain.errors import StoreUnavailable, UserAlreadyExists, UserNotFound, VersionConflict
from domain.user import User
from infrastructure.user_document import from_document, to_document

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "email_address": {"type": "keyword"},
        "password_hash": {"type": "keyword", "index": False, "doc_values": False},
        "first_name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "last_name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
        "is_active": {"type": "boolean"},
        "created_at": {"type": "date"},
        "session_ids": {"type": "keyword", "index": False, "doc_values": False},
    },
}


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


def connect(url: str, request_timeout_s: float = 5.0) -> Elasticsearch:
    """A client that fails fast, so a dead store becomes a prompt 503 rather than a hung thread."""
    return Elasticsearch(
        url,
        node_class=PlainJsonNode,
        request_timeout=request_timeout_s,
        max_retries=1,
        retry_on_timeout=False,
    )


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
        with self._errors():
            if self._es.indices.exists(index=self.index):
                return False
            try:
                self._es.indices.create(index=self.index, mappings=MAPPING)
            except BadRequestError as error:
                if error.error != "resource_already_exists_exception":  # another server won
                    raise
                return False
            return True

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (ConflictError, NotFoundError):
            raise
        except ApiError as error:
            raise StoreUnavailable(f"elasticsearch: {error.meta.status} {error.error}") from error
        except TransportError as error:
            raise StoreUnavailable(f"elasticsearch: {type(error).__name__}") from error

    def get(self, email_address: str) -> User | None:
        try:
            with self._errors():
                found = self._es.get(index=self.index, id=email_address)
        except NotFoundError:
            return None
        return from_document(found["_source"], _version(found))

    def add(self, user: User) -> User:
        try:
            created = self._write(user, op_type="create")
        except ConflictError:
            raise UserAlreadyExists(user.email_address) from None
        return replace(user, version=_version(created))

    def update(self, user: User) -> User:
        if user.version is None:
            raise VersionConflict("an update needs the version it was read at")
        seq_no, primary_term = (int(part) for part in user.version.split(":"))
        try:
            written = self._write(user, if_seq_no=seq_no, if_primary_term=primary_term)
        except ConflictError:
            if self.get(user.email_address) is None:
                raise UserNotFound(user.email_address) from None
            raise VersionConflict(user.email_address) from None
        return replace(user, version=_version(written))

    def _write(self, user: User, **guard: Any) -> Any:
        with self._errors():
            return self._es.index(index=self.index, id=user.email_address, document=to_document(user), **guard)

    def check(self) -> None:
        with self._errors():
            self._es.options(request_timeout=2).indices.exists(index=self.index)


def _version(response: Any) -> str:
    return f"{response['_seq_no']}:{response['_primary_term']}"

