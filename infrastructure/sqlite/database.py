"""One SQLite file in WAL mode, shared by the embedded store's repositories."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from domain.errors import StoreUnavailable
from domain.search import name_words as search_words

log = logging.getLogger("esauth.sqlite")

WRITE_PROBE = "UPDATE users SET version = version WHERE 0"
"""Changes nothing, but needs a writable database: SQLite opens a file it may not write read-only
without a word, and then every read succeeds while every write fails."""
SIDECARS = ("-wal", "-shm")
CHANGES_KEPT = 10_000
"""Rows of `user_changes` kept: a process further behind than this forgets its whole session view."""
SET_UP_RETRY_S = 0.05
PAGE_CACHE_KIB = 512
"""SQLite's page cache per connection, and there is one per thread that touches the store (8
request threads and more). Its default, 2 MiB each, copied 16 MiB of pages the OS caches anyway
into a server that had checked 10,000 distinct users (RSS 111 MiB there, 100 at 512 KiB; 131
and 119 after logins on top). A read that misses it costs a pread: random reads over 200,000
users took 19-22 us each against 18.6 at 2 MiB, and the session view answers nearly every check,
so reads are rare on the hot path."""

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
    # The change feed of the session views (UserRepository.changes_since): one row per write or
    # deletion of a user, numbered in commit order (SQLite has one writer at a time, so a reader
    # never sees a number before the ones below it: no clocks, no window). Written by triggers,
    # so no write, whoever makes it, can miss it; only the latest CHANGES_KEPT rows are kept.
    """
    CREATE TABLE IF NOT EXISTS user_changes (
        sequence      INTEGER PRIMARY KEY AUTOINCREMENT,
        email_address TEXT NOT NULL
    )
    """,
    *(
        f"""
    CREATE TRIGGER IF NOT EXISTS user_changes_on_{event.lower()} AFTER {event} ON users BEGIN
        INSERT INTO user_changes (email_address) VALUES ({row}.email_address);
        DELETE FROM user_changes WHERE sequence <= (SELECT MAX(sequence) FROM user_changes) - {CHANGES_KEPT};
    END
    """
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    ),
    # An email change (UserRepository.move) re-keys the row: the address it leaves is a change
    # too, or another process's view keeps trusting the old address's user and its sessions.
    # A trigger of its own (not a change to the one above), so stores made before it get it.
    f"""
    CREATE TRIGGER IF NOT EXISTS user_changes_on_rekey AFTER UPDATE OF email_address ON users
    WHEN OLD.email_address <> NEW.email_address BEGIN
        INSERT INTO user_changes (email_address) VALUES (OLD.email_address);
        DELETE FROM user_changes WHERE sequence <= (SELECT MAX(sequence) FROM user_changes) - {CHANGES_KEPT};
    END
    """,
    # A session view keeps a user until the feed lists another version of it, so a write that
    # leaves the version as it was (an operator's SQL on `document`) would be listed and skipped,
    # and the user's old sessions trusted for good. Such a write gets a version of its own here;
    # esauth's writes always set a new one, so this never fires for them.
    """
    CREATE TRIGGER IF NOT EXISTS users_version_on_edit AFTER UPDATE OF document ON users
    WHEN NEW.version = OLD.version BEGIN
        UPDATE users SET version = NEW.version + 1 WHERE email_address = NEW.email_address;
    END
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
    not shared safely), and turns SQLite's failures into StoreUnavailable.

    A connection is kept only while it works: one that cannot write is never handed out, and
    one that failed is dropped, so the store recovers by itself once the file is writable
    again (a connection SQLite opened read-only would stay read-only until a restart). The file
    holds every password hash, so it and its -wal/-shm are owner-only (0600).
    """

    def __init__(self, path: Path | str, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._schema_made = False
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _owner_only(self.path)
        self._set_up(time.monotonic() + busy_timeout_s)
        self._schema_made = True
        try:
            self.check()
        except StoreUnavailable as error:
            log.warning("%s cannot be written (%s): writes answer 503 until it can", self.path, error)

    def _set_up(self, deadline: float) -> None:
        """WAL mode and the schema, waiting (until `deadline`) for another process doing the same.

        The workers of one server all set up a new file at once. Switching to WAL needs the file
        to itself, and SQLite refuses a lock at once, without its busy timeout, when waiting could
        deadlock (two connections each holding a read lock and wanting to write): so the set-up
        is retried here, as the busy timeout would have waited."""
        while True:
            try:
                with self.errors():
                    connection = self.connection()
                    connection.execute("PRAGMA journal_mode=WAL")
                    for statement in SCHEMA:
                        connection.execute(statement)
                return
            except StoreUnavailable as error:
                if not _is_busy(error.__cause__) or time.monotonic() >= deadline:
                    raise
                time.sleep(SET_UP_RETRY_S)

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            try:
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
                connection.create_function("esauth_name_words", -1, name_words, deterministic=True)
                if self._schema_made:
                    connection.execute(WRITE_PROBE)
            except sqlite3.Error:
                connection.close()
                raise
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
            self._drop_connection()
            raise StoreUnavailable(f"sqlite: {type(error).__name__}: {error}") from error

    def check(self) -> None:
        """Reads and writes both work (a read-only database answers reads only)."""
        with self.errors():
            connection = self.connection()
            connection.execute("SELECT 1 FROM users LIMIT 1").fetchall()
            connection.execute(WRITE_PROBE)

    def _drop_connection(self) -> None:
        """Forget this thread's connection after a failure: the next call opens a fresh one."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            return
        self._local.connection = None
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        connection.close()

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()


def _is_busy(error: BaseException | None) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock (Python 3.11 names the
    code; 3.10 only says so in the message)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def _owner_only(path: Path) -> None:
    """Create the file 0600 before SQLite does (it would make it 0644; its -wal and -shm copy
    the file's mode), and take group and other access away from files an older release made."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as error:
        raise StoreUnavailable(f"sqlite: cannot create {path}: {error.strerror}") from None
    for file in (path, *(Path(f"{path}{suffix}") for suffix in SIDECARS)):
        try:
            mode = file.stat().st_mode
            if mode & 0o077:
                os.chmod(file, mode & 0o700)
                log.warning("%s was readable by other users; it is now owner-only", file)
        except FileNotFoundError:
            continue
        except OSError as error:  # not ours to change: say so, and go on
            log.warning("%s is readable by other users and cannot be changed: %s", file, error.strerror)
