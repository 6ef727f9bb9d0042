"""Hand-written fakes for domain tests. Each one passes the contract suite of the port it stands for."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from domain.changes import Changes
from domain.errors import UserAlreadyExists, UserNotFound, VersionConflict
from domain.search import UserPage, decode_cursor, encode_cursor, name_words
from domain.timestamps import format_time
from domain.user import User
from ports.login_failures import FailureRecord


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class InMemoryUserRepository:
    kind = "memory"
    CHANGES_KEPT = 1000
    """Changes remembered for `changes_since`, as SQLite's change log keeps its latest ones."""

    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()
        self._versions = itertools.count(1)  # never reused, like Elasticsearch's sequence numbers
        self._emails_by_id: dict[str, str] = {}
        self._changes: list[tuple[int, str]] = []  # (sequence, email), oldest first
        self._sequence = itertools.count(1)

    def _changed(self, email_address: str) -> None:
        self._changes.append((next(self._sequence), email_address))
        del self._changes[: -self.CHANGES_KEPT]

    def get(self, email_address: str) -> User | None:
        with self._lock:
            return self._users.get(email_address)

    def add(self, user: User) -> User:
        with self._lock:
            if user.email_address in self._users:
                raise UserAlreadyExists(user.email_address)
            stored = replace(user, version=str(next(self._versions)))
            self._users[user.email_address] = stored
            self._changed(user.email_address)
            return stored

    def update(self, user: User) -> User:
        with self._lock:
            current = self._users.get(user.email_address)
            if current is None:
                raise UserNotFound(user.email_address)
            if user.version != current.version:
                raise VersionConflict(user.email_address)
            stored = replace(user, version=str(next(self._versions)))
            self._users[user.email_address] = stored
            self._changed(user.email_address)
            return stored

    def move(self, user: User, from_email: str) -> User:
        with self._lock:
            current = self._users.get(from_email)
            if current is None:
                raise UserNotFound(from_email)
            if user.email_address in self._users:
                raise UserAlreadyExists(user.email_address)
            if user.version != current.version:
                raise VersionConflict(from_email)
            stored = replace(user, version=str(next(self._versions)))
            del self._users[from_email]
            self._users[user.email_address] = stored
            self._emails_by_id[user.user_id] = user.email_address
            self._changed(from_email)
            self._changed(user.email_address)
            return stored

    def delete(self, email_address: str) -> bool:
        with self._lock:
            gone = self._users.pop(email_address, None) is not None
            if gone:
                self._changed(email_address)
            return gone

    def changes_since(self, mark: str | None) -> Changes:
        with self._lock:
            last = self._changes[-1][0] if self._changes else 0
            if mark is None:
                return Changes(str(last))
            after = int(mark)
            listed = [email for sequence, email in self._changes if sequence > after]
            complete = after >= last or (bool(self._changes) and self._changes[0][0] <= after + 1)
            versions = {email: (self._users[email].version if email in self._users else None) for email in listed}
            return Changes(str(last), versions, complete)

    def search(self, terms: tuple[str, ...], limit: int, cursor: str | None = None) -> UserPage:
        after = None
        if cursor is not None:
            created_at, email = decode_cursor(cursor)
            after = (format_time(created_at), email)
        with self._lock:
            users = list(self._users.values())
        found = sorted((user for user in users if all(_matches(user, term) for term in terms)), key=_email)
        # Stable, so equal instants stay in email order. Positions compare as the stores keep
        # them: created_at to the millisecond, as text.
        found.sort(key=lambda user: format_time(user.created_at), reverse=True)
        if after is not None:
            found = [user for user in found if _is_after(user, after)]
        page = tuple(found[:limit])
        more = len(found) > limit
        return UserPage(page, encode_cursor(page[-1]) if more and page else None)

    def link_id(self, user_id: str, email_address: str) -> None:
        with self._lock:
            self._emails_by_id[user_id] = email_address

    def email_for_id(self, user_id: str) -> str | None:
        with self._lock:
            return self._emails_by_id.get(user_id)

    def check(self) -> None:
        return None


def _matches(user: User, term: str) -> bool:
    """A prefix of the email or of any whitespace-separated word of a name, case insensitively."""
    if user.email_address.lower().startswith(term):
        return True
    return any(word.startswith(term) for word in name_words(user.first_name, user.last_name))


def _is_after(user: User, position: tuple[str, str]) -> bool:
    created_at, email = format_time(user.created_at), user.email_address
    return created_at < position[0] or (created_at == position[0] and email > position[1])


def _email(user: User) -> str:
    return user.email_address


