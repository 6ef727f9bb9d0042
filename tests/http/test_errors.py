"""Every error is JSON in the seed's shape, whatever the Accept header; bad bodies change nothing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable

import falcon
import falcon.testing
import pytest

from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.http.helpers import EMAIL, PASSWORD, Api, MakeApi, assert_error, break_store, stored_emails

LIMIT = 64 * 1024
SECRET_DETAIL = "sqlite3.OperationalError at /srv/esauth/var/esauth.sqlite3 token=s3cr3t"


class Boom:
    """A route whose code breaks: what the client sees of an unexpected exception."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        raise RuntimeError(SECRET_DETAIL)


@dataclasses.dataclass
class Env:
    api: Api
    repo: SqliteUserRepository
    database: SqliteDatabase
    db_path: Path


@pytest.fixture
def env(api: Api, repo: SqliteUserRepository, database: SqliteDatabase, db_path: Path) -> Env:
    api.app.add_route("/boom", Boom())
    api.app.add_route("/boom/{email}", Boom())
    return Env(api, repo, database, db_path)


def bad_json(env: Env, headers: dict) -> falcon.testing.Result:
    return env.api.client.simulate_post(
        "/v1/users/new", body="{not json", headers={**headers, "Content-Type": "application/json"}
    )


def no_session(env: Env, headers: dict) -> falcon.testing.Result:
    return env.api.client.simulate_get("/v1/test", headers=headers)


def inactive(env: Env, headers: dict) -> falcon.testing.Result:
    assert env.api.signup().status_code == 200
    user = env.repo.get(EMAIL)
    env.repo.update(dataclasses.replace(user, is_active=False))
    return env.api.client.simulate_post(
        "/v1/auth/login", json={"email_address": EMAIL, "password": PASSWORD}, headers=headers
    )


def not_found(env: Env, headers: dict) -> falcon.testing.Result:
    return env.api.client.simulate_get("/v1/nothing-here", headers=headers)


def wrong_method(env: Env, headers: dict) -> falcon.testing.Result:
    return env.api.client.simulate_get("/v1/users/new", headers=headers)


def duplicate(env: Env, headers: dict) -> falcon.testing.Result:
    assert env.api.signup().status_code == 200
    return env.api.client.simulate_post(
        "/v1/users/new", json={"email_address": EMAIL, "password": PASSWORD}, headers=headers
    )


def too_large(env: Env, headers: dict) -> falcon.testing.Result:
    return env.api.client.simulate_post(
        "/v1/users/new", headers={**headers, "Content-Type": "application/json", "Content-Length": str(LIMIT + 1)}
    )


def unsupported_type(env: Env, headers: dict) -> falcon.testing.Result:
    return env.api.client.simulate_post(
        "/v1/users/new", body="email_address=a%40b.com&password=12345678",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )


def broken_code(env: Env, headers: dict) -> falcon.testing.Result:
    return env.api.client.simulate_get("/boom", headers=headers)


def store_down(env: Env, headers: dict) -> falcon.testing.Result:
    break_store(env.database.close, env.db_path)
    return env.api.client.simulate_post(
        "/v1/users/new", json={"email_address": EMAIL, "password": PASSWORD}, headers=headers
    )


SCENARIOS: dict[int, Callable[[Env, dict], falcon.testing.Result]] = {
    400: bad_json,
    401: no_session,
    403: inactive,
    404: not_found,
    405: wrong_method,
    409: duplicate,
    413: too_large,
    415: unsupported_type,
    500: broken_code,
    503: store_down,
}
ACCEPTS = [
    None,
    "application/json",
    "text/html",
    "application/xml",
    "text/plain",
    "*/*",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "image/png",
]


@pytest.mark.parametrize("accept", ACCEPTS, ids=lambda a: f"accept={a}")
@pytest.mark.parametrize("status", SCENARIOS)
def test_every_error_is_json_in_the_seed_shape(env: Env, status: int, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}

    result = SCENARIOS[status](env, headers)

    body = assert_error(result, status)
    assert result.headers["content-type"] == "application/json"
    assert json.loads(result.content) == body
    assert "<" not in result.text, "no HTML or XML in an error"


@pytest.mark.parametrize("status", SCENARIOS)
def test_the_error_reason_is_the_status_line_reason(env: Env, status: int) -> None:
    """`"error": "<code>: <reason>"` says what the status line says."""
    result = SCENARIOS[status](env, {})

    code, _, reason = result.status.partition(" ")
    assert result.json["error"] == f"{code}: {reason}"


