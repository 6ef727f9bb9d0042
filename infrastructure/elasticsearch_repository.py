"""Users in Elasticsearch (8.x, 9.x, or a compatible server such as osmem-server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from domain.errors import UserAlreadyExists, UserNotFound, VersionConflict
from domain.search import UserPage, decode_cursor, encode_cursor, name_words
from domain.user import User
from infrastructure.elasticsearch_client import document_version, ensure_index, store_errors, version_guard
from infrastructure.user_document import from_document, to_document

_NAME_FIELD: dict[str, Any] = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "email_address": {"type": "keyword"},
        "password_hash": {"type": "keyword", "index": False, "doc_values": False},
        "first_name": _NAME_FIELD,
        "last_name": _NAME_FIELD,
        # The names' words as the search matches them (domain.search.name_words): computed here,
        # not by a custom analyzer, because an analyzer cannot be added to an existing index
        # while a field can; so older indices upgrade in place.
        "name_words": {"type": "keyword"},
        "is_active": {"type": "boolean"},
        "is_admin": {"type": "boolean"},
        "created_at": {"type": "date"},
        "last_login_at": {"type": "date"},
        "login_count": {"type": "integer"},
        "security_stamp": {"type": "keyword", "index": False, "doc_values": False},
        "session_ids": {"type": "keyword", "index": False, "doc_values": False},
        # What a person is shown of each live session: kept, never searched.
        "sessions": {"type": "object", "enabled": False},
        "failed_logins": {"type": "integer"},
        "last_failed_login_at": {"type": "date"},
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
        """Create the index if missing (True), else add the fields later releases brought to its
        mapping (additive, so an index made by an earlier esauth keeps working)."""
        if ensure_index(self._es, self.index, MAPPING):
            return True
        with store_errors():
            self._es.indices.put_mapping(index=self.index, properties=MAPPING["properties"])
        return False

    def backfill_search_fields(self) -> int:
        """Rewrite users stored before `name_words` existed, so name search finds them; returns
        how many. Each write is guarded, so a user changed meanwhile is simply skipped."""
        done = 0
        while True:
            with store_errors():
                found = self._es.search(
                    index=self.index,
                    query={"bool": {"must_not": {"exists": {"field": "name_words"}}}},
                    size=500,
                    seq_no_primary_term=True,
                )
            hits = found["hits"]["hits"]
            if not hits:
                return done
            for hit in hits:
                try:
                    self.update(from_document(hit["_source"], document_version(hit)))
                    done += 1
                except (VersionConflict, UserNotFound):
                    pass
            if len(hits) < 500:
                return done

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
            document = {**to_document(user), "name_words": list(name_words(user.first_name, user.last_name))}
            return self._es.index(index=self.index, id=user.email_address, document=document, **guard)

    def delete(self, email_address: str) -> bool:
        try:
            with store_errors():
                self._es.delete(index=self.index, id=email_address)
        except NotFoundError:  # no such user, or no index at all: nobody to delete either way
            return False
        return True

    def search(self, terms: tuple[str, ...], limit: int, cursor: str | None = None) -> UserPage:
        """A bool query sorted by [created_at desc, email_address asc], paged with `search_after`.

        Each term is a filter that must hold: a `prefix` query on the email keyword, or on the
        `name_words` keyword array (whitespace-split, lower-cased name words). A prefix
        query takes its value literally, so `*`, `?`, `"` or `\\` in a term are plain characters,
        unlike in wildcard, regexp or query_string queries. Filters only, so nothing is scored.
        Searches are near-real-time: a user written in the last refresh interval (1 s by default)
        may not show yet.
        """
        request: dict[str, Any] = {
            "query": {"bool": {"filter": [_term_filter(term) for term in terms]}} if terms else {"match_all": {}},
            "sort": [{"created_at": {"order": "desc"}}, {"email_address": {"order": "asc"}}],
            "size": limit + 1,
            "track_total_hits": False,
            "seq_no_primary_term": True,
        }
        if cursor is not None:
            created_at, email = decode_cursor(cursor)
            # created_at as the epoch milliseconds a date sort reports, which every version accepts.
            request["search_after"] = [_epoch_millis(created_at), email]
        try:
            with store_errors():
                found = self._es.search(index=self.index, **request)
        except NotFoundError:  # no index yet, so no users (as get() answers None)
            return UserPage((), None)
        hits = found["hits"]["hits"]
        users = tuple(from_document(hit["_source"], document_version(hit)) for hit in hits[:limit])
        more = len(hits) > limit
        return UserPage(users, encode_cursor(users[-1]) if more and users else None)

    def check(self) -> None:
        with store_errors():
            self._es.options(request_timeout=2).indices.exists(index=self.index)


def _term_filter(term: str) -> dict[str, Any]:
    return {
        "bool": {
            "should": [
                {"prefix": {"email_address": {"value": term}}},
                {"prefix": {"name_words": {"value": term}}},
            ],
            "minimum_should_match": 1,
        }
    }


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _epoch_millis(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(milliseconds=1)