class InMemoryLoginFailureRepository:
    def __init__(self) -> None:
        self._records: dict[str, FailureRecord] = {}
        self._lock = threading.Lock()
        self._versions = itertools.count(1)  # never reused, like Elasticsearch's sequence numbers

    def get(self, key: str) -> FailureRecord | None:
        with self._lock:
            return self._records.get(key)

    def put(self, record: FailureRecord) -> FailureRecord:
        with self._lock:
            current = self._records.get(record.key)
            if (current.version if current else None) != record.version:
                raise VersionConflict(record.key)
            stored = replace(record, version=str(next(self._versions)))
            self._records[record.key] = stored
            return stored

    def delete(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def purge(self, last_failure_before: datetime) -> int:
        with self._lock:
            stale = [key for key, record in self._records.items() if record.last_failure_at < last_failure_before]
            for key in stale:
                del self._records[key]
            return len(stale)


class CountingUserRepository(InMemoryUserRepository):
    """Logs every read and write it is asked for into `calls` (shareable with a
    CountingLoginFailureRepository), for tests that count store calls."""

    def __init__(self, calls: list[str] | None = None) -> None:
        super().__init__()
        self.calls = calls if calls is not None else []

    @property
    def gets(self) -> int:
        return self.calls.count("read")

    def get(self, email_address: str) -> User | None:
        self.calls.append("read")
        return super().get(email_address)

    def update(self, user: User) -> User:
        self.calls.append("write")
        return super().update(user)


class CountingLoginFailureRepository(InMemoryLoginFailureRepository):
    """The failure store's counterpart of CountingUserRepository."""

    def __init__(self, calls: list[str]) -> None:
        super().__init__()
        self.calls = calls

    def get(self, key: str) -> FailureRecord | None:
        self.calls.append("read")
        return super().get(key)

    def put(self, record: FailureRecord) -> FailureRecord:
        self.calls.append("write")
        return super().put(record)


class FakeHasher:
    """Reversible "hashes" tagged with a cost, and counts of the calls made, for domain tests."""

    def __init__(self, cost: int = 1) -> None:
        self.cost = cost
        self.verify_calls = 0
        self.hash_calls = 0

    def hash(self, password: str) -> str:
        self.hash_calls += 1
        return f"fake${self.cost}${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self.verify_calls += 1
        parts = password_hash.split("$", 2)
        return len(parts) == 3 and parts[0] == "fake" and parts[2] == password

    def needs_rehash(self, password_hash: str) -> bool:
        parts = password_hash.split("$", 2)
        return len(parts) != 3 or parts[0] != "fake" or parts[1] != str(self.cost)


class RecordingNotifier:
    """Keeps what it was asked to send, for domain and HTTP tests to read back."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        """Password resets: (address, token)."""
        self.verifications: list[tuple[str, str, bool]] = []
        """(address, token, change)."""
        self.changed: list[tuple[str, str]] = []
        """(old address, new address)."""

    def send_password_reset(self, email_address: str, token: str) -> None:
        self.sent.append((email_address, token))

    def send_email_verification(self, email_address: str, token: str, change: bool = False) -> None:
        self.verifications.append((email_address, token, change))

    def send_email_changed(self, email_address: str, new_email_address: str) -> None:
        self.changed.append((email_address, new_email_address))

    def delivered(self) -> list[tuple[str, str]]:
        """The password resets sent."""
        return list(self.sent)

    def everything(self) -> list[tuple[str, str]]:
        """(recipient, what its message holds) of every kind, as the notifier contract reads them."""
        return [*self.sent, *((address, token) for address, token, _ in self.verifications), *self.changed]


class GatedHasher(FakeHasher):
    """Each hash or verify waits until `open()`: lets a test fill the hashing pool's queue."""

    def __init__(self) -> None:
        super().__init__(cost=1)
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def open(self) -> None:
        self.gate.set()

    def hash(self, password: str) -> str:
        self.started.release()
        assert self.gate.wait(timeout=10), "the gate was never opened"
        return super().hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        self.started.release()
        assert self.gate.wait(timeout=10), "the gate was never opened"
        return super().verify(password_hash, password)


class RecordingMetrics:
    """Keeps every event reported through ports.metrics, for tests to count."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self._lock = threading.Lock()

    def _add(self, *event: object) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind: str) -> list[tuple]:
        with self._lock:
            return [event[1:] for event in self.events if event[0] == kind]

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self._add("request", route, method, status, seconds)

    def throttled(self, reason: str) -> None:
        self._add("throttled", reason)

    def login(self, outcome: str) -> None:
        self._add("login", outcome)

    def session_cache(self, hit: bool) -> None:
        self._add("session_cache", hit)

    def store_call(self, store: str, operation: str, seconds: float, failed: bool) -> None:
        self._add("store_call", store, operation, seconds, failed)

    def hash_wait(self, seconds: float) -> None:
        self._add("hash_wait", seconds)


class FakePasswordScreen:
    """A handful of known-bad passwords, in the domain's matching form like the real list."""

    COMMON = frozenset({"password", "12345678", "qwertyuiop", "iloveyou", "password1"})

    def __init__(self, entries: frozenset[str] = COMMON) -> None:
        self._entries = entries

    def is_listed(self, password: str) -> bool:
        return password in self._entries


class FakeBreachedPasswords:
    """Passwords seen in a breach, exactly as typed, like the range service."""

    def __init__(self, breached: frozenset[str]) -> None:
        self._breached = breached

    def is_breached(self, password: str) -> bool:
        return password in self._breached