# -- 404, 405 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("GET", "/"),
    ("GET", "/v1"),
    ("GET", "/v1/test/extra"),
    ("GET", "/V1/TEST"),
    ("POST", "/v1/auth/signin"),
])
def test_an_unknown_path_gets_404(api: Api, method: str, path: str) -> None:
    result = api.client.simulate_request(method, path, headers={"Accept": "text/html"})

    assert_error(result, 404)
    assert result.json["error"] == "404: Not Found"


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/v1/users/new", "POST"),
    ("PUT", "/v1/users/new", "POST"),
    ("DELETE", "/v1/users", "POST"),
    ("POST", "/v1/users/test@abc.com", "PATCH"),
    ("GET", "/v1/auth/password-reset", "POST"),
    ("PUT", "/v1/users/me", "PATCH"),
    ("GET", "/v1/auth/login", "POST"),
    ("GET", "/v1/auth/logout", "POST"),
    ("POST", "/v1/test", "GET"),
    ("PATCH", "/v1/test", "GET"),
    ("POST", "/health", "GET"),
])
def test_a_wrong_method_gets_405_with_allow(api: Api, method: str, path: str, allowed: str) -> None:
    """Before any login check: a method the resource lacks is 405 with or without a session."""
    cookie = api.signup_and_login()

    for cookies in (None, {api.cookie_name: cookie}):
        result = api.client.simulate_request(method, path, cookies=cookies, headers={"Accept": "text/html"})

        assert_error(result, 405)
        assert result.json["error"] == "405: Method Not Allowed"
        allow = {m.strip() for m in result.headers["allow"].split(",")}
        assert allowed in allow
        assert method not in allow


# -- request bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    "{not json",
    "{'email_address': 'test@abc.com'}",
    '{"email_address": "test@abc.com", "password": "correct-horse-battery"',
    '{"email_address": "test@abc.com",}',
    "NaN-ish",
    b'{"email_address": "test@abc.com", "password": "\xff\xfe broken utf-8"}',
], ids=["brace", "single quotes", "unclosed", "trailing comma", "word", "invalid utf-8"])
@pytest.mark.parametrize("path", ["/v1/users/new", "/v1/users", "/v1/auth/login"])
def test_a_body_that_is_not_json_gets_400(api: Api, db_path: Path, path: str, body: str | bytes) -> None:
    result = api.client.simulate_post(path, body=body, content_type="application/json")

    assert_error(result, 400)
    assert stored_emails(db_path) == []


@pytest.mark.parametrize("body", ["[]", '["test@abc.com", "correct-horse-battery"]', '"test@abc.com"',
                                  "12", "null", "true"])
@pytest.mark.parametrize("path", ["/v1/users/new", "/v1/auth/login"])
def test_a_json_body_that_is_not_an_object_gets_400(api: Api, db_path: Path, path: str, body: str) -> None:
    result = api.client.simulate_post(path, body=body, content_type="application/json")

    assert_error(result, 400)
    assert stored_emails(db_path) == []


@pytest.mark.parametrize("path", ["/v1/users/new", "/v1/auth/login"])
def test_an_empty_body_gets_400(api: Api, db_path: Path, path: str) -> None:
    assert_error(api.client.simulate_post(path, body="", content_type="application/json"), 400)
    assert_error(api.client.simulate_post(path, body="  \n", content_type="application/json"), 400)
    assert_error(api.client.simulate_post(path), 400)
    assert stored_emails(db_path) == []


@pytest.mark.parametrize("body", [
    "[" * 60_000,
    '{"a": ' * 10_000,
    "[" * 30_000 + "]" * 30_000,
], ids=["open arrays", "open objects", "closed arrays"])
def test_deeply_nested_json_gets_400_not_500(api: Api, db_path: Path, body: str) -> None:
    assert len(body) <= LIMIT

    result = api.client.simulate_post("/v1/users/new", body=body, content_type="application/json")

    assert_error(result, 400)
    assert stored_emails(db_path) == []


def test_deeply_nested_json_under_a_raised_body_limit_gets_400(make_api: MakeApi, db_path: Path) -> None:
    """With room for '[' * 100000 in a body, the nesting itself is refused, not the size."""
    roomy = make_api(max_body_bytes=256 * 1024)

    result = roomy.client.simulate_post("/v1/users/new", body="[" * 100_000, content_type="application/json")

    assert_error(result, 400)
    assert stored_emails(db_path) == []


