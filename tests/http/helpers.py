"""Helpers for the HTTP tests: a TestClient that checks every response, and the API's calls."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from datetime import timedelta
from typing import Any, Callable, Sequence

import falcon
import falcon.testing

from domain.second_factor import TOTP_DIGITS, TOTP_INTERVAL_S, TotpService
from domain.throttle import FailureCounter
from domain.users import Users
from entrypoints.http.pending_login import PendingLoginCookies
from entrypoints.http.session import SessionCookies
from infrastructure.second_factor.fernet_box import FernetSecretBox
from infrastructure.second_factor.pyotp_codes import PyotpCodes
from ports.clock import Clock

EMAIL = "test@abc.com"
PASSWORD = "correct-horse-battery"
KEY = "esauth-http-tests-signing-key-0123456789abcdef"
OTHER_KEY = "esauth-http-tests-another-key-fedcba9876543210"
CREATED_AT = "2026-01-01T12:00:00.000Z"
"""FakeClock's start, as the API writes instants."""

PUBLIC_USER_FIELDS = {"id", "email_address", "first_name", "last_name", "is_active", "created_at"}
ACCOUNT_VIEW_FIELDS = PUBLIC_USER_FIELDS | {"is_admin", "last_login_at", "login_count", "email_verified", "pending_email_address"}
ERROR_FIELDS = {"error", "message", "success"}
USER_ID = re.compile(r"[a-z2-7]{26}")


def second_factor_parts(
    users: Users, failures: FailureCounter, clock: Clock, keys: Sequence[str] = (KEY,), secure: bool = True,
    domain: str | None = None,
) -> dict[str, Any]:
    """create_app's TOTP service and pending-sign-in cookies, wired as bootstrap wires them."""
    return {
        "totp": TotpService(users, failures, FernetSecretBox(keys), clock, PyotpCodes(TOTP_DIGITS, TOTP_INTERVAL_S)),
        "pending": PendingLoginCookies(keys, timedelta(minutes=5), secure=secure, domain=domain),
    }


def assert_error(result: falcon.testing.Result, status: int, message: str | None = None) -> dict[str, Any]:
    """The response is `status` in the seed's error shape, as JSON; returns the body."""
    assert result.status_code == status, (result.status, result.text)
    assert result.headers.get("content-type", "").split(";")[0] == falcon.MEDIA_JSON, result.headers
    body = result.json
    assert isinstance(body, dict), body
    assert set(body) == ERROR_FIELDS, body
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"].startswith(f"{status}: ")
    assert len(body["error"]) > len(f"{status}: ")
    assert isinstance(body["message"], str) and body["message"].strip()
    if message is not None:
        assert body["message"] == message
    return body


def assert_names_field(result: falcon.testing.Result, field: str, others: tuple[str, ...]) -> None:
    """A 400 whose message names `field` and none of the other fields of the body."""
    body = assert_error(result, 400)
    assert field in body["message"], body
    for other in others:
        if other != field and other not in field:
            assert other not in body["message"], body


def assert_public_user(data: Any, email: str, first_name: str | None = None, last_name: str | None = None,
                       is_active: bool = True) -> None:
    assert isinstance(data, dict) and set(data) == PUBLIC_USER_FIELDS, data
    assert USER_ID.fullmatch(data["id"]), data
    assert {name: value for name, value in data.items() if name != "id"} == {
        "email_address": email,
        "first_name": first_name,
        "last_name": last_name,
        "is_active": is_active,
        "created_at": CREATED_AT,
    }


def without_id(user: dict[str, Any]) -> dict[str, Any]:
    """A user as JSON without its random id, once the id is checked to be well formed."""
    assert USER_ID.fullmatch(user.get("id", "")), user
    return {name: value for name, value in user.items() if name != "id"}


