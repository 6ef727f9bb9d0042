"""The second factor's hosted pages through falcon.testing: set-up with the QR code, the
two-step sign-in, sudo mode's re-authentication, turning it off."""

from __future__ import annotations

import re
from html import unescape

import pyotp

from tests.fakes import FakeClock
from tests.http.helpers import PASSWORD, Api
from tests.http.test_ui_pages import pages, sign_in, sign_up  # noqa: F401  (the fixture, and the same steps)
from tests.http.ui_browser import PageClient, page_text

__all__ = ["pages"]


def set_up(pages: PageClient, clock: FakeClock) -> tuple[pyotp.TOTP, list[str]]:
    pages.get("/ui/account")
    shown = pages.post("/ui/account/totp", {})
    assert shown.status_code == 200, shown.text
    html = shown.text
    assert re.search(r'<figure class="qr" id="totp-qr"><svg [^>]*class="segno"', html)
    assert "<script" not in html and "style=" not in html and "href=" not in html.split('id="totp-qr"')[1].split("</figure>")[0]
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]{32})</code>', html).group(1)
    authenticator = pyotp.TOTP(secret)
    done = pages.post("/ui/account/totp/confirm", {"code": authenticator.at(clock())})
    assert done.status_code == 200, done.text
    codes = [unescape(code) for code in re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", done.text)]
    assert len(codes) == 10
    clock.advance(seconds=30)
    return authenticator, codes


def test_set_up_then_sign_in_in_two_steps(pages: PageClient, clock: FakeClock) -> None:
    sign_up(pages)
    sign_in(pages)
    authenticator, codes = set_up(pages, clock)
    assert "10 recovery codes left" in page_text(pages.get("/ui/account"))
    pages.get("/ui/logout")
    pages.post("/ui/logout", {})
    assert sign_in(pages, next_url="/ui/account") == "/ui/login/code?next=%2Fui%2Faccount"
    assert pages.get("/ui/account").headers["location"].startswith("/ui/login")  # the pending cookie is no session
    pages.get("/ui/login/code?next=/ui/account")
    wrong = pages.post("/ui/login/code", {"code": "000000" if authenticator.at(clock()) != "000000" else "111111", "next": "/ui/account"})
    assert wrong.status_code == 400 and "That code is not right" in page_text(wrong)
    done = pages.post("/ui/login/code", {"code": codes[0], "next": "/ui/account"})
    assert done.status_code == 303 and done.headers["location"] == "/ui/account"
    assert "9 recovery codes left" in page_text(pages.get("/ui/account"))


def test_a_slow_second_step_starts_again(pages: PageClient, clock: FakeClock) -> None:
    sign_up(pages)
    sign_in(pages)
    authenticator, _ = set_up(pages, clock)
    pages.post("/ui/logout", {})
    sign_in(pages)
    pages.get("/ui/login/code")
    clock.advance(minutes=6)
    late = pages.post("/ui/login/code", {"code": authenticator.at(clock()), "next": "/ui/account"})
    assert late.status_code == 303 and late.headers["location"].startswith("/ui/login?done=pending-expired")
    assert "took too long" in page_text(pages.get(late.headers["location"]))


def test_an_old_session_confirms_it_is_you_before_changing_the_second_factor(pages: PageClient, clock: FakeClock) -> None:
    sign_up(pages)
    sign_in(pages)
    pages.get("/ui/account")
    clock.advance(minutes=16)
    sent = pages.post("/ui/account/totp", {})
    assert sent.status_code == 303 and sent.headers["location"] == "/ui/reauthenticate?next=/ui/account%3Fdone%3Dreauthenticated"
    form = pages.get(sent.headers["location"])
    assert 'name="password" type="password" autocomplete="current-password"' in form.text
    wrong = pages.post("/ui/reauthenticate", {"password": "not the password", "next": "/ui/account?done=reauthenticated"})
    assert wrong.status_code == 400 and "Password is not correct." in page_text(wrong)
    done = pages.post("/ui/reauthenticate", {"password": PASSWORD, "next": "/ui/account?done=reauthenticated"})
    assert done.status_code == 303 and done.headers["location"] == "/ui/account?done=reauthenticated"
    assert "Confirmed." in page_text(pages.get(done.headers["location"]))
    authenticator, codes = set_up(pages, clock)
    clock.advance(minutes=16)
    pages.get("/ui/reauthenticate?next=/ui/account")
    assert pages.post("/ui/reauthenticate", {"code": authenticator.at(clock()), "next": "/ui/account"}).status_code == 303
    pages.get("/ui/account")
    wrong = pages.post("/ui/account/totp/disable", {"code": "abcde-fghij"})
    assert wrong.status_code == 400 and "That code is not right" in page_text(wrong)
    off = pages.post("/ui/account/totp/disable", {"code": codes[5]})
    assert off.status_code == 303 and off.headers["location"] == "/ui/account?done=totp-off"
    assert "Signing in needs only your password." in page_text(pages.get("/ui/account"))


def test_the_api_keeps_its_403_for_sudo_mode(api: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    clock.advance(minutes=16)
    result = api.client.simulate_post("/v1/users/me/totp", cookies=api.with_cookie(cookie))
    assert result.status_code == 403 and result.json["message"].startswith("Confirm it is you")
