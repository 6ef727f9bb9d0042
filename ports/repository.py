"""Where users are kept."""

from __future__ import annotations

from typing import Protocol

from domain.changes import Changes
from domain.search import UserPage
from domain.user import User


class UserRepository(Protocol):
    """A store of users keyed by normalized email.

    Every method raises `StoreUnavailable` when the store does not answer.
    """

    kind: str
    """Short name of the store for health reports, e.g. "sqlite"."""

    def get(self, email_address: str) -> User | None:
        """The user with its current `version`, or None. Must see the latest write."""

    def add(self, user: User) -> User:
        """Create atomically; raise `UserAlreadyExists` if the email is taken."""

    def update(self, user: User) -> User:
        """Replace the user if its `version` is still current, else raise `VersionConflict`.

        Raises `UserNotFound` if the user is gone. Returns the user with its new version.
        """

    def move(self, user: User, from_email: str) -> User:
        """Store `user` under its (new) `email_address` in place of the user stored under
        `from_email` at `user.version`, keeping everything else (its id above all), and let
        `user.user_id` name the new address (`email_for_id`). All or nothing as readers see it:
        afterwards `from_email` is free and `get` of the new address is the user; if it fails,
        the user is still under `from_email` as it was.

        Raises `UserAlreadyExists` if the new address is taken (the store decides, as at
        sign-up: no check-then-write), `VersionConflict` if the user changed since it was read,
        `UserNotFound` if it is gone. A store that cannot do it in one step must leave, after a
        crash at any point, one user readable under one of the two addresses, and never the new
        address held for good by a move that did not finish. `changes_since` lists both
        addresses after it (the old one as gone), as it lists any write and deletion.
        """

    def delete(self, email_address: str) -> bool:
        """Remove the user; True if there was one."""

    def search(self, terms: tuple[str, ...], limit: int, cursor: str | None = None) -> UserPage:
        """Users matching every term, newest first (ties by email), at most `limit` of them.

        A term matches a prefix of the email or of any word of first_name or last_name, case
        insensitively. `cursor` is a previous page's `next_cursor` (domain.search.encode_cursor);
        a malformed one raises ValidationError.
        """

    def link_id(self, user_id: str, email_address: str) -> None:
        """Record that `user_id` names the user stored under `email_address`; idempotent (the
        pair never changes). Written before a credential that carries the id is handed out."""

    def email_for_id(self, user_id: str) -> str | None:
        """The email `link_id` recorded for `user_id`, or None. Must see the latest write, like
        `get`: a bearer token made a moment ago is used at once (a search would be
        near-real-time on Elasticsearch and miss it)."""

    def changes_since(self, mark: str | None) -> Changes:
        """Users added, updated, moved (both addresses) or deleted after `mark` (a previous
        answer's `mark`), with their versions now; for None, no users and the mark of now.

        Never misses a write that was acknowledged before this call began, whichever process or
        node made it: a change may be listed more than once (in several answers), never not at
        all. What cannot be listed is answered with `complete=False`. This is what lets every
        process keep its session view without reading the store per request.
        """

    def check(self) -> None:
        """Return if the store answers, else raise `StoreUnavailable`."""
