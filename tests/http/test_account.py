"""The caller's own account: GET/PATCH /v1/users/me and POST /v1/users/me/password."""

from __future__ import annotations

from dataclasses import replace

from typing import Any

import pytest

from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.fakes import FakeClock
from tests.http.helpers import (
    ACCOUNT_VIEW_FIELDS,
    CREATED_AT,
    EMAIL,
    PASSWORD,
    Api,
    assert_error,
    assert_names_field,
    without_id,
)

NEW_PASSWORD = "a-brand-new-passphrase"
WRONG = PASSWORD + "!"
PROFILE_FIELDS = ("first_name", "last_name")
PASSWORD_FIELDS = ("current_password", "new_password")


def patch_me(api: Api, cookie: str | None, media: Any = None, **kwargs: Any) -> Any:
    if media is not None:
        kwargs["json"] = media
    return api.client.simulate_patch("/v1/users/me", cookies=api.with_cookie(cookie), **kwargs)


def post_password(api: Api, cookie: str | None, body: Any) -> Any:
    return api.client.simulate_post("/v1/users/me/password", json=body, cookies=api.with_cookie(cookie))


def account(
    email: str = EMAIL,
    first_name: str | None = None,
    last_name: str | None = None,
    *,
    last_login_at: str | None,
    login_count: int,
    is_admin: bool = False,
) -> dict[str, Any]:
    return {
        "email_address": email,
        "first_name": first_name,
        "last_name": last_name,
        "is_active": True,
        "created_at": CREATED_AT,
        "is_admin": is_admin,
        "last_login_at": last_login_at,
        "login_count": login_count,
        "email_verified": False,
        "pending_email_address": None,
    }


def new_cookie(api: Api, result: Any) -> str:
    cookie = result.cookies.get(api.cookie_name)
    assert cookie is not None and cookie.value, result.headers
    return cookie.value


# -- GET /v1/users/me ---------------------------------------------------------------------------


def test_me_without_a_session_is_401(api: Api) -> None:
    assert_error(api.me(None), 401)


def test_me_with_a_forged_cookie_is_401(api: Api) -> None:
    api.signup_and_login()
    assert_error(api.me("not-a-signed-session"), 401)


def test_me_shows_the_account_view_with_login_tracking(any_api: Api) -> None:
    assert any_api.signup(EMAIL, PASSWORD, first_name="Ada", last_name="Lovelace").status_code == 200
    cookie = any_api.login_cookie()

    result = any_api.me(cookie)

    assert result.status_code == 200
    body = result.json
    assert body["success"] is True
    assert set(body["data"]) == ACCOUNT_VIEW_FIELDS
    assert without_id(body["data"]) == account(
        first_name="Ada", last_name="Lovelace", last_login_at="2026-01-01T12:00:00.000Z", login_count=1
    )


def test_every_login_counts_and_moves_last_login_at(api: Api, clock: FakeClock) -> None:
    first = api.signup_and_login()
    clock.advance(minutes=5, seconds=30)
    second = api.login_cookie()
    clock.advance(seconds=7)
    api.login_cookie()

    for cookie in (first, second):  # every live session sees the same, current account
        data = api.me(cookie).json["data"]
        assert data["login_count"] == 3
        assert data["last_login_at"] == "2026-01-01T12:05:37.000Z"


