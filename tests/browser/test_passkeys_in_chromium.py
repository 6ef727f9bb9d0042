"""Passkeys in a real Chromium through its virtual authenticator (CDP `WebAuthn.*`): the pages'
script, the browser's WebAuthn and the server's checks all for real.

WebAuthn needs a secure context and a relying party id that is a host name: the server is
reached as http://localhost:<port> (a secure context in Chromium, like every loopback origin),
and ESAUTH_PUBLIC_URL names that origin, so the relying party is `localhost`.
"""

from __future__ import annotations

import re
from typing import Iterator

import pyotp
import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page, expect

from entrypoints.http.errors import PASSKEY_REFUSED
from tests.browser.test_pages_in_chromium import EMAIL, PASSWORD, sign_in, sign_up
from tests.e2e.harness import StartServer, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def base(start_server: StartServer) -> str:
    port = free_port()
    start_server(port=port, ESAUTH_PUBLIC_URL=f"http://localhost:{port}", ESAUTH_ARGON2_MEMORY_KIB="19456")
    return f"http://localhost:{port}"


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    made = context.new_page()
    violations: list[str] = []
    made.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
    yield made
    assert violations == [], "the pages broke their own CSP"


@pytest.fixture
def authenticator(context: BrowserContext, page: Page) -> Iterator[tuple[CDPSession, str]]:
    """A platform authenticator with a screen lock (user verification), holding passkeys."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    made = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    yield cdp, made["authenticatorId"]
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": made["authenticatorId"]})
    cdp.detach()


def sign_out(page: Page, base: str) -> None:
    page.locator("header").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/ui/login?done=signed-out")


def test_add_a_passkey_sign_in_with_it_remove_it_and_it_signs_in_no_more(
    page: Page, base: str, authenticator: tuple[CDPSession, str], screenshot
) -> None:
    cdp, authenticator_id = authenticator
    sign_up(page, base)
    sign_in(page, base)
    page.get_by_label("Name of the new passkey").fill("This laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(f"{base}/ui/account?done=passkey-added")
    expect(page.locator("#passkey-1 strong")).to_have_text("This laptop")
    screenshot(page, "account-with-passkey")
    [held] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert held["isResidentCredential"] is True and held["rpId"] == "localhost"

    sign_out(page, base)
    page.get_by_label("Email address").fill("")  # no address is needed: the passkey names the account
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page).to_have_url(f"{base}/ui/account")
    expect(page.locator("#account-email")).to_have_text(EMAIL)
    expect(page.locator("#passkey-1 small")).to_contain_text("last used")
    [used] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert used["signCount"] > held["signCount"]  # the counter the server checked and now keeps

    page.get_by_role("button", name="Remove this passkey").click()
    expect(page).to_have_url(f"{base}/ui/account?done=passkey-removed")
    expect(page.locator(".passkeys")).to_contain_text("No passkeys yet.")
    sign_out(page, base)
    page.get_by_role("button", name="Sign in with a passkey").click()  # the authenticator still offers it
    expect(page.locator("#passkey-problem")).to_have_text(PASSKEY_REFUSED)
    expect(page).to_have_url(f"{base}/ui/login?done=signed-out")
    screenshot(page, "removed-passkey-refused")
    assert not [cookie for cookie in page.context.cookies() if cookie["name"] == "session"]


def test_without_javascript_the_pages_work_and_hide_the_passkey_controls(browser, base: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_up(page, base)
        sign_in(page, base)
        expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()
        expect(page.locator(".passkeys")).to_contain_text("No passkeys yet.")
        page.goto(f"{base}/ui/login")
        expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    finally:
        context.close()


def test_a_passkey_as_the_second_step_after_the_password(
    page: Page, base: str, authenticator: tuple[CDPSession, str], screenshot
) -> None:
    sign_up(page, base)
    sign_in(page, base)
    page.get_by_label("Name of the new passkey").fill("This laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(f"{base}/ui/account?done=passkey-added")
    page.get_by_role("button", name="Set up an authenticator app").click()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("The 6-digit code the app shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.goto(f"{base}/ui/account")
    sign_out(page, base)

    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(f"{base}/ui/login/code")))
    screenshot(page, "second-step-with-passkey")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(f"{base}/ui/account")
    expect(page.locator("#account-email")).to_have_text(EMAIL)
    assert not [cookie for cookie in page.context.cookies() if cookie["name"] == "esauth-pending"]
