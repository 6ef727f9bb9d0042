"""Hostile JSON on every route that reads a body: lone surrogates, duplicate keys, non-UTF-8.

Each answer is a 400 in the error shape (never a 500 or an empty body), and nothing changes.
"""

from __future__ import annotations

import codecs
import json
from typing import Any, Callable

import falcon
import falcon.testing
import pytest

from domain.auth import AuthService
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error

ADMIN = "root@abc.com"
NEW_PASSWORD = "another-good-password"

# What each route accepts when the body is right; the tests spoil one part of it.
ROUTES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "signup": ("POST", "/v1/users/new", {"email_address": "new@abc.com", "password": PASSWORD, "first_name": "Ada", "last_name": "L"}),
    "users": ("POST", "/v1/users", {"email_address": "new@abc.com", "password": PASSWORD, "first_name": "Ada", "last_name": "L"}),
    "login": ("POST", "/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD}),
    "patch-me": ("PATCH", "/v1/users/me", {"first_name": "Ada", "last_name": "L"}),
    "password": ("POST", "/v1/users/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    "reset": ("POST", "/v1/auth/password-reset", {"email_address": EMAIL}),
    "reset-confirm": ("POST", "/v1/auth/password-reset/confirm", {"token": "abc.def", "new_password": NEW_PASSWORD}),
    "admin-patch": ("PATCH", f"/v1/users/{EMAIL}", {"first_name": "Ada", "last_name": "L"}),
}
STRING_FIELDS = [(route, field) for route, (_, _, body) in ROUTES.items() for field in body]


class Caller:
    """Sends raw bytes to one route, logged in as the route needs (the admin for admin routes)."""

    def __init__(self, api: Api, repo: SqliteUserRepository, auth: AuthService) -> None:
        self.api = api
        self.repo = repo
        auth.register(ADMIN, PASSWORD, "Root", is_admin=True)
        assert api.signup(EMAIL, PASSWORD, first_name="Eve").status_code == 200
        self.cookies = {"user": api.login_cookie(EMAIL), "admin": api.login_cookie(ADMIN)}
        self.before = self.snapshot()

    def snapshot(self) -> list[Any]:
        return [(user, user.version) for user in (self.repo.get(EMAIL), self.repo.get(ADMIN))] + [self.repo.get("new@abc.com")]

    def send(self, route: str, raw: bytes) -> falcon.testing.Result:
        method, path, _ = ROUTES[route]
        cookie = self.cookies["admin" if route == "admin-patch" else "user"]
        return self.api.client.simulate_request(
            method, path, body=raw, headers={"Content-Type": "application/json"}, cookies=self.api.with_cookie(cookie)
        )

    def assert_refused(self, route: str, raw: bytes, *words: str) -> dict[str, Any]:
        body = assert_error(self.send(route, raw), 400)
        for word in words:
            assert word in body["message"], body
        assert self.snapshot() == self.before, "a refused body changed something"
        return body


@pytest.fixture
def caller(api: Api, repo: SqliteUserRepository, auth: AuthService) -> Caller:
    return Caller(api, repo, auth)


def with_key(body: dict[str, Any], key: str) -> bytes:
    """The body's JSON text with one more key, written as JSON escapes (\\udc80 stays a lone surrogate)."""
    return (json.dumps(body)[:-1] + ", " + json.dumps(key) + ": 1}").encode("ascii")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("key", ["\udc80", "\ud800", "a\udfffb"], ids=["low", "high", "inside"])
def test_a_key_with_a_lone_surrogate_is_a_400(caller: Caller, route: str, key: str) -> None:
    caller.assert_refused(route, with_key(ROUTES[route][2], key), "surrogate")


@pytest.mark.parametrize("route, field", STRING_FIELDS)
@pytest.mark.parametrize("value", ["\udc80", "Ad\ud83d"], ids=["low-alone", "high-after-text"])
def test_a_string_with_a_lone_surrogate_is_a_400_naming_the_field(caller: Caller, route: str, field: str, value: str) -> None:
    body = {**ROUTES[route][2], field: value + "-long-enough-to-pass-the-length-rules"}
    caller.assert_refused(route, json.dumps(body).encode("ascii"), field, "surrogate")


@pytest.mark.parametrize("route", ["signup", "patch-me"])
def test_a_lone_surrogate_nested_in_an_array_is_a_400(caller: Caller, route: str) -> None:
    body = {**ROUTES[route][2], "first_name": ["ok", {"x": "\udc80"}]}
    caller.assert_refused(route, json.dumps(body).encode("ascii"), "first_name", "surrogate")


def test_a_surrogate_pair_is_an_ordinary_character(caller: Caller) -> None:
    """Only lone halves are refused: an escaped pair is one astral character (here U+1F600)."""
    body = {**ROUTES["patch-me"][2], "first_name": "Ada \ud83d\ude00"}
    result = caller.send("patch-me", json.dumps(body).encode("ascii"))
    assert result.status_code == 200, result.text
    assert result.json["data"]["first_name"] == "Ada \U0001F600"


@pytest.mark.parametrize("route", ROUTES)
def test_a_duplicate_key_is_a_400_naming_it(caller: Caller, route: str) -> None:
    body = ROUTES[route][2]
    first = next(iter(body))
    raw = (json.dumps(body)[:-1] + f", {json.dumps(first)}: {json.dumps(body[first])}}}").encode()
    caller.assert_refused(route, raw, first, "more than once")


def test_a_duplicate_key_inside_a_nested_object_is_refused_too(caller: Caller) -> None:
    raw = b'{"first_name": {"a": 1, "a": 2}}'
    caller.assert_refused("patch-me", raw, "'a'", "more than once")


def test_a_duplicate_key_with_a_lone_surrogate_is_named_safely(caller: Caller) -> None:
    caller.assert_refused("signup", b'{"\\udc80": 1, "\\udc80": 2}', "surrogate")


ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16-le": lambda text: text.encode("utf-16-le"),
    "utf-16-be": lambda text: text.encode("utf-16-be"),
    "utf-16 with BOM": lambda text: text.encode("utf-16"),
    "utf-32-le": lambda text: text.encode("utf-32-le"),
    "utf-32-be": lambda text: text.encode("utf-32-be"),
    "utf-32 with BOM": lambda text: text.encode("utf-32"),
    "latin-1": lambda text: (text[:-2] + 'é"}').encode("latin-1"),
}


