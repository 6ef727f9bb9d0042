"""The embedded user store: one SQLite file, used when no Elasticsearch is configured."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from domain.errors import StoreUnavailable, UserAlreadyExists, UserNotFound, VersionConflict
from domain.user import User
from domain.timestamps import format_time
from infrastructure.user_document import from_document, to_document

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    email_address TEXT PRIMARY KEY,
    created_at    TEXT NOT NULL,
    document      TEXT NOT NULL,
    version       INTEGER NOT NULL
)
"""


class SqliteUserRepository:
    """UserRepository on SQLite in WAL mode.

    The PRIMARY KEY on the email decides sign-up races, and `version` guards updates.
    Each thread gets its own connection, as sqlite3 connections are not shared safely.
    """

    kind = "sqlite"

    def __init__(self, path: Path | str, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._errors():
            connection = self._connection()
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as error:
            raise StoreUnavailable(f"sqlite: {type(error).__name__}") from error

    def get(self, email_address: str) -> User | None:
        with self._errors():
            row = self._connection().execute(
                "SELECT document, version FROM users WHERE email_address = ?", (email_address,)
            ).fetchone()
        return None if row is None else from_document(json.loads(row[0]), str(row[1]))

    def add(self, user: User) -> User:
        try:
            with self._errors():
                self._connection().execute(
                    "INSERT INTO users (email_address, created_at, document, version) VALUES (?, ?, ?, 1)",
                    (user.email_address, format_time(user.created_at), json.dumps(to_document(user))),
                )
        except sqlite3.IntegrityError:
            raise UserAlreadyExists(user.email_address) from None
        return _with_version(user, 1)

    def update(self, user: User) -> User:
        if user.version is None:
            raise VersionConflict("an update needs the version it was read at")
        with self._errors():
            cursor = self._connection().execute(
                "UPDATE users SET document = ?, version = version + 1 WHERE email_address = ? AND version = ?",
                (json.dumps(to_document(user)), user.email_address, int(user.version)),
            )
        if cursor.rowcount == 1:
            return _with_version(user, int(user.version) + 1)
        if self.get(user.email_address) is None:
            raise UserNotFound(user.email_address)
        raise VersionConflict(user.email_address)

    def check(self) -> None:
        with self._errors():
            self._connection().execute("SELECT 1 FROM users LIMIT 1").fetchall()

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()


def _with_version(user: User, version: int) -> User:
    return replace(user, version=str(version))
