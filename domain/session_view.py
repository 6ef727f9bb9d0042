"""Each process's view of the users it checked lately, kept true by the store's change feed.

The session check would read the store on every request; instead it reads a user once, keeps
it, and once per interval asks the store which users changed since its last look
(UserRepository.changes_since), dropping those. So the store's work grows with changes and
processes, not with requests, and a change made on another process reaches this one within
`bound`: a look that began after the change was acknowledged lists it, and the view is trusted
only while its last answered look began less than `bound` ago. A process that cannot reach the
store for longer stops trusting its view: every check reads the store again (and, while the
store does not answer, fails with it, as it would without a view).
"""

from __future__ import annotations

import itertools
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

from domain.errors import StoreUnavailable
from domain.user import User
from ports.clock import Clock
from ports.repository import UserRepository

VIEW_ENTRIES = 50_000
"""Users kept by default: at about 2 KiB each (a user with a few sessions), about 100 MiB at most."""
LOOKS_PER_BOUND = 4
"""Looks for changes per `bound`: a look may be late or fail three times before trust lapses."""

_STALE = object()
"""An entry that changed and was not read since: a miss, kept so a read begun before the change
cannot land after the look that dropped it."""


class SessionView:
    """Users by email (None: known to be gone), each with the tick at which its read began;
    at most `entries` of them, the oldest read forgotten first.

    Ticks order what is learnt: an answer never replaces one whose read began later, and a look
    marks what it drops with its own tick, so a read under way while it looked cannot bring the
    old user back."""

    def __init__(self, repository: UserRepository, clock: Clock, bound: timedelta, entries: int = VIEW_ENTRIES) -> None:
        self._repository = repository
        self._clock = clock
        self.bound = bound
        self.entries = entries if bound > timedelta(0) else 0
        self._interval = bound / LOOKS_PER_BOUND
        self._users: dict[str, tuple[object, int]] = {}
        self._ticks = itertools.count()
        self._lock = threading.Lock()
        self._looking = threading.Lock()
        self._reading: dict[str, int] = {}
        self._floor = 0
        """Reads begun before this tick are not kept: the view was emptied after they began."""
        self._mark: str | None = None
        self._looked_at: datetime | None = None
        """When the last look that the store answered began."""
        self._next_look: datetime | None = None

    @property
    def size(self) -> int:
        return len(self._users)

    def lookup(self, email_address: str) -> tuple[bool, User | None]:
        """(True, the user or None if gone) when the view may answer, else (False, None)."""
        if not self.entries:
            return False, None
        now = self._clock()
        if self._next_look is None or now >= self._next_look:
            self.look(now)
        looked_at = self._looked_at
        if looked_at is None or not timedelta(0) <= now - looked_at < self.bound:
            return False, None
        entry = self._users.get(email_address)
        if entry is None or entry[0] is _STALE:
            return False, None
        return True, entry[0]  # type: ignore[return-value]

    def look(self, now: datetime | None = None) -> None:
        """Ask the store what changed since the last look and drop it. One thread looks at a
        time; the others carry on meanwhile (with the view while it is trusted)."""
        if not self._looking.acquire(blocking=False):
            return
        try:
            now = now or self._clock()
            self._next_look = now + self._interval
            try:
                changes = self._repository.changes_since(self._mark)
            except StoreUnavailable:
                return  # tried again after the interval; trust lapses at `bound`
            with self._lock:
                # Taken once the store answered: the answer may list changes made after the call
                # began, which a read begun before this tick may have missed.
                tick = next(self._ticks)
                if self._mark is None or not changes.complete:
                    self._users.clear()  # nothing kept can be vouched for
                    self._floor = tick
                else:
                    for email, version in changes.versions.items():
                        self._drop(email, version, tick)
            self._mark = changes.mark
            self._looked_at = now
        finally:
            self._looking.release()

    def _drop(self, email: str, version: str | None, tick: int) -> None:
        entry = self._users.get(email)
        if entry is not None:
            if entry[1] > tick:
                return  # read begun after the store answered this look: it saw the change
            held = entry[0]
            if held is not _STALE and (held is None if version is None else getattr(held, "version", None) == version):
                return  # already the version listed (this process wrote it)
        elif email not in self._reading:
            return
        self._keep(email, _STALE, tick)

    @contextmanager
    def reading(self, email_address: str) -> Iterator[int]:
        """Around a store read that `remember` will keep: its tick, taken before it began."""
        tick = next(self._ticks)
        with self._lock:
            self._reading[email_address] = self._reading.get(email_address, 0) + 1
        try:
            yield tick
        finally:
            with self._lock:
                left = self._reading.pop(email_address) - 1
                if left:
                    self._reading[email_address] = left

    def written(self, email_address: str, user: User | None, began: int | None = None) -> None:
        """What this process just wrote (None: deleted), called inside the write's `reading()`
        (`began` its tick): seen here at once, unless something was learnt of the user after the
        write began (a look that dropped it, a read, the view emptied). That may know of a write
        another process made on top of ours, which a look that listed it will not list again;
        and a read may have answered before ours landed. Then the user is marked stale instead:
        the next check here reads the store."""
        if not self.entries:
            return
        with self._lock:
            current = self._users.get(email_address)
            if began is not None and (began < self._floor or (current is not None and current[1] > began)):
                self._keep(email_address, _STALE, next(self._ticks))
                return
            self._keep(email_address, user, next(self._ticks))

    def forget(self, email_address: str) -> None:
        """Make the next check of this user read the store: what the caller learnt (a user
        found missing) came from a read no `reading()` covered, so it cannot be kept, and what
        the view holds may be older."""
        if not self.entries:
            return
        with self._lock:
            self._keep(email_address, _STALE, next(self._ticks))

    def remember(self, email_address: str, user: User | None, tick: int) -> None:
        """Keep what the store said at `tick` unless something learnt later is already kept."""
        if not self.entries:
            return
        with self._lock:
            if tick < self._floor:
                return
            current = self._users.get(email_address)
            if current is not None and current[1] > tick:
                return
            self._keep(email_address, user, tick)

    def _keep(self, email_address: str, user: User | None, tick: int) -> None:
        if email_address not in self._users and len(self._users) >= self.entries:
            oldest = next(iter(self._users))
            # A read begun before what is forgotten could bring back what it replaced (or
            # what a look marked stale): not kept.
            self._floor = max(self._floor, self._users.pop(oldest)[1])
        self._users.pop(email_address, None)
        self._users[email_address] = (user, tick)
