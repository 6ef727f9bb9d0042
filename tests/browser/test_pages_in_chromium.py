"""The hosted pages in a real Chromium, through the nginx deployment (deploy/nginx) over HTTPS, in
front of the app that deployment protects: what a person does, and what a hostile page cannot."""

from __future__ import annotations

import json
import re
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import new_context
from tests.e2e.deployment import Deployment

pytestmark = pytest.mark.browser

EMAIL = "ada@example.com"
PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-brand-new-passphrase"
OUTBOX_WAIT_S = 10.0
APP = "/app/reports"


def sign_up(page: Page, base: str, screenshot=None) -> None:
    page.goto(f"{base}/ui/signup")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("First name").fill("Ada")
    if screenshot is not None:
        screenshot(page, "signup")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base}/ui/login?done=signed-up")


def sign_in(page: Page, base: str, password: str = PASSWORD, lands_on: str = "/ui/account") -> None:
    page.goto(f"{base}/ui/login")
    fill_sign_in(page, password)
    expect(page).to_have_url(f"{base}{lands_on}")


def fill_sign_in(page: Page, password: str = PASSWORD) -> None:
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def app_identity(page: Page) -> dict:
    """The identity headers the echo app says nginx gave it, read from the page it shows."""
    return json.loads(page.locator("body").inner_text())["headers"]


def test_sign_up_reach_the_app_end_another_session_sign_out_and_back(
    browser: Browser, context: BrowserContext, deployment: Deployment, screenshot
) -> None:
    base = deployment.url
    page = context.new_page()
    page.goto(f"{base}{APP}?year=2026")  # no login: nginx sends a navigation to esauth's page
    expect(page).to_have_url(f"{base}/ui/login?next={APP}")
    screenshot(page, "login-from-the-app")
    sign_up(page, base, screenshot)
    screenshot(page, "login-after-signup")

    elsewhere = new_context(browser)  # a second profile: another device, as far as esauth can tell
    try:
        other = elsewhere.new_page()
        sign_in(other, base)

        page.goto(f"{base}{APP}")
        expect(page).to_have_url(f"{base}/ui/login?next={APP}")
        fill_sign_in(page)
        expect(page).to_have_url(f"{base}{APP}")  # back where nginx sent the person from
        assert app_identity(page)["x-auth-request-email"] == [EMAIL]
        screenshot(page, "protected-app")

        [session] = [cookie for cookie in context.cookies() if cookie["name"] == "__Host-session"]
        assert (session["secure"], session["httpOnly"], session["sameSite"]) == (True, True, "Lax")
        assert (session["domain"], session["path"]) == ("localhost", "/")  # host-only
        [device] = [cookie for cookie in context.cookies() if cookie["name"] == "__Host-device"]
        assert (device["secure"], device["httpOnly"], device["sameSite"]) == (True, True, "Strict")
        assert device["expires"] - time.time() > 364 * 24 * 3600  # kept for a year (README: Device cookies)
        assert {cookie["name"] for cookie in context.cookies()} == {"__Host-session", "__Host-csrf", "__Host-device"}
        assert page.evaluate("document.cookie") == ""  # neither the session, the CSRF nonce nor the device cookie is readable

        page.goto(f"{base}/ui/account")
        expect(page.locator("#account-email")).to_have_text(EMAIL)
        expect(page.locator("#sessions li")).to_have_count(2)
        screenshot(page, "account")
        page.locator("#sessions li").filter(has_not_text="(this browser)").get_by_role("button").click()
        expect(page.get_by_role("status")).to_have_text("Session ended.")
        expect(page.locator("#sessions li")).to_have_count(1)
        other.goto(f"{base}{APP}")  # the ended session opens the app no more
        expect(other).to_have_url(f"{base}/ui/login?next={APP}")
    finally:
        elsewhere.close()

    page.goto(f"{base}/ui/logout")
    screenshot(page, "logout")
    page.locator("main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/ui/login?done=signed-out")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert not [cookie for cookie in context.cookies() if cookie["name"] == "__Host-session"]
    # The device cookie outlives the sign-out (Clear-Site-Data says "cache" only): this browser's
    # next sign-in is still its own device's, whatever others fail meanwhile.
    assert [cookie["sameSite"] for cookie in context.cookies() if cookie["name"] == "__Host-device"] == ["Strict"]

    # Back, twice (the logout page, then the account page): no-store, so the browser asks again
    # instead of showing what it had, and is sent to sign in.
    for protected in ("/ui/logout", "/ui/account"):
        page.go_back()
        expect(page).to_have_url(f"{base}/ui/login?next={protected}")
        assert EMAIL not in page.content()
    screenshot(page, "back-after-sign-out")
    page.goto(f"{base}{APP}")  # and the app is closed again, though it lets its pages be cached for 10 minutes
    expect(page).to_have_url(f"{base}/ui/login?next={APP}")


