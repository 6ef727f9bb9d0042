"""Forms are taken on /ui/ only, each with a CSRF token bound to the session and the Origin check;
the JSON API keeps its rules exactly."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error
from tests.http.ui_browser import ORIGIN, PageClient, page_text

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
POSTS = ["/ui/login", "/ui/signup", "/ui/logout", "/ui/account/profile", "/ui/account/password", "/ui/reset",
         "/ui/reset/confirm", "/ui/account/tokens"]


@pytest.fixture
def signed_in(api: Api) -> PageClient:
    pages = PageClient(api.app)
    api.signup()
    pages.get("/ui/login")
    assert pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD}).status_code == 303
    pages.get("/ui/account")
    return pages


@pytest.mark.parametrize("path", POSTS)
def test_every_form_post_without_the_token_is_refused_before_anything_happens(
    api: Api, signed_in: PageClient, path: str
) -> None:
    for token in (None, "", "0" * 64):
        result = signed_in.post(path, {"email_address": EMAIL, "password": PASSWORD, "new_password": "x" * 12,
                                       "current_password": PASSWORD}, token=token)
        assert result.status_code == 403, (path, token)
        assert "This form has expired or was not sent from this site." in page_text(result)
    assert api.get_test(signed_in.jar[api.cookie_name]).status_code == 200
    assert api.login(EMAIL, PASSWORD).status_code == 200


def test_a_token_from_before_sign_in_is_no_good_after_it(api: Api) -> None:
    pages = PageClient(api.app)
    api.signup()
    pages.get("/ui/login")
    before = pages.token()
    pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD})
    assert pages.post("/ui/account/profile", {"first_name": "Eve"}, token=before).status_code == 403
    pages.get("/ui/account")
    assert pages.post("/ui/account/profile", {"first_name": "Ada"}).status_code == 303


def test_a_token_needs_its_own_nonce_cookie(api: Api, signed_in: PageClient) -> None:
    """Login CSRF: an attacker's own (nonce, token) pair is useless in the victim's browser."""
    attacker = PageClient(api.app)
    attacker.get("/ui/login")
    victim = PageClient(api.app)
    victim.get("/ui/login")
    assert victim.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD}, token=attacker.token()).status_code == 403
    nonce_less = PageClient(api.app)
    refused = nonce_less.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD}, token=victim.token())
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": None, "Sec-Fetch-Site": "cross-site"},
     {"Origin": None, "Sec-Fetch-Site": "same-site"}],
)
def test_a_cross_site_form_is_refused_even_with_a_good_token(api: Api, signed_in: PageClient, headers: dict) -> None:
    sent = {name: value for name, value in headers.items() if value is not None}
    result = signed_in.client.simulate_post(
        "/ui/logout", body=urlencode({"csrf_token": signed_in.token()}), cookies=dict(signed_in.jar),
        headers={**FORM, **sent},
    )
    assert result.status_code == 403
    assert api.get_test(signed_in.jar[api.cookie_name]).status_code == 200


def test_an_allowed_origin_may_post_a_form(make_api) -> None:
    api = make_api(allowed_origins=["https://app.example.com"])
    pages = PageClient(api.app)
    api.signup()
    pages.get("/ui/login")
    result = pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD,
                                      "next": "https://app.example.com/home"}, headers={"Origin": "https://app.example.com"})
    assert result.status_code == 303 and result.headers["location"] == "https://app.example.com/home"
    assert "form-action 'self' https://app.example.com;" in result.headers["content-security-policy"]


@pytest.mark.parametrize("next_url", ["//evil", "https://evil", "/\\evil", "%2F%2Fevil", "/%5Cevil", "javascript:alert(1)",
                                      "/\t/evil", "/\n/evil"])
def test_sign_in_never_redirects_off_site(api: Api, next_url: str) -> None:
    pages = PageClient(api.app)
    api.signup()
    page = pages.get("/ui/login", params={"next": next_url})
    assert 'name="next" value="/ui/account"' in page.text
    result = pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD, "next": next_url})
    assert result.headers["location"] == "/ui/account"


def test_the_json_api_still_refuses_forms(api: Api) -> None:
    api.signup()
    body = urlencode({"email_address": EMAIL, "password": PASSWORD})
    for path in ("/v1/auth/login", "/v1/users/new", "/v1/auth/password-reset"):
        assert_error(api.client.simulate_post(path, body=body, headers={**FORM, "Origin": ORIGIN}), 415)


def test_ui_posts_take_forms_only(signed_in: PageClient) -> None:
    result = signed_in.client.simulate_post(
        "/ui/account/profile", json={"first_name": "Eve", "csrf_token": signed_in.token()}, cookies=dict(signed_in.jar)
    )
    assert result.status_code == 415 and "This page takes HTML forms only." in page_text(result)


def test_a_field_given_twice_is_refused(signed_in: PageClient) -> None:
    body = urlencode([("csrf_token", signed_in.token()), ("first_name", "A"), ("first_name", "B")])
    result = signed_in.client.simulate_post("/ui/account/profile", body=body, cookies=dict(signed_in.jar), headers=FORM)
    assert result.status_code == 400 and "names a field twice" in page_text(result)


def test_the_nonce_cookie_is_httponly_lax_and_host_only(api: Api) -> None:
    result = PageClient(api.app).get("/ui/login")
    cookie = result.cookies["__Host-csrf"]
    assert cookie.http_only and cookie.secure and cookie.same_site == "Lax" and cookie.path == "/"
    assert cookie.domain is None
