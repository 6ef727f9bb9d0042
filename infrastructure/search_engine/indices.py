"""Where esauth's documents live: a numbered index behind an alias, never made by a write.

`esauth-users` is an alias onto `esauth-users-000001` (then -000002 after a mapping change),
and every write passes `require_alias=true`, so a lost index makes writes fail (503, and
`esauth init` repairs it) instead of the engine creating one with a dynamic mapping.

- serving (`ensure_ready`): creates the first index if nothing is there, adds fields a later
  release brought (additive, in place), and refuses to start, naming the problem, on anything
  else: a dynamic mapping, a field of another type, or an index made by an earlier release
  (a concrete index under the alias's name);
- `esauth init` (`upgrade`): the same, and it repairs what serving refuses: it copies the
  documents into the next numbered index with the current mapping (reindex) and moves the alias
  in one atomic step (an earlier release's concrete index is replaced in that same step).
  Stop the servers of the earlier release first: writes made during the copy are not carried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from domain.errors import StoreNeedsInit, StoreUnavailable
from infrastructure.search_engine.client import NotFound, Refused, SearchClient
from infrastructure.search_engine.documents import MissingIndex, whole

_GENERATION = re.compile(r"-(\d{6})$")


class AliasedIndex:
    """A store kept in one of esauth's indices behind its alias (`index`), with `MAPPING`: made,
    checked and upgraded alike for users, login failures and id links; `_missing` turns a lost
    index into the one-line outage every store reports."""

    MAPPING: Mapping[str, Any]

    def __init__(self, client: SearchClient, index: str) -> None:
        self._client = client
        self.index = index
        self._missing = MissingIndex(index)

    def ensure_index(self) -> str:
        """For serving: 'created', 'exists' or 'fields added' (ensure_ready)."""
        return ensure_ready(self._client, self.index, self.MAPPING)

    def upgrade_index(self) -> str:
        """For `esauth init`: also reindexes what serving refuses (upgrade)."""
        return upgrade(self._client, self.index, self.MAPPING)

    def _refresh(self) -> None:
        """Make every write acknowledged so far searchable, on every shard copy (documents.whole)."""
        whole(self._missing.run(lambda: self._client.refresh(self.index)))

    def _search(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A search answered by every shard (documents.whole): a short answer is no answer."""
        return whole(self._missing.run(lambda: self._client.search(self.index, body)))


def concrete_name(alias: str, generation: int) -> str:
    return f"{alias}-{generation:06d}"


@dataclass(frozen=True)
class Found:
    """What stands under the alias's name: nothing, an alias onto `index`, or (legacy) an index."""

    kind: str  # "missing" | "alias" | "legacy"
    index: str | None = None
    mapping: Mapping[str, Any] | None = None


def inspect(client: SearchClient, alias: str) -> Found:
    try:
        targets = client.aliases(alias)
    except NotFound:
        targets = {}
    if targets:
        writers = [name for name, entry in targets.items() if (entry.get("aliases", {}).get(alias) or {}).get("is_write_index")]
        index = (writers or sorted(targets))[-1]
        return Found("alias", index, client.mapping(index)[index]["mappings"])
    if client.index_exists(alias):
        ((index, only),) = client.mapping(alias).items()
        # Another process may have made the alias between the two calls: the mapping answer
        # names the concrete index, which is the alias's name only for an earlier release's index.
        return Found("legacy" if index == alias else "alias", index, only["mappings"])
    return Found("missing")


