"""The embedded user store, used when no Elasticsearch is configured."""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import replace
from typing import Iterable

from domain.changes import Changes
from domain.errors import UserAlreadyExists, UserNotFound, VersionConflict
from domain.search import UserPage, decode_cursor, encode_cursor
from domain.timestamps import format_time
from domain.user import User
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.user_document import from_document, to_document


CHANGES_LISTED = 5_000
"""More changes than this since a mark are answered as incomplete: reading the view afresh is cheaper."""


class SqliteUserRepository:
    """UserRepository on SQLite: the PRIMARY KEY on the email decides sign-up races, and
    `version` guards updates."""

    kind = "sqlite"

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def get(self, email_address: str) -> User | None:
        with self._db.errors():
            row = self._db.connection().execute(
                "SELECT document, version FROM users WHERE email_address = ?", (email_address,)
            ).fetchone()
        return None if row is None else from_document(json.loads(row[0]), str(row[1]))

    def add(self, user: User) -> User:
        row = _insert_row(user)
        try:
            with self._db.errors():
                self._db.connection().execute(_INSERT, row)
        except sqlite3.IntegrityError:
            raise UserAlreadyExists(user.email_address) from None
        return replace(user, version=str(row[-1]))

    def add_many(self, users: Iterable[User]) -> int:
        """New users in one transaction, each stored as `add` stores it: a bulk load (the
        benchmark's large stores) at SQLite's speed rather than one commit per user. An address
        already stored rolls the whole batch back (UserAlreadyExists) and changes nothing."""
        connection = self._db.connection()
        try:
            with self._db.errors():
                connection.execute("BEGIN IMMEDIATE")
                try:
                    count = connection.executemany(_INSERT, (_insert_row(user) for user in users)).rowcount
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
        except sqlite3.IntegrityError as error:
            raise UserAlreadyExists(str(error)) from None
        return count

    def update(self, user: User) -> User:
        if user.version is None:
            raise VersionConflict("an update needs the version it was read at")
        with self._db.errors():
            cursor = self._db.connection().execute(
                "UPDATE users SET document = ?, version = version + 1 WHERE email_address = ? AND version = ?",
                (json.dumps(to_document(user)), user.email_address, int(user.version)),
            )
        if cursor.rowcount == 1:
            return replace(user, version=str(int(user.version) + 1))
        if self.get(user.email_address) is None:
            raise UserNotFound(user.email_address)
        raise VersionConflict(user.email_address)

    def move(self, user: User, from_email: str) -> User:
        """One transaction: the row takes its new key (the PRIMARY KEY refuses a taken one, as
        at sign-up) and the id its new address; a crash leaves both as they were or both moved."""
        if user.version is None:
            raise VersionConflict("a move needs the version it was read at")
        version = secrets.randbits(62)  # as at sign-up: never a version an old read of the new key carries
        connection = self._db.connection()
        try:
            with self._db.errors():
                connection.execute("BEGIN IMMEDIATE")
                try:
                    cursor = connection.execute(
                        "UPDATE users SET email_address = ?, document = ?, version = ? WHERE email_address = ? AND version = ?",
                        (user.email_address, json.dumps(to_document(user)), version, from_email, int(user.version)),
                    )
                    if cursor.rowcount == 1 and user.user_id:
                        connection.execute(
                            "INSERT OR REPLACE INTO user_ids (user_id, email_address) VALUES (?, ?)",
                            (user.user_id, user.email_address),
                        )
                    connection.execute("COMMIT")
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
        except sqlite3.IntegrityError:
            raise UserAlreadyExists(user.email_address) from None
        if cursor.rowcount == 1:
            return replace(user, version=str(version))
        if self.get(from_email) is None:
            raise UserNotFound(from_email)
        raise VersionConflict(from_email)

    def delete(self, email_address: str) -> bool:
        with self._db.errors():
            cursor = self._db.connection().execute("DELETE FROM users WHERE email_address = ?", (email_address,))
        return cursor.rowcount == 1

    def search(self, terms: tuple[str, ...], limit: int, cursor: str | None = None) -> UserPage:
        """One SELECT: every term must be an email prefix or a name word prefix (LIKE with its
        wildcards escaped, over `esauth_name_words`, see SqliteDatabase); then the position
        after the cursor; read in index order (created_at DESC, email_address) with LIMIT."""
        conditions: list[str] = []
        parameters: list[object] = []
        for term in terms:
            conditions.append(_TERM_CONDITION)
            literal = _like_literal(term)
            parameters += [f"{literal}%", f"% {literal}%"]
        if cursor is not None:
            created_at, email = decode_cursor(cursor)
            # The first comparison lets SQLite seek the index to the cursor instead of scanning to it.
            conditions.append("created_at <= ? AND (created_at < ? OR (created_at = ? AND email_address > ?))")
            parameters += [format_time(created_at)] * 3 + [email]
        where = " AND ".join(conditions) or "1"
        with self._db.errors():
            rows = self._db.connection().execute(
                f"SELECT document, version FROM users WHERE {where}"
                " ORDER BY created_at DESC, email_address ASC LIMIT ?",
                (*parameters, limit + 1),
            ).fetchall()
        users = tuple(from_document(json.loads(document), str(version)) for document, version in rows[:limit])
        more = len(rows) > limit
        return UserPage(users, encode_cursor(users[-1]) if more and users else None)

    def link_id(self, user_id: str, email_address: str) -> None:
        with self._db.errors():
            self._db.connection().execute(
                "INSERT OR REPLACE INTO user_ids (user_id, email_address) VALUES (?, ?)", (user_id, email_address)
            )

    def email_for_id(self, user_id: str) -> str | None:
        with self._db.errors():
            row = self._db.connection().execute(
                "SELECT email_address FROM user_ids WHERE user_id = ?", (user_id,)
            ).fetchone()
        return None if row is None else row[0]

    def changes_since(self, mark: str | None) -> Changes:
        """Read off `user_changes` (see SqliteDatabase): the rows after the mark's sequence, in one
        read transaction with the users' current versions, so the answer is one snapshot."""
        with self._db.errors():
            connection = self._db.connection()
            connection.execute("BEGIN")
            try:
                last, oldest = connection.execute("SELECT MAX(sequence), MIN(sequence) FROM user_changes").fetchone()
                last = last or 0
                if mark is None:
                    return Changes(str(last))
                after = int(mark)
                if after > last:
                    return Changes(str(last), complete=False)  # another history (a restored file)
                if after == last:
                    return Changes(str(last))
                if oldest > after + 1 or last - after > CHANGES_LISTED:
                    return Changes(str(last), complete=False)
                rows = connection.execute(
                    "SELECT c.email_address, u.version FROM user_changes AS c"
                    " LEFT JOIN users AS u ON u.email_address = c.email_address WHERE c.sequence > ?",
                    (after,),
                ).fetchall()
            finally:
                if connection.in_transaction:
                    connection.execute("COMMIT")
        return Changes(str(last), {email: None if version is None else str(version) for email, version in rows})

    def check(self) -> None:
        self._db.check()


_TERM_CONDITION = (
    "(email_address LIKE ? ESCAPE '\\'"
    " OR esauth_name_words(json_extract(document, '$.first_name'), json_extract(document, '$.last_name'))"
    " LIKE ? ESCAPE '\\')"
)


_INSERT = "INSERT INTO users (email_address, created_at, document, version) VALUES (?, ?, ?, ?)"


def _insert_row(user: User) -> tuple[str, str, str, int]:
    # A random first version: an account deleted and made again must not start at a version
    # a read of the old one still carries, or that read's guarded write would land on it.
    return user.email_address, format_time(user.created_at), json.dumps(to_document(user)), secrets.randbits(62)


def _like_literal(term: str) -> str:
    """The term as a LIKE pattern that matches only itself: `%`, `_` and the escape are escaped."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
