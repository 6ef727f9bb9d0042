"""Email verification and change over HTTP: the routes, their answers, audit lines and pages."""

from __future__ import annotations

from tests.fakes import RecordingNotifier
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error
from tests.http.test_tokens import bearer, make_token, verify
from tests.http.test_ui_pages import sign_in, sign_up
from tests.http.ui_browser import PageClient, page_text

NEW = "ada@new.example.org"


def verify_email(api: Api, token: object):
    return api.client.simulate_post("/v1/auth/verify-email", json={"token": token})


def resend(api: Api, email: object):
    return api.client.simulate_post("/v1/auth/verify-email/resend", json={"email_address": email})


def change_email(api: Api, cookie: str | None, current: object, new: object, **kwargs):
    body = {"current_password": current, "new_email_address": new}
    return api.client.simulate_post("/v1/users/me/email", cookies=api.with_cookie(cookie), json=body, **kwargs)


def link_to(notifier: RecordingNotifier, address: str) -> str:
    return [token for to, token, _ in notifier.verifications if to == address][-1]


def test_the_sign_up_link_confirms_the_address(api: Api, notifier: RecordingNotifier, audit_lines) -> None:
    cookie = api.signup_and_login()
    assert api.me(cookie).json["data"]["email_verified"] is False
    result = verify_email(api, link_to(notifier, EMAIL))
    assert result.status_code == 200, result.text
    assert result.json["message"] == "Email address confirmed."
    assert result.json["data"]["email_address"] == EMAIL
    assert api.me(cookie).json["data"]["email_verified"] is True
    assert "email_verified" in [line["event"] for line in audit_lines()]


def test_a_bad_token_is_400_and_a_malformed_body_names_the_field(api: Api) -> None:
    assert_error(verify_email(api, "not.a.token"), 400)
    assert "token" in assert_error(verify_email(api, 42), 400)["message"]
    assert "email_address" in assert_error(resend(api, "no-at-sign"), 400)["message"]


def test_resend_answers_alike_for_every_address(api: Api, notifier: RecordingNotifier, clock, audit_lines) -> None:
    api.signup(EMAIL, PASSWORD)
    api.signup("done@abc.com", PASSWORD)
    verify_email(api, link_to(notifier, "done@abc.com"))
    clock.advance(seconds=61)
    answers = [resend(api, address) for address in (EMAIL, "done@abc.com", "nobody@abc.com")]
    assert {(a.status_code, a.text) for a in answers} == {(202, answers[0].text)}
    assert [to for to, _, _ in notifier.verifications] == [EMAIL, "done@abc.com", EMAIL]
    assert [line["event"] for line in audit_lines()].count("email_verification_requested") == 3


def test_an_email_change_end_to_end(api: Api, notifier: RecordingNotifier, audit_lines) -> None:
    cookie = api.signup_and_login()
    user_id = api.me(cookie).json["data"]["id"]
    token = make_token(api, cookie)["token"]

    asked = change_email(api, cookie, PASSWORD, NEW)
    assert asked.status_code == 202, asked.text
    assert asked.json["data"]["pending_email_address"] == NEW
    assert asked.json["data"]["email_address"] == EMAIL
    assert api.get_test(cookie).status_code == 200  # nothing changed yet

    done = verify_email(api, link_to(notifier, NEW))

    assert done.status_code == 200, done.text
    assert done.json["data"]["email_address"] == NEW and done.json["data"]["id"] == user_id
    assert_error(api.get_test(cookie), 401)  # sessions end with the old address
    assert_error(api.login(EMAIL, PASSWORD), 400)
    new_cookie = api.login_cookie(NEW, PASSWORD)
    me = api.me(new_cookie).json["data"]
    assert (me["id"], me["email_verified"], me["pending_email_address"]) == (user_id, True, None)
    assert verify(api, token).headers["x-auth-request-email"] == NEW  # tokens name the id: they stay
    assert notifier.changed == [(EMAIL, NEW)]
    events = [line["event"] for line in audit_lines()]
    assert events.index("email_change_requested") < events.index("email_changed")
    assert api.signup(EMAIL, PASSWORD).status_code == 200  # the old address is free


