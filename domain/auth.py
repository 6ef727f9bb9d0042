"""The auth rules: register, log in, log out, and resolve a session to its user."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Callable

from domain.errors import (
    InactiveUser,
    InvalidCredentials,
    SessionInvalid,
    UserNotFound,
    ValidationError,
    VersionConflict,
)
from domain.session import Session
from domain.user import User, check_name, check_password, normalize_email
from ports.clock import Clock
from ports.hasher import PasswordHasher
from ports.repository import UserRepository

MAX_LIVE_SESSIONS = 10
"""Live sessions kept per user; logging in an eleventh time ends the oldest."""

UPDATE_ATTEMPTS = 5


class AuthService:
    """Holds the rules and calls the ports; knows nothing of HTTP or of any store."""

    def __init__(
        self,
        users: UserRepository,
        hasher: PasswordHasher,
        clock: Clock,
        new_session_id: Callable[[], str] = lambda: secrets.token_urlsafe(16),
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._new_session_id = new_session_id
        # Verified against when the email is unknown, so that answering "no such user"
        # costs the same hash as "wrong password" and timing does not reveal accounts.
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    @property
    def store_kind(self) -> str:
        return self._users.kind

    def check_store(self) -> None:
        self._users.check()

    def register(
        self,
        email_address: object,
        password: object,
        first_name: object = None,
        last_name: object = None,
    ) -> User:
        """Create a user. The store's atomic create decides a race: the loser gets UserAlreadyExists."""
        user = User(
            email_address=normalize_email(email_address),
            password_hash="",
            created_at=self._clock(),
            first_name=check_name(first_name, "first_name"),
            last_name=check_name(last_name, "last_name"),
        )
        password = check_password(password)
        return self._users.add(replace(user, password_hash=self._hasher.hash(password)))

    def login(self, email_address: object, password: object) -> tuple[User, Session]:
        """Check the credentials and open a new session (a new id each time: no fixation)."""
        if not isinstance(password, str):
            raise ValidationError("password", "must be a string")
        try:
            email = normalize_email(email_address)
        except ValidationError as error:
            if error.reason == "must be a string":
                raise
            email = None  # a malformed address is just an unknown one
        user = self._users.get(email) if email else None
        if user is None:
            self._hasher.verify(self._dummy_hash, password)
            raise InvalidCredentials()
        if not self._hasher.verify(user.password_hash, password):
            raise InvalidCredentials()
        if not user.is_active:
            raise InactiveUser()

        now = self._clock()
        session = Session(user.email_address, self._new_session_id(), issued_at=now, last_seen=now)
        verified_hash = user.password_hash

        def open_session(current: User) -> User:
            nonlocal verified_hash
            if current.password_hash != verified_hash:
                # The password (or its hash) changed since we checked: check again, so a
                # concurrent password change is never undone by this login.
                if not self._hasher.verify(current.password_hash, password):
                    raise InvalidCredentials()
                verified_hash = current.password_hash
            if not current.is_active:
                raise InactiveUser()
            live = (*current.session_ids, session.session_id)[-MAX_LIVE_SESSIONS:]
            new_hash = current.password_hash
            if self._hasher.needs_rehash(current.password_hash):
                new_hash = self._hasher.hash(password)
            return replace(current, session_ids=live, password_hash=new_hash)

        user = self._modify(user, open_session)
        return user, session

    def session_user(self, session: Session) -> User:
        """The user a live session belongs to; SessionInvalid if it was revoked or the user is gone."""
        user = self._users.get(session.email_address)
        if user is None or not user.is_active or session.session_id not in user.session_ids:
            raise SessionInvalid("session is not valid")
        return user

    def logout(self, session: Session) -> None:
        """Revoke this one session; the user's other sessions stay live."""
        user = self._users.get(session.email_address)
        if user is None:
            return

        def drop(current: User) -> User:
            return replace(
                current, session_ids=tuple(s for s in current.session_ids if s != session.session_id)
            )

        try:
            self._modify(user, drop)
        except UserNotFound:
            return

    def _modify(self, user: User, change: Callable[[User], User]) -> User:
        """Apply `change` and write it under the version guard, re-reading on conflicts."""
        for _ in range(UPDATE_ATTEMPTS):
            updated = change(user)
            if updated == user:
                return user
            try:
                return self._users.update(updated)
            except VersionConflict:
                fresh = self._users.get(user.email_address)
                if fresh is None:
                    raise UserNotFound() from None
                user = fresh
        raise VersionConflict("too many concurrent updates of one user")