@pytest.mark.parametrize("route", ["signup", "patch-me"])
@pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_a_body_that_is_not_plain_utf8_is_a_400(caller: Caller, route: str, encode: Callable[[str], bytes]) -> None:
    """RFC 8259 section 8.1: JSON between systems is UTF-8, with no byte order mark."""
    text = json.dumps(ROUTES[route][2])
    caller.assert_refused(route, encode(text), "UTF-8")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_number_constants_are_a_400(caller: Caller, constant: str) -> None:
    """Python's json reads NaN and Infinity; RFC 8259 has no such numbers."""
    caller.assert_refused("patch-me", f'{{"first_name": {constant}}}'.encode(), constant)


def test_utf8_text_outside_ascii_is_still_accepted(caller: Caller) -> None:
    result = caller.send("patch-me", json.dumps({"first_name": "Zoë 漢字"}, ensure_ascii=False).encode("utf-8"))
    assert result.status_code == 200, result.text
    assert result.json["data"]["first_name"] == "Zoë 漢字"


class QuotesClientText:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise falcon.HTTPBadRequest(description="q: '\udc80' is not accepted")


def test_an_error_message_quoting_a_lone_surrogate_still_leaves_as_json(api: Api) -> None:
    """The safety net under the checks above: whatever text a message quotes, it can be sent."""
    api.app.add_route("/quotes", QuotesClientText())
    body = assert_error(api.client.simulate_get("/quotes"), 400)
    assert body["message"] == "q: '\\udc80' is not accepted"


def test_the_deepest_nesting_the_parser_takes_is_still_checked_without_a_500(caller: Caller) -> None:
    for depth in range(900, 1000):
        raw = ('{"first_name": ' + "[" * depth + '"\\udc80"' + "]" * depth + "}").encode()
        assert caller.send("patch-me", raw).status_code == 400, depth  # never a RecursionError's 500
