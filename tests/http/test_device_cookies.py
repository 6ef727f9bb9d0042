"""Device cookies through the whole app (API and hosted pages): what the cookie is, the attack it
stops (an attacker elsewhere keeping the rightful user out), and a device's own lockout."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, KEY, PASSWORD, Api, MakeApi, assert_error, flip, set_cookie_lines
from tests.http.test_login_logout import cookie_attributes
from tests.http.test_openapi import served_document
from tests.http.ui_browser import PageClient

WRONG = PASSWORD + "!"
ATTACKER = "203.0.113.9"
DEVICE = "__Host-device"


def device_login(api: Api, email: str = EMAIL, password: str = PASSWORD, device: str | None = None, **kwargs):
    cookies = {DEVICE: device} if device is not None else None
    return api.client.simulate_post(
        "/v1/auth/login", json={"email_address": email, "password": password}, cookies=cookies, **kwargs
    )


def device_cookie_of(api: Api, email: str = EMAIL) -> str:
    result = device_login(api, email)
    assert result.status_code == 200, result.text
    return result.cookies[DEVICE].value


def attack(api: Api, email: str = EMAIL, times: int = 5) -> None:
    """The attacker: failures from their own address, with no device cookie."""
    for _ in range(times):
        assert_error(device_login(api, email, WRONG, remote_addr=ATTACKER), 400)


@pytest.mark.parametrize("secure, name", [(True, "__Host-device"), (False, "device")])
def test_a_login_sets_a_long_lived_httponly_strict_device_cookie(make_api: MakeApi, secure: bool, name: str) -> None:
    api = make_api(secure=secure, cookie_domain="example.com" if secure else None)
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    line = set_cookie_lines(api.app, "/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD})[name]
    attributes = cookie_attributes(line)
    assert "httponly" in attributes
    assert attributes["samesite"] == "Strict"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == str(365 * 24 * 3600)
    assert ("secure" in attributes) is secure
    assert "domain" not in attributes, "host-only even when the session cookie is shared with subdomains"


def test_the_cookie_holds_the_account_id_and_a_nonce_signed_not_the_email(api: Api) -> None:
    user_id = api.signup(EMAIL, PASSWORD).json["data"]["id"]
    first, second = device_cookie_of(api), device_cookie_of(api)
    assert first != second, "a new nonce at every login"
    payload = first.split(".")[0]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert set(data) == {"u", "n"} and data["u"] == user_id and len(data["n"]) >= 22
    assert EMAIL not in json.dumps(data)
    assert URLSafeTimedSerializer(KEY, salt="esauth.device.v1", signer_kwargs={"digest_method": hashlib.sha256}).loads(first) == data


def test_the_attack_the_user_with_a_device_cookie_signs_in_at_once_and_without_it_is_throttled(api: Api) -> None:
    """README's former known limit: anyone who knows the address kept its login delayed."""
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    device = device_cookie_of(api)
    attack(api)

    assert_error(device_login(api), 429)  # a browser that never signed in: throttled as before
    assert device_login(api, device=device).status_code == 200  # the user's own device: at once

    assert_error(device_login(api, remote_addr=ATTACKER), 429)  # the attacker stays throttled:
    assert_error(device_login(api, remote_addr=ATTACKER), 429)  # the user's login forgave nothing


def test_the_attack_on_the_sign_in_page(api: Api) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    user = PageClient(api.app)
    user.get("/ui/login")
    assert user.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD}).status_code == 303
    assert DEVICE in user.jar
    del user.jar["__Host-session"]  # the session ran out; the device cookie is kept for a year
    attack(api)

    stranger = PageClient(api.app)
    stranger.get("/ui/login")
    assert stranger.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD}).status_code == 429
    user.get("/ui/login")
    assert user.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD}).status_code == 303


def test_a_device_failing_ten_times_is_locked_out_for_an_hour_and_only_that_device(api: Api, clock: FakeClock, audit_lines) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    stolen, own = device_cookie_of(api), device_cookie_of(api)
    for _ in range(10):
        assert_error(device_login(api, password=WRONG, device=stolen, remote_addr=ATTACKER), 400)
    locked = device_login(api, device=stolen, remote_addr=ATTACKER)
    assert_error(locked, 429)
    assert locked.headers["retry-after"] == "3600"
    assert "set-cookie" not in locked.headers

    assert device_login(api, device=own).status_code == 200
    assert device_login(api).status_code == 200, "the device's failures are not the untrusted clients'"
    clock.advance(seconds=3600)
    assert device_login(api, device=stolen).status_code == 200

    throttled = [line for line in audit_lines() if line["event"] == "login_throttled"]
    assert [(line["bucket"], line["device_cookie"]) for line in throttled] == [("device", True)]
    failed = [line for line in audit_lines() if line["event"] == "login_failed"]
    assert len(failed) == 10 and all(line["device_cookie"] for line in failed)
    assert [line["trusted_device"] for line in audit_lines() if line["event"] == "login_ok"] == [False, False, True, False, True]
    assert not any(stolen in json.dumps(line) or own in json.dumps(line) for line in audit_lines()), "no cookie in the log"


@pytest.mark.parametrize("kind", ["tampered", "session-cookie", "other-key", "expired", "another-account"])
def test_a_cookie_that_is_not_valid_for_the_account_is_just_untrusted(api: Api, make_api: MakeApi, clock: FakeClock, kind: str) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    assert api.signup("mallory@abc.com", PASSWORD).status_code == 200
    device = device_cookie_of(api)
    if kind == "tampered":
        device = flip(device, len(device) - 1)
    elif kind == "session-cookie":
        device = api.login_cookie()
    elif kind == "other-key":
        device = device_cookie_of(make_api(keys=("esauth-http-tests-unrelated-key-000000000000",)))
    elif kind == "expired":
        clock.advance(days=365, seconds=1)
    else:
        device = device_cookie_of(api, "mallory@abc.com")
    attack(api)
    assert_error(device_login(api, device=device), 429)


def test_a_rotated_key_still_honours_cookies_the_older_key_signed(api: Api, make_api: MakeApi) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    device = device_cookie_of(api)
    attack(api)
    rotated = make_api(keys=("esauth-http-tests-newer-key-0123456789abcdef", KEY))
    assert device_login(rotated, device=device).status_code == 200


def test_unknown_and_wrong_password_answer_alike_with_a_device_cookie(api: Api) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    assert api.signup("mallory@abc.com", PASSWORD).status_code == 200
    mallorys = device_cookie_of(api, "mallory@abc.com")
    for device in (None, mallorys):
        known, unknown = device_login(api, EMAIL, WRONG, device), device_login(api, "nobody@abc.com", WRONG, device)
        assert (known.status_code, known.text, sorted(known.cookies)) == (unknown.status_code, unknown.text, sorted(unknown.cookies))
    attack(api, EMAIL, 3)  # five each with the two above
    attack(api, "nobody@abc.com", 3)
    for device in (None, mallorys):
        known, unknown = device_login(api, EMAIL, WRONG, device), device_login(api, "nobody@abc.com", WRONG, device)
        assert (known.status_code, known.text, known.headers["retry-after"]) == (
            unknown.status_code, unknown.text, unknown.headers["retry-after"]
        )


def test_the_openapi_document_describes_the_device_cookie_login_reads(any_api: Api) -> None:
    login = served_document(any_api)["paths"]["/v1/auth/login"]["post"]
    assert f"`{'__Host-device' if any_api.cookies.secure else 'device'}`" in login["description"]
    assert "ESAUTH_DEVICE_LOCKOUT" in login["responses"]["429"]["description"]
