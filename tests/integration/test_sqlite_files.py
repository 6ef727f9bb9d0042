"""The SQLite file holds every password hash: owner-only files, and a data dir that cannot be made
is a one-line configuration error."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from domain.user import User
from entrypoints.bootstrap import SQLITE_FILE, build_stores
from entrypoints.cli import main
from entrypoints.config import Settings
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.user_repository import SqliteUserRepository


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def add_one(database: SqliteDatabase) -> None:
    SqliteUserRepository(database).add(User("a@abc.com", "unused", datetime(2026, 1, 1, tzinfo=timezone.utc)))


def test_the_data_dir_esauth_makes_and_the_database_with_its_wal_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "data"
    stores = build_stores(Settings(data_dir=data_dir))
    database = stores.users._db
    try:
        add_one(database)
        files = {path.name: mode(path) for path in data_dir.iterdir()}
    finally:
        database.close()
    assert mode(data_dir) == 0o700
    assert files == {SQLITE_FILE: 0o600, f"{SQLITE_FILE}-wal": 0o600, f"{SQLITE_FILE}-shm": 0o600}


def test_files_an_older_release_left_readable_by_others_are_made_owner_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / SQLITE_FILE
    old = SqliteDatabase(path)
    add_one(old)
    for file in tmp_path.iterdir():
        file.chmod(0o644)

    again = SqliteDatabase(path)  # while the first still has the -wal and -shm open
    again.close()
    old.close()

    assert mode(path) == 0o600
    assert "readable by other users; it is now owner-only" in caplog.text


@pytest.mark.parametrize("command", [["init"], ["serve", "--port", "1"], ["set-active", "a@abc.com", "false"]])
def test_a_data_dir_that_cannot_be_made_is_exit_2_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, command) -> None:
    (tmp_path / "a-file").write_text("")
    for name in [name for name in os.environ if name.startswith("ESAUTH_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ESAUTH_DATA_DIR", str(tmp_path / "a-file" / "data"))
    monkeypatch.setenv("ESAUTH_SECRET_KEY", "k" * 40)

    code = main(command)

    out, err = capsys.readouterr()
    assert code == 2
    assert err == f"esauth: configuration error: ESAUTH_DATA_DIR: cannot create {tmp_path}/a-file/data: Not a directory\n"
    assert "Traceback" not in out
