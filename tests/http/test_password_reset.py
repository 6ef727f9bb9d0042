"""Password reset over HTTP: an enumeration-safe 202, then a single-use, 1-hour token."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.fakes import FakeClock, RecordingNotifier
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error, assert_names_field, flip

NEW_PASSWORD = "a-brand-new-passphrase"
WRONG = PASSWORD + "!"
OTHER_EMAIL = "other@abc.com"
INACTIVE_EMAIL = "inactive@abc.com"
BAD_CREDENTIALS = "Unknown email_address or bad password"


def deactivate(repo: SqliteUserRepository, email: str) -> None:
    user = repo.get(email)
    assert user is not None
    repo.update(dataclasses.replace(user, is_active=False))


def headers_but_request_id(result: Any) -> list[tuple[str, str]]:
    return sorted((name.lower(), value) for name, value in result.headers.items() if name.lower() != "x-request-id")


def token_for(api: Api, notifier: RecordingNotifier, email: str = EMAIL) -> str:
    """Ask for a reset and return the one token it sent."""
    before = len(notifier.sent)
    assert api.request_reset(email).status_code == 202
    assert len(notifier.sent) == before + 1
    sent_to, token = notifier.sent[-1]
    assert sent_to == email
    return token


def password_of(api: Api, email: str, *candidates: str) -> list[int]:
    return [api.login(email, candidate).status_code for candidate in candidates]


# -- POST /v1/auth/password-reset ---------------------------------------------------------------


def test_the_answer_is_the_same_for_known_unknown_and_deactivated_addresses(
    api: Api, repo: SqliteUserRepository, notifier: RecordingNotifier
) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    assert api.signup(INACTIVE_EMAIL, PASSWORD).status_code == 200
    deactivate(repo, INACTIVE_EMAIL)

    known = api.request_reset(EMAIL)
    unknown = api.request_reset("nobody@abc.com")
    inactive = api.request_reset(INACTIVE_EMAIL)

    for result in (known, unknown, inactive):
        assert result.status_code == 202
        assert result.json["success"] is True
        assert "set-cookie" not in result.headers
    assert known.content == unknown.content == inactive.content
    assert headers_but_request_id(known) == headers_but_request_id(unknown) == headers_but_request_id(inactive)
    assert "nobody" not in unknown.text and EMAIL not in known.text


def test_only_the_known_active_user_is_sent_a_token(
    api: Api, repo: SqliteUserRepository, notifier: RecordingNotifier
) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    assert api.signup(INACTIVE_EMAIL, PASSWORD).status_code == 200
    deactivate(repo, INACTIVE_EMAIL)

    for email in ("nobody@abc.com", INACTIVE_EMAIL, EMAIL):
        assert api.request_reset(email).status_code == 202

    assert [sent_to for sent_to, _ in notifier.sent] == [EMAIL]
    token = notifier.sent[0][1]
    assert isinstance(token, str) and len(token) > 20
    assert PASSWORD not in token


def test_the_address_is_matched_as_at_signup(api: Api, notifier: RecordingNotifier) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    assert api.request_reset("  Test@ABC.com ").status_code == 202
    assert [sent_to for sent_to, _ in notifier.sent] == [EMAIL]


def test_asking_does_not_change_the_account_or_end_sessions(
    api: Api, repo: SqliteUserRepository, notifier: RecordingNotifier
) -> None:
    cookie = api.signup_and_login()
    before = repo.get(EMAIL)

    assert api.request_reset(EMAIL).status_code == 202

    assert repo.get(EMAIL) == before
    assert api.me(cookie).status_code == 200
    assert api.login(EMAIL, PASSWORD).status_code == 200  # someone else asking locks nobody out


@pytest.mark.parametrize("email", ["not-an-email", "", "a@b", 42, None, ["test@abc.com"]])
def test_a_malformed_address_is_400_and_sends_nothing(api: Api, notifier: RecordingNotifier, email: Any) -> None:
    assert_names_field(api.request_reset(email), "email_address", ())
    assert notifier.sent == []


@pytest.mark.parametrize(
    "body, field",
    [({}, "email_address"), ({"email_address": EMAIL, "token": "x"}, "token"), ({"email": EMAIL}, "email")],
)
def test_missing_or_extra_fields_are_400(api: Api, notifier: RecordingNotifier, body: dict, field: str) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    error = assert_error(api.client.simulate_post("/v1/auth/password-reset", json=body), 400)
    assert field in error["message"]
    assert notifier.sent == []


def test_a_non_json_request_is_refused(api: Api, notifier: RecordingNotifier) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    result = api.client.simulate_post(
        "/v1/auth/password-reset", body=f"email_address={EMAIL}", content_type="application/x-www-form-urlencoded"
    )
    assert_error(result, 415)
    assert notifier.sent == []


# -- POST /v1/auth/password-reset/confirm -------------------------------------------------------


def test_confirming_sets_the_password_and_ends_every_session(
    any_api: Api, notifier: RecordingNotifier
) -> None:
    api = any_api
    first = api.signup_and_login()
    second = api.login_cookie()
    token = token_for(api, notifier)

    result = api.confirm_reset(token, NEW_PASSWORD)

    assert result.status_code == 200
    assert result.json["success"] is True
    assert "set-cookie" not in result.headers  # a reset logs nobody in
    assert NEW_PASSWORD not in result.text and token not in result.text
    for cookie in (first, second):
        assert_error(api.me(cookie), 401)
    assert_error(api.login(EMAIL, PASSWORD), 400, BAD_CREDENTIALS)
    fresh = api.login_cookie(EMAIL, NEW_PASSWORD)
    assert api.me(fresh).status_code == 200


def test_a_token_works_once(api: Api, notifier: RecordingNotifier) -> None:
    api.signup_and_login()
    token = token_for(api, notifier)
    assert api.confirm_reset(token, NEW_PASSWORD).status_code == 200

    again = api.confirm_reset(token, "yet-another-passphrase")

    body = assert_error(again, 400)
    assert "already used" in body["message"]
    assert password_of(api, EMAIL, "yet-another-passphrase", NEW_PASSWORD) == [400, 200]


def test_a_newer_token_kills_nothing_but_the_first_use_kills_both(api: Api, notifier: RecordingNotifier) -> None:
    api.signup_and_login()
    older, newer = token_for(api, notifier), token_for(api, notifier)

    assert api.confirm_reset(older, NEW_PASSWORD).status_code == 200
    assert_error(api.confirm_reset(newer, "yet-another-passphrase"), 400)
    assert password_of(api, EMAIL, NEW_PASSWORD) == [200]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: flip(token, len(token) - 1),  # signature
        lambda token: ("e" if token[0] != "e" else "f") + token[1:],  # payload
        lambda token: token.split(".")[0],  # no signature
        lambda token: token + token,
        lambda token: "",
        lambda token: "not a token at all",
    ],
    ids=["signature", "payload", "unsigned", "doubled", "empty", "garbage"],
)
def test_a_tampered_token_is_400_and_changes_nothing(
    api: Api, repo: SqliteUserRepository, notifier: RecordingNotifier, mangle: Any
) -> None:
    cookie = api.signup_and_login()
    token = token_for(api, notifier)
    before = repo.get(EMAIL)

    body = assert_error(api.confirm_reset(mangle(token), NEW_PASSWORD), 400)

    assert "not valid" in body["message"]
    assert repo.get(EMAIL) == before
    assert api.me(cookie).status_code == 200
    assert api.confirm_reset(token, NEW_PASSWORD).status_code == 200  # the real one still works


def test_a_value_from_another_signer_is_refused(make_api: Any) -> None:
    """A session cookie (same key, other salt) is no reset token."""
    api = make_api()
    cookie = api.signup_and_login()
    body = assert_error(api.confirm_reset(cookie, NEW_PASSWORD), 400)
    assert "not valid" in body["message"]
    assert password_of(api, EMAIL, PASSWORD) == [200]


def test_a_token_is_good_for_exactly_one_hour(api: Api, clock: FakeClock, notifier: RecordingNotifier) -> None:
    api.signup_and_login()
    token = token_for(api, notifier)
    clock.advance(hours=1)
    assert api.confirm_reset(token, NEW_PASSWORD).status_code == 200


def test_an_expired_token_is_400_saying_so(
    api: Api, repo: SqliteUserRepository, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    api.signup_and_login()
    token = token_for(api, notifier)
    before = repo.get(EMAIL)
    clock.advance(hours=1, seconds=1)

    body = assert_error(api.confirm_reset(token, NEW_PASSWORD), 400)

    assert "expired" in body["message"]
    assert repo.get(EMAIL) == before
    assert password_of(api, EMAIL, NEW_PASSWORD, PASSWORD) == [400, 200]
    fresh = token_for(api, notifier)  # asking again gives a token that works
    assert api.confirm_reset(fresh, NEW_PASSWORD).status_code == 200


def test_a_token_dies_when_the_password_is_changed_another_way(api: Api, notifier: RecordingNotifier) -> None:
    cookie = api.signup_and_login()
    token = token_for(api, notifier)
    assert api.change_password(cookie, PASSWORD, "changed-by-the-owner").status_code == 200

    body = assert_error(api.confirm_reset(token, NEW_PASSWORD), 400)

    assert "password changed" in body["message"]
    assert password_of(api, EMAIL, NEW_PASSWORD, "changed-by-the-owner") == [400, 200]


def test_a_token_for_a_since_deactivated_user_is_refused(
    api: Api, repo: SqliteUserRepository, notifier: RecordingNotifier
) -> None:
    api.signup_and_login()
    token = token_for(api, notifier)
    deactivate(repo, EMAIL)

    body = assert_error(api.confirm_reset(token, NEW_PASSWORD), 400)

    assert "deactivated" in body["message"]
    stored = repo.get(EMAIL)
    assert stored is not None and not stored.is_active


def test_a_token_for_a_since_deleted_user_is_refused(
    api: Api, repo: SqliteUserRepository, notifier: RecordingNotifier
) -> None:
    api.signup_and_login()
    token = token_for(api, notifier)
    assert repo.delete(EMAIL)

    assert_error(api.confirm_reset(token, NEW_PASSWORD), 400)
    assert repo.get(EMAIL) is None


def test_one_users_token_touches_no_other_user(api: Api, notifier: RecordingNotifier) -> None:
    api.signup_and_login()
    other = api.signup_and_login(OTHER_EMAIL)
    token = token_for(api, notifier)

    assert api.confirm_reset(token, NEW_PASSWORD).status_code == 200

    assert api.me(other).status_code == 200
    assert password_of(api, OTHER_EMAIL, PASSWORD) == [200]


@pytest.mark.parametrize("new", ["short", "", "x" * 1025, 12345678, None])
def test_a_new_password_failing_the_policy_is_400_and_keeps_the_token_alive(
    api: Api, notifier: RecordingNotifier, new: Any
) -> None:
    cookie = api.signup_and_login()
    token = token_for(api, notifier)

    assert_names_field(api.confirm_reset(token, new), "new_password", ("token",))

    assert api.me(cookie).status_code == 200
    assert api.confirm_reset(token, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"new_password": NEW_PASSWORD}, "token"),
        ({"token": "t"}, "new_password"),
        ({"token": "t", "new_password": NEW_PASSWORD, "email_address": EMAIL}, "email_address"),
        ({"token": 12345, "new_password": NEW_PASSWORD}, "token"),
        ({"token": None, "new_password": NEW_PASSWORD}, "token"),
    ],
)
def test_confirm_with_missing_extra_or_mistyped_fields_is_400(api: Api, body: dict, field: str) -> None:
    api.signup_and_login()
    error = assert_error(api.client.simulate_post("/v1/auth/password-reset/confirm", json=body), 400)
    assert field in error["message"]
    assert password_of(api, EMAIL, PASSWORD) == [200]


def test_a_successful_reset_lifts_a_login_throttle(api: Api, notifier: RecordingNotifier) -> None:
    api.signup_and_login()
    for _ in range(5):
        assert_error(api.login(EMAIL, WRONG), 400, BAD_CREDENTIALS)
    assert_error(api.login(EMAIL, PASSWORD), 429)
    token = token_for(api, notifier)

    assert api.confirm_reset(token, NEW_PASSWORD).status_code == 200

    assert api.login(EMAIL, NEW_PASSWORD).status_code == 200  # no waiting: the clock never moved


def test_a_refused_token_does_not_lift_the_throttle(api: Api, notifier: RecordingNotifier) -> None:
    api.signup_and_login()
    token = token_for(api, notifier)
    for _ in range(5):
        assert_error(api.login(EMAIL, WRONG), 400)

    assert_error(api.confirm_reset(token[:-2], NEW_PASSWORD), 400)

    assert_error(api.login(EMAIL, PASSWORD), 429)
