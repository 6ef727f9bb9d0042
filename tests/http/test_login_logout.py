"""Login (cookie, identical failures, inactive users) and logout (cleared cookie, revoked session)."""

from __future__ import annotations

from dataclasses import replace

import dataclasses
from datetime import datetime, timezone

import pytest

from domain.auth import MAX_LIVE_SESSIONS
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error, assert_public_user, set_cookie_lines

BAD_CREDENTIALS = "Unknown email_address or bad password"


def deactivate(repo: SqliteUserRepository, email: str = EMAIL) -> None:
    user = repo.get(email)
    assert user is not None
    repo.update(dataclasses.replace(user, is_active=False))


def cookie_attributes(header: str) -> dict[str, str]:
    """`name=value; A; B=c` -> {"a": "", "b": "c"}: the attributes of one Set-Cookie, lower-cased names."""
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


# -- login -------------------------------------------------------------------------------------


def test_login_answers_200_with_the_seed_message_the_user_and_a_session_cookie(any_api: Api) -> None:
    assert any_api.signup(EMAIL, PASSWORD, first_name="Ada").status_code == 200

    result = any_api.login(EMAIL, PASSWORD)

    assert result.status_code == 200
    body = result.json
    assert set(body) == {"message", "success", "data", "sessions_evicted"}
    assert body["message"] == "'test@abc.com' successfully logged in!"
    assert body["sessions_evicted"] == 0
    assert body["success"] is True
    assert_public_user(body["data"], EMAIL, "Ada")

    secure = any_api.cookies.secure
    name = "__Host-session" if secure else "session"
    assert list(result.cookies) == [name, "__Host-device" if secure else "device"]  # tests/http/test_device_cookies.py
    cookie = result.cookies[name]
    assert len(cookie.value) > 20
    assert cookie.http_only is True
    assert cookie.same_site == "Lax"
    assert cookie.path == "/"
    assert cookie.secure is secure
    assert cookie.max_age == 30 * 60, "the idle window"
    assert not cookie.domain, "a __Host- cookie must be host-only"

    line = set_cookie_lines(any_api.app, "/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD})[name]
    attributes = cookie_attributes(line)
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == "1800"
    assert ("secure" in attributes) is secure
    assert "domain" not in attributes


def test_login_identity_ignores_case_and_whitespace(any_api: Api) -> None:
    assert any_api.signup("Test@ABC.com ", PASSWORD).status_code == 200

    result = any_api.login("  TEST@abc.COM\t", PASSWORD)

    assert result.status_code == 200
    assert result.json["message"] == "'test@abc.com' successfully logged in!"
    assert any_api.get_test(result.cookies[any_api.cookie_name].value).status_code == 200


def test_each_login_opens_a_new_session(any_api: Api) -> None:
    """A new cookie each time (no session fixation), and both stay usable."""
    first = any_api.signup_and_login()
    second = any_api.login_cookie()

    assert first != second
    assert any_api.get_test(first).status_code == 200
    assert any_api.get_test(second).status_code == 200


def headers_but_request_id(result) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in result.headers.items() if name.lower() != "x-request-id")


@pytest.mark.parametrize("email", [
    "nobody@abc.com",  # unknown
    "NOBODY@abc.com ",
    "not-an-address",  # cannot even be a user
])
def test_unknown_email_and_wrong_password_are_indistinguishable(
    any_api: Api, repo: SqliteUserRepository, email: str
) -> None:
    assert any_api.signup(EMAIL, PASSWORD).status_code == 200
    before = repo.get(EMAIL)

    unknown = any_api.login(email, PASSWORD)
    wrong_password = any_api.login(EMAIL, PASSWORD + "!")
    wrong_case_password = any_api.login(EMAIL, PASSWORD.upper())

    for result in (unknown, wrong_password, wrong_case_password):
        assert_error(result, 400, BAD_CREDENTIALS)
        assert result.status == unknown.status
        assert result.text == unknown.text
        # Every header alike but the request id, which is unique to each request by design.
        assert headers_but_request_id(result) == headers_but_request_id(unknown)
        assert result.cookies == {}
    after = repo.get(EMAIL)
    assert after.failed_logins == 2, "each wrong password is counted on the account"
    assert replace(after, failed_logins=0, last_failed_login_at=None) == before, "and nothing else changes"


