"""One SQLite file in WAL mode, shared by the embedded store's repositories."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from domain.errors import StoreUnavailable
from domain.search import name_words as search_words

SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS users (
        email_address TEXT PRIMARY KEY,
        created_at    TEXT NOT NULL,
        document      TEXT NOT NULL,
        version       INTEGER NOT NULL
    )
    """,
    # The admin search's order (newest first, ties by email), so a page is read off the index.
    """
    CREATE INDEX IF NOT EXISTS users_by_created_at ON users (created_at DESC, email_address)
    """,
    """
    CREATE TABLE IF NOT EXISTS login_failures (
        key             TEXT PRIMARY KEY,
        failures        INTEGER NOT NULL,
        last_failure_at TEXT NOT NULL,
        version         INTEGER NOT NULL
    )
    """,
    # Added with user ids: which user an id (carried by bearer tokens) names. Created on upgrade
    # like every table here; ids themselves live in the user document.
    """
    CREATE TABLE IF NOT EXISTS user_ids (
        user_id       TEXT PRIMARY KEY,
        email_address TEXT NOT NULL
    )
    """,
)


def name_words(*names: str | None) -> str:
    """The words of the names, lower case, each after one space: " ada king lovelace".

    SQL function `esauth_name_words` for the user search: a term is a prefix of a word exactly
    when `' ' || term` occurs in this text. SQLite's own lower() and LIKE fold ASCII only and
    know no whitespace but the space, so "Ünïcode" or a non-breaking space would not match as
    they do in Elasticsearch; Python's lower() and split() agree with its lowercase filter and
    whitespace tokenizer.
    """
    return "".join(f" {word}" for word in search_words(*names))


class SqliteDatabase:
    """Creates the schema once; hands each thread its own connection (sqlite3 connections are
    not shared safely), and turns SQLite's failures into StoreUnavailable."""

    def __init__(self, path: Path | str, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.errors():
            connection = self.connection()
            connection.execute("PRAGMA journal_mode=WAL")
            for statement in SCHEMA:
                connection.execute(statement)

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.create_function("esauth_name_words", -1, name_words, deterministic=True)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def errors(self) -> Iterator[None]:
        """IntegrityError passes through (it means a duplicate); anything else is the store failing."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as error:
            raise StoreUnavailable(f"sqlite: {type(error).__name__}") from error

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
