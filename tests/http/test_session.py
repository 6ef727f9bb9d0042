"""GET /v1/test and the session cookie: idle and absolute expiry, forgery, names, key rotation."""

from __future__ import annotations

import pytest

from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, KEY, OTHER_KEY, PASSWORD, Api, MakeApi, assert_error, assert_public_user, flip, without_id

EXPIRED = "Session expired, please log in again."


def assert_refused(api: Api, result, message: str | None = None) -> None:
    """401 in the error shape, and the refused cookie is not renewed (cleared if anything)."""
    assert_error(result, 401, message)
    cookie = result.cookies.get(api.cookie_name)
    assert cookie is None or cookie.value == "", "a refused session must not be re-issued"


def test_the_probe_answers_200_with_the_user_and_no_cookie_in_the_body(any_api: Api) -> None:
    assert any_api.signup(EMAIL, PASSWORD, last_name="Lovelace").status_code == 200
    cookie = any_api.login_cookie()

    result = any_api.get_test(cookie)

    assert result.status_code == 200
    assert {**result.json, "data": {"user": without_id(result.json["data"]["user"])}} == {
        "message": "Test",
        "success": True,
        "data": {"user": {
            "email_address": EMAIL,
            "first_name": None,
            "last_name": "Lovelace",
            "is_active": True,
            "created_at": "2026-01-01T12:00:00.000Z",
        }},
    }
    assert_public_user(result.json["data"]["user"], EMAIL, last_name="Lovelace")
    assert cookie not in result.text
    assert "cookie" not in result.text.lower()
    assert "set-cookie" not in result.headers, "a fresh session is not re-issued on every request"


def test_the_probe_shows_a_profile_change_at_once(any_api: Api) -> None:
    """The probe's body is kept per user object; a change makes a new one, never a stale body."""
    cookie = any_api.signup_and_login()
    assert any_api.get_test(cookie).json["data"]["user"]["first_name"] is None
    changed = any_api.client.simulate_patch("/v1/users/me", json={"first_name": "Åda \u263a"}, cookies=any_api.with_cookie(cookie))
    assert changed.status_code == 200
    result = any_api.get_test(cookie)
    assert result.json["data"]["user"]["first_name"] == "Åda \u263a"
    assert result.headers["content-type"] == "application/json"


def test_the_probe_without_a_cookie_gets_401(any_api: Api) -> None:
    result = any_api.get_test(None)

    assert_error(result, 401)
    assert result.json["error"] == "401: Unauthorized"


def test_a_cookie_under_the_other_name_is_not_a_session(make_api: MakeApi) -> None:
    """The Secure app reads only `__Host-session`, the plain one only `session`."""
    secure, plain = make_api(secure=True), make_api(secure=False)
    secure_cookie = secure.signup_and_login()
    plain_cookie = plain.login_cookie()
    assert secure.cookie_name == "__Host-session" and plain.cookie_name == "session"

    assert_refused(secure, secure.get_test(secure_cookie, name="session"))
    assert_refused(plain, plain.get_test(plain_cookie, name="__Host-session"))
    assert secure.get_test(secure_cookie).status_code == 200
    assert plain.get_test(plain_cookie).status_code == 200


# -- expiry ------------------------------------------------------------------------------------


def test_an_idle_session_expires_after_30_minutes(any_api: Api, clock: FakeClock) -> None:
    cookie = any_api.signup_and_login()

    clock.advance(minutes=29, seconds=59)
    still = any_api.get_test(cookie)
    assert still.status_code == 200

    clock.advance(minutes=30, seconds=2)  # idle again, from the renewal or not
    assert_refused(any_api, any_api.get_test(cookie), EXPIRED)
    renewed = still.cookies.get(any_api.cookie_name)
    assert renewed is not None and renewed.value, "use after a minute re-issues the cookie"
    assert_refused(any_api, any_api.get_test(renewed.value), EXPIRED)