def test_an_inactive_user_gets_403_and_no_cookie(any_api: Api, repo: SqliteUserRepository) -> None:
    assert any_api.signup(EMAIL, PASSWORD).status_code == 200
    deactivate(repo)
    before = repo.get(EMAIL)

    result = any_api.login(EMAIL, PASSWORD)

    assert_error(result, 403)
    assert result.json["error"] == "403: Forbidden"
    assert "set-cookie" not in result.headers
    assert result.cookies == {}
    after = repo.get(EMAIL)
    # Nothing changes; the outcome is still a guarded write (version), so that it costs what
    # any other outcome costs.
    assert after == before and after.session_ids == ()


def test_an_inactive_user_with_a_wrong_password_learns_nothing(any_api: Api, repo: SqliteUserRepository) -> None:
    """Only the right password tells that an account is deactivated."""
    assert any_api.signup(EMAIL, PASSWORD).status_code == 200
    deactivate(repo)

    result = any_api.login(EMAIL, "a-wrong-password")

    assert_error(result, 400, BAD_CREDENTIALS)
    assert result.cookies == {}


def test_deactivating_a_user_ends_their_live_sessions(any_api: Api, repo: SqliteUserRepository, clock: FakeClock) -> None:
    cookie = any_api.signup_and_login()
    assert any_api.get_test(cookie).status_code == 200

    deactivate(repo)  # written straight to the store, as another process would
    clock.advance(seconds=1)  # the bound within which other processes see it

    assert_error(any_api.get_test(cookie), 401)


def test_the_oldest_session_ends_when_too_many_are_live_and_the_login_says_so(any_api: Api) -> None:
    assert any_api.signup().status_code == 200
    answers = [any_api.login(EMAIL, PASSWORD) for _ in range(MAX_LIVE_SESSIONS + 1)]

    assert [answer.json["sessions_evicted"] for answer in answers] == [0] * MAX_LIVE_SESSIONS + [1]
    cookies = [answer.cookies[any_api.cookie_name].value for answer in answers]
    assert_error(any_api.get_test(cookies[0]), 401)
    for cookie in cookies[1:]:
        assert any_api.get_test(cookie).status_code == 200


# -- logout ------------------------------------------------------------------------------------


def test_logout_answers_200_and_clears_the_cookie(any_api: Api) -> None:
    cookie = any_api.signup_and_login()

    result = any_api.logout(cookie)

    assert result.status_code == 200
    body = result.json
    assert set(body) == {"message", "success"}
    assert body["success"] is True
    assert isinstance(body["message"], str) and EMAIL in body["message"]

    name = any_api.cookie_name
    assert list(result.cookies) == [name]
    cleared = result.cookies[name]
    assert cleared.value == ""
    assert cleared.path == "/"
    assert cleared.http_only is True
    assert cleared.same_site == "Lax"
    assert cleared.secure is any_api.cookies.secure, "a __Host- cookie is only replaced by a Secure one"
    # Either attribute tells the browser to drop it now.
    attributes = cookie_attributes(result.headers["set-cookie"])
    expired = cleared.expires is not None and cleared.expires < datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert attributes.get("max-age") == "0" or expired, result.headers["set-cookie"]
    assert attributes.get("max-age") in (None, "0")


def test_a_cookie_replayed_after_logout_gets_401(any_api: Api) -> None:
    cookie = any_api.signup_and_login()
    assert any_api.logout(cookie).status_code == 200

    replayed = any_api.get_test(cookie)
    assert_error(replayed, 401)
    assert_error(any_api.logout(cookie), 401)
    assert any_api.cookie_name not in replayed.cookies or replayed.cookies[any_api.cookie_name].value == ""


def test_logout_ends_only_its_own_session(any_api: Api) -> None:
    phone = any_api.signup_and_login()
    laptop = any_api.login_cookie()

    assert any_api.logout(phone).status_code == 200

    assert_error(any_api.get_test(phone), 401)
    assert any_api.get_test(laptop).status_code == 200


def test_logout_without_a_session_gets_401(any_api: Api) -> None:
    result = any_api.logout(None)

    assert_error(result, 401)
    assert result.json["error"] == "401: Unauthorized"


def test_logging_in_again_after_logout_works(any_api: Api) -> None:
    cookie = any_api.signup_and_login()
    assert any_api.logout(cookie).status_code == 200

    again = any_api.login_cookie()

    assert again != cookie
    assert any_api.get_test(again).status_code == 200
