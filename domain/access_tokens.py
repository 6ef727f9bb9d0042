"""Personal access tokens: credentials for scripts and services, kept on their user.

A token reads `esauth_pat_<user id>_<token id>_<secret>`: the prefix lets secret scanners find
leaked ones; the user id lets the check find its user by a realtime read by id, then the same
session view of the user a cookie check uses, so a bearer request costs what a cookie does and
a revocation reaches every process within the same bound. The store keeps only the SHA-256 of the
token. A slow password hash buys nothing here: the secret is 256 random bits, so nobody can try
enough guesses against a digest to matter, while argon2 would make every request cost ~20 ms and
let anyone with junk tokens burn the server's cores.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable

from domain.errors import SessionInvalid, StoreUnavailable, TokenNotFound, TokenRefused, TooManyTokens, UserNotFound, ValidationError, VersionConflict
from domain.user import AccessToken, User
from domain.users import Users
from ports.clock import Clock

TOKEN_PREFIX = "esauth_pat_"
MAX_TOKENS_PER_USER = 20
"""A user document stays small, and a leaked session cannot mint an unbounded number."""
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 365
MAX_TOKEN_NAME_LENGTH = 100
LAST_USED_PRECISION = timedelta(hours=1)
"""`last_used_at` is written at most once an hour per token: a write per request would cost a
store write each time, and an hourly mark is what an owner needs to spot a stale token."""
NOTED_USES_KEPT = 50_000
PARSED_TOKENS_KEPT = 10_000
NO_ACCOUNT = "no-account"
"""A user key no account can have (an address has an `@`): the decoy read before any token named a user."""

_TOKEN = re.compile(TOKEN_PREFIX + r"([a-z2-7]{26})_([a-z2-7]{13})_[a-z2-7]{52}")


def _base32(random_bytes: bytes) -> str:
    return base64.b32encode(random_bytes).decode("ascii").rstrip("=").lower()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def hour_of(instant: datetime) -> datetime:
    return instant.replace(minute=0, second=0, microsecond=0)


def check_token_name(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError("name", "must be a string")
    name = value.strip()
    if not name:
        raise ValidationError("name", "is required")
    if len(name) > MAX_TOKEN_NAME_LENGTH:
        raise ValidationError("name", f"must be at most {MAX_TOKEN_NAME_LENGTH} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValidationError("name", "must not contain control characters")
    return name


def check_lifetime(value: object) -> int:
    if value is None:
        return DEFAULT_LIFETIME_DAYS
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIFETIME_DAYS:
        raise ValidationError("expires_in_days", f"must be a whole number from 1 to {MAX_LIFETIME_DAYS}")
    return value


class AccessTokens:
    """Makes, lists, revokes and checks a user's tokens; every change is a guarded write of the user."""

    def __init__(self, users: Users, clock: Clock, random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self._users = users
        self._clock = clock
        self._random = random_bytes
        self._noted: dict[str, datetime] = {}  # token id -> the hour this process last wrote
        self._parsed: dict[str, tuple[str, str, str]] = {}
        self._lock = threading.Lock()
        self._decoy = NO_ACCOUNT

    def create(self, email_address: str, name: object, expires_in_days: object = None) -> tuple[str, AccessToken]:
        """A new token, returned once in full; only its digest is stored."""
        name = check_token_name(name)
        days = check_lifetime(expires_in_days)
        user = self._users.get(email_address)
        if user is None or not user.is_active:
            raise SessionInvalid("the account is gone or deactivated")
        self._users.link_id(user)  # before the token exists, so its first use finds the user
        now = self._clock()
        token = f"{TOKEN_PREFIX}{user.user_id}_{_base32(self._random(8))}_{_base32(self._random(32))}"
        entry = AccessToken(
            token_id=_TOKEN.fullmatch(token).group(2), name=name, digest=token_digest(token),
            created_at=now, expires_at=now + timedelta(days=days),
        )

        def add(current: User) -> User:
            live = tuple(t for t in current.access_tokens if t.expires_at > now)  # expired ones make room
            if len(live) >= MAX_TOKENS_PER_USER:
                raise TooManyTokens(MAX_TOKENS_PER_USER)
            return replace(current, access_tokens=(*live, entry))

        self._users.modify(email_address, add, read=user)
        return token, entry

    def of(self, email_address: str) -> tuple[AccessToken, ...]:
        """The user's tokens as the store has them now (one made on another process included)."""
        user = self._users.get(email_address)
        if user is None:
            raise SessionInvalid("the account is gone")
        return user.access_tokens

    def revoke(self, email_address: str, token_id: str) -> AccessToken:
        revoked: list[AccessToken] = []

        def remove(current: User) -> User:
            revoked[:] = [t for t in current.access_tokens if t.token_id == token_id]
            if not revoked:
                raise TokenNotFound(token_id)
            return replace(current, access_tokens=tuple(t for t in current.access_tokens if t.token_id != token_id))

        self._users.modify(email_address, remove)
        return revoked[0]

    def authenticate(self, token: str, fresh: bool = False) -> tuple[User, AccessToken, bool]:
        """The user and token a bearer token stands for, and whether this use was the first of
        its hour (then `last_used_at` was written and is worth an audit line).

        Every refusal is the same TokenRefused. As for sessions, this process's view of the user
        is trusted to accept, never to refuse: a token made on another process a moment ago
        costs one store read the first time. `fresh` reads the store (administrator rights).

        Every refusal of a well-formed token does the same work, whether or not its ids are
        known: an id no link names is checked against a decoy user (the last one a token named
        here; the read only refreshes this process's view of it) by the same steps, and a known
        id's link is read again where an unknown one's was read. Otherwise a known id would
        answer measurably slower than a made-up one (bench/login_timing.py measures both)."""
        user_id, token_id, digest = self._parse(token)
        email = self._users.email_for_id(user_id)  # an unknown id was looked for in the store
        linked = email is not None
        target = email if linked else self._decoy  # the decoy never has this id: it has no link
        now = self._clock()
        if fresh:
            user, read = self._users.refresh(target), True
        else:
            user, read = self._users.recent_or_read(target)
        entry = _accepted(user, user_id, token_id, digest, now)
        if entry is None and not read:
            user = self._users.refresh(target)
            entry = _accepted(user, user_id, token_id, digest, now)
        if linked:
            self._decoy = target
        if entry is None:
            if linked:
                # Read again where an unknown id's link was read; it also finds an address the
                # user changed to since this process learnt the id's (an email change).
                moved = self._users.email_for_id(user_id, fresh=True)
                if moved is not None and moved != email:
                    user = self._users.refresh(moved)
                    entry = _accepted(user, user_id, token_id, digest, now)
        if entry is None:
            raise TokenRefused("unknown, revoked or expired", user_id)
        return user, entry, self._note_use(user, entry, now)

    def _parse(self, token: str) -> tuple[str, str, str]:
        """User id, token id and digest. A script sends the same token over and over; what it
        parses to is a pure function of it, so a well-formed one is kept (the digest still has
        to match the user's on every request)."""
        parsed = self._parsed.get(token)
        if parsed is None:
            match = _TOKEN.fullmatch(token)
            if match is None:
                raise TokenRefused("malformed")
            parsed = (*match.groups(), token_digest(token))
            if len(self._parsed) >= PARSED_TOKENS_KEPT:
                self._parsed.clear()
            self._parsed[token] = parsed
        return parsed

    def _note_use(self, user: User, entry: AccessToken, now: datetime) -> bool:
        """Best effort and at most once an hour per token and process: a failed write only
        leaves `last_used_at` an hour behind."""
        hour = hour_of(now)
        if entry.last_used_at is not None and entry.last_used_at >= hour:
            return False
        with self._lock:
            if self._noted.get(entry.token_id) == hour:
                return False
            if len(self._noted) >= NOTED_USES_KEPT:
                self._noted.clear()
            self._noted[entry.token_id] = hour

        def mark(current: User) -> User:
            tokens = tuple(replace(t, last_used_at=hour) if t.token_id == entry.token_id else t for t in current.access_tokens)
            return replace(current, access_tokens=tokens)

        try:
            self._users.modify(user.email_address, mark, read=user)
        except (UserNotFound, VersionConflict, StoreUnavailable):
            pass
        return True


def _accepted(user: User | None, user_id: str, token_id: str, digest: str, now: datetime) -> AccessToken | None:
    if user is None or not user.is_active or user.user_id != user_id:
        return None  # a deleted account's email registered again has another id
    for entry in user.access_tokens:
        if entry.token_id == token_id:
            if hmac.compare_digest(entry.digest, digest) and now < entry.expires_at:
                return entry
            return None
    return None
