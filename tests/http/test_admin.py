"""Administration over HTTP: admin-only refusals, search and paging, get/patch/delete, no self-lockout."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import pytest

from domain.auth import AuthService
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.fakes import FakeClock
from tests.http.helpers import (
    ACCOUNT_VIEW_FIELDS,
    EMAIL,
    PASSWORD,
    Api,
    assert_error,
    assert_names_field,
    without_id,
)

ADMIN = "root@abc.com"
OTHER = "other@abc.com"
BAD_CREDENTIALS = "Unknown email_address or bad password"
ADMINS_ONLY = "Administrators only."
PATCH_FIELDS = ("is_active", "is_admin", "first_name", "last_name")
SEARCH_PARAMS = ("q", "limit", "cursor")


@pytest.fixture
def admin(api: Api, auth: AuthService) -> str:
    """The session cookie of a logged-in administrator, ADMIN."""
    auth.register(ADMIN, PASSWORD, "Root", is_admin=True)
    return api.login_cookie(ADMIN)


@pytest.fixture
def member(api: Api) -> str:
    """The session cookie of a logged-in ordinary user, EMAIL."""
    return api.signup_and_login(EMAIL)


def search(api: Api, cookie: str | None, **params: Any) -> Any:
    return api.client.simulate_get("/v1/users", params=params or None, cookies=api.with_cookie(cookie))


def get_user(api: Api, cookie: str | None, email: str) -> Any:
    return api.client.simulate_get(f"/v1/users/{email}", cookies=api.with_cookie(cookie))


def patch_user(api: Api, cookie: str | None, email: str, media: Any = None, **kwargs: Any) -> Any:
    if media is not None:
        kwargs["json"] = media
    return api.client.simulate_patch(f"/v1/users/{email}", cookies=api.with_cookie(cookie), **kwargs)


def delete_user(api: Api, cookie: str | None, email: str) -> Any:
    return api.client.simulate_delete(f"/v1/users/{email}", cookies=api.with_cookie(cookie))


def emails(result: Any) -> list[str]:
    assert result.status_code == 200, result.text
    return [user["email_address"] for user in result.json["data"]["users"]]


def all_pages(api: Api, cookie: str, **params: Any) -> tuple[list[str], list[int]]:
    """Follow next_cursor to the end; the emails in order and the size of each page."""
    found: list[str] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(50):
        result = search(api, cookie, **params, **({"cursor": cursor} if cursor else {}))
        page = emails(result)
        found += page
        sizes.append(len(page))
        cursor = result.json["data"]["next_cursor"]
        if cursor is None:
            return found, sizes
        assert isinstance(cursor, str) and cursor
    raise AssertionError("paging never ended")


ENDPOINTS = [
    ("GET", "/v1/users", None),
    ("GET", f"/v1/users/{OTHER}", None),
    ("PATCH", f"/v1/users/{OTHER}", {"is_active": False}),
    ("DELETE", f"/v1/users/{OTHER}", None),
]
ENDPOINT_IDS = ["search", "get", "patch", "delete"]


def call(api: Api, cookie: str | None, method: str, path: str, body: Any, **kwargs: Any) -> Any:
    if body is not None:
        kwargs["json"] = body
    return api.client.simulate_request(method, path, cookies=api.with_cookie(cookie), **kwargs)


# -- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path, body", ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_admin_endpoint_needs_a_session(
    api: Api, repo: SqliteUserRepository, admin: str, method: str, path: str, body: Any
) -> None:
    other = api.signup_and_login(OTHER)
    before = repo.get(OTHER)

    assert_error(call(api, None, method, path, body), 401)
    assert_error(call(api, "forged-cookie", method, path, body), 401)

    assert repo.get(OTHER) == before
    assert api.me(other).status_code == 200


@pytest.mark.parametrize("method, path, body", ENDPOINTS, ids=ENDPOINT_IDS)
def test_every_admin_endpoint_refuses_a_non_admin(
    api: Api, repo: SqliteUserRepository, member: str, method: str, path: str, body: Any
) -> None:
    other = api.signup_and_login(OTHER)
    before = repo.get(OTHER)

    result = call(api, member, method, path, body)

    assert_error(result, 403, ADMINS_ONLY)
    assert OTHER not in result.text
    assert repo.get(OTHER) == before
    assert api.me(other).status_code == 200
    assert api.me(member).status_code == 200  # refused, not logged out


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/v1/users/ghost@abc.com", None),  # 404 would tell a non-admin who exists
        ("DELETE", "/v1/users/ghost@abc.com", None),
        ("PATCH", "/v1/users/ghost@abc.com", {"first_name": "Ghost"}),
        ("GET", f"/v1/users/{EMAIL}", None),  # not even their own record through the admin route
        ("PATCH", f"/v1/users/{EMAIL}", {"is_admin": True}),  # nor promote themselves
        ("GET", "/v1/users/not-an-email", None),
        ("GET", "/v1/users?limit=x", None),
        ("GET", "/v1/users?cursor=garbage", None),
        ("PATCH", f"/v1/users/{OTHER}", {"bogus": 1}),
        ("PATCH", f"/v1/users/{OTHER}", {}),
    ],
    ids=["get-ghost", "delete-ghost", "patch-ghost", "get-self", "promote-self", "bad-email", "bad-limit",
         "bad-cursor", "unknown-field", "empty-patch"],
)
def test_a_non_admin_gets_403_whatever_the_request(
    api: Api, repo: SqliteUserRepository, member: str, method: str, path: str, body: Any
) -> None:
    api.signup(OTHER)
    path, _, query = path.partition("?")

    assert_error(call(api, member, method, path, body, query_string=query or None), 403, ADMINS_ONLY)

    assert repo.get(EMAIL).is_admin is False


def test_signing_up_on_the_collection_stays_open_to_all(api: Api, admin: str) -> None:
    result = api.signup(OTHER, path="/v1/users")
    assert result.status_code == 201
    assert_error(search(api, None), 401)


def test_promotion_and_demotion_take_effect_at_once(api: Api, admin: str, member: str) -> None:
    assert_error(search(api, member), 403)

    promoted = patch_user(api, admin, EMAIL, {"is_admin": True})
    assert promoted.status_code == 200
    assert promoted.json["data"]["is_admin"] is True
    assert api.me(member).json["data"]["is_admin"] is True
    assert search(api, member).status_code == 200

    demoted = patch_user(api, member, ADMIN, {"is_admin": False})  # the new admin demotes the old one
    assert demoted.status_code == 200
    assert_error(search(api, admin), 403, ADMINS_ONLY)
    assert api.me(admin).status_code == 200  # still logged in, no longer an admin


# -- search ------------------------------------------------------------------------------------


PEOPLE = [  # oldest first
    ("alice@abc.com", "Alice", "Liddell"),
    ("ada@abc.com", "Ada", "Lovelace"),
    ("lovelace@xyz.org", None, None),
    ("grace@abc.com", "Grace Brewster", "Hopper"),
    ("adam@xyz.org", "Adam", "Smith"),
    ("under_score@abc.com", "Percent%", None),
]


@pytest.fixture
def people(api: Api, auth: AuthService, clock: FakeClock, admin: str) -> list[str]:
    """PEOPLE, each registered a second after the one before (the admin first of all)."""
    for email, first, last in PEOPLE:
        clock.advance(seconds=1)
        auth.register(email, PASSWORD, first, last)
    return [email for email, _, _ in PEOPLE]


def test_search_without_a_query_lists_everyone_newest_first(api: Api, admin: str, people: list[str]) -> None:
    result = search(api, admin)

    assert result.json["success"] is True
    assert emails(result) == [*reversed(people), ADMIN]
    assert result.json["data"]["next_cursor"] is None
    for user in result.json["data"]["users"]:
        assert set(user) == ACCOUNT_VIEW_FIELDS
    root = result.json["data"]["users"][-1]
    assert (root["is_admin"], root["first_name"], root["login_count"]) == (True, "Root", 1)


@pytest.mark.parametrize(
    "q, expected",
    [
        ("alice", ["alice@abc.com"]),  # email prefix and first name
        ("ad", ["adam@xyz.org", "ada@abc.com"]),
        ("ADA", ["adam@xyz.org", "ada@abc.com"]),  # case does not matter
        ("lovelace", ["lovelace@xyz.org", "ada@abc.com"]),  # an email prefix, or a last name
        ("hop", ["grace@abc.com"]),  # a name word prefix
        ("brew", ["grace@abc.com"]),  # any word of a name
        ("ada love", ["ada@abc.com"]),  # every word must match
        ("love ada", ["ada@abc.com"]),
        ("  ada   LOVELACE ", ["ada@abc.com"]),
        ("ada smith", ["adam@xyz.org"]),
        ("ada hopper", []),
        ("velace", []),  # prefixes, not substrings
        ("abc.com", []),
        ("nobody", []),
        ("%", []),  # LIKE wildcards are literal
        ("_", []),
        ("under_", ["under_score@abc.com"]),
        ("under%", []),
        ("percent%", ["under_score@abc.com"]),
    ],
)
def test_search_matches_email_and_name_prefixes(
    api: Api, admin: str, people: list[str], q: str, expected: list[str]
) -> None:
    assert emails(search(api, admin, q=q)) == expected


def test_search_limit_cuts_the_page_and_gives_a_cursor(api: Api, admin: str, people: list[str]) -> None:
    first = search(api, admin, limit=2)
    assert emails(first) == ["under_score@abc.com", "adam@xyz.org"]
    cursor = first.json["data"]["next_cursor"]
    assert isinstance(cursor, str) and cursor

    second = search(api, admin, limit=2, cursor=cursor)
    assert emails(second) == ["grace@abc.com", "lovelace@xyz.org"]


def test_a_query_string_can_be_percent_encoded(api: Api, admin: str, people: list[str]) -> None:
    result = api.client.simulate_get("/v1/users", query_string="q=ada%20love&limit=5", cookies=api.with_cookie(admin))
    assert emails(result) == ["ada@abc.com"]


@pytest.fixture
def twenty_five(auth: AuthService, clock: FakeClock, admin: str) -> list[str]:
    """user00..user24, a second apart; newest first."""
    created = []
    for n in range(25):
        clock.advance(seconds=1)
        created.append(auth.register(f"user{n:02d}@abc.com", PASSWORD, f"User{n:02d}").email_address)
    return list(reversed(created))


def test_paging_through_25_users_ten_at_a_time(api: Api, admin: str, twenty_five: list[str]) -> None:
    found, sizes = all_pages(api, admin, q="user", limit=10)

    assert sizes == [10, 10, 5]
    assert found == twenty_five  # newest first, no duplicates, no gaps


def test_paging_everyone_includes_the_admin_last(api: Api, admin: str, twenty_five: list[str]) -> None:
    found, sizes = all_pages(api, admin, limit=10)

    assert sizes == [10, 10, 6]
    assert found == [*twenty_five, ADMIN]


def test_a_page_that_ends_exactly_at_the_limit_has_no_next_cursor(api: Api, admin: str, twenty_five: list[str]) -> None:
    result = search(api, admin, q="user1", limit=10)  # user10 .. user19: exactly ten
    assert emails(result) == [f"user{n}@abc.com" for n in range(19, 9, -1)]
    assert result.json["data"]["next_cursor"] is None


def test_paging_users_created_in_the_same_instant(api: Api, auth: AuthService, admin: str) -> None:
    """Equal created_at: the order falls back to the email, and the cursor still never repeats or skips."""
    for n in reversed(range(25)):
        auth.register(f"same{n:02d}@abc.com", PASSWORD)

    found, sizes = all_pages(api, admin, q="same", limit=10)

    assert sizes == [10, 10, 5]
    assert found == [f"same{n:02d}@abc.com" for n in range(25)]


def test_paging_with_limit_one_visits_everyone_once(api: Api, admin: str, people: list[str]) -> None:
    found, sizes = all_pages(api, admin, limit=1)
    assert found == [*reversed(people), ADMIN]
    assert set(sizes) == {1}


def test_a_user_deleted_between_pages_is_skipped_without_breaking_the_cursor(
    api: Api, admin: str, twenty_five: list[str]
) -> None:
    first = search(api, admin, q="user", limit=10)
    cursor = first.json["data"]["next_cursor"]
    last_seen = emails(first)[-1]
    assert delete_user(api, admin, last_seen).status_code == 200  # the very user the cursor points after

    second = search(api, admin, q="user", limit=10, cursor=cursor)

    assert emails(second) == twenty_five[10:20]


def test_the_default_limit_is_twenty(api: Api, admin: str, twenty_five: list[str]) -> None:
    result = search(api, admin, q="user")
    assert emails(result) == twenty_five[:20]
    assert result.json["data"]["next_cursor"] is not None


@pytest.mark.parametrize("limit", ["0", "101", "x", "-1", "1.5", "10abc", " "])
def test_a_malformed_limit_is_400_naming_it(api: Api, admin: str, limit: str) -> None:
    assert_names_field(search(api, admin, limit=limit), "limit", SEARCH_PARAMS)


@pytest.mark.parametrize("limit", ["1", "100"])
def test_the_limit_bounds_are_accepted(api: Api, admin: str, limit: str) -> None:
    assert emails(search(api, admin, limit=limit)) == [ADMIN]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "e30",  # {}
        "WyJ4IiwgInkiXQ",  # ["x", "y"]
        "WzEsIDJd",  # [1, 2]
        "WyIyMDI2LTAxLTAxVDEyOjAwOjAwLjAwMFoiXQ",  # a list of one
    ],
)
def test_a_malformed_cursor_is_400_naming_it(api: Api, admin: str, cursor: str) -> None:
    assert_names_field(search(api, admin, cursor=cursor), "cursor", SEARCH_PARAMS)


def test_an_overlong_query_is_400_naming_q(api: Api, admin: str) -> None:
    assert_names_field(search(api, admin, q="a" * 201), "q", ("limit", "cursor"))


# -- one user ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["test@abc.com", "test%40abc.com", "TEST%40ABC.com", "Test@Abc.Com"])
def test_get_one_user_by_email(api: Api, admin: str, clock: FakeClock, spelling: str) -> None:
    assert api.signup(EMAIL, PASSWORD, first_name="Ada").status_code == 200
    clock.advance(minutes=3)
    api.login_cookie(EMAIL)

    result = get_user(api, admin, spelling)

    assert result.status_code == 200, result.text
    data = result.json["data"]
    assert set(data) == ACCOUNT_VIEW_FIELDS
    assert without_id(data) == {
        "email_address": EMAIL,
        "first_name": "Ada",
        "last_name": None,
        "is_active": True,
        "created_at": "2026-01-01T12:00:00.000Z",
        "is_admin": False,
        "last_login_at": "2026-01-01T12:03:00.000Z",
        "login_count": 1,
        "email_verified": False,
        "pending_email_address": None,
    }


def test_get_an_unknown_user_is_404(api: Api, admin: str) -> None:
    assert_error(get_user(api, admin, "ghost@abc.com"), 404)


# -- PATCH /v1/users/{email} -------------------------------------------------------------------


def test_deactivating_ends_the_users_sessions_at_once_and_refuses_login(
    api: Api, repo: SqliteUserRepository, admin: str, member: str
) -> None:
    second = api.login_cookie(EMAIL)
    assert api.me(member).status_code == 200

    result = patch_user(api, admin, EMAIL, {"is_active": False})

    assert result.status_code == 200
    assert result.json["data"]["is_active"] is False
    for cookie in (member, second):  # no clock advance: the same process sees its own write
        assert_error(api.me(cookie), 401)
        assert_error(api.get_test(cookie), 401)
    assert_error(api.login(EMAIL, PASSWORD), 403, "This account is deactivated.")
    stored = repo.get(EMAIL)
    assert stored is not None and stored.is_active is False and stored.session_ids == ()
    assert get_user(api, admin, EMAIL).json["data"]["is_active"] is False


def test_reactivating_lets_the_user_log_in_but_revives_no_old_session(api: Api, admin: str, member: str) -> None:
    assert patch_user(api, admin, EMAIL, {"is_active": False}).status_code == 200

    assert patch_user(api, admin, EMAIL, {"is_active": True}).json["data"]["is_active"] is True

    assert_error(api.me(member), 401)
    assert api.me(api.login_cookie(EMAIL)).status_code == 200


def test_a_deactivated_user_is_not_sent_a_reset_token(api: Api, admin: str, member: str, notifier: Any) -> None:
    assert patch_user(api, admin, EMAIL, {"is_active": False}).status_code == 200
    assert api.request_reset(EMAIL).status_code == 202
    assert notifier.sent == []


def test_patch_names_and_flags(api: Api, repo: SqliteUserRepository, admin: str, member: str) -> None:
    result = patch_user(api, admin, EMAIL, {"first_name": "  Augusta ", "last_name": "King", "is_admin": True})

    assert result.status_code == 200
    data = result.json["data"]
    assert (data["first_name"], data["last_name"], data["is_admin"], data["is_active"]) == ("Augusta", "King", True, True)
    stored = repo.get(EMAIL)
    assert stored is not None and (stored.first_name, stored.last_name, stored.is_admin) == ("Augusta", "King", True)
    assert api.me(member).status_code == 200  # a name or admin change logs nobody out

    assert patch_user(api, admin, EMAIL, {"last_name": None, "is_admin": False}).status_code == 200
    stored = repo.get(EMAIL)
    assert (stored.first_name, stored.last_name, stored.is_admin) == ("Augusta", None, False)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"is_active": "false"}, "is_active"),
        ({"is_active": 0}, "is_active"),
        ({"is_active": None}, "is_active"),
        ({"is_admin": 1}, "is_admin"),
        ({"is_admin": "true"}, "is_admin"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"last_name": 7}, "last_name"),
        ({"first_name": "Eve", "is_active": "no"}, "is_active"),
    ],
)
def test_invalid_values_are_400_naming_the_field_and_change_nothing(
    api: Api, repo: SqliteUserRepository, admin: str, member: str, body: dict, field: str
) -> None:
    before = repo.get(EMAIL)

    assert_names_field(patch_user(api, admin, EMAIL, body), field, PATCH_FIELDS)

    assert repo.get(EMAIL) == before
    assert api.me(member).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": "an-admin-chosen-password"}, "password"),
        ({"password_hash": "x"}, "password_hash"),
        ({"email_address": "eve@abc.com"}, "email_address"),
        ({"login_count": 0}, "login_count"),
        ({"session_ids": []}, "session_ids"),
        ({"created_at": "2020-01-01T00:00:00.000Z"}, "created_at"),
        ({"is_active": True, "active": False}, "active"),
    ],
)
def test_fields_an_admin_cannot_set_are_400(
    api: Api, repo: SqliteUserRepository, admin: str, member: str, body: dict, field: str
) -> None:
    before = repo.get(EMAIL)

    error = assert_error(patch_user(api, admin, EMAIL, body), 400)

    assert field in error["message"]
    assert repo.get(EMAIL) == before
    assert api.me(member).status_code == 200


def test_an_empty_patch_is_400(api: Api, repo: SqliteUserRepository, admin: str, member: str) -> None:
    before = repo.get(EMAIL)
    assert_error(patch_user(api, admin, EMAIL, {}), 400)
    assert repo.get(EMAIL) == before


def test_a_non_json_patch_is_refused(api: Api, repo: SqliteUserRepository, admin: str, member: str) -> None:
    before = repo.get(EMAIL)
    assert_error(patch_user(api, admin, EMAIL, body="is_active=false", content_type="application/x-www-form-urlencoded"), 415)
    assert_error(patch_user(api, admin, EMAIL), 400)
    assert repo.get(EMAIL) == before


def test_patching_an_unknown_user_is_404_and_creates_nobody(api: Api, repo: SqliteUserRepository, admin: str) -> None:
    assert_error(patch_user(api, admin, "ghost@abc.com", {"is_active": False}), 404)
    assert repo.get("ghost@abc.com") is None


@pytest.mark.parametrize(
    "body",
    [{"is_admin": False}, {"is_active": False}, {"first_name": "Changed", "is_active": False},
     {"is_admin": False, "is_active": True}],
)
@pytest.mark.parametrize("spelling", [ADMIN, "ROOT%40abc.com"])
def test_an_admin_cannot_demote_or_deactivate_themselves(
    api: Api, repo: SqliteUserRepository, admin: str, body: dict, spelling: str
) -> None:
    before = repo.get(ADMIN)

    assert_error(patch_user(api, admin, spelling, body), 409)

    assert repo.get(ADMIN) == before
    assert search(api, admin).status_code == 200  # still an admin, still logged in
    assert api.login(ADMIN, PASSWORD).status_code == 200


def test_an_admin_may_change_their_own_names_and_restate_their_flags(api: Api, admin: str) -> None:
    result = patch_user(api, admin, ADMIN, {"first_name": "Groot", "is_admin": True, "is_active": True})
    assert result.status_code == 200
    assert (result.json["data"]["first_name"], result.json["data"]["is_admin"]) == ("Groot", True)
    assert search(api, admin).status_code == 200


def test_one_admin_may_deactivate_another(api: Api, auth: AuthService, admin: str) -> None:
    auth.register(OTHER, PASSWORD, is_admin=True)
    other = api.login_cookie(OTHER)

    assert patch_user(api, admin, OTHER, {"is_active": False}).status_code == 200

    assert_error(search(api, other), 401)


# -- DELETE /v1/users/{email} ------------------------------------------------------------------


def test_deleting_removes_the_user_and_ends_their_sessions(
    api: Api, repo: SqliteUserRepository, admin: str, member: str
) -> None:
    result = delete_user(api, admin, "test%40abc.com")

    assert result.status_code == 200
    assert result.json["success"] is True
    assert repo.get(EMAIL) is None
    assert_error(get_user(api, admin, EMAIL), 404)
    assert_error(api.me(member), 401)
    assert_error(api.login(EMAIL, PASSWORD), 400, BAD_CREDENTIALS)
    assert EMAIL not in emails(search(api, admin))
    assert_error(delete_user(api, admin, EMAIL), 404)


def test_an_old_session_does_not_carry_over_to_a_new_account_at_the_same_address(
    api: Api, admin: str, member: str
) -> None:
    assert delete_user(api, admin, EMAIL).status_code == 200
    assert api.signup(EMAIL, "a-different-owner-pass").status_code == 200
    api.login_cookie(EMAIL, "a-different-owner-pass")

    assert_error(api.me(member), 401)


def test_deleting_an_unknown_user_is_404(api: Api, admin: str) -> None:
    assert_error(delete_user(api, admin, "ghost@abc.com"), 404)


@pytest.mark.parametrize("spelling", [ADMIN, "Root%40ABC.com"])
def test_an_admin_cannot_delete_themselves(api: Api, repo: SqliteUserRepository, admin: str, spelling: str) -> None:
    before = repo.get(ADMIN)

    assert_error(delete_user(api, admin, spelling), 409)

    assert repo.get(ADMIN) == before
    assert search(api, admin).status_code == 200


# -- nothing secret leaves ---------------------------------------------------------------------


def store_secrets(repo: SqliteUserRepository, addresses: Iterable[str]) -> set[str]:
    """Every password hash (and its salt and digest parts) and session id held for these users."""
    found: set[str] = set()
    for email in addresses:
        user = repo.get(email)
        assert user is not None
        found.add(user.password_hash)
        found.update(part for part in user.password_hash.split("$")[-2:] if len(part) >= 16)
        found.update(user.session_ids)
    return found


def test_no_admin_response_carries_a_hash_or_a_session_id(
    api: Api, repo: SqliteUserRepository, admin: str, member: str, people: list[str]
) -> None:
    api.login_cookie(EMAIL)
    api.login_cookie(people[0])
    secrets = store_secrets(repo, [ADMIN, EMAIL, *people])
    assert len(secrets) > 10

    responses = [
        search(api, admin),
        search(api, admin, limit=3),
        search(api, admin, q="test"),
        get_user(api, admin, EMAIL),
        get_user(api, admin, ADMIN),
        patch_user(api, admin, EMAIL, {"first_name": "Ada"}),
        patch_user(api, admin, people[0], {"is_active": False}),
        patch_user(api, admin, ADMIN, {"is_admin": False}),
        patch_user(api, admin, EMAIL, {"password": "an-admin-chosen-password"}),
        delete_user(api, admin, people[1]),
        delete_user(api, admin, ADMIN),
        search(api, member),
        get_user(api, member, ADMIN),
    ]

    for result in responses:
        for secret in secrets:
            assert secret not in result.text, (result.status, result.text)
        for user in (result.json.get("data") or {}).get("users", []) if result.status_code == 200 else []:
            assert set(user) == ACCOUNT_VIEW_FIELDS
        assert "argon2" not in result.text and "session_id" not in result.text


def test_a_demotion_made_elsewhere_counts_at_once_on_admin_routes(api, auth, repo, clock) -> None:
    """Admin rights are read from the store, not from the session check's 1 s view."""
    admin_cookie = api.signup_and_login("boss@abc.com", "boss password 1")
    repo.update(dataclasses.replace(repo.get("boss@abc.com"), is_admin=True))
    clock.advance(seconds=1)
    assert api.client.simulate_get("/v1/users", cookies=api.with_cookie(admin_cookie)).status_code == 200
    repo.update(dataclasses.replace(repo.get("boss@abc.com"), is_admin=False))  # as another process would
    refused = api.client.simulate_get("/v1/users", cookies=api.with_cookie(admin_cookie))
    assert refused.status_code == 403


@pytest.mark.parametrize("address", ["a/b@abc.com", "me/password@abc.com", "new/x@abc.com"])
def test_an_address_with_a_slash_is_found_at_its_location(api: Api, admin: str, address: str) -> None:
    """`/` is legal in a local part, and the server sees the path decoded (%2F is `/`): the
    Location of a new account must still lead to it, and the admin routes reach it.
    Found by schemathesis: 201 with Location /v1/users/%2F@..., then 404 there."""
    created = api.signup(address, path="/v1/users")
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert "/" not in location.removeprefix("/v1/users/")
    found = api.client.simulate_get(location, cookies=api.with_cookie(admin))
    assert found.status_code == 200, found.text
    assert found.json["data"]["email_address"] == address
    changed = patch_user(api, admin, location.removeprefix("/v1/users/"), {"first_name": "Slash"})
    assert changed.status_code == 200, changed.text
    assert delete_user(api, admin, location.removeprefix("/v1/users/")).status_code == 200
    assert get_user(api, admin, location.removeprefix("/v1/users/")).status_code == 404
