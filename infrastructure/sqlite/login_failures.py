"""Login failure counters in the embedded store's SQLite file."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import replace
from datetime import datetime

from domain.errors import VersionConflict
from domain.timestamps import format_time, parse_time
from infrastructure.sqlite.database import SqliteDatabase
from ports.login_failures import FailureRecord


class SqliteLoginFailureRepository:
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def get(self, key: str) -> FailureRecord | None:
        with self._db.errors():
            row = self._db.connection().execute(
                "SELECT failures, last_failure_at, version FROM login_failures WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else FailureRecord(key, row[0], parse_time(row[1]), str(row[2]))

    def put(self, record: FailureRecord) -> FailureRecord:
        values = (record.failures, format_time(record.last_failure_at), record.key)
        if record.version is None:
            version = secrets.randbits(62)  # never a version a read from before a purge still carries
            try:
                with self._db.errors():
                    self._db.connection().execute(
                        "INSERT INTO login_failures (failures, last_failure_at, key, version) VALUES (?, ?, ?, ?)",
                        (*values, version),
                    )
            except sqlite3.IntegrityError:
                raise VersionConflict(record.key) from None
            return replace(record, version=str(version))
        with self._db.errors():
            cursor = self._db.connection().execute(
                "UPDATE login_failures SET failures = ?, last_failure_at = ?, version = version + 1 "
                "WHERE key = ? AND version = ?",
                (*values, int(record.version)),
            )
        if cursor.rowcount != 1:
            raise VersionConflict(record.key)
        return replace(record, version=str(int(record.version) + 1))

    def delete(self, key: str) -> None:
        with self._db.errors():
            self._db.connection().execute("DELETE FROM login_failures WHERE key = ?", (key,))

    def purge(self, last_failure_before: datetime) -> int:
        with self._db.errors():
            cursor = self._db.connection().execute(
                "DELETE FROM login_failures WHERE last_failure_at < ?", (format_time(last_failure_before),)
            )
        return cursor.rowcount