def test_a_failed_login_neither_counts_nor_moves_last_login_at(api: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    clock.advance(minutes=1)
    assert_error(api.login(EMAIL, WRONG), 400)

    data = api.me(cookie).json["data"]
    assert (data["login_count"], data["last_login_at"]) == (1, "2026-01-01T12:00:00.000Z")


# -- PATCH /v1/users/me -------------------------------------------------------------------------


def test_patch_me_changes_the_names_and_they_persist(api: Api, repo: SqliteUserRepository) -> None:
    assert api.signup(EMAIL, PASSWORD, first_name="Ada").status_code == 200
    cookie = api.login_cookie()

    result = patch_me(api, cookie, {"first_name": "  Augusta  ", "last_name": "King"})

    assert result.status_code == 200
    assert result.json["success"] is True
    expected = account(first_name="Augusta", last_name="King", last_login_at="2026-01-01T12:00:00.000Z", login_count=1)
    assert without_id(result.json["data"]) == expected
    assert api.me(cookie).json["data"] == result.json["data"]
    stored = repo.get(EMAIL)
    assert stored is not None and (stored.first_name, stored.last_name) == ("Augusta", "King")
    assert api.login(EMAIL, PASSWORD).json["data"]["first_name"] == "Augusta"


def test_patch_me_with_one_name_leaves_the_other_and_null_clears(api: Api, repo: SqliteUserRepository) -> None:
    assert api.signup(EMAIL, PASSWORD, first_name="Ada", last_name="Lovelace").status_code == 200
    cookie = api.login_cookie()

    assert patch_me(api, cookie, {"last_name": "King"}).json["data"]["first_name"] == "Ada"
    assert patch_me(api, cookie, {"first_name": None}).status_code == 200

    stored = repo.get(EMAIL)
    assert stored is not None and (stored.first_name, stored.last_name) == (None, "King")


def test_patch_me_without_a_session_is_401_and_changes_nothing(api: Api, repo: SqliteUserRepository) -> None:
    assert api.signup(EMAIL, PASSWORD, first_name="Ada").status_code == 200
    assert_error(patch_me(api, None, {"first_name": "Eve"}), 401)
    assert repo.get(EMAIL).first_name == "Ada"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"first_name": "x" * 101}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"first_name": 42}, "first_name"),
        ({"last_name": ["Lovelace"]}, "last_name"),
        ({"first_name": "Ada\u0000"}, "first_name"),
        ({"first_name": "Ada", "last_name": {"a": 1}}, "last_name"),
    ],
)
def test_patch_me_validates_names_like_signup(api: Api, repo: SqliteUserRepository, body: dict, field: str) -> None:
    assert api.signup(EMAIL, PASSWORD, first_name="Ada", last_name="Lovelace").status_code == 200
    cookie = api.login_cookie()

    assert_names_field(patch_me(api, cookie, body), field, PROFILE_FIELDS)
    stored = repo.get(EMAIL)
    assert stored is not None and (stored.first_name, stored.last_name) == ("Ada", "Lovelace")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"nickname": "Ada"}, "nickname"),
        ({"first_name": "Ada", "firstname": "Ada"}, "firstname"),
        ({"is_admin": True}, "is_admin"),
        ({"is_active": False}, "is_active"),
        ({"email_address": "eve@abc.com"}, "email_address"),
        ({"password": "another-long-password"}, "password"),
        ({"first_name": "Eve", "is_admin": True}, "is_admin"),
        ({"login_count": 99}, "login_count"),
    ],
)
def test_patch_me_refuses_fields_it_does_not_own(
    api: Api, repo: SqliteUserRepository, body: dict, field: str
) -> None:
    assert api.signup(EMAIL, PASSWORD, first_name="Ada").status_code == 200
    cookie = api.login_cookie()
    before = repo.get(EMAIL)

    result = assert_error(patch_me(api, cookie, body), 400)

    assert field in result["message"]
    after = repo.get(EMAIL)
    assert after == before  # names, flags, hash, sessions: nothing changed
    assert api.login(EMAIL, PASSWORD).status_code == 200
    assert_error(api.login("eve@abc.com", "another-long-password"), 400)


