"""`<alias>-gone`: when each deleted user was deleted, so other processes' session views see it.

A deleted document leaves nothing a search can find, so the change feed of the users index
(SearchEngineUserRepository.changes_since) cannot list a deletion by itself. One document per
deleted email (its `_id`) holds the time of its deletion, searched by range like the users'
own stamps. Made and upgraded like the other indices (search_engine.indices.AliasedIndex) and written with
`require_alias`. A tombstone is small and is kept: a later sign-up under the same address is
listed by its own stamp, and a listed tombstone only ever makes a process read the user again.
"""

from __future__ import annotations

from infrastructure.search_engine.indices import AliasedIndex
from infrastructure.search_engine.mapping import TOMBSTONES


class SearchEngineTombstones(AliasedIndex):
    MAPPING = TOMBSTONES

    def bury(self, email_address: str, stamp_ms: int) -> None:
        self._missing.run(lambda: self._client.put(self.index, email_address, {"changed_at": stamp_ms}))

    def since(self, stamp_ms: int, limit: int) -> list[str]:
        """The emails deleted at `stamp_ms` or later, made searchable first (up to limit + 1)."""
        self._refresh()
        found = self._search(stamped_since(stamp_ms, limit))
        return [hit["_id"] for hit in found["hits"]["hits"]]


def stamped_since(stamp_ms: int, limit: int) -> dict:
    return {
        "query": {"range": {"changed_at": {"gte": stamp_ms}}},
        "size": limit + 1,
        "_source": False,
        "track_total_hits": False,
        "seq_no_primary_term": True,
    }