def test_a_change_needs_a_session_and_the_right_password(api: Api, notifier: RecordingNotifier, audit_lines) -> None:
    cookie = api.signup_and_login()
    token = make_token(api, cookie)["token"]
    assert_error(api.client.simulate_post(
        "/v1/users/me/email", headers=bearer(token), json={"current_password": PASSWORD, "new_email_address": NEW}
    ), 403)
    assert_error(change_email(api, None, PASSWORD, NEW), 401)
    wrong = assert_error(change_email(api, cookie, "not-the-password", NEW), 400)
    assert "current_password" in wrong["message"]
    assert "email_change_failed" in [line["event"] for line in audit_lines()]
    assert "new_email_address" in assert_error(change_email(api, cookie, PASSWORD, "nope"), 400)["message"]
    assert_error(change_email(api, cookie, PASSWORD, EMAIL), 400)
    assert [to for to, _, _ in notifier.verifications] == [EMAIL]  # the sign-up's only


def test_a_change_to_a_taken_address_answers_as_any_other(api: Api, notifier: RecordingNotifier) -> None:
    api.signup(NEW, PASSWORD)
    cookie = api.signup_and_login()
    taken = change_email(api, cookie, PASSWORD, NEW)
    free = change_email(api, cookie, PASSWORD, "free@abc.com")
    assert taken.status_code == free.status_code == 202
    assert taken.json["message"] == free.json["message"]
    assert [to for to, _, change in notifier.verifications if change] == ["free@abc.com"]


def test_the_link_page_asks_before_it_confirms(api: Api, notifier: RecordingNotifier) -> None:
    pages = PageClient(api.app)
    sign_up(pages)
    token = link_to(notifier, EMAIL)
    form = pages.get(f"/ui/verify-email?token={token}")
    assert form.status_code == 200 and f'name="token" value="{token}"' in form.text
    assert pages.get("/ui/verify-email").status_code == 400
    sign_in(pages)
    assert "not confirmed yet" in page_text(pages.get("/ui/account"))  # a GET changed nothing
    done = pages.post("/ui/verify-email", {"token": token})
    assert (done.status_code, done.headers["location"]) == (303, "/ui/login?done=email-verified")
    assert "confirmed" in page_text(pages.get("/ui/account"))
    bad = pages.post("/ui/verify-email", {"token": "forged"})
    assert bad.status_code == 400 and "not valid" in page_text(bad)


def test_the_account_page_changes_the_address(api: Api, notifier: RecordingNotifier) -> None:
    pages = PageClient(api.app)
    sign_up(pages)
    sign_in(pages)
    pages.get("/ui/account")
    wrong = pages.post("/ui/account/email", {"new_email_address": NEW, "current_password": "wrong-password"})
    assert wrong.status_code == 400 and "current password" in page_text(wrong).lower()
    asked = pages.post("/ui/account/email", {"new_email_address": NEW, "current_password": PASSWORD})
    assert (asked.status_code, asked.headers["location"]) == (303, "/ui/account?done=email-requested")
    assert NEW in page_text(pages.get("/ui/account"))
    pages.get(f"/ui/verify-email?token={link_to(notifier, NEW)}")
    moved = pages.post("/ui/verify-email", {"token": link_to(notifier, NEW)})
    assert (moved.status_code, moved.headers["location"]) == (303, "/ui/login?done=email-changed")
    assert sign_in(pages, NEW) == "/ui/account"


def test_the_resend_page_answers_alike(api: Api) -> None:
    pages = PageClient(api.app)
    sign_up(pages)
    pages.get("/ui/verify-email/resend")
    known = pages.post("/ui/verify-email/resend", {"email_address": EMAIL})
    unknown = pages.post("/ui/verify-email/resend", {"email_address": "nobody@abc.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
