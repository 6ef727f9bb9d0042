"""Personal access tokens: made with a session, shown once, used as `Authorization: Bearer`."""

from __future__ import annotations

import re

import pytest

from domain.access_tokens import MAX_TOKENS_PER_USER, token_digest
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, PASSWORD, Api, MakeApi, assert_error

TOKEN = re.compile(r"esauth_pat_[a-z2-7]{26}_[a-z2-7]{13}_[a-z2-7]{52}")
NEW_PASSWORD = "a-brand-new-passphrase"


def make_token(api: Api, cookie: str, name: str = "ci", **fields) -> dict:
    result = post_token(api, cookie, {"name": name, "current_password": PASSWORD, **fields})
    assert result.status_code == 201, result.text
    return result.json["data"]


def post_token(api: Api, cookie: str, body: dict):
    return api.client.simulate_post("/v1/users/me/tokens", cookies=api.with_cookie(cookie), json=body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def list_tokens(api: Api, cookie: str) -> list[dict]:
    result = api.client.simulate_get("/v1/users/me/tokens", cookies=api.with_cookie(cookie))
    assert result.status_code == 200, result.text
    return result.json["data"]["tokens"]


def revoke(api: Api, cookie: str, token_id: str):
    return api.client.simulate_delete(f"/v1/users/me/tokens/{token_id}", cookies=api.with_cookie(cookie))


def verify(api: Api, token: str):
    return api.client.simulate_get("/v1/auth/verify", headers=bearer(token))


@pytest.fixture
def cookie(api: Api) -> str:
    return api.signup_and_login()


def test_a_token_is_shown_once_stored_as_a_digest_and_listed_without_its_secret(api: Api, cookie: str, repo: SqliteUserRepository, clock: FakeClock) -> None:
    created = make_token(api, cookie, "deploy bot", expires_in_days=30)
    token = created["token"]
    assert TOKEN.fullmatch(token)
    assert created["name"] == "deploy bot" and created["expires_at"] == "2026-01-31T12:00:00.000Z"
    stored = repo.get(EMAIL)
    assert [t.digest for t in stored.access_tokens] == [token_digest(token)]
    assert token.rsplit("_", 1)[1] not in str(stored)
    listed = list_tokens(api, cookie)
    assert listed == [{"id": created["id"], "name": "deploy bot", "created_at": "2026-01-01T12:00:00.000Z",
                       "expires_at": "2026-01-31T12:00:00.000Z", "last_used_at": None}]
    assert token not in str(listed)


def test_a_bearer_token_passes_verify_and_login_required_routes_as_its_user(api: Api, cookie: str) -> None:
    user_id = api.me(cookie).json["data"]["id"]
    token = make_token(api, cookie)["token"]
    result = verify(api, token)
    assert result.status_code == 200
    assert (result.headers["x-auth-request-user"], result.headers["x-auth-request-email"]) == (user_id, EMAIL)
    assert "set-cookie" not in result.headers
    assert api.client.simulate_get("/v1/test", headers=bearer(token)).json["data"]["user"]["id"] == user_id
    patched = api.client.simulate_patch("/v1/users/me", headers=bearer(token), json={"first_name": "Bot"})
    assert patched.status_code == 200 and patched.json["data"]["first_name"] == "Bot"


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/v1/users/me/tokens", {"name": "x", "current_password": PASSWORD}),
    ("GET", "/v1/users/me/tokens", None),
    ("DELETE", "/v1/users/me/tokens/abc", None),
    ("POST", "/v1/users/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    ("POST", "/v1/auth/logout", None),
    ("POST", "/v1/auth/logout-all", None),
    ("GET", "/v1/users/me/sessions", None),  # the list marks the caller's session; a token has none
    ("DELETE", "/v1/users/me/sessions/abc", None),
])
def test_a_token_cannot_change_credentials_or_manage_tokens(api: Api, cookie: str, method: str, path: str, body) -> None:
    token = make_token(api, cookie)["token"]
    result = api.client.simulate_request(method, path, headers=bearer(token), json=body)
    assert_error(result, 403, "This needs a login session: a token cannot change credentials or manage tokens.")
    assert api.login(EMAIL, PASSWORD).status_code == 200  # the password did not change
    assert len(list_tokens(api, cookie)) == 1


@pytest.mark.parametrize("garbage", ["", "nope", "esauth_pat_", "esauth_pat_" + "a" * 26 + "_" + "b" * 13 + "_" + "c" * 52])
def test_unknown_malformed_and_revoked_tokens_answer_alike(api: Api, cookie: str, garbage: str) -> None:
    made = make_token(api, cookie)
    assert revoke(api, cookie, made["id"]).status_code == 200
    forged = made["token"][:-4] + "aaaa"
    answers = []
    for token in (garbage, made["token"], forged):
        result = verify(api, token)
        answers.append((result.status_code, result.json, result.headers.get("www-authenticate")))
    assert answers == [(401, {"error": "401: Unauthorized", "message": "The bearer token is not valid.", "success": False},
                        'Bearer error="invalid_token"')] * 3


