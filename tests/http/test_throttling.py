"""Login throttling per account (shared through the store) and per client address (per process)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, PASSWORD, Api, MakeApi, assert_error

WRONG = PASSWORD + "!"


def fail_five_times(api: Api, email: str) -> None:
    for _ in range(5):
        assert_error(api.login(email, WRONG), 400, "Unknown email_address or bad password")


@pytest.mark.parametrize("email", [EMAIL, "nobody@abc.com"], ids=["known", "unknown"])
def test_after_five_failures_even_the_right_password_gets_429_with_retry_after(api: Api, clock: FakeClock, email: str) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    fail_five_times(api, email)

    throttled = api.login(email, PASSWORD)
    body = assert_error(throttled, 429)
    assert throttled.headers["retry-after"] == "1"
    assert "1 seconds" in body["message"]
    assert "set-cookie" not in throttled.headers

    clock.advance(seconds=1)
    assert_error(api.login(email, WRONG), 400)  # allowed again, and failed again: the wait doubles
    assert api.login(email, PASSWORD).headers["retry-after"] == "2"


def test_throttling_looks_the_same_for_known_and_unknown_emails(api: Api) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    fail_five_times(api, EMAIL)
    fail_five_times(api, "nobody@abc.com")
    known, unknown = api.login(EMAIL, WRONG), api.login("nobody@abc.com", WRONG)
    assert (known.status_code, known.text, known.headers["retry-after"]) == (
        unknown.status_code,
        unknown.text,
        unknown.headers["retry-after"],
    )


def test_a_successful_login_resets_the_count(api: Api) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    for _ in range(4):
        assert_error(api.login(EMAIL, WRONG), 400)
    assert api.login(EMAIL, PASSWORD).status_code == 200
    for _ in range(4):
        assert_error(api.login(EMAIL, WRONG), 400)
    assert api.login(EMAIL, PASSWORD).status_code == 200


def test_the_count_is_shared_by_apps_over_one_store(make_api: MakeApi) -> None:
    first, second = make_api(), make_api()
    assert first.signup(EMAIL, PASSWORD).status_code == 200
    for api in (first, second, first, second, first):
        assert_error(api.login(EMAIL, WRONG), 400)
    assert_error(second.login(EMAIL, PASSWORD), 429)


def test_a_client_over_its_rate_gets_429_and_others_do_not(make_api: MakeApi, clock: FakeClock) -> None:
    api = make_api(per_minute=3)
    for n in range(3):
        assert api.signup(f"user{n}@abc.com", PASSWORD).status_code == 200
    refused = api.client.simulate_post("/v1/users/new", json={"email_address": "user9@abc.com", "password": PASSWORD})
    assert_error(refused, 429)
    assert refused.headers["retry-after"] == "20"  # 3 a minute: one token every 20 s
    assert_error(api.login("user0@abc.com", PASSWORD), 429)  # login and sign-up share the client's bucket

    other = api.client.simulate_post(
        "/v1/auth/login", json={"email_address": "user0@abc.com", "password": PASSWORD}, remote_addr="10.0.0.7"
    )
    assert other.status_code == 200
    assert api.get_test(other.cookies[api.cookie_name].value).status_code == 200  # only login and sign-up count

    clock.advance(seconds=20)
    assert api.login("user0@abc.com", PASSWORD).status_code == 200


def test_password_changes_spend_the_clients_tokens_too(make_api: MakeApi) -> None:
    api = make_api(per_minute=3)
    cookie = api.signup_and_login()  # two tokens
    assert_error(api.change_password(cookie, WRONG, "a brand new password"), 400)  # the third
    assert_error(api.change_password(cookie, PASSWORD, "a brand new password"), 429)


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(make_api: MakeApi) -> None:
    spoofable = make_api(per_minute=1)
    assert api_login_from(spoofable, "1.1.1.1").status_code != 429
    assert_error(api_login_from(spoofable, "2.2.2.2"), 429)  # a forged header does not buy a new bucket

    behind_proxy = make_api(per_minute=1, trusted_proxies=1)
    assert api_login_from(behind_proxy, "1.1.1.1").status_code != 429
    assert api_login_from(behind_proxy, "2.2.2.2").status_code != 429
    assert_error(api_login_from(behind_proxy, "6.6.6.6, 2.2.2.2"), 429)  # only the proxy's entry counts


def api_login_from(api: Api, forwarded_for: str):
    return api.client.simulate_post(
        "/v1/auth/login",
        json={"email_address": "nobody@abc.com", "password": WRONG},
        headers={"X-Forwarded-For": forwarded_for},
    )
