"""`<alias>-ids`: which email a user id names, read back with a realtime GET by id.

One document per user id (its `_id`), naming the user's email. A search of the users index by
`user_id` would be near-real-time, so a token made a moment ago could fail its first use. The
ids live behind their own alias, made and upgraded like the others (search_engine.indices), and
written with `require_alias`, so a lost index is a 503 and never silently re-created.
"""

from __future__ import annotations

from infrastructure.search_engine.client import NotFound
from infrastructure.search_engine.indices import AliasedIndex
from infrastructure.search_engine.mapping import ID_LINKS


class SearchEngineIdLinks(AliasedIndex):
    MAPPING = ID_LINKS

    def link(self, user_id: str, email_address: str) -> None:
        self._missing.run(lambda: self._client.put(self.index, user_id, {"email_address": email_address}))

    def email_for(self, user_id: str) -> str | None:
        try:
            found = self._missing.run(lambda: self._client.get(self.index, user_id))
        except NotFound:
            return None
        return found["_source"]["email_address"]