def test_a_revoked_token_is_refused_at_once_and_cannot_be_revoked_twice(api: Api, cookie: str) -> None:
    token_data = make_token(api, cookie)
    assert verify(api, token_data["token"]).status_code == 200
    assert revoke(api, cookie, token_data["id"]).json == {"message": "Token revoked.", "success": True}
    assert_error(verify(api, token_data["token"]), 401)
    assert_error(revoke(api, cookie, token_data["id"]), 404, "No such token.")


def test_an_expired_token_is_refused(api: Api, cookie: str, clock: FakeClock) -> None:
    token = make_token(api, cookie, expires_in_days=1)["token"]
    clock.advance(hours=23, minutes=59)
    assert verify(api, token).status_code == 200
    clock.advance(minutes=1)
    assert_error(verify(api, token), 401, "The bearer token is not valid.")


def test_last_use_is_kept_to_the_hour_and_written_once_an_hour(api: Api, cookie: str, clock: FakeClock, audit_lines) -> None:
    token = make_token(api, cookie)["token"]
    clock.advance(minutes=40)
    for _ in range(3):
        assert verify(api, token).status_code == 200
    assert list_tokens(api, api.login_cookie())[0]["last_used_at"] == "2026-01-01T12:00:00.000Z"
    clock.advance(minutes=30)
    verify(api, token)
    assert list_tokens(api, api.login_cookie())[0]["last_used_at"] == "2026-01-01T13:00:00.000Z"
    assert [line["event"] for line in audit_lines()].count("token_used") == 2


def test_deactivation_and_deletion_end_tokens_and_reactivation_does_not_revive_them(api: Api, cookie: str, auth, clock: FakeClock) -> None:
    auth.register("root@abc.com", PASSWORD, is_admin=True)
    admin = api.login_cookie("root@abc.com")
    token = make_token(api, cookie)["token"]
    path = f"/v1/users/{EMAIL}"
    assert api.client.simulate_patch(path, cookies=api.with_cookie(admin), json={"is_active": False}).status_code == 200
    assert_error(verify(api, token), 401)
    api.client.simulate_patch(path, cookies=api.with_cookie(admin), json={"is_active": True})
    clock.advance(seconds=2)
    assert_error(verify(api, token), 401)

    other = api.signup_and_login("bot@abc.com")
    second = make_token(api, other)["token"]
    assert api.client.simulate_delete("/v1/users/bot@abc.com", cookies=api.with_cookie(admin)).status_code == 200
    assert_error(verify(api, second), 401)
    api.signup_and_login("bot@abc.com")  # the email again: another id, none of the old tokens
    assert_error(verify(api, second), 401)


def test_a_password_change_keeps_tokens_and_a_reset_ends_them(api: Api, cookie: str, notifier) -> None:
    token = make_token(api, cookie)["token"]
    assert api.change_password(cookie, PASSWORD, NEW_PASSWORD).status_code == 200
    assert verify(api, token).status_code == 200
    api.request_reset(EMAIL)
    (_, reset_token), = notifier.delivered()
    assert api.confirm_reset(reset_token, PASSWORD).status_code == 200
    assert_error(verify(api, token), 401)


def test_tokens_per_user_are_capped(api: Api, cookie: str) -> None:
    for n in range(MAX_TOKENS_PER_USER):
        make_token(api, cookie, f"t{n}")
    result = post_token(api, cookie, {"name": "one more", "current_password": PASSWORD})
    assert_error(result, 409, f"You have {MAX_TOKENS_PER_USER} tokens, the most allowed: revoke one first.")


@pytest.mark.parametrize("body,field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": 5}, "name"), ({"name": "x" * 101}, "name"),
    ({"name": "a\nb"}, "name"), ({"name": "x", "expires_in_days": 0}, "expires_in_days"),
    ({"name": "x", "expires_in_days": 366}, "expires_in_days"), ({"name": "x", "expires_in_days": True}, "expires_in_days"),
    ({"name": "x", "expires_in_days": "7"}, "expires_in_days"), ({"name": "x", "scope": "all"}, "scope"),
    ({"name": "x", "current_password": None}, "current_password"), ({"name": "x", "current_password": 5}, "current_password"),
])
def test_a_bad_token_request_is_a_400_naming_the_field_and_makes_nothing(api: Api, cookie: str, body, field) -> None:
    result = post_token(api, cookie, {"current_password": PASSWORD, **body})
    assert field in assert_error(result, 400)["message"]
    assert list_tokens(api, cookie) == []