def test_wrong_password_is_shown_in_words(context: BrowserContext, deployment: Deployment, screenshot) -> None:
    page = context.new_page()
    sign_up(page, deployment.url)
    fill_sign_in(page, "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("That email address and password do not match an account.")
    screenshot(page, "login-error")


def test_password_reset_from_the_outbox(context: BrowserContext, deployment: Deployment, screenshot) -> None:
    page = context.new_page()
    base = deployment.url
    sign_up(page, base)
    page.goto(f"{base}/ui/reset")
    screenshot(page, "reset")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Send the reset message").click()
    expect(page.get_by_role("status")).to_contain_text("a password reset message is on its way")

    link = reset_link(Path(deployment.esauth.env["ESAUTH_DATA_DIR"]) / "outbox")
    assert link.startswith(f"{base}/ui/reset/confirm?token=")  # ESAUTH_PUBLIC_URL: the nginx origin
    page.goto(link)
    screenshot(page, "reset-confirm")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page).to_have_url(f"{base}/ui/login?done=reset")
    sign_in(page, base, NEW_PASSWORD)
    page.goto(link)  # the link is spent
    page.get_by_label("New password").fill("yet-another-passphrase")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("alert")).to_be_visible()
    screenshot(page, "reset-link-spent")


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


def test_the_confirmation_link_and_an_email_change_from_the_outbox(context: BrowserContext, deployment: Deployment, screenshot) -> None:
    page = context.new_page()
    base = deployment.url
    outbox = Path(deployment.esauth.env["ESAUTH_DATA_DIR"]) / "outbox"
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
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#account-email")).to_have_text(new)


ATTACK = """<!doctype html><title>elsewhere</title>
<form id="out" method="post" action="{base}/ui/logout"><input name="csrf_token" value="guess">
<button type="submit">out</button></form>
<form id="pw" method="post" action="{base}/ui/account/password"><input name="csrf_token" value="guess">
<input name="current_password" value="{password}"><input name="new_password" value="owned-by-someone">
<button type="submit">pw</button></form>"""
FETCHES = """async (base) => {
    const out = [];
    const calls = [["/v1/auth/logout", null], ["/ui/logout", "csrf_token=guess"],
                   ["/v1/users/me/password", '{"current_password": "%s", "new_password": "owned-by-someone"}']];
    for (const [path, body] of calls) {
        try {
            const answer = await fetch(base + path, {method: "POST", credentials: "include", body,
                headers: body ? {"Content-Type": "text/plain"} : {}});
            out.push(answer.status);
        } catch (error) { out.push("refused"); }
    }
    return out;
}""" % PASSWORD