def test_patch_me_with_an_empty_object_is_400(api: Api, repo: SqliteUserRepository) -> None:
    cookie = api.signup_and_login()
    before = repo.get(EMAIL)

    body = assert_error(patch_me(api, cookie, {}), 400)

    assert "first_name" in body["message"] and "last_name" in body["message"]
    assert repo.get(EMAIL) == before


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"body": "first_name=Eve", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"body": '{"first_name": "Eve"}', "content_type": "text/plain"}, 415),
        ({}, 400),  # no body at all
        ({"body": "{not json", "content_type": "application/json"}, 400),
        ({"body": '["first_name", "Eve"]', "content_type": "application/json"}, 400),
        ({"body": '"Eve"', "content_type": "application/json"}, 400),
    ],
    ids=["form", "text-plain", "no-body", "bad-json", "array", "string"],
)
def test_patch_me_needs_a_json_object(api: Api, repo: SqliteUserRepository, kwargs: dict, status: int) -> None:
    assert api.signup(EMAIL, PASSWORD, first_name="Ada").status_code == 200
    cookie = api.login_cookie()

    assert_error(patch_me(api, cookie, **kwargs), status)
    assert repo.get(EMAIL).first_name == "Ada"


def test_other_methods_on_me_are_405(api: Api) -> None:
    cookie = api.signup_and_login()
    assert_error(api.client.simulate_delete("/v1/users/me", cookies=api.with_cookie(cookie)), 405)
    assert api.me(cookie).status_code == 200


# -- POST /v1/users/me/password -----------------------------------------------------------------


def test_changing_the_password_reissues_the_callers_session_and_ends_the_others(any_api: Api) -> None:
    api = any_api
    caller = api.signup_and_login()
    other = api.login_cookie()
    assert api.me(other).status_code == 200

    result = api.change_password(caller, PASSWORD, NEW_PASSWORD)

    assert result.status_code == 200
    assert result.json["success"] is True
    assert set(result.json["data"]) == ACCOUNT_VIEW_FIELDS
    assert result.json["data"]["email_address"] == EMAIL
    assert NEW_PASSWORD not in result.text and PASSWORD not in result.text
    reissued = new_cookie(api, result)
    assert reissued != caller
    assert "httponly" in result.headers["set-cookie"].lower()

    assert api.me(reissued).status_code == 200  # the caller stays logged in, under a new session id
    assert_error(api.me(caller), 401)  # the old id of the caller's own session is gone
    assert_error(api.me(other), 401)
    assert_error(api.get_test(other), 401)


def test_after_a_change_only_the_new_password_logs_in(api: Api, repo: SqliteUserRepository) -> None:
    cookie = api.signup_and_login()
    old_hash = repo.get(EMAIL).password_hash

    assert api.change_password(cookie, PASSWORD, NEW_PASSWORD).status_code == 200

    assert repo.get(EMAIL).password_hash != old_hash
    assert_error(api.login(EMAIL, PASSWORD), 400, "Unknown email_address or bad password")
    assert api.login(EMAIL, NEW_PASSWORD).status_code == 200


def test_changing_the_password_without_a_session_is_401(api: Api, repo: SqliteUserRepository) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    before = repo.get(EMAIL)
    assert_error(api.change_password(None, PASSWORD, NEW_PASSWORD), 401)
    assert repo.get(EMAIL) == before


def test_a_wrong_current_password_is_400_naming_it_and_changes_nothing(api: Api, repo: SqliteUserRepository) -> None:
    caller = api.signup_and_login()
    other = api.login_cookie()
    before = repo.get(EMAIL)

    result = api.change_password(caller, WRONG, NEW_PASSWORD)

    assert_names_field(result, "current_password", ("new_password",))
    assert "set-cookie" not in result.headers
    after = repo.get(EMAIL)
    assert after.failed_logins == 1  # counted like a failed login
    assert replace(after, failed_logins=0, last_failed_login_at=None) == before
    assert api.me(caller).status_code == 200
    assert api.me(other).status_code == 200
    assert_error(api.login(EMAIL, NEW_PASSWORD), 400)
    assert api.login(EMAIL, PASSWORD).status_code == 200