@pytest.mark.parametrize("content_type", [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "text/json",
    "application/jsonp",
    "application/json-patch+json",
])
@pytest.mark.parametrize("path", ["/v1/users/new", "/v1/users", "/v1/auth/login"])
def test_a_body_that_is_not_application_json_gets_415(
    api: Api, db_path: Path, path: str, content_type: str
) -> None:
    body = json.dumps({"email_address": EMAIL, "password": PASSWORD})

    result = api.client.simulate_post(path, body=body, content_type=content_type)

    assert_error(result, 415)
    assert result.json["error"] == "415: Unsupported Media Type"
    assert stored_emails(db_path) == []


def test_a_json_body_without_a_content_type_is_refused(api: Api, db_path: Path) -> None:
    body = json.dumps({"email_address": EMAIL, "password": PASSWORD})

    result = api.client.simulate_post("/v1/users/new", body=body)

    assert result.status_code in (400, 415)
    assert_error(result, result.status_code)
    assert stored_emails(db_path) == []


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"]
)
def test_application_json_with_parameters_or_any_case_is_accepted(api: Api, content_type: str) -> None:
    body = json.dumps({"email_address": EMAIL, "password": PASSWORD})

    assert api.client.simulate_post("/v1/users/new", body=body, content_type=content_type).status_code == 200


# -- 413 ---------------------------------------------------------------------------------------


def body_of_size(size: int) -> str:
    """A valid sign-up body padded with JSON whitespace to exactly `size` bytes."""
    body = json.dumps({"email_address": EMAIL, "password": PASSWORD})
    return body + " " * (size - len(body))


@pytest.mark.parametrize("path", ["/v1/users/new", "/v1/users", "/v1/auth/login", "/v1/auth/logout", "/v1/test"])
def test_a_declared_oversized_body_gets_413_before_it_is_read(api: Api, db_path: Path, path: str) -> None:
    """No body is sent at all: a server that waited for it, or read it, would answer otherwise."""
    result = api.client.simulate_request(
        "POST", path, headers={"Content-Type": "application/json", "Content-Length": str(LIMIT + 1)}
    )

    assert_error(result, 413)
    assert stored_emails(db_path) == []


def test_a_huge_declared_body_gets_413(api: Api) -> None:
    result = api.client.simulate_post(
        "/v1/users/new", headers={"Content-Type": "application/json", "Content-Length": str(10**12)}
    )

    assert_error(result, 413)


def test_a_body_one_byte_over_64_kib_gets_413_and_changes_nothing(api: Api, db_path: Path) -> None:
    result = api.client.simulate_post(
        "/v1/users/new", body=body_of_size(LIMIT + 1), content_type="application/json"
    )

    assert_error(result, 413)
    assert stored_emails(db_path) == []


def test_a_body_of_exactly_64_kib_is_accepted(api: Api, db_path: Path) -> None:
    result = api.client.simulate_post("/v1/users/new", body=body_of_size(LIMIT), content_type="application/json")

    assert result.status_code == 200, result.text
    assert stored_emails(db_path) == [EMAIL]


# -- 500 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ACCEPTS, ids=lambda a: f"accept={a}")
def test_an_unexpected_exception_gets_500_without_its_details(
    env: Env, accept: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    result = env.api.client.simulate_get("/boom", headers={"Accept": accept} if accept else None)

    body = assert_error(result, 500)
    assert body["error"] == "500: Internal Server Error"
    for leak in ("RuntimeError", "Traceback", "sqlite", "s3cr3t", "/srv/", "Boom", "on_get"):
        assert leak not in result.text
    # ... while the operators do get the trace.
    assert any(record.exc_info and record.exc_info[0] is RuntimeError for record in caplog.records)


def test_the_log_line_of_a_500_names_the_route_not_the_path(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    """A path can hold an address or a session id (/v1/users/{email}): the line names the route
    by its template, as the access log does, with the request id that ties them."""
    result = env.api.client.simulate_get("/boom/ada%40example.com", headers={"X-Request-ID": "r-123"})
    assert result.status_code == 500
    (line,) = [record.getMessage() for record in caplog.records if record.exc_info]
    assert line == "unhandled RuntimeError on GET /boom/{email} request_id=r-123"


def test_the_app_keeps_answering_after_a_500(env: Env) -> None:
    assert env.api.client.simulate_get("/boom").status_code == 500

    assert env.api.signup().status_code == 200
    assert env.api.client.simulate_get("/health").status_code == 200
