"""Sign-up: POST /v1/users/new (200, the seed's) and POST /v1/users (201 + Location)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

import pytest

from infrastructure.hashing.argon2_hasher import Argon2Hasher
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.http.helpers import (
    EMAIL,
    PASSWORD,
    Api,
    assert_error,
    assert_public_user,
    stored_emails,
)


def test_signup_new_answers_200_with_the_seed_message_and_the_public_user(api: Api, db_path: Path) -> None:
    result = api.signup(EMAIL, PASSWORD)

    assert result.status_code == 200
    assert result.headers["content-type"] == "application/json"
    body = result.json
    assert set(body) == {"message", "success", "data"}
    assert body["message"] == "'test@abc.com' added successfully!"
    assert body["success"] is True
    assert_public_user(body["data"], EMAIL)
    assert "location" not in result.headers
    assert result.cookies == {}, "signing up does not log in"
    assert stored_emails(db_path) == [EMAIL]


def test_signup_keeps_the_names(api: Api) -> None:
    result = api.signup("ada@example.org", PASSWORD, first_name="Ada", last_name="Lovelace")

    assert result.status_code == 200
    assert_public_user(result.json["data"], "ada@example.org", "Ada", "Lovelace")


def test_signup_accepts_null_names(api: Api) -> None:
    result = api.signup(EMAIL, PASSWORD, first_name=None, last_name=None)

    assert result.status_code == 200
    assert_public_user(result.json["data"], EMAIL)


def test_signup_on_the_collection_answers_201_with_a_location(api: Api, db_path: Path) -> None:
    result = api.signup("A+b@Example.org", PASSWORD, path="/v1/users", first_name="Al")

    assert result.status_code == 201
    assert result.json["message"] == "'a+b@example.org' added successfully!"
    assert result.json["success"] is True
    assert_public_user(result.json["data"], "a+b@example.org", "Al")
    location = result.headers["location"]
    prefix = "/v1/users/"
    assert prefix in location
    assert unquote(location.split(prefix, 1)[1]) == "a+b@example.org"
    assert stored_emails(db_path) == ["a+b@example.org"]


def test_the_stored_password_is_the_one_sent(api: Api) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200

    assert api.login(EMAIL, PASSWORD).status_code == 200
    assert api.login(EMAIL, PASSWORD + "x").status_code == 400


@pytest.mark.parametrize("path", ["/v1/users/new", "/v1/users"])
def test_a_duplicate_gets_409_and_changes_nothing(api: Api, repo: SqliteUserRepository, path: str) -> None:
    assert api.signup(EMAIL, PASSWORD, first_name="First").status_code == 200
    before = repo.get(EMAIL)

    result = api.signup(EMAIL, "another-password-1", path=path, first_name="Second")

    assert_error(result, 409, "'test@abc.com' already exists.")
    assert result.json["error"] == "409: Conflict"
    assert "location" not in result.headers
    after = repo.get(EMAIL)
    assert after == before and after.version == before.version
    assert api.login(EMAIL, "another-password-1").status_code == 400
    assert api.login(EMAIL, PASSWORD).json["data"]["first_name"] == "First"


@pytest.mark.parametrize("first, second", [
    ("Test@ABC.com ", "test@abc.com"),
    ("test@abc.com", "  TEST@abc.COM"),
    ("\tTest@Abc.Com\n", "tEsT@aBc.cOm"),
])
def test_email_identity_ignores_case_and_surrounding_whitespace(
    api: Api, db_path: Path, first: str, second: str
) -> None:
    created = api.signup(first, PASSWORD)
    assert created.status_code == 200
    assert created.json["data"]["email_address"] == EMAIL
    assert created.json["message"] == "'test@abc.com' added successfully!"

    assert_error(api.signup(second, "another-password-1"), 409, "'test@abc.com' already exists.")
    assert stored_emails(db_path) == [EMAIL]
    logged_in = api.login(second.upper(), PASSWORD)
    assert logged_in.status_code == 200
    assert logged_in.json["data"]["email_address"] == EMAIL


def test_concurrent_signups_for_one_email_let_exactly_one_win(
    api: Api, db_path: Path, repo: SqliteUserRepository, cheap_hasher: Argon2Hasher
) -> None:
    """The store's atomic create decides; the losers get 409 and cannot overwrite the winner."""
    threads = 8
    for round_ in range(3):
        email = f"race{round_}@example.com"
        barrier = threading.Barrier(threads)

        def sign_up(i: int, email: str = email, barrier: threading.Barrier = barrier) -> tuple[int, str, dict]:
            # Each thread spells the address its own way and brings its own password.
            spelled = f" {email.upper()}" if i % 2 else email
            path = "/v1/users" if i % 3 == 0 else "/v1/users/new"
            password = f"password-of-thread-{i}"
            barrier.wait(timeout=10)
            result = api.signup(spelled, password, path=path)
            return result.status_code, password, result.json

        with ThreadPoolExecutor(max_workers=threads) as pool:
            outcomes = list(pool.map(sign_up, range(threads)))

        statuses = sorted(status for status, _, _ in outcomes)
        winners = [(status, password) for status, password, _ in outcomes if 200 <= status < 300]
        assert len(winners) == 1, statuses
        assert statuses.count(409) == threads - 1, statuses
        for status, _, body in outcomes:
            if status == 409:
                assert body["message"] == f"'{email}' already exists."
        # The winner's password is the stored one; no loser's write got through.
        winning_password = winners[0][1]
        stored_hash = repo.get(email).password_hash
        for _, password, _ in outcomes:
            assert cheap_hasher.verify(stored_hash, password) is (password == winning_password)
        assert api.login(email, winning_password).status_code == 200
    assert stored_emails(db_path) == [f"race{i}@example.com" for i in range(3)]
