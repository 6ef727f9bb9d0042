"""Passkeys over HTTP: the real WebAuthn checks (py_webauthn) against a software authenticator
with real keys, so every refusal is the server's own (origin, challenge, counter, credential)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import falcon.testing
import pytest

from domain.auth import AuthService
from domain.passkeys import Passkeys
from domain.user import MIN_PASSWORD_LENGTH
from domain.users import Users
from entrypoints.http.errors import EMAIL_NOT_VERIFIED, PASSKEY_REFUSED
from infrastructure.passwords.common_list import shipped_list
from infrastructure.second_factor.webauthn_verifier import WebauthnVerifier
from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, PASSWORD, Api, MakeApi, assert_error
from tests.http.ui_browser import ORIGIN, PageClient, page_text
from tests.http.test_second_factor import SUDO_MESSAGE, enrol
from tests.soft_authenticator import SoftAuthenticator, b64url, unb64url

RP_ID = "falconframework.org"
CEREMONY = "__Host-webauthn"
OTHER = "bob@example.com"


@pytest.fixture
def api(make_api: MakeApi, passkeys: Passkeys) -> Api:
    return make_api(passkeys=passkeys)


@pytest.fixture
def device() -> SoftAuthenticator:
    return SoftAuthenticator(ORIGIN)


def start_registration(api: Api, cookie: str) -> tuple[dict[str, Any], str]:
    result = api.client.simulate_post("/v1/users/me/passkeys/options", cookies={api.cookie_name: cookie})
    assert result.status_code == 200, result.text
    return result.json["data"]["publicKey"], result.cookies[CEREMONY].value


def finish_registration(api: Api, cookie: str, ceremony: str, answer: Any, name: Any = "Laptop") -> falcon.testing.Result:
    return api.client.simulate_post(
        "/v1/users/me/passkeys", json={"name": name, "credential": answer}, cookies={api.cookie_name: cookie, CEREMONY: ceremony}
    )


def register(api: Api, cookie: str, device: SoftAuthenticator, name: str = "Laptop", **create: Any) -> falcon.testing.Result:
    options, ceremony = start_registration(api, cookie)
    return finish_registration(api, cookie, ceremony, device.create(options, **create), name)


def start_sign_in(api: Api) -> tuple[dict[str, Any], str]:
    result = api.client.simulate_post("/v1/auth/passkey/options")
    assert result.status_code == 200, result.text
    assert result.cookies[CEREMONY].same_site == "Strict" and result.cookies[CEREMONY].http_only
    return result.json["data"]["publicKey"], result.cookies[CEREMONY].value


def finish_sign_in(api: Api, ceremony: str | None, answer: Any) -> falcon.testing.Result:
    return api.client.simulate_post(
        "/v1/auth/passkey/login", json={"credential": answer}, cookies={CEREMONY: ceremony} if ceremony else None
    )


def sign_in(api: Api, device: SoftAuthenticator, **get: Any) -> falcon.testing.Result:
    options, ceremony = start_sign_in(api)
    return finish_sign_in(api, ceremony, device.get(options, **get))


def listed(api: Api, cookie: str) -> list[dict[str, Any]]:
    result = api.client.simulate_get("/v1/users/me/passkeys", cookies={api.cookie_name: cookie})
    assert result.status_code == 200, result.text
    return result.json["data"]["passkeys"]


def assert_refused(result: falcon.testing.Result) -> None:
    assert_error(result, 400, PASSKEY_REFUSED)
    assert api_cookie_absent(result)


def api_cookie_absent(result: falcon.testing.Result) -> bool:
    return not any(name.endswith("session") and cookie.value for name, cookie in result.cookies.items())


def test_register_two_list_them_and_sign_in_with_each_instead_of_a_password(api: Api, device: SoftAuthenticator, audit_lines) -> None:
    cookie = api.signup_and_login()
    phone = SoftAuthenticator(ORIGIN)
    added = register(api, cookie, device, "Laptop")
    assert added.status_code == 201, added.text
    assert added.headers["location"] == f"/v1/users/me/passkeys/{added.json['data']['id']}"
    assert register(api, cookie, phone, "Phone").status_code == 201
    shown = listed(api, cookie)
    assert [p["name"] for p in shown] == ["Laptop", "Phone"]
    assert all(set(p) == {"id", "name", "created_at", "last_used_at"} and p["last_used_at"] is None for p in shown)

    for authenticator in (device, phone):
        result = sign_in(api, authenticator)
        assert result.status_code == 200, result.text
        assert result.json["message"] == f"'{EMAIL}' successfully logged in!"
        session = result.cookies[api.cookie_name].value
        assert api.get_test(session).status_code == 200
        assert not result.cookies[CEREMONY].value  # the ceremony cookie is cleared
    assert all(p["last_used_at"] is not None for p in listed(api, cookie))
    events = [line for line in audit_lines() if line["event"] in ("passkey_added", "login_ok")]
    assert [(line["event"], line.get("method")) for line in events] == [
        ("login_ok", None), ("passkey_added", None), ("passkey_added", None), ("login_ok", "passkey"), ("login_ok", "passkey"),
    ]


def test_a_passkey_signs_in_after_another_process_moved_the_account_to_a_new_address(api: Api, device: SoftAuthenticator, repo) -> None:
    """This process keeps the address each user id was last found at; an email change made on
    another process moves the account: the next sign-in finds it at its new address."""
    cookie = api.signup_and_login()
    assert register(api, cookie, device).status_code == 201
    assert sign_in(api, device).status_code == 200  # the id's address is now kept here
    user = repo.get(EMAIL)
    repo.move(replace(user, email_address="moved@example.com"), EMAIL)  # another process's email change
    result = sign_in(api, device)
    assert result.status_code == 200, result.text
    assert result.json["message"] == "'moved@example.com' successfully logged in!"


def test_sign_in_options_are_the_same_for_everyone_and_name_no_account(api: Api, device: SoftAuthenticator) -> None:
    cookie = api.signup_and_login()
    register(api, cookie, device)
    first, _ = start_sign_in(api)
    second, _ = start_sign_in(api)
    assert first["challenge"] != second["challenge"] and len(unb64url(first["challenge"])) == 32
    assert {**first, "challenge": ""} == {**second, "challenge": ""}
    assert first.get("allowCredentials", []) == [] and first["rpId"] == RP_ID and first["userVerification"] == "required"


def test_registration_asks_for_a_discoverable_credential_named_by_the_user_id(api: Api, device: SoftAuthenticator) -> None:
    cookie = api.signup_and_login()
    user_id = api.me(cookie).json["data"]["id"]
    options, _ = start_registration(api, cookie)
    assert unb64url(options["user"]["id"]) == user_id.encode()
    assert options["authenticatorSelection"]["residentKey"] == "required"
    register(api, cookie, device)
    again, _ = start_registration(api, cookie)
    assert [entry["id"] for entry in again["excludeCredentials"]] == [b64url(device.credentials[0].credential_id)]


def test_rename_and_remove_and_a_removed_passkey_signs_nobody_in(api: Api, device: SoftAuthenticator) -> None:
    cookie = api.signup_and_login()
    passkey_id = register(api, cookie, device).json["data"]["id"]
    renamed = api.client.simulate_patch(f"/v1/users/me/passkeys/{passkey_id}", json={"name": "  Work laptop "}, cookies={api.cookie_name: cookie})
    assert renamed.status_code == 200 and renamed.json["data"]["name"] == "Work laptop"
    assert_error(api.client.simulate_patch(f"/v1/users/me/passkeys/{passkey_id}", json={"name": ""}, cookies={api.cookie_name: cookie}), 400)
    assert_error(api.client.simulate_patch("/v1/users/me/passkeys/nope", json={"name": "x"}, cookies={api.cookie_name: cookie}), 404, "No such passkey.")
    removed = api.client.simulate_delete(f"/v1/users/me/passkeys/{passkey_id}", cookies={api.cookie_name: cookie})
    assert removed.status_code == 200 and removed.json["message"] == "Passkey removed."
    assert listed(api, cookie) == []
    assert_refused(sign_in(api, device))
    assert_error(api.client.simulate_delete(f"/v1/users/me/passkeys/{passkey_id}", cookies={api.cookie_name: cookie}), 404)


def test_another_users_passkey_cannot_be_renamed_or_removed(api: Api, device: SoftAuthenticator) -> None:
    mine = api.signup_and_login()
    passkey_id = register(api, mine, device).json["data"]["id"]
    theirs = api.signup_and_login(OTHER)
    assert_error(api.client.simulate_delete(f"/v1/users/me/passkeys/{passkey_id}", cookies={api.cookie_name: theirs}), 404)
    assert len(listed(api, mine)) == 1


def test_a_bad_origin_is_refused_at_registration_and_at_sign_in(api: Api, device: SoftAuthenticator) -> None:
    cookie = api.signup_and_login()
    assert_refused(register(api, cookie, device, origin="http://evil.example"))
    assert listed(api, cookie) == []
    assert register(api, cookie, device).status_code == 201
    assert_refused(sign_in(api, device, origin="http://falconframework.org.evil.example"))
    assert sign_in(api, device).status_code == 200


def test_another_relying_party_or_no_user_verification_is_refused(api: Api, device: SoftAuthenticator) -> None:
    cookie = api.signup_and_login()
    assert_refused(register(api, cookie, device, rp_id="evil.example"))
    assert_refused(register(api, cookie, device, verified=False))
    assert register(api, cookie, device).status_code == 201
    assert_refused(sign_in(api, device, verified=False))


@pytest.mark.parametrize("counter_step", [1, 0], ids=["counting", "counter-always-0"])
def test_a_replayed_answer_is_refused_even_when_the_authenticator_counts_nothing(api: Api, counter_step: int) -> None:
    device = SoftAuthenticator(ORIGIN, counter_step=counter_step)
    register(api, api.signup_and_login(), device)
    options, ceremony = start_sign_in(api)
    answer = device.get(options)
    assert finish_sign_in(api, ceremony, answer).status_code == 200
    assert_refused(finish_sign_in(api, ceremony, answer))


def test_a_counter_that_does_not_grow_is_refused(api: Api, device: SoftAuthenticator) -> None:
    register(api, api.signup_and_login(), device)
    assert sign_in(api, device, sign_count=5).status_code == 200
    assert_refused(sign_in(api, device, sign_count=5))
    assert_refused(sign_in(api, device, sign_count=3))
    assert sign_in(api, device, sign_count=6).status_code == 200


def test_another_users_credential_does_not_sign_in_as_this_user(api: Api) -> None:
    ada, bob = SoftAuthenticator(ORIGIN), SoftAuthenticator(ORIGIN)
    register(api, api.signup_and_login(), ada)
    register(api, api.signup_and_login(OTHER), bob)
    ada_handle = ada.credentials[0].user_handle
    assert_refused(sign_in(api, bob, user_handle=ada_handle))  # Bob's key claiming to be Ada
    assert_refused(sign_in(api, bob, user_handle=b"z" * 26))  # an id nobody has
    signed_in = sign_in(api, bob)
    assert signed_in.status_code == 200 and signed_in.json["data"]["email_address"] == OTHER


def test_the_challenge_is_bound_to_its_ceremony_browser_session_and_lifetime(api: Api, device: SoftAuthenticator, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    other_session = api.login_cookie()
    options, ceremony = start_registration(api, cookie)
    assert_refused(finish_registration(api, other_session, ceremony, device.create(options)))  # another session
    options, ceremony = start_registration(api, cookie)
    assert_refused(finish_registration(api, cookie, ceremony[:-2] + "xx", device.create(options)))  # forged
    options, ceremony = start_registration(api, cookie)
    assert_refused(finish_sign_in(api, ceremony, device.create(options)))  # a registration's cookie cannot sign in
    assert register(api, cookie, device).status_code == 201

    options, _ = start_sign_in(api)
    assert_refused(finish_sign_in(api, None, device.get(options)))  # no cookie: another browser
    options, ceremony = start_sign_in(api)
    clock.advance(seconds=121)
    assert_refused(finish_sign_in(api, ceremony, device.get(options)))
    assert listed(api, api.login_cookie())[0]["last_used_at"] is None


@pytest.mark.parametrize("answer", ["x", 1, [], {}, {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}},
                                    {"id": "!!", "rawId": "!!", "type": "public-key", "response": {"clientDataJSON": "@", "authenticatorData": "", "signature": "", "userHandle": 5}}])
def test_malformed_answers_are_refused_never_a_server_error(api: Api, device: SoftAuthenticator, answer: Any) -> None:
    cookie = api.signup_and_login()
    _, ceremony = start_registration(api, cookie)
    assert_refused(finish_registration(api, cookie, ceremony, answer))
    _, ceremony = start_sign_in(api)
    assert_refused(finish_sign_in(api, ceremony, answer))


def test_an_answer_for_garbled_attestation_is_refused(api: Api, device: SoftAuthenticator) -> None:
    cookie = api.signup_and_login()
    options, ceremony = start_registration(api, cookie)
    answer = device.create(options)
    answer["response"]["attestationObject"] = answer["response"]["attestationObject"][:40]
    assert_refused(finish_registration(api, cookie, ceremony, answer))


def test_bodies_name_their_fields(api: Api) -> None:
    cookie = api.signup_and_login()
    result = api.client.simulate_post("/v1/users/me/passkeys", json={"credential": {}}, cookies={api.cookie_name: cookie})
    assert_error(result, 400, "name: is required")


def test_a_deactivated_account_is_told_so_only_after_its_passkey_verified(api: Api, device: SoftAuthenticator, users: Users) -> None:
    register(api, api.signup_and_login(), device)
    users.modify(EMAIL, lambda user: replace(user, is_active=False))
    assert_error(sign_in(api, device), 403, "This account is deactivated.")
    assert_refused(sign_in(api, device, origin="http://evil.example"))  # a refusal stays a refusal


def test_the_password_throttle_does_not_hold_a_passkey_nor_does_a_passkey_clear_it(api: Api, device: SoftAuthenticator) -> None:
    register(api, api.signup_and_login(), device)
    for _ in range(8):
        api.login(EMAIL, "not-the-password")
    assert api.login().status_code == 429
    assert sign_in(api, device).status_code == 200
    assert api.login().status_code == 429


def test_a_token_cannot_manage_passkeys(api: Api, device: SoftAuthenticator) -> None:
    cookie = api.signup_and_login()
    token = api.client.simulate_post("/v1/users/me/tokens", json={"name": "ci", "current_password": PASSWORD}, cookies={api.cookie_name: cookie}).json["data"]["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert_error(api.client.simulate_post("/v1/users/me/passkeys/options", headers=bearer), 403)
    assert_error(api.client.simulate_get("/v1/users/me/passkeys", headers=bearer), 403)


def test_without_a_relying_party_there_are_no_passkey_routes_and_no_scripts(make_api: MakeApi) -> None:
    plain = make_api()
    assert_error(plain.client.simulate_post("/v1/auth/passkey/options"), 404)
    page = plain.client.simulate_get("/ui/login")
    assert "passkey" not in page.text.lower() and "script-src 'none'" in page.headers["content-security-policy"]


def test_the_pages_offer_passkeys_list_rename_and_remove_them_without_javascript(api: Api, device: SoftAuthenticator) -> None:
    pages = PageClient(api.app)
    login = pages.get("/ui/login")
    assert 'id="passkey-sign-in"' in login.text and '<script src="/ui/static/passkeys.js" defer></script>' in login.text
    assert "script-src 'self';" in login.headers["content-security-policy"]
    script = pages.get("/ui/static/passkeys.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    api.signup()
    pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD, "next": "/ui/account"})
    register(api, pages.jar[api.cookie_name], device, "Laptop <1>")
    account = pages.get("/ui/account")
    assert "Laptop &lt;1&gt;" in account.text and "never used" in page_text(account)
    passkey_id = listed(api, pages.jar[api.cookie_name])[0]["id"]
    renamed = pages.post(f"/ui/account/passkeys/{passkey_id}", {"name": "Desk"})
    assert renamed.status_code == 303 and renamed.headers["location"] == "/ui/account?done=passkey-renamed"
    assert "Desk" in page_text(pages.get("/ui/account?done=passkey-renamed"))
    assert pages.post(f"/ui/account/passkeys/{passkey_id}", {"name": ""}).status_code == 400
    pages.get("/ui/account")
    removed = pages.post(f"/ui/account/passkeys/{passkey_id}/remove", {})
    assert removed.headers["location"] == "/ui/account?done=passkey-removed"
    assert "No passkeys yet." in page_text(pages.get("/ui/account"))
    assert pages.post(f"/ui/account/passkeys/{passkey_id}/remove", {}, token="forged").status_code == 403


class VerifiedTogether(WebauthnVerifier):
    """Holds each verified assertion until a second one is verified too: two answers to one
    challenge are then both past every check before either is written."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__(RP_ID, "esauth", (ORIGIN,), 120)
        self._barrier = barrier

    def verify_assertion(self, *args: Any) -> tuple[int, bool]:
        verified = super().verify_assertion(*args)
        self._barrier.wait(timeout=10)
        return verified


