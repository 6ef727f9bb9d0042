"""ESAUTH_EMAIL_VERIFICATION=required: no session until the address is confirmed."""

from __future__ import annotations

import pytest

from domain.auth import AuthService
from domain.user import MIN_PASSWORD_LENGTH
from entrypoints.http.errors import EMAIL_NOT_VERIFIED
from infrastructure.passwords.common_list import shipped_list
from tests.fakes import RecordingNotifier
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error
from tests.http.test_email import link_to, resend, verify_email
from tests.http.test_ui_pages import sign_up
from tests.http.ui_browser import PageClient, page_text


@pytest.fixture
def auth(users, cheap_hasher, clock, failures) -> AuthService:
    return AuthService(users, cheap_hasher, clock, failures, screen=shipped_list(MIN_PASSWORD_LENGTH), require_verified_email=True)


def test_an_unconfirmed_account_is_403_only_with_the_right_password(api: Api, notifier: RecordingNotifier, audit_lines, clock) -> None:
    assert api.signup(EMAIL, PASSWORD).status_code == 200
    assert_error(api.login(EMAIL, "not-the-password"), 400, "Unknown email_address or bad password")
    refused = assert_error(api.login(EMAIL, PASSWORD), 403, EMAIL_NOT_VERIFIED)
    assert "set-cookie" not in {name.lower() for name in api.login(EMAIL, PASSWORD).headers}
    assert refused["error"] == "403: Forbidden"
    assert "login_refused_unverified" in [line["event"] for line in audit_lines()]
    clock.advance(seconds=61)
    assert resend(api, EMAIL).status_code == 202
    assert verify_email(api, link_to(notifier, EMAIL)).status_code == 200
    assert api.login(EMAIL, PASSWORD).status_code == 200


def test_the_sign_in_page_says_so_and_links_to_a_new_message(api: Api) -> None:
    pages = PageClient(api.app)
    sign_up(pages)
    pages.get("/ui/login")
    result = pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD, "next": ""})
    assert result.status_code == 403
    assert "Confirm your email address first" in page_text(result)
    assert 'href="/ui/verify-email/resend?email_address=test%40abc.com"' in result.text
