"""Users in a search engine (Elasticsearch 8.x/9.x or OpenSearch, through client.SearchClient)."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from domain.changes import Changes
from domain.errors import StoreUnavailable, UserAlreadyExists, UserNotFound, VersionConflict
from domain.search import UserPage, decode_cursor, encode_cursor, name_words
from domain.timestamps import format_time, parse_time
from domain.user import User
from infrastructure.search_engine.client import Conflict, NotFound, SearchClient
from infrastructure.search_engine.id_links import SearchEngineIdLinks
from infrastructure.search_engine.documents import document_version, version_guard
from infrastructure.search_engine.indices import AliasedIndex
from infrastructure.search_engine.mapping import USERS
from infrastructure.search_engine.tombstones import SearchEngineTombstones, stamped_since
from infrastructure.user_document import from_document, to_document

log = logging.getLogger("esauth.search_engine")

BACKFILL_PAGE = 500
ORDER = [{"created_at": {"order": "desc"}}, {"email_address": {"order": "asc"}}]
"""Newest first, ties by email: a keyword sort, since a sort on `_id` is refused on ES 8+."""

HEALTH_TIMEOUT_S = 2.0
CHANGE_WINDOW_MS = 10_000
"""How far before its mark a look for changes reaches back (each write is stamped by its
writer's clock, taken before it is sent): it covers clock skew between the machines that write
and the one that looks, plus how long a write takes to be acknowledged. A change is listed in
every look within this window, never in none."""
CLOCK_STEP_MS = CHANGE_WINDOW_MS // 2
"""Stamps and marks are each machine's wall clock, and the window covers the skew between
machines (NTP keeps it far below). A look notices when this machine's own clock was stepped by
more than this since the previous look (the wall clock and the monotonic one parted), and says
so in the log: stepped back, the writes this machine stamps may lie before other processes'
marks and go unlisted, up to the step's size; stepped forward, the look is incomplete (the view
starts afresh), and while the clock stays ahead of the others by more than the window, their
writes go unlisted here. Marks are `wall:monotonic` ms; only the process that took one reads it."""
STEP_CHECKED_WITHIN_MS = 60_000
"""Looks further apart than this are not compared: NTP slews a clock by up to 0.5 ms a second, so
over hours without a look the two clocks part by seconds with no step at all."""
CHANGES_LISTED = 2_000
"""Changed users per page of a look (and deletions per look: more than this is incomplete)."""
CHANGE_PAGES = 10
"""Pages a look may read: more changed users than CHANGES_LISTED x CHANGE_PAGES is answered as
incomplete (the view starts afresh). Each look lists the whole window again, so one page alone
(200 writes a second over the 10 s window: the "last seen" writes of 12,000 users active each
minute) would empty every process's view on every look."""
CHANGE_ORDER = [{"email_address": {"order": "asc"}}]
"""A look's pages by email, which a write never changes: a user rewritten while a look pages
keeps its place (by `changed_at` it would move, perhaps behind the page already read, and be
listed by no page of this look). The keyword, since a sort on `_id` is refused on ES 8+."""

MOVE_STALE = timedelta(seconds=60)
"""A move to a new address still under way after this long was cut short by a crash: a reader
of the new address then calls it off, so the address is free again. Far longer than a move's
five writes take (each bounded by the 5 s call timeout)."""
MOVE_MARKS = ("moving_to", "moved_from", "moving_since", "move_id")


class ConflictReadBack(Conflict):
    """A 409 from `_put`, with what the read after it found (None: nothing), so the caller that
    looks at the document in the way does not read it a second time."""

    def __init__(self, there: dict[str, Any] | None, refused: str) -> None:
        super().__init__(refused)
        self.there = there

    def __repr__(self) -> str:
        return f"ConflictReadBack({self.args[0]!r})"  # never the document: it holds the hash