def problems(live: Mapping[str, Any], wanted: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """(what only a reindex can fix, fields that can simply be added)."""
    issues = []
    if str(live.get("dynamic")) != "strict":
        issues.append(f"its mapping is dynamic (dynamic: {live.get('dynamic', 'true')}), as an index an engine made by itself for a write")
    have = live.get("properties", {})
    missing = {}
    for field, definition in wanted["properties"].items():
        if field not in have:
            missing[field] = definition
        elif not _same(have[field], definition):
            issues.append(f"field {field} is {have[field].get('type', 'an object')}, not {definition['type']}")
    for field in have:
        if field not in wanted["properties"]:
            issues.append(f"it has a field esauth does not know: {field}")
    return issues, missing


def _same(live: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Equal as far as the wanted definition says (engines add defaults of their own)."""
    for key, value in wanted.items():
        if isinstance(value, Mapping):
            if not isinstance(live.get(key), Mapping) or not _same(live[key], value):
                return False
        elif str(live.get(key, _DEFAULTS.get(key))).lower() != str(value).lower():
            return False
    return True


_DEFAULTS = {"index": True, "doc_values": True}


def count(client: SearchClient, index: str) -> int:
    """Documents in `index` as of its last refresh, exactly."""
    found = client.search(index, {"size": 0, "track_total_hits": True, "query": {"match_all": {}}})
    return int(found["hits"]["total"]["value"])


def create_first(client: SearchClient, alias: str, mapping: Mapping[str, Any]) -> bool:
    """Create generation 1 with the alias in one request; False if another process won the race."""
    try:
        client.create_index(concrete_name(alias, 1), mapping, {alias: {"is_write_index": True}})
    except Refused as refused:
        if refused.error_type in ("resource_already_exists_exception", "invalid_alias_name_exception"):
            return False
        raise
    return True


def ensure_ready(client: SearchClient, alias: str, mapping: Mapping[str, Any]) -> str:
    """Make the alias servable without moving data; 'created', 'exists' or 'fields added'.
    Raises StoreNeedsInit for what only `esauth init` may repair."""
    found = inspect(client, alias)
    if found.kind == "missing":
        return "created" if create_first(client, alias, mapping) else "exists"
    if found.kind == "legacy":
        raise StoreNeedsInit(f"{alias} is an index made by an earlier release, not an alias: run `esauth init` to upgrade it")
    assert found.mapping is not None and found.index is not None
    issues, missing = problems(found.mapping, mapping)
    if issues:
        raise StoreNeedsInit(f"index {found.index} (behind {alias}) cannot be used: {'; '.join(issues)}. Run `esauth init` to reindex it")
    if missing:
        client.put_mapping(found.index, missing)
        return "fields added"
    return "exists"


def upgrade(client: SearchClient, alias: str, mapping: Mapping[str, Any]) -> str:
    """What `esauth init` does: ensure_ready, repairing by reindex + alias swap where needed."""
    try:
        return ensure_ready(client, alias, mapping)
    except StoreNeedsInit:
        pass
    found = inspect(client, alias)
    assert found.index is not None
    if found.kind == "legacy":
        target = concrete_name(alias, 1)
        swap = [{"remove_index": {"index": alias}}, {"add": {"index": target, "alias": alias, "is_write_index": True}}]
    else:
        match = _GENERATION.search(found.index)
        target = concrete_name(alias, int(match.group(1)) + 1 if match else 1)
        swap = [
            {"add": {"index": target, "alias": alias, "is_write_index": True}},
            {"remove": {"index": found.index, "alias": alias}},
        ]
    if client.index_exists(target):  # left by an init that stopped before its swap: not served
        client.delete_index(target)
    client.create_index(target, mapping, {})
    # A reindex reads through search, which is near-real-time: without this refresh, documents
    # written in the last second (all of them, with refresh_interval -1) would be left behind,
    # and the swap below would delete them with a legacy index.
    client.refresh(found.index)
    expected = count(client, found.index)
    copied = client.reindex(found.index, target)
    if copied.get("failures") or copied.get("created", 0) != expected or count(client, target) != expected:
        first = (copied.get("failures") or [{}])[0]
        raise StoreUnavailable(
            f"reindexing {found.index} into {target} copied {copied.get('created')} of {expected} "
            f"documents ({first.get('cause', {}).get('type', 'no failure reported')}); the alias was left as it was"
        )
    client.update_aliases(swap)
    kept = "replaced" if found.kind == "legacy" else "kept, no longer behind the alias"
    return f"reindexed {copied.get('created')} documents from {found.index} into {target} ({found.index} {kept})"
