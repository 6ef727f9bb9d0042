"""The hosted pages through falcon.testing: the same rules as the API, in words, without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.fakes import FakeClock, RecordingNotifier
from tests.http.helpers import EMAIL, PASSWORD, Api, MakeApi
from tests.http.ui_browser import PageClient, page_text

NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture
def pages(api: Api) -> PageClient:
    return PageClient(api.app)


def sign_up(pages: PageClient, email: str = EMAIL, password: str = PASSWORD) -> None:
    pages.get("/ui/signup")
    result = pages.post("/ui/signup", {"email_address": email, "password": password, "first_name": "Ada"})
    assert result.status_code == 303, result.text
    assert result.headers["location"] == "/ui/login?done=signed-up"


def sign_in(pages: PageClient, email: str = EMAIL, password: str = PASSWORD, next_url: str = "") -> str:
    pages.get("/ui/login" + (f"?next={next_url}" if next_url else ""))
    result = pages.post("/ui/login", {"email_address": email, "password": password, "next": next_url})
    assert result.status_code == 303, result.text
    return result.headers["location"]


@pytest.mark.parametrize("path", ["/ui/login", "/ui/login/code", "/ui/signup", "/ui/reset", "/ui/reset/confirm?token=x"])
def test_every_public_page_is_a_form_with_labels_autocomplete_and_a_submit_button(pages: PageClient, path: str) -> None:
    result = pages.get(path)
    assert result.status_code == 200
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    html = result.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<button type="submit">' in html
    for field_id in re.findall(r'<input id="([a-z_]+)"', html):
        assert f'<label for="{field_id}">' in html, field_id
    assert "<script" not in html and "style=" not in html and "http://" not in html and "https://" not in html
    csp = result.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'none'", "frame-ancestors 'none'", "form-action 'self'"):
        assert directive in csp
    assert result.headers["x-frame-options"] == "DENY"
    assert result.headers["cache-control"] == "no-store"


def test_password_fields_tell_password_managers_what_they_are(pages: PageClient) -> None:
    assert 'name="password" type="password" autocomplete="current-password"' in pages.get("/ui/login").text
    assert 'name="password" type="password" autocomplete="new-password"' in pages.get("/ui/signup").text
    assert 'name="email_address" type="email" autocomplete="username"' in pages.get("/ui/login").text


def test_sign_up_sign_in_account_sign_out(pages: PageClient, api: Api) -> None:
    sign_up(pages)
    assert "Account created" in page_text(pages.get("/ui/login?done=signed-up"))
    assert sign_in(pages) == "/ui/account"
    assert api.cookie_name in pages.jar
    account = pages.get("/ui/account")
    assert account.status_code == 200
    assert EMAIL in page_text(account) and 'value="Ada"' in account.text
    result = pages.post("/ui/logout", {})
    assert result.status_code == 303 and result.headers["location"] == "/ui/login?done=signed-out"
    assert result.headers["clear-site-data"] == '"cache"'
    assert api.cookie_name not in pages.jar
    again = pages.get("/ui/account")
    assert again.status_code == 303 and again.headers["location"] == "/ui/login?next=/ui/account"


def test_a_signed_out_cookie_is_revoked_not_just_forgotten(pages: PageClient, api: Api) -> None:
    sign_up(pages)
    sign_in(pages)
    copied = pages.jar[api.cookie_name]
    pages.get("/ui/account")
    pages.post("/ui/logout", {})
    assert api.get_test(copied).status_code == 401


def test_an_expired_session_is_sent_to_sign_in_and_told_why(pages: PageClient, clock: FakeClock) -> None:
    sign_up(pages)
    sign_in(pages)
    clock.advance(minutes=31)
    result = pages.get("/ui/account")
    assert result.status_code == 303
    assert result.headers["location"] == "/ui/login?next=/ui/account&done=expired"
    assert "Your session has ended." in page_text(pages.get(result.headers["location"]))


def test_the_logout_page_is_a_form_and_a_get_ends_nothing(pages: PageClient, api: Api) -> None:
    sign_up(pages)
    sign_in(pages)
    page = pages.get("/ui/logout")
    assert '<form method="post" action="/ui/logout">' in page.text
    assert api.get_test(pages.jar[api.cookie_name]).status_code == 200


def test_wrong_password_and_unknown_address_get_the_same_page(pages: PageClient, api: Api) -> None:
    sign_up(pages)
    pages.get("/ui/login")
    wrong = pages.post("/ui/login", {"email_address": EMAIL, "password": "not-the-password"})
    unknown = pages.post("/ui/login", {"email_address": "nobody@abc.com", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 400
    assert "do not match an account" in page_text(wrong)
    assert wrong.text.replace(EMAIL, "X") == unknown.text.replace("nobody@abc.com", "X")
    assert api.cookie_name not in pages.jar


def test_throttled_login_says_when_to_try_again(pages: PageClient, api: Api, clock: FakeClock) -> None:
    sign_up(pages)
    pages.get("/ui/login")
    for _ in range(5):
        assert pages.post("/ui/login", {"email_address": EMAIL, "password": "wrong-password"}).status_code == 400
    throttled = pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert "Try again in 1 second." in page_text(throttled)
    clock.advance(seconds=2)
    assert pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD}).status_code == 303


def test_the_per_client_rate_limit_is_a_page_with_the_wait(make_api: MakeApi) -> None:
    pages = PageClient(make_api(per_minute=2).app)
    pages.get("/ui/login")
    for _ in range(2):
        pages.post("/ui/login", {"email_address": EMAIL, "password": "wrong-password"})
    limited = pages.post("/ui/login", {"email_address": EMAIL, "password": "wrong-password"})
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "text/html; charset=utf-8"
    assert re.search(r"Try again in \d+ seconds?\.", page_text(limited))


def test_sign_up_errors_are_words_and_keep_what_was_typed(pages: PageClient) -> None:
    pages.get("/ui/signup")
    short = pages.post("/ui/signup", {"email_address": EMAIL, "password": "short", "first_name": "Ada"})
    assert short.status_code == 400
    assert "Password must be at least 8 characters." in page_text(short)
    assert f'value="{EMAIL}"' in short.text and 'value="Ada"' in short.text
    sign_up(pages)
    taken = pages.post("/ui/signup", {"email_address": EMAIL, "password": PASSWORD})
    assert taken.status_code == 409 and "already exists" in page_text(taken)


def test_sign_up_page_refuses_a_known_bad_password_in_the_apis_words(pages: PageClient) -> None:
    pages.get("/ui/signup")
    common = pages.post("/ui/signup", {"email_address": EMAIL, "password": "Password1"})
    assert common.status_code == 400 and "Password is too common; choose another." in page_text(common)
    personal = pages.post("/ui/signup", {"email_address": EMAIL, "password": "esauth-2026"})
    assert personal.status_code == 400
    assert "Password must not be made of your email address or the service" in page_text(personal)


def test_typed_text_is_escaped(pages: PageClient) -> None:
    pages.get("/ui/signup")
    result = pages.post("/ui/signup", {"email_address": '"><script>x</script>', "password": PASSWORD})
    assert result.status_code == 400
    assert "<script>" not in result.text and "&lt;script&gt;" in result.text


def test_profile_and_password_change(pages: PageClient, api: Api) -> None:
    sign_up(pages)
    sign_in(pages)
    other = api.login_cookie()
    pages.get("/ui/account")
    saved = pages.post("/ui/account/profile", {"first_name": "Grace", "last_name": "Hopper"})
    assert saved.headers["location"] == "/ui/account?done=profile"
    assert 'value="Hopper"' in pages.get("/ui/account").text
    wrong = pages.post("/ui/account/password", {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 400 and "Current password is not correct." in page_text(wrong)
    changed = pages.post("/ui/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 303 and changed.headers["location"] == "/ui/account?done=password"
    assert "other sessions were signed out" in page_text(pages.get("/ui/account?done=password"))
    assert api.get_test(other).status_code == 401
    assert api.login(EMAIL, NEW_PASSWORD).status_code == 200


def test_a_throttled_password_change_says_when_to_try_again(pages: PageClient) -> None:
    sign_up(pages)
    sign_in(pages)
    pages.get("/ui/account")
    for _ in range(5):
        wrong = pages.post("/ui/account/password", {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD})
        assert wrong.status_code == 400
    throttled = pages.post("/ui/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "1"
    assert "Try again in 1 second." in page_text(throttled)


def test_a_form_posted_after_the_session_ended_goes_to_sign_in(pages: PageClient, api: Api) -> None:
    sign_up(pages)
    sign_in(pages)
    pages.get("/ui/account")
    api.logout(pages.jar[api.cookie_name])  # ended elsewhere (the API); the cookie is still in the jar
    result = pages.post("/ui/account/profile", {"first_name": "Eve"})
    assert result.status_code == 303 and result.headers["location"] == "/ui/login"
    assert api.cookie_name not in pages.jar


def test_reset_answers_alike_for_every_address_and_the_link_sets_a_password(
    pages: PageClient, api: Api, notifier: RecordingNotifier
) -> None:
    sign_up(pages)
    pages.get("/ui/reset")
    known = pages.post("/ui/reset", {"email_address": EMAIL})
    unknown = pages.post("/ui/reset", {"email_address": "nobody@abc.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    [(_, token)] = notifier.delivered()
    form = pages.get(f"/ui/reset/confirm?token={token}")
    assert f'name="token" value="{token}"' in form.text
    short = pages.post("/ui/reset/confirm", {"token": token, "new_password": "short"})
    assert short.status_code == 400 and "New password must be at least 8 characters." in page_text(short)
    done = pages.post("/ui/reset/confirm", {"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/ui/login?done=reset"
    assert api.login(EMAIL, NEW_PASSWORD).status_code == 200
    pages.get(f"/ui/reset/confirm?token={token}")
    used = pages.post("/ui/reset/confirm", {"token": token, "new_password": "yet-another-passphrase"})
    assert used.status_code == 400 and "Ask for a new reset message" in page_text(used)


def test_a_reset_link_without_a_token_says_so(pages: PageClient) -> None:
    result = pages.get("/ui/reset/confirm")
    assert result.status_code == 400 and "has no reset token" in page_text(result)


@pytest.mark.parametrize("path", ["/ui/nowhere", "/ui/static/nothing.css"])
def test_errors_under_ui_are_pages_and_the_api_keeps_json(pages: PageClient, api: Api, path: str) -> None:
    result = pages.get(path)
    assert result.status_code == 404
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert "There is no page at this address." in page_text(result)
    assert "frame-ancestors 'none'" in result.headers["content-security-policy"]
    assert api.client.simulate_get("/v1/nowhere").headers["content-type"] == "application/json"


def test_the_style_sheet_is_served_from_this_origin(pages: PageClient) -> None:
    result = pages.get("/ui/static/esauth.css")
    assert result.status_code == 200 and result.headers["content-type"] == "text/css"
    assert "@media" in result.text