@pytest.mark.parametrize("same_site", [True, False], ids=["same-site", "cross-site"])
def test_a_page_on_another_origin_can_neither_sign_out_nor_change_the_password(
    context: BrowserContext, deployment: Deployment, other_origin, screenshot, same_site: bool
) -> None:
    base = deployment.url
    page = context.new_page()
    sign_up(page, base)
    sign_in(page, base)
    attacker = other_origin(ATTACK.format(base=base, password=PASSWORD), same_site=same_site)
    evil = context.new_page()
    for form in ("out", "pw"):
        evil.goto(attacker)
        with evil.expect_response(lambda answer: answer.url.startswith(base)) as answered:
            evil.locator(f"#{form} button").click()
        assert answered.value.status == 403, form
        expect(evil.locator("h1")).to_have_text("Not allowed")
        screenshot(evil, f"refused-{form}")
    evil.goto(attacker)  # the refused form left this tab on esauth's error page
    assert evil.evaluate("location.origin") != base
    # No CORS grant, so the browser hides every answer; that esauth refused them is shown below.
    assert evil.evaluate(FETCHES, base) == ["refused", "refused", "refused"]
    screenshot(evil, "other-origin")

    page.goto(f"{base}/ui/account")  # the session survived, and the password is unchanged
    expect(page.locator("#account-email")).to_have_text(EMAIL)
    expect(page.locator("#sessions li")).to_have_count(1)
    status, _, body = deployment.https("POST", "/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD})
    assert status == 200, body


def test_a_token_made_and_revoked_on_the_account_page(context: BrowserContext, deployment: Deployment, screenshot) -> None:
    base = deployment.url
    page = context.new_page()
    sign_up(page, base)
    sign_in(page, base)
    tokens = page.locator("#tokens")
    tokens.get_by_label("Name").fill("ci")
    tokens.get_by_label("Your current password").fill(PASSWORD)
    tokens.get_by_role("button", name="Make a token").click()
    expect(page.get_by_role("status")).to_have_text("Token created. Copy it now: it is not shown again.")
    shown = page.get_by_label("Your new token")
    expect(shown).to_have_attribute("readonly", "")
    token = shown.input_value()
    assert token.startswith("esauth_pat_")
    screenshot(page, "token-created")
    seen = deployment.https("GET", APP, Accept="application/json", Authorization=f"Bearer {token}")
    assert seen[0] == 200 and json.loads(seen[2])["headers"]["x-auth-request-email"] == [EMAIL]

    page.goto(f"{base}/ui/account")  # shown once: never again
    assert token not in page.content()
    page.get_by_role("button", name="Revoke ci").click()
    expect(page.get_by_role("status")).to_have_text("Token revoked. Whatever used it is refused from now on.")
    expect(tokens).to_contain_text("You have no tokens.")
    screenshot(page, "token-revoked")
    assert deployment.https("GET", APP, Accept="application/json", Authorization=f"Bearer {token}")[0] == 401


def test_an_authenticator_app_set_up_from_the_account_page_then_a_two_step_sign_in(
    context: BrowserContext, deployment: Deployment, screenshot
) -> None:
    """The QR code renders under the strict CSP; the secret is read off the page and the codes
    computed with pyotp, as an authenticator app would."""
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    base = deployment.url
    sign_up(page, base)
    sign_in(page, base)
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator("#totp-qr svg")).to_be_visible()
    assert page.locator("#totp-qr svg").bounding_box()["width"] > 100
    screenshot(page, "totp-enrol")
    authenticator = pyotp.TOTP(page.locator("#totp-secret").inner_text())
    page.get_by_label("The 6-digit code the app shows").fill(authenticator.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    screenshot(page, "totp-recovery-codes")
    page.goto(f"{base}/ui/account")
    expect(page.locator("#totp-state")).to_contain_text("10 recovery codes left")
    page.locator("main").get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(f"{base}/ui/login?done=signed-out")

    fill_sign_in(page)
    expect(page).to_have_url(re.compile(re.escape(f"{base}/ui/login/code")))
    assert not [cookie for cookie in context.cookies() if cookie["name"] == "__Host-session"]
    [pending] = [cookie for cookie in context.cookies() if cookie["name"] == "__Host-esauth-pending"]
    assert pending["httpOnly"] is True and pending["secure"] is True and pending["sameSite"] == "Strict"
    screenshot(page, "totp-code")
    # The confirming code's step is spent: the next step's code, which the drift window accepts.
    page.get_by_label("Code").fill(authenticator.at(time.time() + 30))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base}/ui/account")
    expect(page.locator("#account-email")).to_have_text(EMAIL)
    assert not [cookie for cookie in context.cookies() if cookie["name"] == "__Host-esauth-pending"]
    assert refused == []
