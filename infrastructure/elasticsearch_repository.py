"""Users in Elasticsearch (8.x, 9.x, or a compatible server such as osmem-server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from elasticsearch import BadRequestError, ConflictError, Elasticsearch, NotFoundError

from domain.errors import UserAlreadyExists, UserNotFound, VersionConflict
from domain.search import UserPage, decode_cursor, encode_cursor
from domain.user import User
from infrastructure.elasticsearch_client import document_version, store_errors, version_guard
from infrastructure.user_document import from_document, to_document

SETTINGS: dict[str, Any] = {
    "analysis": {
        "char_filter": {
            # Python's split() (the SQLite and in-memory stores) breaks words at no-break spaces;
            # Lucene's whitespace tokenizer does not, so they become plain spaces first.
            # (osmem-server ignores this char filter with a warning: its tokenizer splits there anyway.)
            "no_break_spaces": {
                "type": "mapping",
                "mappings": ["\\u00A0=>\\u0020", "\\u2007=>\\u0020", "\\u202F=>\\u0020"],
            },
        },
        "analyzer": {
            # A name's words as the admin search sees them: split on whitespace only (so
            # "Jean-Luc" or "O'Brien" stay one word, as in the SQLite and in-memory stores),
            # then lower-cased (Unicode, unlike the ASCII-only `case_insensitive` of a prefix query).
            "name_words": {
                "type": "custom",
                "char_filter": ["no_break_spaces"],
                "tokenizer": "whitespace",
                "filter": ["lowercase"],
            },
        },
    },
}

_NAME_FIELD: dict[str, Any] = {
    "type": "text",
    "fields": {
        "keyword": {"type": "keyword", "ignore_above": 256},
        "words": {"type": "text", "analyzer": "name_words"},
    },
}

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "email_address": {"type": "keyword"},
        "password_hash": {"type": "keyword", "index": False, "doc_values": False},
        "first_name": _NAME_FIELD,
        "last_name": _NAME_FIELD,
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
        """Create the index with its mapping and analysis settings if missing; True if it was created.

        (infrastructure.elasticsearch_client.ensure_index takes no settings, and the search
        needs the `name_words` analyzer.)
        """
        with store_errors():
            if self._es.indices.exists(index=self.index):
                return False
            try:
                self._es.indices.create(index=self.index, mappings=MAPPING, settings=SETTINGS)
            except BadRequestError as error:
                if error.error != "resource_already_exists_exception":  # another server won
                    raise
                return False
            return True

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

    def delete(self, email_address: str) -> bool:
        try:
            with store_errors():
                self._es.delete(index=self.index, id=email_address)
        except NotFoundError:  # no such user, or no index at all: nobody to delete either way
            return False
        return True

    def search(self, terms: tuple[str, ...], limit: int, cursor: str | None = None) -> UserPage:
        """A bool query sorted by [created_at desc, email_address asc], paged with `search_after`.

        Each term is a filter that must hold: a `prefix` query on the email keyword, or on a
        name's `words` subfield (whitespace-split, lower-cased tokens; see SETTINGS). A prefix
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
                {"prefix": {"first_name.words": {"value": term}}},
                {"prefix": {"last_name.words": {"value": term}}},
            ],
            "minimum_should_match": 1,
        }
    }


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _epoch_millis(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(milliseconds=1)
