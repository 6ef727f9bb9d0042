"""Known-bad passwords over HTTP, with the shipped list: 400 saying why, on every route that sets one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import RecordingNotifier
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error, stored_emails
from tests.http.test_password_reset import token_for

COMMON = "password: is too common; choose another"
PERSONAL = "password: must not be made of your email address or the service's name; choose another"


@pytest.mark.parametrize("path", ["/v1/users/new", "/v1/users"])
@pytest.mark.parametrize("password", ["password", "Qwertyuiop", "iloveyou1", "1q2w3e4r5t"])
def test_both_signup_routes_refuse_a_common_password(api: Api, db_path: Path, path: str, password: str) -> None:
    assert_error(api.signup(EMAIL, password, path=path), 400, COMMON)
    assert stored_emails(db_path) == []


@pytest.mark.parametrize("password", ["test@abc.com!", "Test2026!", "ABC 12345", "esauth-2026"])
def test_signup_refuses_a_password_made_of_the_address_or_the_service(api: Api, db_path: Path, password: str) -> None:
    assert_error(api.signup(EMAIL, password), 400, PERSONAL)
    assert stored_emails(db_path) == []


def test_a_taken_address_with_a_common_password_is_answered_as_a_free_one(api: Api) -> None:
    """The password rules run before the store is asked, as the length rule always did."""
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    taken = assert_error(api.signup(EMAIL, "12345678"), 400, COMMON)
    free = assert_error(api.signup("free@abc.com", "12345678"), 400, COMMON)
    assert taken == free


def test_a_password_change_to_a_common_password_is_refused_and_the_old_one_still_works(api: Api) -> None:
    cookie = api.signup_and_login()
    assert_error(api.change_password(cookie, PASSWORD, "sunshine1"), 400, "new_" + COMMON)
    assert_error(api.change_password(cookie, PASSWORD, "abc.com.2026"), 400, "new_" + PERSONAL)
    assert api.login(EMAIL, PASSWORD).status_code == 200


def test_a_reset_to_a_common_or_personal_password_is_refused_and_the_token_stays_usable(
    api: Api, notifier: RecordingNotifier
) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    token = token_for(api, notifier)
    assert_error(api.confirm_reset(token, "football"), 400, "new_" + COMMON)
    assert_error(api.confirm_reset(token, "Test.2026!"), 400, "new_" + PERSONAL)
    assert api.confirm_reset(token, "a-brand-new-passphrase").status_code == 200
    assert api.login(EMAIL, "a-brand-new-passphrase").status_code == 200
