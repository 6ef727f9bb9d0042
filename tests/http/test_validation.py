"""Bad sign-up and login bodies: 400 naming the field, and nothing stored or changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error, assert_names_field, stored_emails

SIGNUP_FIELDS = ("email_address", "password", "first_name", "last_name")
LOGIN_FIELDS = ("email_address", "password")
VALID_SIGNUP = {"email_address": EMAIL, "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"}
NOT_A_STRING = [None, 12345678, 1.5, True, False, [], ["test@abc.com"], {}, {"a": "b"}]
NOT_A_STRING_OR_NULL = [value for value in NOT_A_STRING if value is not None]


def post_signup(api: Api, body: dict[str, Any], path: str = "/v1/users/new") -> Any:
    return api.client.simulate_post(path, json=body)


@pytest.fixture(params=["/v1/users/new", "/v1/users"])
def signup_path(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.parametrize("field", ["email_address", "password"])
def test_signup_missing_required_field(api: Api, db_path: Path, signup_path: str, field: str) -> None:
    body = {name: value for name, value in VALID_SIGNUP.items() if name != field}

    assert_names_field(post_signup(api, body, signup_path), field, SIGNUP_FIELDS)
    assert stored_emails(db_path) == []


def test_signup_empty_object_names_a_field(api: Api, db_path: Path) -> None:
    body = assert_error(post_signup(api, {}), 400)
    assert "email_address" in body["message"] or "password" in body["message"]
    assert stored_emails(db_path) == []


@pytest.mark.parametrize("extra", ["is_active", "password_hash", "created_at", "session_ids", "emailAddress", "admin"])
def test_signup_extra_field(api: Api, db_path: Path, signup_path: str, extra: str) -> None:
    body = {**VALID_SIGNUP, extra: True}

    assert_names_field(post_signup(api, body, signup_path), extra, ())
    assert stored_emails(db_path) == []


@pytest.mark.parametrize("value", NOT_A_STRING, ids=repr)
@pytest.mark.parametrize("field", ["email_address", "password"])
def test_signup_required_field_of_the_wrong_type(api: Api, db_path: Path, field: str, value: Any) -> None:
    body = {**VALID_SIGNUP, field: value}

    assert_names_field(post_signup(api, body), field, SIGNUP_FIELDS)
    assert stored_emails(db_path) == []


@pytest.mark.parametrize("value", NOT_A_STRING_OR_NULL, ids=repr)
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_signup_name_of_the_wrong_type(api: Api, db_path: Path, field: str, value: Any) -> None:
    body = {**VALID_SIGNUP, field: value}

    assert_names_field(post_signup(api, body), field, SIGNUP_FIELDS)
    assert stored_emails(db_path) == []


def email_of_length(length: int) -> str:
    """A well-formed address of exactly `length` characters, with a 64-character local part."""
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * (length - 64 - 1 - 128 - 4) + ".com"
    assert len(email) == length
    return email


BAD_EMAILS = {
    "empty": "",
    "blank": "   ",
    "no at": "test.abc.com",
    "two ats": "test@@abc.com",
    "at in domain": "test@abc@abc.com",
    "no local part": "@abc.com",
    "no domain": "test@",
    "undotted domain": "test@localhost",
    "empty label": "test@abc..com",
    "leading dot domain": "test@.abc.com",
    "trailing dot domain": "test@abc.com.",
    "label starting with hyphen": "test@-abc.com",
    "label ending with hyphen": "test@abc-.com",
    "inner space": "te st@abc.com",
    "space in domain": "test@abc .com",
    "tab": "te\tst@abc.com",
    "newline": "test@abc.com\nBcc: evil@abc.com",
    "carriage return": "te\rst@abc.com",
    "nul": "te\x00st@abc.com",
    "delete": "te\x7fst@abc.com",
    "c1 control": "te\x85st@abc.com",
    "no-break space": "te\u00a0st@abc.com",
    "zero-width space": "te\u200bst@abc.com",
    "255 characters": email_of_length(255),
    "local part of 65": "a" * 65 + "@abc.com",
    "way too long": "a" * 5000 + "@abc.com",
}


@pytest.mark.parametrize("email", BAD_EMAILS.values(), ids=BAD_EMAILS.keys())
def test_signup_email_that_is_not_an_address(api: Api, db_path: Path, signup_path: str, email: str) -> None:
    assert_names_field(api.signup(email, PASSWORD, path=signup_path), "email_address", SIGNUP_FIELDS)
    assert stored_emails(db_path) == []


def test_the_longest_allowed_email_is_254_characters(api: Api, db_path: Path) -> None:
    email = email_of_length(254)
    assert len(BAD_EMAILS["255 characters"]) == 255

    result = api.signup(email, PASSWORD)

    assert result.status_code == 200, result.text
    assert stored_emails(db_path) == [email]


@pytest.mark.parametrize("password", ["", "short", "1234567", "é" * 7, "x" * 1025, "€" * 1025],
                         ids=["empty", "5", "7", "7 non-ascii", "1025", "1025 non-ascii"])
def test_signup_password_too_short_or_too_long(api: Api, db_path: Path, password: str) -> None:
    assert_names_field(api.signup(EMAIL, password), "password", SIGNUP_FIELDS)
    assert stored_emails(db_path) == []


@pytest.mark.parametrize("password", ["q7#vZ!m2", "é" * 8, "x" * 1024, "€" * 1024],
                         ids=["8", "8 non-ascii", "1024", "1024 non-ascii (3 KiB)"])
def test_password_lengths_at_the_limits_are_accepted(api: Api, password: str) -> None:
    """The limits count characters, not bytes."""
    assert api.signup(EMAIL, password).status_code == 200
    assert api.login(EMAIL, password).status_code == 200


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_names_are_at_most_100_characters(api: Api, db_path: Path, field: str) -> None:
    assert_names_field(api.signup(EMAIL, PASSWORD, **{field: "n" * 101}), field, SIGNUP_FIELDS)
    assert stored_emails(db_path) == []

    result = api.signup(EMAIL, PASSWORD, **{field: "n" * 100})
    assert result.status_code == 200
    assert result.json["data"][field] == "n" * 100


# -- login -------------------------------------------------------------------------------------


@pytest.fixture
def user(api: Api, repo: SqliteUserRepository) -> Any:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    return repo.get(EMAIL)


def assert_user_unchanged(repo: SqliteUserRepository, before: Any) -> None:
    after = repo.get(EMAIL)
    assert after == before and after.version == before.version
    assert after.session_ids == ()


@pytest.mark.parametrize("field", LOGIN_FIELDS)
def test_login_missing_field(api: Api, repo: SqliteUserRepository, user: Any, field: str) -> None:
    body = {name: value for name, value in {"email_address": EMAIL, "password": PASSWORD}.items() if name != field}

    result = api.client.simulate_post("/v1/auth/login", json=body)

    assert_names_field(result, field, LOGIN_FIELDS)
    assert result.cookies == {}
    assert_user_unchanged(repo, user)


@pytest.mark.parametrize("extra", ["first_name", "remember_me", "session_id"])
def test_login_extra_field(api: Api, repo: SqliteUserRepository, user: Any, extra: str) -> None:
    result = api.client.simulate_post(
        "/v1/auth/login", json={"email_address": EMAIL, "password": PASSWORD, extra: "x"}
    )

    assert_names_field(result, extra, ())
    assert result.cookies == {}
    assert_user_unchanged(repo, user)


@pytest.mark.parametrize("value", NOT_A_STRING, ids=repr)
@pytest.mark.parametrize("field", LOGIN_FIELDS)
def test_login_field_of_the_wrong_type(api: Api, repo: SqliteUserRepository, user: Any, field: str, value: Any) -> None:
    body = {"email_address": EMAIL, "password": PASSWORD, field: value}

    result = api.client.simulate_post("/v1/auth/login", json=body)

    assert_names_field(result, field, LOGIN_FIELDS)
    assert result.cookies == {}
    assert_user_unchanged(repo, user)