def _keys(value: Any) -> set[str]:
    """Every key of every object nested in a JSON value."""
    if isinstance(value, dict):
        return set(value).union(*(_keys(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(item) for item in value))
    return set()


class CheckedClient(falcon.testing.TestClient):
    """A TestClient that checks, on every response, what must hold for all of them.

    - the password hash and any cookie value never appear in a body, and no success body has
      a password, password hash, session id list or store version field;
    - a password the request carried is never echoed back;
    - every error (status >= 400) is JSON in the seed's shape (HEAD answers have no body).
    """

    def simulate_request(self, *args: Any, **kwargs: Any) -> falcon.testing.Result:
        result = super().simulate_request(*args, **kwargs)
        text = result.text
        assert "$argon2" not in text, f"a password hash leaked in {text!r}"
        if result.status_code < 300 and text and result.headers.get("content-type") == "application/json":
            assert not _keys(result.json) & {"password", "password_hash", "session_ids", "version"}, text
        for value in (kwargs.get("cookies") or {}).values():
            if value:
                assert value not in text, "a request cookie is echoed in the body"
        for cookie in result.cookies.values():
            if cookie.value:
                assert cookie.value not in text, "a response cookie is echoed in the body"
        sent = kwargs.get("json")
        if isinstance(sent, dict):
            password = sent.get("password")
            if isinstance(password, str) and len(password) >= 10:
                assert password not in text, "the password is echoed back"
        if result.status_code >= 400 and (args[:1] or [kwargs.get("method")])[0] != "HEAD":
            assert_error(result, result.status_code)
        return result


class Api:
    """One app instance and a client for it, with the API's calls spelled out once."""

    def __init__(self, app: falcon.App, cookies: SessionCookies) -> None:
        self.app = app
        self.cookies = cookies
        self.client = CheckedClient(app)

    @property
    def cookie_name(self) -> str:
        return self.cookies.name

    def signup(self, email: Any = EMAIL, password: Any = PASSWORD, path: str = "/v1/users/new",
               **fields: Any) -> falcon.testing.Result:
        return self.client.simulate_post(path, json={"email_address": email, "password": password, **fields})

    def login(self, email: Any = EMAIL, password: Any = PASSWORD, **headers: str) -> falcon.testing.Result:
        return self.client.simulate_post(
            "/v1/auth/login", json={"email_address": email, "password": password}, headers=headers or None
        )

    def login_cookie(self, email: str = EMAIL, password: str = PASSWORD) -> str:
        result = self.login(email, password)
        assert result.status_code == 200, result.text
        return result.cookies[self.cookie_name].value

    def signup_and_login(self, email: str = EMAIL, password: str = PASSWORD) -> str:
        result = self.signup(email, password)
        assert result.status_code == 200, result.text
        return self.login_cookie(email, password)

    def with_cookie(self, value: str | None, name: str | None = None) -> dict[str, str] | None:
        return None if value is None else {name or self.cookie_name: value}

    def get_test(self, cookie: str | None, name: str | None = None, **kwargs: Any) -> falcon.testing.Result:
        return self.client.simulate_get("/v1/test", cookies=self.with_cookie(cookie, name), **kwargs)

    def logout(self, cookie: str | None, **kwargs: Any) -> falcon.testing.Result:
        return self.client.simulate_post("/v1/auth/logout", cookies=self.with_cookie(cookie), **kwargs)

    def me(self, cookie: str | None) -> falcon.testing.Result:
        return self.client.simulate_get("/v1/users/me", cookies=self.with_cookie(cookie))

    def change_password(self, cookie: str | None, current: Any, new: Any) -> falcon.testing.Result:
        return self.client.simulate_post(
            "/v1/users/me/password", json={"current_password": current, "new_password": new},
            cookies=self.with_cookie(cookie),
        )

    def request_reset(self, email: Any, **kwargs: Any) -> falcon.testing.Result:
        return self.client.simulate_post("/v1/auth/password-reset", json={"email_address": email}, **kwargs)

    def confirm_reset(self, token: Any, new_password: Any) -> falcon.testing.Result:
        return self.client.simulate_post(
            "/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
        )


def set_cookie_lines(app: falcon.App, path: str, body: dict[str, Any], cookies: dict[str, str] | None = None) -> dict[str, str]:
    """POST `body` as JSON and return each Set-Cookie line by cookie name, as sent (TestClient's
    result keeps only one Set-Cookie header when several are sent)."""
    headers = {"Content-Type": "application/json"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    environ = falcon.testing.create_environ(path, method="POST", body=json.dumps(body), headers=headers)
    start = falcon.testing.StartResponseMock()
    b"".join(app(environ, start))
    return {value.split("=", 1)[0]: value for name, value in start.headers if name.lower() == "set-cookie"}


def stored_emails(db_path: Path) -> list[str]:
    """Every email in the SQLite store, read with a connection of our own."""
    with closing(sqlite3.connect(db_path)) as connection:
        return sorted(row[0] for row in connection.execute("SELECT email_address FROM users"))


def break_store(close: Callable[[], None], db_path: Path) -> Callable[[], None]:
    """Make the SQLite store unreachable for real; return the function that brings it back.

    The repository's connections are closed and its file is moved aside, with a directory in
    its place, so the next connection the repository opens fails the way a lost disk would.
    """
    close()
    moved = db_path.with_name(db_path.name + ".away")
    sidecars = [Path(f"{db_path}{suffix}") for suffix in ("-wal", "-shm")]
    assert not any(p.exists() for p in sidecars), "closing the store should checkpoint its WAL"
    os.replace(db_path, moved)
    db_path.mkdir()

    def restore() -> None:
        db_path.rmdir()
        os.replace(moved, db_path)

    return restore


MakeApi = Callable[..., Api]
"""The `make_api` fixture: `make_api(keys=(KEY,), secure=True, **create_app_options) -> Api`."""


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def flip(text: str, index: int) -> str:
    """Change the top bit of one base64url character: the last character of a signature carries
    unused low bits, so changing only those would leave the decoded signature as it was."""
    position = BASE64URL.index(text[index])
    return text[:index] + BASE64URL[position ^ 32] + text[index + 1:]
