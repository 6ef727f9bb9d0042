"""Hand-written fakes for domain tests. Each one passes the contract suite of the port it stands for."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from domain.errors import UserAlreadyExists, UserNotFound, VersionConflict
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

    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()

    def get(self, email_address: str) -> User | None:
        with self._lock:
            return self._users.get(email_address)

    def add(self, user: User) -> User:
        with self._lock:
            if user.email_address in self._users:
                raise UserAlreadyExists(user.email_address)
            stored = replace(user, version="1")
            self._users[user.email_address] = stored
            return stored

    def update(self, user: User) -> User:
        with self._lock:
            current = self._users.get(user.email_address)
            if current is None:
                raise UserNotFound(user.email_address)
            if user.version != current.version:
                raise VersionConflict(user.email_address)
            stored = replace(user, version=str(int(current.version or 0) + 1))
            self._users[user.email_address] = stored
            return stored

    def check(self) -> None:
        return None


class InMemoryLoginFailureRepository:
    def __init__(self) -> None:
        self._records: dict[str, FailureRecord] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> FailureRecord | None:
        with self._lock:
            return self._records.get(key)

    def put(self, record: FailureRecord) -> FailureRecord:
        with self._lock:
            current = self._records.get(record.key)
            if (current.version if current else None) != record.version:
                raise VersionConflict(record.key)
            stored = replace(record, version=str(int(record.version or 0) + 1))
            self._records[record.key] = stored
            return stored

    def delete(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)


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
