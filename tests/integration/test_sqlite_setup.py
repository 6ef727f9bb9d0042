"""Several processes set up one SQLite file at once: the workers of `esauth serve --workers N`
each open the store when they start, and on a first start the file is new to all of them."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.user_repository import SqliteUserRepository

HELD_S = 0.3


def test_a_store_another_process_is_setting_up_is_waited_for_not_refused(tmp_path: Path) -> None:
    """Another connection is mid-way through its own set-up (a write transaction open on the
    file, still in its first journal mode). Switching to WAL then meets a lock SQLite refuses at
    once, without its busy timeout, because waiting could deadlock: here that must be waited out,
    or a worker that lost the race exits and, before any has served, takes the server down."""
    path = tmp_path / "esauth.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN")
    other.execute("CREATE TABLE other_worker_setup (x)")
    finish = threading.Timer(HELD_S, lambda: other.execute("COMMIT"))
    finish.start()
    try:
        started = time.monotonic()
        database = SqliteDatabase(path)
        try:
            assert time.monotonic() - started >= HELD_S * 0.9  # it waited for the other set-up
            assert SqliteUserRepository(database).get("a@abc.com") is None
            database.check()  # reads and writes work
        finally:
            database.close()
    finally:
        finish.join()
        other.close()