def test_an_expired_session_is_refused_even_for_logout(any_api: Api, clock: FakeClock) -> None:
    cookie = any_api.signup_and_login()
    clock.advance(minutes=31)

    assert_refused(any_api, any_api.logout(cookie), EXPIRED)


def test_using_a_session_renews_its_idle_window(any_api: Api, clock: FakeClock) -> None:
    login_cookie = any_api.signup_and_login()

    clock.advance(minutes=20)
    result = any_api.get_test(login_cookie)
    assert result.status_code == 200
    renewed = result.cookies[any_api.cookie_name]
    assert renewed.value and renewed.value != login_cookie
    assert renewed.max_age == 30 * 60
    assert renewed.http_only and renewed.same_site == "Lax" and renewed.path == "/"
    assert renewed.secure is any_api.cookies.secure

    clock.advance(minutes=20)  # 40 minutes after login, 20 after the last use
    assert any_api.get_test(renewed.value).status_code == 200
    assert_refused(any_api, any_api.get_test(login_cookie), EXPIRED)


def test_an_active_session_ends_12_hours_after_login(any_api: Api, clock: FakeClock) -> None:
    cookie = any_api.signup_and_login()

    def use(current: str) -> tuple[str, int | None]:
        result = any_api.get_test(current)
        assert result.status_code == 200, result.text
        renewed = result.cookies[any_api.cookie_name]
        return renewed.value, renewed.max_age

    for _ in range(35):  # 11 h 40 min, never idle for more than 20 minutes
        clock.advance(minutes=20)
        cookie, max_age = use(cookie)
    assert max_age == 20 * 60, "the cookie never outlives the absolute end"

    clock.advance(minutes=10)  # 11 h 50 min
    cookie, max_age = use(cookie)
    assert max_age == 10 * 60

    clock.advance(minutes=11)  # 12 h 1 min, idle for only 11 minutes
    assert_refused(any_api, any_api.get_test(cookie), EXPIRED)
    assert any_api.login_cookie(), "logging in again starts a new session"


# -- forgery -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda c: flip(c, len(c) - 1), id="last signature character"),
    pytest.param(lambda c: flip(c, len(c) - 10), id="inside the signature"),
    pytest.param(lambda c: flip(c, 5), id="inside the payload"),
    pytest.param(lambda c: c[:-1], id="truncated"),
    pytest.param(lambda c: c.rsplit(".", 1)[0], id="signature removed"),
    pytest.param(lambda c: c + "A", id="appended"),
    pytest.param(lambda c: "x" * len(c), id="garbage"),
    pytest.param(lambda c: "", id="empty"),
    pytest.param(lambda c: "..", id="dots"),
])
def test_a_tampered_cookie_gets_401(any_api: Api, tamper) -> None:
    cookie = any_api.signup_and_login()
    forged = tamper(cookie)
    assert forged != cookie

    assert_refused(any_api, any_api.get_test(forged))
    assert_refused(any_api, any_api.logout(forged))
    assert any_api.get_test(cookie).status_code == 200, "the real session is untouched"


def test_a_cookie_signed_with_another_key_gets_401(make_api: MakeApi) -> None:
    """Same store, same live session id: only the signature is wrong."""
    ours = make_api(keys=[KEY])
    theirs = make_api(keys=[OTHER_KEY])
    ours.signup(EMAIL, PASSWORD)
    forged = theirs.login_cookie()
    assert theirs.get_test(forged).status_code == 200

    assert_refused(ours, ours.get_test(forged))
    assert_refused(ours, ours.logout(forged))


def test_a_cookie_for_another_user_cannot_be_made_from_ours(api: Api) -> None:
    """Swapping the payload of a valid cookie for another one breaks the signature."""
    alice = api.signup_and_login("alice@abc.com")
    bob = api.signup_and_login("bob@abc.com")
    alice_payload, alice_signature = alice.rsplit(".", 1)
    bob_payload, _ = bob.rsplit(".", 1)

    assert_refused(api, api.get_test(f"{bob_payload}.{alice_signature}"))