def test_five_wrong_current_passwords_throttle_this_endpoint_and_login(api: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    for _ in range(5):
        assert_names_field(api.change_password(cookie, WRONG, NEW_PASSWORD), "current_password", ())

    throttled = api.change_password(cookie, PASSWORD, NEW_PASSWORD)  # even the right one must wait
    assert_error(throttled, 429)
    assert throttled.headers["retry-after"] == "1"

    login = api.login(EMAIL, PASSWORD)
    assert_error(login, 429)
    assert login.headers["retry-after"] == "1"
    assert "set-cookie" not in login.headers

    assert api.me(cookie).status_code == 200  # throttled, not logged out
    clock.advance(seconds=1)
    changed = api.change_password(cookie, PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 200
    assert api.login(EMAIL, NEW_PASSWORD).status_code == 200


def test_wrong_logins_and_wrong_current_passwords_share_one_count(api: Api) -> None:
    cookie = api.signup_and_login()
    for _ in range(3):
        assert_error(api.login(EMAIL, WRONG), 400)
    for _ in range(2):
        assert_error(api.change_password(cookie, WRONG, NEW_PASSWORD), 400)

    assert_error(api.change_password(cookie, PASSWORD, NEW_PASSWORD), 429)
    assert_error(api.login(EMAIL, PASSWORD), 429)


@pytest.mark.parametrize("new", ["short", "1234567", "", "x" * 1025, 12345678, None])
def test_a_new_password_that_fails_the_policy_is_400_naming_it(
    api: Api, repo: SqliteUserRepository, new: Any
) -> None:
    cookie = api.signup_and_login()
    before = repo.get(EMAIL)

    assert_names_field(api.change_password(cookie, PASSWORD, new), "new_password", ("current_password",))

    assert repo.get(EMAIL) == before
    assert api.me(cookie).status_code == 200


def test_policy_failures_do_not_count_toward_throttling(api: Api) -> None:
    cookie = api.signup_and_login()
    for _ in range(6):
        assert_error(api.change_password(cookie, PASSWORD, "short"), 400)
    assert api.change_password(cookie, PASSWORD, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "password": NEW_PASSWORD}, "password"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "email_address": "eve@abc.com"}, "email_address"),
        ({}, None),
    ],
)
def test_missing_or_extra_password_fields_are_400(
    api: Api, repo: SqliteUserRepository, body: dict, field: str | None
) -> None:
    cookie = api.signup_and_login()
    before = repo.get(EMAIL)

    error = assert_error(post_password(api, cookie, body), 400)

    if field is not None:
        assert field in error["message"]
    assert repo.get(EMAIL) == before
    assert api.login(EMAIL, PASSWORD).status_code == 200


def test_a_non_json_password_change_is_refused(api: Api, repo: SqliteUserRepository) -> None:
    cookie = api.signup_and_login()
    before = repo.get(EMAIL)
    result = api.client.simulate_post(
        "/v1/users/me/password",
        body=f"current_password={PASSWORD}&new_password={NEW_PASSWORD}",
        content_type="application/x-www-form-urlencoded",
        cookies=api.with_cookie(cookie),
    )
    assert_error(result, 415)
    assert repo.get(EMAIL) == before


def test_the_user_id_is_given_at_sign_up_and_kept_through_every_change(api: Api, repo: SqliteUserRepository) -> None:
    signed_up = api.signup(EMAIL, PASSWORD).json["data"]["id"]
    cookie = api.login_cookie()
    assert api.me(cookie).json["data"]["id"] == signed_up
    assert patch_me(api, cookie, {"first_name": "Ada"}).json["data"]["id"] == signed_up
    changed = api.client.simulate_post(
        "/v1/users/me/password", cookies={api.cookies.name: cookie},
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.json["data"]["id"] == signed_up
    assert api.login(EMAIL, NEW_PASSWORD).json["data"]["id"] == signed_up
    assert repo.get(EMAIL).user_id == signed_up


def test_two_accounts_never_share_an_id_and_a_re_registered_email_gets_a_new_one(api: Api, repo: SqliteUserRepository) -> None:
    first = api.signup(EMAIL, PASSWORD).json["data"]["id"]
    other = api.signup("other@abc.com", PASSWORD).json["data"]["id"]
    assert repo.delete(EMAIL)
    again = api.signup(EMAIL, PASSWORD).json["data"]["id"]
    assert len({first, other, again}) == 3
