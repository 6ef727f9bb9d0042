"""Reading engine answers: versions for optimistic writes, and one log line for a lost index."""

from __future__ import annotations

import logging
from typing import Any, Callable, TypeVar

from domain.errors import StoreUnavailable
from infrastructure.search_engine.client import NotFound

T = TypeVar("T")

log = logging.getLogger("esauth.search_engine")


def document_version(response: Any) -> str:
    """The concurrency token of a GET or write answer, for if_seq_no/if_primary_term."""
    return f"{response['_seq_no']}:{response['_primary_term']}"


def version_guard(version: str) -> dict[str, int]:
    seq_no, primary_term = (int(part) for part in version.split(":"))
    return {"if_seq_no": seq_no, "if_primary_term": primary_term}


def whole(found: dict[str, Any]) -> dict[str, Any]:
    """A search or refresh answer no shard copy failed, else StoreUnavailable. An engine answers
    a search with what the shards that did answer found (`allow_partial_search_results` defaults
    to true), and a refresh that failed on a copy leaves searches of that copy behind: a look for
    changes, or a page of users, missing a shard's share would be taken as complete. (Copies not
    assigned count in `total` but not as failed: one node with one replica is not partial.)"""
    shards = found.get("_shards") or {}
    if shards.get("failed") or found.get("timed_out"):
        raise StoreUnavailable(f"an answer from {shards.get('successful', '?')} of {shards.get('total', '?')} shard copies")
    return found


class MissingIndex:
    """Runs calls on an alias: a missing one is StoreUnavailable, logged once per loss (not per
    request); other 404s (no such document) pass to the caller."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self._reported = False

    def run(self, call: Callable[[], T]) -> T:
        try:
            answer = call()
        except NotFound as missing:
            if not missing.index_missing:
                raise
            if not self._reported:
                self._reported = True
                log.error(
                    "the index %s is missing (deleted while esauth ran?): requests fail until "
                    "`esauth init` repairs it",
                    self.alias,
                )
            raise StoreUnavailable(f"index {self.alias} is missing") from None
        if self._reported:
            self._reported = False
            log.warning("the index %s is back", self.alias)
        return answer