def test_key_rotation_accepts_the_old_key_and_reissues_under_the_new(make_api: MakeApi) -> None:
    NEW_KEY = OTHER_KEY
    before = make_api(keys=[KEY])
    during = make_api(keys=[NEW_KEY, KEY])
    after = make_api(keys=[NEW_KEY])
    old_cookie = before.signup_and_login()

    result = during.get_test(old_cookie)

    assert result.status_code == 200
    assert result.json["data"]["user"]["email_address"] == EMAIL
    reissued = result.cookies[during.cookie_name]
    assert reissued.value and reissued.value != old_cookie
    assert reissued.max_age == 30 * 60
    assert reissued.http_only and reissued.secure and reissued.same_site == "Lax" and reissued.path == "/"
    # The new cookie is signed by the new key alone; the old one is not.
    assert after.get_test(reissued.value).status_code == 200
    assert_refused(after, after.get_test(old_cookie))
    # A cookie already under the newest key is not re-issued for nothing.
    assert "set-cookie" not in during.get_test(reissued.value).headers


def test_cookies_made_during_rotation_are_signed_by_the_new_key(make_api: MakeApi) -> None:
    during = make_api(keys=[OTHER_KEY, KEY])
    cookie = during.signup_and_login()

    assert make_api(keys=[OTHER_KEY]).get_test(cookie).status_code == 200
    assert_refused(during, make_api(keys=[KEY]).get_test(cookie))


def test_a_client_replaying_a_stale_cookie_gets_it_re_issued_once_per_interval_not_per_answer(
    api: Api, clock: FakeClock, repo
) -> None:
    """A service that never stores the re-issued cookie costs no more than one that does: one
    signature and one "last seen" write per minute, not one per answer."""
    cookie = api.signup_and_login()
    clock.advance(minutes=2)
    writes = []
    update = repo.update
    repo.update = lambda user: writes.append(user.email_address) or update(user)
    answers = [api.get_test(cookie) for _ in range(20)]
    assert {answer.status_code for answer in answers} == {200}
    issued = [answer for answer in answers if api.cookie_name in answer.cookies]
    assert len(issued) == 1 and issued[0] is answers[0]
    assert writes == [EMAIL]
    clock.advance(seconds=59)
    assert api.cookie_name not in api.get_test(cookie).cookies
    clock.advance(seconds=1)  # a minute after the re-issue: due again
    assert api.cookie_name in api.get_test(cookie).cookies
    assert len(writes) == 2


def test_a_replayed_cookie_signed_by_an_older_key_is_re_signed_once_per_interval(make_api: MakeApi, clock: FakeClock) -> None:
    before = make_api(keys=("a" * 32,))
    old_cookie = before.signup_and_login()
    during = make_api(keys=("b" * 32, "a" * 32))
    answers = [during.get_test(old_cookie) for _ in range(5)]
    assert [during.cookie_name in answer.cookies for answer in answers] == [True, False, False, False, False]
    clock.advance(minutes=1)
    assert during.cookie_name in during.get_test(old_cookie).cookies


@pytest.mark.filterwarnings("ignore::wsgiref.validate.WSGIWarning")  # the methods are invented on purpose
def test_invented_methods_never_grow_the_table_of_what_resources_require(api: Api) -> None:
    from entrypoints.http.session import SessionMiddleware

    (middleware,) = [m for m in api.app._unprepared_middleware if isinstance(m, SessionMiddleware)]
    api.client.simulate_get("/v1/test")
    api.client.simulate_post("/v1/test")
    known = len(middleware._needs_of)
    for i in range(50):
        result = api.client.simulate_request(f"PROPFIND{i}", "/v1/test")
        assert result.status_code in (400, 405), result.status_code
    assert len(middleware._needs_of) == known
