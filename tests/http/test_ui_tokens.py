"""Personal access tokens on the account page: listed, made (shown once, after the current
password) and revoked, with the API's rules and audit events."""

from __future__ import annotations

import re

import pytest

from domain.access_tokens import MAX_TOKENS_PER_USER
from tests.http.helpers import EMAIL, PASSWORD, Api
from tests.http.test_ui_pages import sign_in, sign_up
from tests.http.ui_browser import PageClient, page_text

NEW_TOKEN = re.compile(r'<textarea id="new_token" class="token" rows="3" readonly[^>]*>(esauth_pat_[a-z2-7_]+)</textarea>')


@pytest.fixture
def pages(api: Api) -> PageClient:
    signed_in = PageClient(api.app)
    sign_up(signed_in)
    sign_in(signed_in)
    signed_in.get("/ui/account")
    return signed_in


def make(pages: PageClient, name: str = "ci", password: str = PASSWORD, days: str = "30"):
    return pages.post("/ui/account/tokens", {"name": name, "expires_in_days": days, "current_password": password})


def bearer(api: Api, token: str) -> int:
    return api.client.simulate_get("/v1/test", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_token_made_on_the_page_is_shown_once_and_works(pages: PageClient, api: Api) -> None:
    page = pages.get("/ui/account")
    assert "You have no tokens." in page_text(page)
    assert '<input id="token_current_password" name="current_password" type="password" autocomplete="current-password" required>' in page.text

    made = make(pages)
    assert made.status_code == 200
    assert "Token created. Copy it now: it is not shown again." in page_text(made)
    token = NEW_TOKEN.search(made.text).group(1)  # a read-only field, no JavaScript needed: select it, copy it
    assert bearer(api, token) == 200

    again = pages.get("/ui/account")
    assert token not in again.text and 'id="new_token"' not in again.text
    assert "ci made 1 Jan 2026, 12:00 UTC, expires 31 Jan 2026, 12:00 UTC, last used 1 Jan 2026, 12:00 UTC" in page_text(again)
    [listed] = api.client.simulate_get("/v1/users/me/tokens", cookies=api.with_cookie(pages.jar[api.cookie_name])).json["data"]["tokens"]
    assert listed["name"] == "ci"
    assert listed["expires_at"] > listed["created_at"]


def test_a_wrong_current_password_makes_no_token_and_counts_as_a_failed_login(pages: PageClient, api: Api) -> None:
    refused = make(pages, password="not-the-password")
    assert refused.status_code == 400
    assert "Current password is not correct." in page_text(refused)
    assert "esauth_pat_" not in refused.text
    for _ in range(4):
        make(pages, password="not-the-password")
    throttled = make(pages)  # the account's login throttle, whether or not the password is right
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "1"
    assert "Try again in 1 second." in page_text(throttled)
    assert "You have no tokens." in page_text(pages.get("/ui/account"))


@pytest.mark.parametrize(
    ("name", "days", "message"),
    [
        ("", "30", "Token name is required."),
        ("x" * 101, "30", "Token name must be at most 100 characters."),
        ("ci", "1000", "Lifetime must be a whole number from 1 to 365."),
        ("ci", "soon", "Lifetime must be a whole number from 1 to 365."),
    ],
)
def test_a_bad_name_or_lifetime_is_said_in_words(pages: PageClient, name: str, days: str, message: str) -> None:
    refused = make(pages, name=name, days=days)
    assert refused.status_code == 400
    assert message in page_text(refused)


def test_the_cap_on_tokens_is_said_on_the_page(pages: PageClient) -> None:
    for number in range(MAX_TOKENS_PER_USER):
        assert make(pages, name=f"t{number}").status_code == 200
    refused = make(pages, name="one-too-many")
    assert refused.status_code == 409
    assert f"You have {MAX_TOKENS_PER_USER} tokens, the most allowed: revoke one first." in page_text(refused)


def test_revoking_from_the_page_ends_the_token(pages: PageClient, api: Api) -> None:
    token = NEW_TOKEN.search(make(pages).text).group(1)
    [listed] = api.client.simulate_get("/v1/users/me/tokens", cookies=api.with_cookie(pages.jar[api.cookie_name])).json["data"]["tokens"]
    page = pages.get("/ui/account")
    assert f'action="/ui/account/tokens/{listed["id"]}"' in page.text
    revoked = pages.post(f"/ui/account/tokens/{listed['id']}", {})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/ui/account?done=token-revoked"
    assert bearer(api, token) == 401
    assert "Token revoked." in page_text(pages.get("/ui/account?done=token-revoked"))
    again = pages.post(f"/ui/account/tokens/{listed['id']}", {})
    assert again.status_code == 404 and "No such token" in page_text(again)


def test_a_bearer_token_cannot_use_the_token_forms(pages: PageClient, api: Api) -> None:
    token = NEW_TOKEN.search(make(pages).text).group(1)
    stranger = PageClient(api.app)
    stranger.get("/ui/login")
    result = stranger.post("/ui/account/tokens", {"name": "more", "current_password": PASSWORD},
                           headers={"Authorization": f"Bearer {token}"})
    assert result.status_code == 403
    assert "This needs a login session" in page_text(result)
    assert len(api.client.simulate_get("/v1/users/me/tokens", cookies=api.with_cookie(pages.jar[api.cookie_name])).json["data"]["tokens"]) == 1
