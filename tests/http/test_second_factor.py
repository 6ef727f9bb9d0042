"""TOTP over HTTP: enrolment, the two-step sign-in, recovery codes, and sudo mode."""

from __future__ import annotations

import json

import pyotp
import pytest

from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error

PENDING = "__Host-esauth-pending"
SUDO_MESSAGE = "Confirm it is you: re-authenticate first (POST /v1/auth/reauthenticate with your password or a code)."


def enrol(api: Api, cookie: str, clock: FakeClock) -> tuple[pyotp.TOTP, list[str]]:
    started = api.client.simulate_post("/v1/users/me/totp", cookies=api.with_cookie(cookie))
    assert started.status_code == 201, started.text
    data = started.json["data"]
    assert data["qr_svg"].startswith("<svg") and "<script" not in data["qr_svg"] and "href" not in data["qr_svg"]
    authenticator = pyotp.parse_uri(data["otpauth_uri"])
    assert authenticator.secret == data["secret"]
    confirmed = api.client.simulate_post(
        "/v1/users/me/totp/confirm", json={"code": authenticator.at(clock())}, cookies=api.with_cookie(cookie)
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.advance(seconds=30)
    return authenticator, confirmed.json["data"]["recovery_codes"]


def password_step(api: Api) -> str:
    result = api.login()
    assert result.status_code == 202, result.text
    assert api.cookie_name not in result.cookies  # no session for a password alone
    assert result.json["data"] == {"second_factor_required": True, "methods": ["totp", "recovery_code"], "expires_in": 300}
    pending = result.cookies[PENDING]
    assert pending.http_only and pending.secure and pending.same_site == "Strict" and pending.max_age == 300
    return pending.value


def code_step(api: Api, pending: str | None, code: str) -> object:
    return api.client.simulate_post("/v1/auth/login/mfa", json={"code": code}, cookies={PENDING: pending} if pending else None)


@pytest.fixture
def enrolled(api: Api, clock: FakeClock) -> tuple[pyotp.TOTP, list[str]]:
    return enrol(api, api.signup_and_login(), clock)


def test_the_state_shows_enrolment_and_the_secret_is_never_answered_again(api: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    state = api.client.simulate_get("/v1/users/me/totp", cookies=api.with_cookie(cookie))
    assert state.json["data"] == {"enabled": False, "enrolling": False, "recovery_codes_left": 0}
    authenticator, codes = enrol(api, cookie, clock)
    assert len(codes) == 10
    state = api.client.simulate_get("/v1/users/me/totp", cookies=api.with_cookie(cookie))
    assert state.json["data"] == {"enabled": True, "enrolling": False, "recovery_codes_left": 10}
    assert authenticator.secret not in state.text and authenticator.secret not in api.me(cookie).text
    again = api.client.simulate_post("/v1/users/me/totp", cookies=api.with_cookie(cookie))
    assert_error(again, 409, "TOTP is already enabled; disable it first.")


def test_sign_in_takes_two_steps_and_the_pending_cookie_opens_nothing_else(api: Api, enrolled, clock: FakeClock, audit_lines) -> None:
    authenticator, _ = enrolled
    pending = password_step(api)
    assert_error(api.get_test(pending, PENDING), 401)
    assert_error(api.client.simulate_get("/v1/users/me", cookies={PENDING: pending}), 401)
    done = code_step(api, pending, authenticator.at(clock()))
    assert done.status_code == 200, done.text
    assert done.json["message"] == f"'{EMAIL}' successfully logged in!"
    assert done.cookies[PENDING].value == "" and done.cookies[PENDING].expires.year == 1970  # cleared
    assert api.get_test(done.cookies[api.cookie_name].value).status_code == 200
    events = [(line["event"], line.get("factor")) for line in audit_lines()]
    assert events[-2:] == [("second_factor_required", None), ("login_ok", "totp")]
    assert authenticator.secret not in json.dumps(audit_lines())


def test_wrong_replayed_and_missing_codes(api: Api, enrolled, clock: FakeClock) -> None:
    authenticator, codes = enrolled
    assert_error(code_step(api, None, "123456"), 401, "No pending sign-in, or it expired: log in with your password first.")
    assert_error(code_step(api, "forged", "123456"), 401)
    pending = password_step(api)
    assert_error(code_step(api, pending, "12345"), 400, "The code is not correct.")
    assert_error(api.client.simulate_post("/v1/auth/login/mfa", json={"code": 123456}, cookies={PENDING: pending}), 400)
    code = authenticator.at(clock())
    assert code_step(api, pending, code).status_code == 200
    assert_error(code_step(api, password_step(api), code), 400, "The code is not correct.")  # replayed
    assert code_step(api, password_step(api), codes[0]).status_code == 200
    assert_error(code_step(api, password_step(api), codes[0]), 400)  # a recovery code is spent once


def test_the_pending_sign_in_expires(api: Api, enrolled, clock: FakeClock) -> None:
    authenticator, _ = enrolled
    pending = password_step(api)
    clock.advance(minutes=5, seconds=1)
    assert_error(code_step(api, pending, authenticator.at(clock())), 401)


def test_codes_are_throttled_like_passwords(api: Api, enrolled, clock: FakeClock) -> None:
    authenticator, _ = enrolled
    pending = password_step(api)
    for _ in range(5):
        assert_error(code_step(api, pending, "000000" if authenticator.at(clock()) != "000000" else "111111"), 400)
    throttled = code_step(api, pending, authenticator.at(clock()))
    assert_error(throttled, 429)
    assert throttled.headers["retry-after"] == "1"
    assert_error(api.login(), 429)  # the password step is throttled by the same count


def test_sudo_mode_guards_tokens_and_the_second_factor(api: Api, clock: FakeClock, audit_lines) -> None:
    cookie = api.signup_and_login()
    clock.advance(minutes=15, seconds=1)
    cookies = api.with_cookie(cookie)
    for method, path, body in [
        ("DELETE", "/v1/users/me/tokens/nope", None),
        ("POST", "/v1/users/me/totp", None),
        ("POST", "/v1/users/me/totp/confirm", {"code": "123456"}),
        ("POST", "/v1/users/me/totp/disable", {"code": "123456"}),
    ]:
        assert_error(api.client.simulate_request(method, path, json=body, cookies=cookies), 403, SUDO_MESSAGE)
    assert api.client.simulate_get("/v1/users/me/tokens", cookies=cookies).status_code == 200  # reading is not sudo
    # Making one takes the current password in its body: that is the proof, no sudo needed.
    made = api.client.simulate_post("/v1/users/me/tokens", json={"name": "ci", "current_password": PASSWORD}, cookies=cookies)
    assert made.status_code == 201, made.text
    token_path = made.headers["location"]
    assert_error(api.client.simulate_delete(token_path, cookies=cookies), 403, SUDO_MESSAGE)
    assert audit_lines()[-1]["event"] == "reauthentication_required"
    wrong = api.client.simulate_post("/v1/auth/reauthenticate", json={"password": "not the password"}, cookies=cookies)
    assert_error(wrong, 400, "password: is not correct")
    assert_error(api.client.simulate_post("/v1/auth/reauthenticate", json={"password": PASSWORD, "code": "1"}, cookies=cookies), 400)
    done = api.client.simulate_post("/v1/auth/reauthenticate", json={"password": PASSWORD}, cookies=cookies)
    assert done.status_code == 200, done.text
    renewed = api.with_cookie(done.cookies[api.cookie_name].value)
    assert api.client.simulate_delete(token_path, cookies=renewed).status_code == 200
    assert [line["event"] for line in audit_lines()][-3:] == ["reauthentication_failed", "reauthenticated", "token_revoked"]


def test_reauthenticating_with_a_code_then_disabling(api: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    authenticator, codes = enrol(api, cookie, clock)
    clock.advance(minutes=16)
    done = api.client.simulate_post("/v1/auth/reauthenticate", json={"code": authenticator.at(clock())}, cookies=api.with_cookie(cookie))
    assert done.status_code == 200, done.text
    renewed = api.with_cookie(done.cookies[api.cookie_name].value)
    wrong = api.client.simulate_post("/v1/users/me/totp/disable", json={"code": "abcde-abcde"}, cookies=renewed)
    assert_error(wrong, 400, "The code is not correct.")
    off = api.client.simulate_post("/v1/users/me/totp/disable", json={"code": codes[1]}, cookies=renewed)
    assert off.status_code == 200 and off.json["data"] == {"enabled": False, "enrolling": False, "recovery_codes_left": 0}
    assert api.login().status_code == 200  # one step again


def test_a_bearer_token_cannot_touch_the_second_factor(api: Api) -> None:
    cookie = api.signup_and_login()
    made = api.client.simulate_post("/v1/users/me/tokens", json={"name": "ci", "current_password": PASSWORD}, cookies=api.with_cookie(cookie))
    token = made.json["data"]["token"]
    for path in ("/v1/users/me/totp", "/v1/auth/reauthenticate"):
        result = api.client.simulate_post(path, json={"password": PASSWORD} if "re" in path else None, headers={"Authorization": f"Bearer {token}"})
        assert_error(result, 403)
