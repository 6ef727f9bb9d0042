"""GET/HEAD /v1/auth/verify: the forward-auth answer a proxy copies to the app behind it."""

from __future__ import annotations

import pytest

from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, PASSWORD, Api, MakeApi, assert_error

IDENTITY = ("x-auth-request-user", "x-auth-request-email", "x-auth-request-admin")


def verify(api: Api, cookie: str | None, method: str = "GET", **headers: str):
    return api.client.simulate_request(method, "/v1/auth/verify", cookies=api.with_cookie(cookie), headers=headers or None)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_logged_in_user_is_named_by_id_email_and_admin_flag(any_api: Api, method: str) -> None:
    user_id = any_api.signup(EMAIL, PASSWORD).json["data"]["id"]
    cookie = any_api.login_cookie()

    result = verify(any_api, cookie, method)

    assert result.status_code == 200, result.text
    assert result.headers["x-auth-request-user"] == user_id
    assert result.headers["x-auth-request-email"] == EMAIL
    assert result.headers["x-auth-request-admin"] == "false"
    assert "set-cookie" not in result.headers  # a fresh session is not re-issued
    if method == "GET":
        assert result.json["data"]["user"]["id"] == user_id and result.json["success"] is True
    else:
        assert result.text == ""


def test_an_administrator_is_flagged(api: Api, auth) -> None:
    auth.register("root@abc.com", PASSWORD, is_admin=True)
    assert verify(api, api.login_cookie("root@abc.com")).headers["x-auth-request-admin"] == "true"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_without_a_login_the_answer_is_401_json_and_names_nobody(api: Api, method: str) -> None:
    result = verify(api, None, method)
    assert result.status_code == 401
    if method == "GET":
        assert_error(result, 401, "Login required.")
    assert not any(name in result.headers for name in IDENTITY)


def test_a_logged_out_or_forged_session_is_401(api: Api) -> None:
    cookie = api.signup_and_login()
    assert api.logout(cookie).status_code == 200
    assert verify(api, cookie).status_code == 401
    assert verify(api, cookie[:-2] + "xx").status_code == 401


def test_an_active_session_is_re_issued_through_the_proxy_answer(api: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    clock.advance(minutes=2)
    result = verify(api, cookie)
    assert result.status_code == 200
    assert result.cookies[api.cookie_name].value != cookie  # the proxy passes this Set-Cookie on
    assert result.headers["cache-control"] == "no-store"  # and no cache on the way may keep it


def test_every_answer_that_sets_a_cookie_forbids_caching_it(api: Api, clock: FakeClock) -> None:
    """Re-issued, new, cleared or refused: whatever carries Set-Cookie says no-store."""
    cookie = api.signup_and_login()
    another = api.login_cookie()  # a session is re-issued once per interval: each re-issue its own
    clock.advance(minutes=2)
    answers = [
        api.login(), verify(api, cookie), api.get_test(another), verify(api, cookie[:-2] + "xx"),
        api.client.simulate_get("/ui/login"), api.logout(api.login_cookie()),
    ]
    for result in answers:
        assert "set-cookie" in result.headers, result.text
        assert result.headers["cache-control"] == "no-store", result.text


def test_an_internationalised_email_is_percent_encoded_in_the_header(api: Api) -> None:
    cookie = api.signup_and_login("jörg@bücher.example", PASSWORD)
    assert verify(api, cookie).headers["x-auth-request-email"] == "j%C3%B6rg@b%C3%BCcher.example"


@pytest.mark.parametrize("headers", [
    {"X-Forwarded-Method": "TRACE"},
    {"X-Forwarded-Method": "get"},
    {"X-Forwarded-Uri": "http://evil.example/"},
    {"X-Forwarded-Uri": "//evil.example/"},
    {"X-Original-URI": "/a b"},
    {"X-Forwarded-Uri": "/" + "a" * 9000},
])
def test_a_request_the_proxy_describes_as_impossible_is_403_even_when_logged_in(api: Api, headers, audit_lines) -> None:
    cookie = api.signup_and_login()
    result = verify(api, cookie, **headers)
    assert_error(result, 403)
    assert not any(name in result.headers for name in IDENTITY)
    assert audit_lines()[-1]["event"] == "verify_refused"


def test_the_forwarded_target_is_audited_without_its_query(api: Api, audit_lines) -> None:
    cookie = api.signup_and_login()
    api.logout(cookie)
    result = verify(api, cookie, **{"X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/orders/7?secret=abc"})
    assert result.status_code == 401
    last = audit_lines()[-1]
    assert (last["event"], last["target"]) == ("session_revoked", "POST /orders/7")
    assert "secret" not in str(audit_lines())


def test_an_original_uri_from_nginx_is_accepted(api: Api) -> None:
    cookie = api.signup_and_login()
    assert verify(api, cookie, **{"X-Original-URI": "/app/page?x=1", "X-Forwarded-Method": "GET"}).status_code == 200


def test_verify_is_not_rate_limited_like_logins(make_api: MakeApi) -> None:
    api = make_api(per_minute=3)
    cookie = api.signup_and_login()
    assert all(verify(api, cookie).status_code == 200 for _ in range(20))
