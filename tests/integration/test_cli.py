"""The `esauth` command's operator tasks, run through main() on real stores, and once as a process."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from entrypoints.bootstrap import build_services
from entrypoints.cli import main
from entrypoints.config import Settings
from tests.engines import drop_indices, engine_for, engine_names, settle

KEY = "cli-tests-signing-key-0123456789abcdef"
PASSWORD = "correct horse battery"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    for name in [n for n in os.environ if n.startswith("ESAUTH_")]:
        monkeypatch.delenv(name)
    values = {
        "ESAUTH_DATA_DIR": str(tmp_path / "data"),
        "ESAUTH_SECRET_KEY": KEY,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def services(env: dict[str, str]):
    return build_services(Settings.from_env(env))


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_creates_the_sqlite_schema_then_reports_it_exists(env, capsys):
    code, out, _ = run(capsys, "init")
    assert code == 0 and "esauth.sqlite3: created" in out
    code, out, _ = run(capsys, "init")
    assert code == 0 and "esauth.sqlite3: exists" in out


def test_init_gives_users_of_an_earlier_release_an_id(env, capsys):
    """Users stored before ids existed (no `user_id` in their document) get one, once."""
    from dataclasses import replace

    from domain.user import User
    from infrastructure.sqlite.database import SqliteDatabase
    from infrastructure.sqlite.user_repository import SqliteUserRepository
    from tests.contract.test_user_repository import make_user

    database = SqliteDatabase(Path(env["ESAUTH_DATA_DIR"]) / "esauth.sqlite3")
    repository = SqliteUserRepository(database)
    try:
        repository.add(make_user("old@example.com"))
        repository.add(replace(make_user("new@example.com"), user_id="f" * 26))
        code, out, _ = run(capsys, "init")
        assert code == 0 and "users given an id (stored by an earlier release): 1" in out
        old: User = repository.get("old@example.com")
        assert len(old.user_id) == 26 and repository.get("new@example.com").user_id == "f" * 26
        code, out, _ = run(capsys, "init")
        assert "users given an id (stored by an earlier release): 0" in out
        assert repository.get("old@example.com").user_id == old.user_id
    finally:
        database.close()


@pytest.mark.elasticsearch
def test_init_creates_both_search_engine_indices_then_reports_them(env, capsys, monkeypatch, search_engine, es_index):
    for name, value in search_engine.env(es_index).items():
        monkeypatch.setenv(name, value)
    code, out, _ = run(capsys, "init")
    assert code == 0
    assert f"index {es_index}: created" in out and f"index {es_index}-login-failures: created" in out
    code, out, _ = run(capsys, "init")
    assert f"index {es_index}: exists" in out and f"index {es_index}-login-failures: exists" in out
    assert "users rewritten for name search (stored by an earlier release): 0" in out
    client = search_engine.connect()
    drop_indices(client, es_index, f"{es_index}-login-failures")
    client.close()


def test_create_user_reads_the_password_from_stdin_and_can_make_an_admin(env, capsys, monkeypatch):
    code, out, err = run(capsys, "create-user", " Root@Example.com", "--admin", "--first-name", "Ro",
                         "--password-stdin", stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert (code, err) == (0, "")
    assert "created 'root@example.com' (administrator)" in out
    wired = services(env)
    user, _ = wired.auth.login("root@example.com", PASSWORD)
    assert (user.is_admin, user.first_name) == (True, "Ro")
    assert PASSWORD not in out


def test_create_user_refuses_a_taken_email_and_bad_input_with_exit_codes(env, capsys, monkeypatch):
    assert run(capsys, "create-user", "ada@example.com", "--password-stdin", stdin=PASSWORD, monkeypatch=monkeypatch)[0] == 0
    code, _, err = run(capsys, "create-user", "ADA@example.com", "--password-stdin", stdin=PASSWORD, monkeypatch=monkeypatch)
    assert code == 1 and "'ada@example.com' already exists." in err
    code, _, err = run(capsys, "create-user", "not-an-address", "--password-stdin", stdin=PASSWORD, monkeypatch=monkeypatch)
    assert code == 2 and "email_address" in err
    code, _, err = run(capsys, "create-user", "bob@example.com", "--password-stdin", stdin="short\n", monkeypatch=monkeypatch)
    assert code == 2 and "password: must be at least 8 characters" in err
    code, _, err = run(capsys, "create-user", "bob@example.com", "--password-stdin", stdin="", monkeypatch=monkeypatch)
    assert code == 2 and "nothing on stdin" in err
    code, _, err = run(capsys, "create-user", "bob@example.com", "--password-stdin", stdin="Password1\n", monkeypatch=monkeypatch)
    assert code == 2 and "password: is too common; choose another" in err
    code, _, err = run(capsys, "create-user", "bob@example.com", "--password-stdin", stdin="bob@example.com\n", monkeypatch=monkeypatch)
    assert code == 2 and "password: must not be made of your email address" in err
    assert services(env).users.get("bob@example.com") is None


def test_create_user_without_a_terminal_or_the_flag_says_how(env, capsys, monkeypatch):
    code, _, err = run(capsys, "create-user", "bob@example.com", stdin=PASSWORD, monkeypatch=monkeypatch)
    assert code == 2 and "--password-stdin" in err


def test_set_active_deactivates_ends_sessions_and_reactivates(env, capsys, monkeypatch):
    run(capsys, "create-user", "ada@example.com", "--password-stdin", stdin=PASSWORD, monkeypatch=monkeypatch)
    wired = services(env)
    _, session = wired.auth.login("ada@example.com", PASSWORD)
    code, out, _ = run(capsys, "set-active", "ada@example.com", "false")
    assert code == 0 and "inactive" in out
    stored = services(env).users.get("ada@example.com")
    assert (stored.is_active, stored.session_ids) == (False, ())
    code, out, _ = run(capsys, "set-active", "ADA@example.com", "true")
    assert code == 0 and services(env).users.get("ada@example.com").is_active
    code, _, err = run(capsys, "set-active", "ghost@example.com", "false")
    assert code == 1 and "does not exist" in err
    with pytest.raises(SystemExit) as caught:
        main(["set-active", "ada@example.com", "maybe"])
    assert caught.value.code == 2


def test_set_admin_grants_and_removes_rights(env, capsys, monkeypatch):
    run(capsys, "create-user", "ada@example.com", "--password-stdin", stdin=PASSWORD, monkeypatch=monkeypatch)
    code, out, _ = run(capsys, "set-admin", "ada@example.com", "true")
    assert code == 0 and "is now an administrator" in out
    assert services(env).users.get("ada@example.com").is_admin
    code, out, _ = run(capsys, "set-admin", "ada@example.com", "false")
    assert code == 0 and "no longer" in out and not services(env).users.get("ada@example.com").is_admin
    assert run(capsys, "set-admin", "ghost@example.com", "true")[0] == 1


@pytest.mark.parametrize(
    "name, value",
    [
        ("ESAUTH_SECRET_KEY", "short"),
        ("ESAUTH_ELASTICSEARCH_URL", "localhost:9200"),
        ("ESAUTH_RESET_URL", "javascript:alert(1)"),
        ("ESAUTH_LOG_LEVEL", "bogus"),
        ("ESAUTH_SESSION_IDLE_TIMEOUT", "30"),
        ("ESAUTH_SESSION_IDLE_TIMOUT", "3600"),  # misspelt: refused, not ignored
    ],
)
def test_a_configuration_error_is_exit_2_with_the_variable_named(env, capsys, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "init")
    assert code == 2 and name in err
    assert "Traceback" not in err + out


def test_version_is_the_installed_package_version(capsys):
    from importlib import metadata

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"esauth {metadata.version('esauth')}"


@pytest.mark.parametrize("name, value", [("ESAUTH_LOG_FORMAT", "yaml"), ("ESAUTH_METRICS_ALLOW", "everyone")])
def test_new_settings_are_checked_at_start_up_too(env, capsys, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "init")
    assert code == 2 and name in err


def test_with_json_logs_a_failure_is_one_json_object_too(env, capsys, monkeypatch, tmp_path):
    import json

    (tmp_path / "file").write_text("")
    monkeypatch.setenv("ESAUTH_LOG_FORMAT", "json")
    monkeypatch.setenv("ESAUTH_DATA_DIR", str(tmp_path / "file" / "data"))  # cannot be created
    code, out, err = run(capsys, "init")
    assert code == 2
    (line,) = err.splitlines()
    parsed = json.loads(line)
    assert parsed["level"] == "ERROR" and parsed["logger"] == "esauth"
    assert parsed["message"].startswith("esauth: configuration error: ESAUTH_DATA_DIR")


def test_import_seed_refuses_a_url_that_is_not_one(env, capsys):
    code, _, err = run(capsys, "import-seed", "--from-url", "not-a-url", "--index", "example")
    assert code == 2 and "--from-url" in err


def werkzeug_hash(password: str, salt: str = "abcdEFGH", method: str = "sha1", iterations: int = 1000) -> str:
    digest = hashlib.pbkdf2_hmac(method, password.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2:{method}:{iterations}${salt}${digest}"


@pytest.mark.elasticsearch
def test_import_seed_reports_counts_and_imported_users_log_in_with_their_old_password(env, capsys, search_engine, es_index):
    search_engine_url = search_engine.url
    source = search_engine.connect()
    documents = {
        "test@abc.com": {"email_address": "test@abc.com", "password": werkzeug_hash("test1234"), "is_active": True, "created_at": 1417912435.2168},
        "old@abc.com": {"email_address": "old@abc.com", "password": werkzeug_hash("oldpassword", method="sha256", iterations=260000), "is_active": True},
        "bad": {"email_address": "not an address", "password": werkzeug_hash("whatever1"), "is_active": True},
    }
    for doc_id, document in documents.items():
        source.put(es_index, doc_id, document, require_alias=False)
    source.refresh(es_index)
    code, out, _ = run(capsys, "import-seed", "--from-url", search_engine_url, "--index", es_index)
    assert code == 0
    assert "imported 2, skipped 0 duplicate and 1 invalid" in out
    assert "invalid_email: 1" in out
    wired = services(env)
    user, _ = wired.auth.login("test@abc.com", "test1234")
    assert wired.users.get("test@abc.com").password_hash.startswith("$argon2id$")
    code, out, _ = run(capsys, "import-seed", "--from-url", search_engine_url, "--index", es_index)
    assert "imported 0, skipped 2 duplicate and 1 invalid" in out
    code, _, err = run(capsys, "import-seed", "--from-url", search_engine_url, "--index", es_index + "-missing")
    assert code == 1 and "no index" in err
    source.delete_index(es_index)
    source.close()


def test_the_console_script_creates_a_user_from_piped_stdin(env, tmp_path):
    script = Path(sys.executable).with_name("esauth")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "entrypoints.cli"]
    done = subprocess.run(
        [*command, "create-user", "piped@example.com", "--password-stdin"],
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=60, env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr
    assert "created 'piped@example.com'" in done.stdout
    assert services(env).auth.login("piped@example.com", PASSWORD)[0].email_address == "piped@example.com"


def test_any_other_domain_error_exits_1_with_its_name(env, capsys, monkeypatch):
    from domain.errors import VersionConflict
    from domain.admin import AdminService

    def conflict(self, email, values):
        raise VersionConflict("too many concurrent updates of one user")

    assert run(capsys, "create-user", "ada@example.com", "--password-stdin", stdin=PASSWORD + "\n", monkeypatch=monkeypatch)[0] == 0
    monkeypatch.setattr(AdminService, "apply", conflict)
    code, out, err = run(capsys, "set-active", "ada@example.com", "false")
    assert code == 1 and "VersionConflict" in err and "Traceback" not in err + out


NFC_E, NFD_E = "\u00e9@b.com", "e\u0301@b.com"


@pytest.fixture(params=["sqlite", *(pytest.param(name, marks=pytest.mark.elasticsearch) for name in engine_names())])
def any_store_env(request, env, monkeypatch):
    """The CLI's environment on SQLite, then on each search engine (an index of the test's own)."""
    if request.param != "sqlite":
        engine, index = engine_for(request, request.param), request.getfixturevalue("es_index")
        for name, value in engine.env(index).items():
            monkeypatch.setenv(name, value)
        yield {**env, **engine.env(index)}
        client = engine.connect()
        drop_indices(client, index, f"{index}-login-failures", f"{index}-ids", f"{index}-gone")
        client.close()
    else:
        yield env


def test_init_reports_accounts_that_the_address_rule_makes_one_and_merges_nothing(any_store_env, capsys):
    from datetime import datetime, timezone

    from domain.user import User
    from entrypoints.bootstrap import build_stores

    users = build_stores(Settings.from_env(any_store_env), report=lambda line: None).users
    # As earlier releases stored them: trimmed and lower-cased only.
    for email in [NFC_E, NFD_E, "ff@b.com", "\ufb00@b.com", "user@xn--exmple-cua.com", "a..b@x.com", "ok@abc.com"]:
        users.add(User(email_address=email, password_hash="$argon2id$unused", created_at=datetime(2025, 1, 1, tzinfo=timezone.utc)))
    settle(users)
    before = sorted(user.email_address for user in users.search((), 100).users)

    code, out, _ = run(capsys, "init")

    assert code == 0, out
    assert "stored addresses checked against the address rule: 7" in out
    assert "one address under the rule (not merged; keep one, delete the others): 2" in out
    assert f"    {ascii(NFC_E)}: {ascii(NFD_E)}, {ascii(NFC_E)}" in out
    assert f"    'ff@b.com': 'ff@b.com', {ascii(chr(0xFB00) + '@b.com')}" in out
    assert "stored in an earlier spelling (found when typed as stored): 1\n    'user@xn--exmple-cua.com'" in out
    assert "refused by the rule now (found when typed as stored): 1\n    'a..b@x.com'" in out
    assert sorted(user.email_address for user in users.search((), 100).users) == before  # nothing merged


def test_create_user_refuses_an_address_an_earlier_release_stored_in_another_spelling(env, capsys, monkeypatch):
    from datetime import datetime, timezone

    from domain.user import User
    from entrypoints.bootstrap import build_stores

    users = build_stores(Settings.from_env(env), report=lambda line: None).users
    users.add(User(email_address="user@xn--exmple-cua.com", password_hash="$argon2id$unused", created_at=datetime(2025, 1, 1, tzinfo=timezone.utc)))

    code, _, err = run(capsys, "create-user", "USER@xn--exmple-cua.com", "--password-stdin", stdin=PASSWORD + "\n", monkeypatch=monkeypatch)

    assert code == 1 and err == "esauth: 'user@exämple.com' already exists.\n"
    assert [user.email_address for user in users.search((), 10).users] == ["user@xn--exmple-cua.com"]


def test_serve_refuses_a_worker_count_out_of_range(env, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--workers", "65"])
    assert caught.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_serve_with_workers_checks_what_they_share_before_forking_any(env, capsys, monkeypatch):
    monkeypatch.setenv("ESAUTH_ARGON2_TIME_COST", "1")
    code, _, err = run(capsys, "serve", "--workers", "2")
    assert code == 2 and "argon2" in err
    monkeypatch.delenv("ESAUTH_ARGON2_TIME_COST")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, _, err = run(capsys, "serve", "--workers", "2", "--port", str(taken.getsockname()[1]))
    assert code == 1 and "cannot listen on 127.0.0.1" in err


def test_a_public_suffix_as_cookie_domain_stops_start_up_in_one_line(env, capsys, monkeypatch):
    """Every command reads the settings first (init here: serve, had it started, would not return)."""
    monkeypatch.setenv("ESAUTH_COOKIE_DOMAIN", "github.io")
    code, out, err = run(capsys, "init")
    assert (code, out) == (2, "")
    (line,) = err.splitlines()
    assert line.startswith("esauth: configuration error: ESAUTH_COOKIE_DOMAIN: 'github.io' is a public suffix")
