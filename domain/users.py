"""The user store as every service writes it: guarded retries, and the session view kept true."""

from __future__ import annotations

from datetime import timedelta
from dataclasses import replace
from typing import Callable

from domain.errors import UserNotFound, VersionConflict
from domain.search import UserPage
from domain.user import User, new_user_id
from domain.session_view import VIEW_ENTRIES, SessionView
from ports.clock import Clock
from ports.metrics import NO_METRICS, Metrics
from ports.repository import UserRepository

UPDATE_ATTEMPTS = 5

LINKED_IDS_LIMIT = 50_000


class Users:
    """Wraps the UserRepository so that no service writes around the guard or the view.

    `recent()` serves the session check from this process's SessionView, which a change made
    elsewhere reaches within `session_check_bound` (zero: no view, the store is read each
    time). Every write made through this object is seen by `recent()` at once, and a read that
    began before such a write never replaces it.
    """

    def __init__(
        self,
        repository: UserRepository,
        clock: Clock,
        session_check_bound: timedelta = timedelta(seconds=1),
        metrics: Metrics = NO_METRICS,
        view_entries: int = VIEW_ENTRIES,
    ) -> None:
        self._repository = repository
        self._metrics = metrics
        self._clock = clock
        self.view = SessionView(repository, clock, session_check_bound, view_entries)
        self._emails_by_id: dict[str, str] = {}

    @property
    def kind(self) -> str:
        return self._repository.kind

    def check(self) -> None:
        self._repository.check()

    def get(self, email_address: str) -> User | None:
        """Straight from the store: for decisions that must see the latest write."""
        return self._with_id(self._repository.get(email_address))

    def find(self, spellings: tuple[str, ...]) -> User | None:
        """The user stored under the first of these spellings (domain.user.email_spellings) that
        has one. Every spelling is read, found or not, so the reads an attempt costs depend on
        what was typed, never on whether an account exists."""
        found = [self._repository.get(spelling) for spelling in spellings]
        return next((user for user in found if user is not None), None)

    def recent(self, email_address: str) -> User | None:
        return self.recent_or_read(email_address)[0]

    def recent_or_read(self, email_address: str) -> tuple[User | None, bool]:
        """`recent()`, and whether it read the store for it (a caller that would refresh on a
        refusal need not read again): the user as this process's session view holds it, or read
        (and kept) on a miss."""
        found, user = self.view.lookup(email_address)
        self._metrics.session_cache(found)
        return (user, False) if found else (self.refresh(email_address), True)

    def refresh(self, email_address: str) -> User | None:
        """Read the store and remember what it said."""
        with self.view.reading(email_address) as tick:
            user = self._repository.get(email_address)
            if user is None or user.user_id:
                self.view.remember(email_address, user, tick)
                return user
        return self._with_id(user)  # remembered by the write

    def add(self, user: User) -> User:
        return self._repository.add(user if user.user_id else replace(user, user_id=new_user_id()))

    def _with_id(self, user: User | None) -> User | None:
        """A user stored before ids existed gets one on first read, by a guarded write: when two
        processes upgrade it at once, one write wins and the other re-reads and keeps that id."""
        if user is None or user.user_id:
            return user
        try:
            return self.modify(user.email_address, _give_id, read=user)
        except UserNotFound:
            return None

    def assign_missing_ids(self, page_size: int = 500) -> int:
        """Give every stored user without an id one (`esauth init`); returns how many got one."""
        done, cursor = 0, None
        while True:
            page = self._repository.search((), page_size, cursor)
            for user in page.users:
                if not user.user_id and self._with_id(user) is not None:
                    done += 1
            if page.next_cursor is None:
                return done
            cursor = page.next_cursor

    def link_id(self, user: User) -> None:
        self._repository.link_id(user.user_id, user.email_address)

    def email_for_id(self, user_id: str, fresh: bool = False) -> str | None:
        """The email an id belongs to. Kept once found (it changes only when the user changes
        their address; whether the user still exists and still has that id is for the caller to
        check on the user); `fresh` reads the store even so."""
        email = None if fresh else self._emails_by_id.get(user_id)
        if email is None:
            email = self._repository.email_for_id(user_id)
            if email is not None:
                if len(self._emails_by_id) >= LINKED_IDS_LIMIT:
                    self._emails_by_id.clear()
                self._emails_by_id[user_id] = email
        return email

    def modify(self, email_address: str, change: Callable[[User], User], read: User | None = None) -> User:
        """Apply `change` to the current user and write it under the version guard, re-reading
        and re-applying on conflicts. `change` may raise to abandon the write.

        `read` is the user as the caller just read it, saving a second read; if it is stale, the
        guarded write conflicts and the loop re-reads, so it can never overwrite a newer user.
        A change that changes nothing is written anyway when it was decided on `read`: `change`
        may be a decision (such as the login throttle's) that must have seen the latest user, and
        the guarded write proves it did, at the same cost as any other outcome. Decided on a
        read made here, it writes nothing.
        """
        user = read if read is not None else self._repository.get(email_address)
        fresh = read is None
        for _ in range(UPDATE_ATTEMPTS):
            if user is None:
                self.view.forget(email_address)  # read outside any reading(): a miss, not "gone"
                raise UserNotFound(email_address)
            updated = change(user)
            if user.user_id and updated.user_id != user.user_id:
                updated = replace(updated, user_id=user.user_id)  # immutable once given
            if updated == user and fresh:
                return user
            with self.view.reading(email_address) as began:
                try:
                    written = self._repository.update(updated)
                except VersionConflict:
                    written = None
                else:
                    self.view.written(email_address, written, began)
            if written is None:
                user, fresh = self._repository.get(email_address), True
                continue
            return written
        raise VersionConflict("too many concurrent updates of one user")

    def move(self, email_address: str, new_email: str, change: Callable[[User], User]) -> User:
        """Apply `change` to the current user and store the result under `new_email` instead of
        `email_address` (UserRepository.move: the store decides whether the address is free),
        re-reading and re-applying on conflicts. The id stays; the old address is free after."""
        for _ in range(UPDATE_ATTEMPTS):
            user = self.get(email_address)
            if user is None:
                self.view.forget(email_address)
                raise UserNotFound(email_address)
            moved = replace(change(user), email_address=new_email, user_id=user.user_id)
            # Seen here at once (unless something newer was learnt meanwhile); other processes
            # see both addresses in the store's change feed.
            with self.view.reading(email_address) as began, self.view.reading(new_email):
                try:
                    written = self._repository.move(moved, email_address)
                except VersionConflict:
                    continue
                self.view.written(email_address, None, began)
                self.view.written(new_email, written, began)
            self._emails_by_id[written.user_id] = new_email
            return written
        raise VersionConflict("too many concurrent updates of one user")

    def delete(self, email_address: str) -> bool:
        with self.view.reading(email_address) as began:
            deleted = self._repository.delete(email_address)
            self.view.written(email_address, None, began)
        return deleted

    def search(self, terms: tuple[str, ...], limit: int, cursor: str | None) -> UserPage:
        page = self._repository.search(terms, limit, cursor)
        if all(user.user_id for user in page.users):
            return page
        return UserPage(tuple(filter(None, (self._with_id(user) for user in page.users))), page.next_cursor)


def _give_id(current: User) -> User:
    return current if current.user_id else replace(current, user_id=new_user_id())