def test_two_answers_to_one_challenge_racing_let_exactly_one_sign_in(
    make_api: MakeApi, users: Users, auth: AuthService, clock: FakeClock
) -> None:
    verifier = VerifiedTogether(threading.Barrier(2))
    api = make_api(passkeys=Passkeys(users, auth, verifier, clock, timedelta(seconds=120)))
    device = SoftAuthenticator(ORIGIN, counter_step=0)  # the counter cannot tell them apart
    register(api, api.signup_and_login(), device)
    options, ceremony = start_sign_in(api)
    answer = device.get(options)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: finish_sign_in(api, ceremony, answer), range(2)))
    assert sorted(result.status_code for result in results) == [200, 400]


PENDING = "__Host-esauth-pending"


def password_step_with_passkey(api: Api) -> str:
    result = api.login()
    assert result.status_code == 202, result.text
    assert result.json["data"]["methods"] == ["totp", "recovery_code", "passkey"]
    return result.cookies[PENDING].value


def test_a_passkey_finishes_the_pending_sign_in_of_an_account_with_a_second_factor(
    api: Api, device: SoftAuthenticator, clock: FakeClock, audit_lines
) -> None:
    cookie = api.signup_and_login()
    register(api, cookie, device)
    enrol(api, cookie, clock)
    pending = password_step_with_passkey(api)
    options = api.client.simulate_post("/v1/auth/login/mfa/passkey/options", cookies={PENDING: pending})
    assert options.status_code == 200, options.text
    public_key, ceremony = options.json["data"]["publicKey"], options.cookies[CEREMONY].value
    assert [entry["id"] for entry in public_key["allowCredentials"]] == [b64url(device.credentials[0].credential_id)]
    answer = device.get(public_key)
    finished = api.client.simulate_post(
        "/v1/auth/login/mfa/passkey", json={"credential": answer}, cookies={PENDING: pending, CEREMONY: ceremony}
    )
    assert finished.status_code == 200, finished.text
    assert api.get_test(finished.cookies[api.cookie_name].value).status_code == 200
    assert not finished.cookies[PENDING].value  # the pending sign-in is used up
    assert [line.get("factor") for line in audit_lines() if line["event"] == "login_ok"][-1] == "passkey"

    # the same answer again, with a new pending sign-in: the challenge was spent
    again = api.client.simulate_post(
        "/v1/auth/login/mfa/passkey", json={"credential": answer}, cookies={PENDING: password_step_with_passkey(api), CEREMONY: ceremony}
    )
    assert_refused(again)


