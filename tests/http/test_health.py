"""GET /health, and every route while the store is down: 503 JSON, no leaks, recovery on its own.

The store is taken down for real: the SQLite repository's connections are closed and its file
is swapped for a directory, so the next connection fails as a lost disk would; putting the file
back brings it up again, with no restart of anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error, break_store, stored_emails


@pytest.mark.parametrize("accept", [None, "application/json", "text/html"])
def test_health_answers_200_with_the_store_kind(api: Api, accept: str | None) -> None:
    result = api.client.simulate_get("/health", headers={"Accept": accept} if accept else None)

    assert result.status_code == 200
    assert result.headers["content-type"] == "application/json"
    assert result.json == {"status": "ok", "store": "sqlite"}
    assert "set-cookie" not in result.headers


def test_health_needs_no_session(api: Api) -> None:
    assert api.client.simulate_get("/health", cookies={api.cookie_name: "garbage"}).status_code == 200


def assert_store_down(result, tmp_path: Path) -> None:
    assert_error(result, 503)
    assert result.json["error"] == "503: Service Unavailable"
    assert result.headers.get("retry-after", "").isdigit(), "tell clients when to retry"
    for leak in ("OperationalError", "unable to open", "sqlite3", "Traceback", str(tmp_path), "users.sqlite3"):
        assert leak not in result.text


@pytest.mark.parametrize("accept", [None, "text/html"])
def test_health_answers_503_json_while_the_store_is_down_and_recovers(
    database: SqliteDatabase, api: Api, repo: SqliteUserRepository, db_path: Path, tmp_path: Path, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else None
    restore = break_store(database.close, db_path)

    for _ in range(2):  # stays down, and the app stays up
        assert_store_down(api.client.simulate_get("/health", headers=headers), tmp_path)

    restore()
    result = api.client.simulate_get("/health", headers=headers)
    assert result.status_code == 200
    assert result.json == {"status": "ok", "store": "sqlite"}


def test_signup_gets_503_while_the_store_is_down_and_works_after(
    database: SqliteDatabase, api: Api, repo: SqliteUserRepository, db_path: Path, tmp_path: Path
) -> None:
    restore = break_store(database.close, db_path)

    for path in ("/v1/users/new", "/v1/users"):
        result = api.signup(EMAIL, PASSWORD, path=path)
        assert_store_down(result, tmp_path)
        assert "location" not in result.headers

    restore()
    assert stored_emails(db_path) == []
    assert api.signup(EMAIL, PASSWORD).status_code == 200


def test_validation_still_answers_400_while_the_store_is_down(
    database: SqliteDatabase, api: Api, repo: SqliteUserRepository, db_path: Path
) -> None:
    """Bad input is refused on its own merits, without asking the store."""
    break_store(database.close, db_path)

    assert_error(api.signup("not-an-address", PASSWORD), 400)
    assert_error(api.signup(EMAIL, "short"), 400)


def test_login_gets_503_while_the_store_is_down_and_works_after(
    database: SqliteDatabase, api: Api, repo: SqliteUserRepository, db_path: Path, tmp_path: Path
) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    restore = break_store(database.close, db_path)

    for email, password in ((EMAIL, PASSWORD), (EMAIL, "a-wrong-password"), ("nobody@abc.com", PASSWORD)):
        result = api.login(email, password)
        assert_store_down(result, tmp_path)
        assert result.cookies == {}, "no session without the store"

    restore()
    assert api.login(EMAIL, PASSWORD).status_code == 200


def test_a_session_gets_503_not_401_while_the_store_is_down_and_survives(
    database: SqliteDatabase, api: Api, db_path: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """A valid session is not logged out by a store outage: it works again once the store is back."""
    cookie = api.signup_and_login()
    restore = break_store(database.close, db_path)
    clock.advance(seconds=1)  # past the session check's cache: the next request must ask the store

    probe = api.get_test(cookie)
    assert_store_down(probe, tmp_path)
    assert api.cookie_name not in probe.cookies, "the cookie is neither cleared nor renewed"
    logout = api.logout(cookie)
    assert_store_down(logout, tmp_path)
    assert api.cookie_name not in logout.cookies

    restore()
    assert api.get_test(cookie).status_code == 200
    assert api.logout(cookie).status_code == 200
    assert_error(api.get_test(cookie), 401)
