"""The auth rules: register, log in, log out, and resolve a session to its user."""

from __future__ import annotations

import math
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable

from domain.errors import (
    InactiveUser,
    InvalidCredentials,
    LoginThrottled,
    SessionInvalid,
    UserNotFound,
    ValidationError,
    VersionConflict,
)
from domain.session import Session
from domain.throttle import ThrottlePolicy, failure_key
from domain.user import User, check_name, check_password, normalize_email
from ports.clock import Clock
from ports.hasher import PasswordHasher
from ports.login_failures import FailureRecord, LoginFailureRepository
from ports.repository import UserRepository

MAX_LIVE_SESSIONS = 10
"""Live sessions kept per user; logging in an eleventh time ends the oldest."""

UPDATE_ATTEMPTS = 5

RECENT_USERS_LIMIT = 50_000
"""Entries kept for the session check before the cache is dropped whole (memory bound)."""


class AuthService:
    """Holds the rules and calls the ports; knows nothing of HTTP or of any store."""

    def __init__(
        self,
        users: UserRepository,
        hasher: PasswordHasher,
        clock: Clock,
        failures: LoginFailureRepository,
        throttle: ThrottlePolicy = ThrottlePolicy(),
        session_check_ttl: timedelta = timedelta(seconds=1),
        new_session_id: Callable[[], str] = lambda: secrets.token_urlsafe(16),
    ) -> None:
        """`session_check_ttl` bounds how long another process may still accept a revoked session.

        Within it, the session check reuses the user this process last read or wrote instead of
        asking the store on every request; writes made here are seen here at once.
        """
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._failures = failures
        self._throttle = throttle
        self._session_check_ttl = session_check_ttl
        self._new_session_id = new_session_id
        self._recent: dict[str, tuple[User, datetime]] = {}
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
        """Check the credentials and open a new session (a new id each time: no fixation).

        Unknown emails cost the same hash and are throttled the same way as known ones, so neither
        the answer, its timing nor the throttling tells whether an account exists.
        """
        if not isinstance(password, str):
            raise ValidationError("password", "must be a string")
        if not isinstance(email_address, str):
            raise ValidationError("email_address", "must be a string")
        key = failure_key(email_address)
        record = self._failures.get(key)
        wait = self._throttle.retry_after(record, self._clock())
        if wait > timedelta(0):
            raise LoginThrottled(math.ceil(wait.total_seconds()))
        try:
            user = self._check_credentials(email_address, password)
        except InvalidCredentials:
            self._count_failure(key, record)
            raise
        if record is not None:
            self._failures.delete(key)
        return self._open_session(user, password)

    def _check_credentials(self, email_address: str, password: str) -> User:
        try:
            email: str | None = normalize_email(email_address)
        except ValidationError:
            email = None  # a malformed address is just an unknown one
        user = self._users.get(email) if email else None
        if user is None:
            self._hasher.verify(self._dummy_hash, password)
            raise InvalidCredentials()
        if not self._hasher.verify(user.password_hash, password):
            raise InvalidCredentials()
        if not user.is_active:
            raise InactiveUser()
        return user

    def _count_failure(self, key: str, record: FailureRecord | None) -> None:
        for _ in range(UPDATE_ATTEMPTS):
            try:
                self._failures.put(self._throttle.after_failure(record, key, self._clock()))
                return
            except VersionConflict:
                record = self._failures.get(key)
        raise VersionConflict("too many concurrent failures for one key")

    def _open_session(self, user: User, password: str) -> tuple[User, Session]:
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

        return self._modify(user, open_session), session

    def session_user(self, session: Session) -> User:
        """The user a live session belongs to; SessionInvalid if it was revoked or the user is gone."""
        user = self._recent_user(session.email_address)
        if user is None or not user.is_active or session.session_id not in user.session_ids:
            raise SessionInvalid("session is not valid")
        return user

    def logout(self, session: Session) -> None:
        """Revoke this one session; the user's other sessions stay live."""
        self._revoke(session.email_address, lambda live: tuple(s for s in live if s != session.session_id))

    def logout_all(self, session: Session) -> None:
        """Revoke every session of the user, this one included."""
        self._revoke(session.email_address, lambda live: ())

    def _revoke(self, email_address: str, keep: Callable[[tuple[str, ...]], tuple[str, ...]]) -> None:
        user = self._users.get(email_address)
        if user is None:
            return
        try:
            self._modify(user, lambda current: replace(current, session_ids=keep(current.session_ids)))
        except UserNotFound:
            self._recent.pop(email_address, None)

    def _recent_user(self, email_address: str) -> User | None:
        now = self._clock()
        hit = self._recent.get(email_address)
        if hit is not None and timedelta(0) <= now - hit[1] < self._session_check_ttl:
            return hit[0]
        user = self._users.get(email_address)
        if user is None:
            self._recent.pop(email_address, None)
        else:
            self._remember(user, now)
        return user

    def _remember(self, user: User, now: datetime) -> None:
        if self._session_check_ttl <= timedelta(0):
            return
        if len(self._recent) >= RECENT_USERS_LIMIT:
            self._recent.clear()
        self._recent[user.email_address] = (user, now)

    def _modify(self, user: User, change: Callable[[User], User]) -> User:
        """Apply `change` and write it under the version guard, re-reading on conflicts."""
        for _ in range(UPDATE_ATTEMPTS):
            updated = change(user)
            if updated == user:
                return user
            try:
                written = self._users.update(updated)
            except VersionConflict:
                fresh = self._users.get(user.email_address)
                if fresh is None:
                    raise UserNotFound() from None
                user = fresh
                continue
            self._remember(written, self._clock())
            return written
        raise VersionConflict("too many concurrent updates of one user")