class SearchEngineUserRepository(AliasedIndex):
    """UserRepository over one alias; the normalized email is the document `_id`.

    Sign-up uses `op_type=create`, so the engine's own atomic create decides races; updates
    carry `if_seq_no`/`if_primary_term`; reads are realtime GETs by id. Every call goes to the
    alias, and writes require it, so a lost index is a 503 and never silently re-created.
    """

    MAPPING = USERS

    def __init__(
        self, client: SearchClient, index: str = "esauth-users", clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    ) -> None:
        super().__init__(client, index)
        self._clock = clock
        self.kind = client.engine
        self.id_links = SearchEngineIdLinks(client, f"{index}-ids")
        self.tombstones = SearchEngineTombstones(client, f"{index}-gone")

    def link_id(self, user_id: str, email_address: str) -> None:
        self.id_links.link(user_id, email_address)

    def email_for_id(self, user_id: str) -> str | None:
        return self.id_links.email_for(user_id)

    def backfill_search_fields(self) -> int:
        """Rewrite users stored before `name_words` existed, so name search finds them; returns
        how many. Each write is guarded, so a user changed meanwhile is simply skipped.

        Pages move on with `search_after`, not by asking again from the top: search is
        near-real-time, so a rewritten page would still match until the next refresh (forever
        with `refresh_interval: -1`)."""
        done = 0
        after: list[Any] | None = None
        while True:
            request: dict[str, Any] = {
                "query": {"bool": {"must_not": {"exists": {"field": "name_words"}}}},
                "sort": ORDER,
                "size": BACKFILL_PAGE,
                "seq_no_primary_term": True,
            }
            if after is not None:
                request["search_after"] = after
            hits = self._missing.run(lambda: self._client.search(self.index, request))["hits"]["hits"]
            for hit in hits:
                try:
                    self.update(from_document(hit["_source"], document_version(hit)))
                    done += 1
                except (VersionConflict, UserNotFound):
                    pass
            if len(hits) < BACKFILL_PAGE:
                return done
            after = hits[-1]["sort"]


    def get(self, email_address: str) -> User | None:
        found = self._raw(email_address)
        if found is None:
            return None
        if found["_source"].get("moved_from"):
            return self._settle_claim(email_address, found)
        return from_document(found["_source"], document_version(found))

    def _raw(self, email_address: str) -> dict[str, Any] | None:
        try:
            return self._missing.run(lambda: self._client.get(self.index, email_address))
        except NotFound:
            return None

    def move(self, user: User, from_email: str) -> User:
        """Two documents cannot change in one step here, so a move is five, each guarded, with
        one commit point. (1) The old document is marked `moving_to` (guarded by the version the
        caller read); (2) the new address is claimed by `op_type=create` of the whole user under
        it, marked `moved_from` with the same `move_id` (and `moving_since`), so the engine decides who gets an
        address exactly as at sign-up; (3) the id is linked to the new address; (4) the commit:
        the old document is deleted, guarded by the version of its mark, and tombstoned as delete()
        does (every write here is stamped `changed_at`), so changes_since lists both addresses; (5) the claim's marks
        are cleared. Until (4) the old document is the user; after it, the claim is.

        A reader that finds a claim settles it (`_settle_claim`), so a crash between any two
        steps leaves one user: the claim of a committed move is finished; the claim of a move
        that was called off or overtaken (the old document rewritten since: every write drops
        its mark) is deleted; a move still marked after MOVE_STALE is called off by rewriting
        the old document without its mark, which the mover's guarded delete can no longer
        match. Exactly one of the commit and the calling off wins, on the old document's
        version, so the user is never lost nor doubled."""
        if user.version is None:
            raise VersionConflict("a move needs the version it was read at")
        old = self._raw(from_email)
        if old is None:
            raise UserNotFound(from_email)
        if document_version(old) != user.version:
            raise VersionConflict(from_email)
        move = {"moving_since": format_time(self._clock()), "move_id": secrets.token_hex(8)}
        kept = {key: value for key, value in old["_source"].items() if key not in MOVE_MARKS}
        try:
            marked = self._put(from_email, {**kept, "moving_to": user.email_address, **move}, **version_guard(user.version))
        except Conflict:
            raise VersionConflict(from_email) from None
        claim = {**self._document(user), "moved_from": from_email, **move}
        try:
            claimed = self._claim(user.email_address, claim)
        except UserAlreadyExists:
            self._unmark(from_email, kept, document_version(marked))
            raise
        try:
            self.id_links.link(user.user_id, user.email_address)
            self._delete_guarded(from_email, document_version(marked))
        except (Conflict, NotFound):
            left = self._raw(from_email)
            linked = self.id_links.email_for(user.user_id)
            if (left is None or left["_source"].get("user_id") != user.user_id) and linked == user.email_address:
                # Committed: the user is gone from the old address, as a settler reads it, and
                # no other move linked the id since ours did. The cluster ran our landed delete
                # again after a failover (see _put); dropping the claim would lose the user.
                self.tombstones.bury(from_email, _now_ms())
                return self._finish(user.email_address, claim, document_version(claimed))
            # Overtaken: the old document was written (its mark dropped) or called off, or
            # another move took the user elsewhere (and linked the id there) meanwhile.
            if linked == user.email_address:
                self.id_links.link(user.user_id, from_email)
            self._drop_claim(user.email_address, document_version(claimed))
            raise VersionConflict(from_email) from None
        return self._finish(user.email_address, claim, document_version(claimed))

    def _claim(self, email_address: str, claim: dict[str, Any]) -> dict[str, Any]:
        """Create the claim; a claim left there by another move is settled first, once."""
        for _ in range(2):
            try:
                return self._put(email_address, claim, create=True)
            except ConflictReadBack as conflict:
                there = conflict.there
                if there is not None and (not there["_source"].get("moved_from") or self._settle_claim(email_address, there)):
                    break  # a user lives there
        raise UserAlreadyExists(email_address)

    def _settle_claim(self, email_address: str, claim: dict[str, Any]) -> User | None:
        """What a claim (a document marked `moved_from`) stands for: the user, if its move was
        committed (then finished here); None while its move is under way, or once it has been
        called off (then the claim is deleted)."""
        source = claim["_source"]
        old = self._raw(source["moved_from"])
        if old is None or old["_source"].get("user_id") != source.get("user_id"):
            self.id_links.link(source.get("user_id", ""), email_address)
            try:
                return self._finish(email_address, source, document_version(claim))
            except UserNotFound:
                return None  # deleted while being settled
        marks = old["_source"]
        if marks.get("moving_to") == email_address and marks.get("move_id") == source.get("move_id"):
            if self._clock() - parse_time(source["moving_since"]) < MOVE_STALE:
                return None  # under way: the old address is still the user's
            kept = {key: value for key, value in marks.items() if key not in MOVE_MARKS}
            if not self._unmark(source["moved_from"], kept, document_version(old)):
                return None  # someone else settled it
        self.id_links.link(source.get("user_id", ""), source["moved_from"])  # the user stays where it was
        self._drop_claim(email_address, document_version(claim))
        return None

    def _finish(self, email_address: str, claim: dict[str, Any], version: str) -> User:
        """Clear a committed claim's marks (`claim` is its source, at `version`); if another
        reader did it first, theirs stands."""
        source = {key: value for key, value in claim.items() if key not in MOVE_MARKS}
        try:
            written = self._put(email_address, source, **version_guard(version))
        except Conflict:
            found = self.get(email_address)
            if found is None or found.user_id != source.get("user_id", ""):
                # The claim was deleted meanwhile (an admin deleting the new address, say): the
                # user is gone, not at an address where nobody is, nor someone else signed up.
                raise UserNotFound(email_address) from None
            return found
        return from_document(source, document_version(written))

    def _unmark(self, email_address: str, kept: dict[str, Any], version: str) -> bool:
        try:
            self._put(email_address, kept, **version_guard(version))
        except (Conflict, NotFound):
            return False
        return True

    def _drop_claim(self, email_address: str, version: str) -> None:
        try:
            self._delete_guarded(email_address, version)
        except (Conflict, NotFound):
            pass

    def add(self, user: User) -> User:
        created = self._claim(user.email_address, self._document(user))  # a dead move's claim makes way
        return replace(user, version=document_version(created))

    def update(self, user: User) -> User:
        if user.version is None:
            raise VersionConflict("an update needs the version it was read at")
        try:
            written = self._write(user, **version_guard(user.version))
        except ConflictReadBack as conflict:
            there = conflict.there
            if there is None or (there["_source"].get("moved_from") and self._settle_claim(user.email_address, there) is None):
                raise UserNotFound(user.email_address) from None
            raise VersionConflict(user.email_address) from None
        return replace(user, version=document_version(written))

    def _write(self, user: User, **guard: Any) -> Any:
        return self._put(user.email_address, self._document(user), **guard)

    @staticmethod
    def _document(user: User) -> dict[str, Any]:
        return {**to_document(user), "name_words": list(name_words(user.first_name, user.last_name))}

    def _put(self, email_address: str, document: dict[str, Any], **guard: Any) -> Any:
        """Every write, a move's marks and claims included, is stamped for changes_since, and
        carries a random `write_id` of its own.

        A conditional write (a create, a guarded update) can land and still answer 409: when the
        primary's node stops after its replicas have the write, the coordinating node runs the
        request again on the promoted replica, which finds the write already there. So a
        Conflict is read back, and a document carrying this write's `write_id` is this write,
        acknowledged. Only the id tells: two writers racing from one read can send equal
        documents in one millisecond (two wrong passwords counted as the same `failed_logins`),
        and the loser must still be refused, or the throttle would count one guess for two.
        Without this a sign-up whose create landed during a failover was answered "already exists"."""
        write_id = secrets.token_hex(8)
        stamped = {**document, "changed_at": _now_ms(), "write_id": write_id}
        try:
            return self._missing.run(lambda: self._client.put(self.index, email_address, stamped, **guard))
        except Conflict as refused:
            there = self._raw(email_address)
            if there is not None and there["_source"].get("write_id") == write_id:
                return there
            raise ConflictReadBack(there, str(refused)) from None

    def _delete_guarded(self, email_address: str, version: str) -> None:
        """A move's deletions (its commit, a dropped claim) are buried as delete() buries, before
        and after, so another process's view stops trusting the address the user left."""
        self.tombstones.bury(email_address, _now_ms())
        self._missing.run(lambda: self._client.delete(self.index, email_address, **version_guard(version)))
        self.tombstones.bury(email_address, _now_ms())

    def delete(self, email_address: str) -> bool:
        """The tombstone is written first, so a deletion is never made unseen (a failed one then
        costs other processes one read); and again after, so its stamp is no older than the
        deletion even when the delete call was slow."""
        self.tombstones.bury(email_address, _now_ms())
        try:
            self._missing.run(lambda: self._client.delete(self.index, email_address))
        except NotFound:
            return False
        self.tombstones.bury(email_address, _now_ms())
        return True

    def changes_since(self, mark: str | None) -> Changes:
        """Users whose `changed_at` stamp, or whose tombstone, is at most CHANGE_WINDOW_MS older
        than the mark (the time the previous look began).

        Each index is refreshed first, so that every write acknowledged before this look is
        searchable (search is near-real-time: a write is found only after a refresh, about 1 s
        by default, never with refresh_interval -1). One refresh per look, not per write: no
        write waits for one (refresh=wait_for would hold every login up to a second)."""
        now, steady = _now_ms(), _steady_ms()
        fresh = f"{now}:{steady}"
        if mark is None:
            return Changes(fresh)
        wall, steady_then = (int(part) for part in mark.split(":"))
        step = (now - wall) - (steady - steady_then)
        if abs(step) > CLOCK_STEP_MS and steady - steady_then < STEP_CHECKED_WITHIN_MS:
            log.warning(
                "this machine's clock was stepped %s by %.1f s: session views rely on clocks kept within %d s of each "
                "other (slew them, as NTP does, rather than step them)",
                "forward" if step > 0 else "back", abs(step) / 1000, CHANGE_WINDOW_MS // 1000,
            )
            if step > 0:
                return Changes(fresh, complete=False)
        since = wall - CHANGE_WINDOW_MS
        self._refresh()
        gone = self.tombstones.since(since, CHANGES_LISTED)
        if len(gone) > CHANGES_LISTED:
            return Changes(fresh, complete=False)
        versions: dict[str, str | None] = {email: None for email in gone}
        request = {**stamped_since(since, CHANGES_LISTED), "sort": CHANGE_ORDER}
        for _ in range(CHANGE_PAGES):
            found = self._search(request)
            hits = found["hits"]["hits"]
            page = hits[:CHANGES_LISTED]  # one more asked for, to know whether another page follows
            versions.update((hit["_id"], document_version(hit)) for hit in page)  # made again since
            if len(hits) <= CHANGES_LISTED:
                return Changes(fresh, versions)
            request = {**request, "search_after": page[-1]["sort"]}
        return Changes(fresh, complete=False)

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
            # A claim of a move under way is not a user (yet): the old document is.
            "query": {"bool": {"filter": [_term_filter(term) for term in terms], "must_not": [{"exists": {"field": "moved_from"}}]}},
            "sort": ORDER,
            "size": limit + 1,
            "track_total_hits": False,
            "seq_no_primary_term": True,
        }
        if cursor is not None:
            created_at, email = decode_cursor(cursor)
            # created_at as the epoch milliseconds a date sort reports, which every version accepts.
            request["search_after"] = [_epoch_millis(created_at), email]
        found = self._search(request)
        hits = found["hits"]["hits"]
        users = tuple(from_document(hit["_source"], document_version(hit)) for hit in hits[:limit])
        more = len(hits) > limit
        return UserPage(users, encode_cursor(users[-1]) if more and users else None)

    def check(self) -> None:
        """The alias exists and its index is not red (a red index fails reads and writes).
        Two calls: an engine answers the health of a missing index as merely red."""
        self._missing.run(self._alias)
        health = self._client.health(self.index, HEALTH_TIMEOUT_S)
        if health.get("status") not in ("green", "yellow"):
            raise StoreUnavailable(f"index {self.index} is {health.get('status')}")


    def _alias(self) -> dict[str, Any]:
        try:
            return self._client.aliases(self.index)
        except NotFound:  # answered as "alias [...] missing", not as a missing index
            raise NotFound("index_not_found_exception") from None


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


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _steady_ms() -> int:
    return time.monotonic_ns() // 1_000_000


def _epoch_millis(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(milliseconds=1)