def test_the_passkey_step_needs_a_pending_sign_in_and_a_ceremony_of_its_own(api: Api, device: SoftAuthenticator, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    register(api, cookie, device)
    enrol(api, cookie, clock)
    assert_error(api.client.simulate_post("/v1/auth/login/mfa/passkey/options"), 401)
    options, sign_in_ceremony = start_sign_in(api)  # a usernameless sign-in's cookie is not this step's
    pending = password_step_with_passkey(api)
    result = api.client.simulate_post(
        "/v1/auth/login/mfa/passkey", json={"credential": device.get(options)}, cookies={PENDING: pending, CEREMONY: sign_in_ceremony}
    )
    assert_refused(result)
    other = SoftAuthenticator(ORIGIN)  # a passkey of another account cannot be this one's second factor
    register(api, api.signup_and_login(OTHER), other)
    started = api.client.simulate_post("/v1/auth/login/mfa/passkey/options", cookies={PENDING: pending})
    result = api.client.simulate_post(
        "/v1/auth/login/mfa/passkey", json={"credential": other.get(started.json["data"]["publicKey"])},
        cookies={PENDING: pending, CEREMONY: started.cookies[CEREMONY].value},
    )
    assert_refused(result)


def test_a_passkey_with_user_verification_signs_in_an_account_with_a_second_factor_in_one_step(
    api: Api, device: SoftAuthenticator, clock: FakeClock
) -> None:
    cookie = api.signup_and_login()
    register(api, cookie, device)
    enrol(api, cookie, clock)
    assert sign_in(api, device).status_code == 200  # possession and the authenticator's PIN or biometric


def test_adding_or_removing_a_passkey_needs_a_recent_proof(api: Api, device: SoftAuthenticator, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    passkey_id = register(api, cookie, device).json["data"]["id"]
    clock.advance(minutes=16)
    assert_error(api.client.simulate_post("/v1/users/me/passkeys/options", cookies={api.cookie_name: cookie}), 403, SUDO_MESSAGE)
    assert_error(api.client.simulate_delete(f"/v1/users/me/passkeys/{passkey_id}", cookies={api.cookie_name: cookie}), 403, SUDO_MESSAGE)
    renamed = api.client.simulate_patch(f"/v1/users/me/passkeys/{passkey_id}", json={"name": "Old"}, cookies={api.cookie_name: cookie})
    assert renamed.status_code == 200  # a name is no credential
    fresh = sign_in(api, device).cookies[api.cookie_name].value  # a passkey sign-in is a fresh proof
    assert api.client.simulate_delete(f"/v1/users/me/passkeys/{passkey_id}", cookies={api.cookie_name: fresh}).status_code == 200


def test_with_user_verification_preferred_only_a_verified_passkey_stands_in_for_two_factors(
    make_api: MakeApi, users: Users, auth: AuthService, clock: FakeClock
) -> None:
    verifier = WebauthnVerifier(RP_ID, "esauth", (ORIGIN,), 120, user_verification="preferred")
    api = make_api(passkeys=Passkeys(users, auth, verifier, clock, timedelta(seconds=120)))
    device = SoftAuthenticator(ORIGIN)
    cookie = api.signup_and_login()
    assert register(api, cookie, device, verified=False).status_code == 201  # a security key's touch
    assert sign_in(api, device, verified=False).status_code == 200
    enrol(api, cookie, clock)
    assert_refused(sign_in(api, device, verified=False))
    assert sign_in(api, device).status_code == 200


def test_a_passkey_sign_in_gives_the_browser_a_device_cookie(api: Api, device: SoftAuthenticator) -> None:
    register(api, api.signup_and_login(), device)
    result = sign_in(api, device)
    assert result.status_code == 200
    [name] = [name for name in result.cookies if "device" in name]
    assert result.cookies[name].value and result.cookies[name].http_only


def test_a_passkey_opens_no_session_for_an_unconfirmed_address_when_confirmation_is_required(
    api: Api, make_api: MakeApi, users: Users, cheap_hasher, clock: FakeClock, failures, device: SoftAuthenticator
) -> None:
    """Registered while confirmation was optional, then ESAUTH_EMAIL_VERIFICATION=required: the
    passkey proves the person, not the mailbox, so it is refused as the password is."""
    cookie = api.signup_and_login()
    assert register(api, cookie, device).status_code == 201
    required = AuthService(users, cheap_hasher, clock, failures, screen=shipped_list(MIN_PASSWORD_LENGTH), require_verified_email=True)
    verifier = WebauthnVerifier(RP_ID, "esauth", (ORIGIN,), 120)
    strict = make_api(passkeys=Passkeys(users, required, verifier, clock, timedelta(seconds=120)))
    result = sign_in(strict, device)
    assert_error(result, 403, EMAIL_NOT_VERIFIED)
    assert api_cookie_absent(result)
    assert len(users.get(EMAIL).session_ids) == 1  # the password login's only