def test_making_a_token_takes_the_current_password_checked_like_a_login(api: Api, cookie: str, repo: SqliteUserRepository, audit_lines) -> None:
    """A stolen session alone must not become a credential that outlives it by months."""
    assert_error(post_token(api, cookie, {"name": "ci"}), 400, "current_password: is required")
    assert_error(post_token(api, cookie, {"name": "ci", "current_password": PASSWORD + "!"}), 400, "current_password: is not correct")
    assert list_tokens(api, cookie) == []
    assert repo.get(EMAIL).failed_logins == 1  # a wrong password counts as a failed login
    assert [line["event"] for line in audit_lines()].count("token_create_failed") == 1
    make_token(api, cookie)
    assert repo.get(EMAIL).failed_logins == 0


def test_a_throttled_account_makes_no_token_even_with_the_right_password(api: Api, cookie: str) -> None:
    for _ in range(5):
        assert_error(api.login(EMAIL, PASSWORD + "!"), 400)
    result = post_token(api, cookie, {"name": "ci", "current_password": PASSWORD})
    assert_error(result, 429)
    assert "retry-after" in result.headers and list_tokens(api, cookie) == []


def test_each_attempt_to_make_a_token_spends_a_client_rate_limit_token(make_api: MakeApi) -> None:
    api = make_api(per_minute=4)
    cookie = api.signup_and_login()  # spends 2 of 4
    make_token(api, cookie)
    assert_error(post_token(api, cookie, {"name": "ci", "current_password": PASSWORD + "!"}), 400)
    assert_error(post_token(api, cookie, {"name": "ci", "current_password": PASSWORD}), 429)


def test_logging_out_everywhere_ends_every_token_too(api: Api, cookie: str, audit_lines) -> None:
    """The button for "someone else has my account": whatever acts as the user ends, the tokens
    included (a password change keeps them, see below)."""
    first, second = make_token(api, cookie)["token"], make_token(api, cookie, "deploy")["token"]
    result = api.client.simulate_post("/v1/auth/logout-all", cookies=api.with_cookie(cookie))
    assert result.status_code == 200 and result.json["data"] == {"tokens_revoked": 2}
    assert_error(verify(api, first), 401)
    assert_error(verify(api, second), 401)
    assert list_tokens(api, api.login_cookie()) == []
    (ended,) = [line for line in audit_lines() if line["event"] == "logout_all"]
    assert ended["tokens_revoked"] == 2


def test_bad_tokens_spend_the_clients_login_allowance_then_every_bearer_attempt_waits(make_api: MakeApi, audit_lines) -> None:
    api = make_api(per_minute=6)
    cookie = api.signup_and_login()  # spends 2 of 6
    good = make_token(api, cookie)["token"]  # and 1 more: it checks a password
    for _ in range(3):
        assert_error(verify(api, "esauth_pat_guess"), 401)
    throttled = verify(api, good)  # even a good token: guessing must get no more answers
    assert throttled.status_code == 401 and "retry-after" in throttled.headers  # auth_request knows no 429
    on_api = api.client.simulate_get("/v1/test", headers=bearer(good))
    assert_error(on_api, 429)
    events = [line["event"] for line in audit_lines()]
    assert events.count("token_refused") == 3 and events.count("token_throttled") == 2
    assert api.get_test(cookie).status_code == 200  # a session is not a guess


def test_a_refused_token_is_audited_with_the_user_id_it_names_known_or_not(api: Api, cookie: str, audit_lines) -> None:
    """So an owner's attacked account can be followed (by its id) at the same cost for any id."""
    token = make_token(api, cookie)["token"]
    _, user_id, _, _ = token.rsplit("_", 3)
    assert_error(verify(api, f"esauth_pat_{user_id}_{'c' * 13}_{'d' * 52}"), 401)
    assert_error(verify(api, f"esauth_pat_{'a' * 26}_{'c' * 13}_{'d' * 52}"), 401)
    assert_error(verify(api, "esauth_pat_guess"), 401)
    refused = [line for line in audit_lines() if line["event"] == "token_refused"]
    assert [(line["user"], line.get("user_id")) for line in refused] == [(None, user_id), (None, "a" * 26), (None, None)]


def test_audit_lines_never_hold_the_token(api: Api, cookie: str, caplog) -> None:
    token = make_token(api, cookie)["token"]
    verify(api, token)
    verify(api, token[:-1] + "a")
    secret = token.rsplit("_", 1)[1]
    assert secret not in caplog.text


def test_an_administrators_token_carries_admin_rights_read_fresh_so_a_demotion_counts_at_once(api: Api, auth) -> None:
    auth.register("root@abc.com", PASSWORD, is_admin=True)
    auth.register("other@abc.com", PASSWORD, is_admin=True)
    root = api.login_cookie("root@abc.com")
    token = make_token(api, root)["token"]
    assert api.client.simulate_get("/v1/users", headers=bearer(token)).status_code == 200
    other = api.login_cookie("other@abc.com")
    demoted = api.client.simulate_patch("/v1/users/root@abc.com", cookies=api.with_cookie(other), json={"is_admin": False})
    assert demoted.status_code == 200
    assert_error(api.client.simulate_get("/v1/users", headers=bearer(token)), 403, "Administrators only.")
