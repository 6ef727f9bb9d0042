"""The hosted pages in a real Chromium against a real `esauth serve` (plain http on loopback)."""

from __future__ import annotations

import re
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import EsauthServer

pytestmark = pytest.mark.browser

EMAIL = "ada@example.com"
PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-brand-new-passphrase"
OUTBOX_WAIT_S = 10.0


def sign_up(page: Page, base: str, screenshot=None) -> None:
    page.goto(f"{base}/ui/signup")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("First name").fill("Ada")
    if screenshot is not None:
        screenshot(page, "signup")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base}/ui/login?done=signed-up")


def sign_in(page: Page, base: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/ui/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/ui/account")


def test_sign_up_sign_in_account_sign_out_and_back(context: BrowserContext, esauth: EsauthServer, screenshot) -> None:
    page = context.new_page()
    base = esauth.url
    sign_up(page, base, screenshot)
    screenshot(page, "login-after-signup")
    sign_in(page, base)
    expect(page.locator("#account-email")).to_have_text(EMAIL)
    expect(page.locator("form[action='/ui/account/password'] input[name='email_address']")).to_be_hidden()
    screenshot(page, "account")

    [session] = [cookie for cookie in context.cookies() if cookie["name"] == "session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["secure"] is False  # plain http on loopback; over HTTPS it is __Host-session, Secure
    [device] = [cookie for cookie in context.cookies() if cookie["name"] == "device"]
    assert device["httpOnly"] is True and device["sameSite"] == "Strict"
    assert device["expires"] - time.time() > 364 * 24 * 3600  # kept for a year (README: Device cookies)
    assert page.evaluate("document.cookie") == ""  # neither the session, the CSRF nonce nor the device cookie is readable

    page.goto(f"{base}/ui/logout")
    screenshot(page, "logout")
    page.locator("main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/ui/login?done=signed-out")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert not [cookie for cookie in context.cookies() if cookie["name"] == "session"]
    # Chromium applies the logout's Clear-Site-Data: "cookies" to the device cookie too (README,
    # Device cookies: the next sign-in here is untrusted).
    assert not [cookie for cookie in context.cookies() if cookie["name"] == "device"]

    # Back, twice (the logout page, then the account page): no-store, so the browser asks again
    # instead of showing what it had, and is sent to sign in.
    for protected in ("/ui/logout", "/ui/account"):
        page.go_back()
        expect(page).to_have_url(f"{base}/ui/login?next={protected}")
        assert EMAIL not in page.content()
    screenshot(page, "back-after-sign-out")


def test_wrong_password_is_shown_in_words(context: BrowserContext, esauth: EsauthServer, screenshot) -> None:
    page = context.new_page()
    sign_up(page, esauth.url)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That email address and password do not match an account.")
    screenshot(page, "login-error")


def test_password_reset_from_the_outbox(context: BrowserContext, esauth: EsauthServer, screenshot) -> None:
    page = context.new_page()
    base = esauth.url
    sign_up(page, base)
    page.goto(f"{base}/ui/reset")
    screenshot(page, "reset")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Send the reset message").click()
    expect(page.get_by_role("status")).to_contain_text("a password reset message is on its way")

    link = reset_link(Path(esauth.env["ESAUTH_DATA_DIR"]) / "outbox")
    assert link.startswith(f"{base}/ui/reset/confirm?token=")
    page.goto(link)
    screenshot(page, "reset-confirm")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page).to_have_url(f"{base}/ui/login?done=reset")
    sign_in(page, base, NEW_PASSWORD)


def reset_link(outbox: Path) -> str:
    return link_in_outbox(outbox, "/ui/reset/confirm")


def link_in_outbox(outbox: Path, path: str, recipient: str = EMAIL) -> str:
    """The link to `path` in a message to `recipient` in the outbox, waiting (bounded) for the
    background worker."""
    deadline = time.monotonic() + OUTBOX_WAIT_S
    pattern = re.compile(rf"https?://\S+{re.escape(path)}\?token=\S+")
    while time.monotonic() < deadline:
        for file in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
            with file.open("rb") as handle:
                message = BytesParser(policy=policy.default).parse(handle)
            found = pattern.search(message.get_body(preferencelist=("plain",)).get_content())
            if found and message["To"] == recipient:
                return found.group(0)
        time.sleep(0.05)
    raise AssertionError(f"no message to {recipient} linking to {path} in {outbox} within {OUTBOX_WAIT_S} s")


def test_the_confirmation_link_and_an_email_change_from_the_outbox(context: BrowserContext, esauth: EsauthServer, screenshot) -> None:
    page = context.new_page()
    base = esauth.url
    outbox = Path(esauth.env["ESAUTH_DATA_DIR"]) / "outbox"
    sign_up(page, base)
    link = link_in_outbox(outbox, "/ui/verify-email")
    assert link.startswith(f"{base}/ui/verify-email?token=")
    sign_in(page, base)
    expect(page.locator("#email-state")).to_contain_text("not confirmed yet")
    page.goto(link)
    screenshot(page, "verify-email")
    page.goto(f"{base}/ui/account")
    expect(page.locator("#email-state")).to_contain_text("not confirmed yet")  # opening the link changed nothing
    page.goto(link)
    page.get_by_role("button", name="Confirm the address").click()
    expect(page).to_have_url(f"{base}/ui/login?done=email-verified")
    sign_in(page, base)
    expect(page.locator("#email-state")).to_have_text(f"{EMAIL}: confirmed.")

    new = "ada@new.example.org"
    page.get_by_label("New email address").fill(new)
    page.locator("#email_current_password").fill(PASSWORD)
    page.get_by_role("button", name="Change email address").click()
    expect(page).to_have_url(f"{base}/ui/account?done=email-requested")
    expect(page.locator("#email-pending")).to_contain_text(new)
    screenshot(page, "account-email-pending")
    page.goto(link_in_outbox(outbox, "/ui/verify-email", new))
    page.get_by_role("button", name="Confirm the address").click()
    expect(page).to_have_url(f"{base}/ui/login?done=email-changed")
    page.get_by_label("Email address").fill(new)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#account-email")).to_have_text(new)


def test_a_page_on_another_origin_can_neither_sign_out_nor_change_the_password(
    context: BrowserContext, esauth: EsauthServer, other_origin, screenshot
) -> None:
    base = esauth.url
    page = context.new_page()
    sign_up(page, base)
    sign_in(page, base)
    attacker = other_origin(
        f'<!doctype html><title>elsewhere</title>'
        f'<form id="out" method="post" action="{base}/ui/logout"><input name="csrf_token" value="guess">'
        f'<button type="submit">out</button></form>'
        f'<form id="pw" method="post" action="{base}/ui/account/password"><input name="csrf_token" value="guess">'
        f'<input name="current_password" value="{PASSWORD}"><input name="new_password" value="owned-by-someone">'
        f'<button type="submit">pw</button></form>'
    )
    evil = context.new_page()
    for form in ("out", "pw"):
        evil.goto(attacker)
        with evil.expect_response(lambda answer: answer.url.startswith(base)) as answered:
            evil.locator(f"#{form} button").click()
        assert answered.value.status == 403, form
        screenshot(evil, f"refused-{form}")
    evil.goto(attacker)  # the refused form left this tab on esauth's error page
    assert evil.evaluate("location.origin") != base
    fetched = evil.evaluate(
        """async (base) => {
            const out = [];
            const calls = [["/v1/auth/logout", null], ["/ui/logout", "csrf_token=guess"],
                           ["/v1/users/me/password", '{"current_password": "x", "new_password": "owned-by-someone"}']];
            for (const [path, body] of calls) {
                try {
                    const answer = await fetch(base + path, {method: "POST", credentials: "include", body,
                        headers: body ? {"Content-Type": "text/plain"} : {}});
                    out.push(answer.status);
                } catch (error) { out.push("refused"); }
            }
            return out;
        }""",
        base,
    )
    assert fetched == ["refused", "refused", "refused"]  # no CORS grant; what they did is checked below
    screenshot(evil, "other-origin")

    page.goto(f"{base}/ui/account")  # the session survived, and the password is unchanged
    expect(page.locator("#account-email")).to_have_text(EMAIL)
    answer = esauth.client().post("/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD})
    assert answer.status == 200


def test_ending_another_session_from_the_account_page(
    browser, context: BrowserContext, esauth: EsauthServer, screenshot
) -> None:
    base = esauth.url
    page = context.new_page()
    sign_up(page, base)
    elsewhere = browser.new_context()  # a second profile: another device, as far as esauth can tell
    try:
        elsewhere.set_default_timeout(15_000)
        other = elsewhere.new_page()
        sign_in(other, base)
        sign_in(page, base)
        expect(page.locator(".sessions li")).to_have_count(2)
        screenshot(page, "account-sessions")
        page.locator(".sessions li").filter(has_not_text="(this browser)").get_by_role("button").click()
        expect(page.get_by_role("status")).to_have_text("Session ended.")
        expect(page.locator(".sessions li")).to_have_count(1)
        other.goto(f"{base}/ui/account")
        expect(other).to_have_url(f"{base}/ui/login?next=/ui/account")
    finally:
        elsewhere.close()
