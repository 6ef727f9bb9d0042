"""One class per hosted page. Each calls the domain services the JSON API calls, with the same
audit events and throttles, and answers a person: a page with the problem in words, or a 303."""

from __future__ import annotations

from typing import Callable
from urllib.parse import quote

import falcon

from domain.accounts import AccountService
from domain.auth import AuthService
from domain.email_addresses import EmailAddresses
from domain.errors import EmailNotVerified, InactiveUser, InvalidCredentials, InvalidToken, LoginThrottled, UserAlreadyExists, ValidationError
from entrypoints.account_resources import RESET_ACCEPTED, audited_password_change, end_session
from entrypoints.representations import session_view
from entrypoints.audit import AuditLog
from entrypoints.resources import audited_login
from entrypoints.ui.next_url import DEFAULT_NEXT
from entrypoints.ui.pages import STATIC_DIR, HostedPages, seconds, validation_message

NOTICES = {
    "signed-up": "Account created. Sign in with your new password.",
    "signed-out": "You are signed out.",
    "expired": "Your session has ended. Sign in again.",
    "reset": "Password changed. Sign in with your new password.",
    "profile": "Profile saved.",
    "password": "Password changed. Your other sessions were signed out.",
    "session-ended": "Session ended.",
    "evicted": "Signed in. You had the most sessions allowed, so your oldest one was signed out.",
    "email-verified": "Email address confirmed.",
    "email-changed": "Email address changed. Sign in with the new address; every session was signed out.",
    "email-requested": "A confirmation link is on its way to the new address; the change takes effect when you follow it.",
}
NOT_VERIFIED = "Confirm your email address first: follow the link we sent you, or ask for a new one below."
BAD_CREDENTIALS = "That email address and password do not match an account."
"""One message whether the address is unknown or the password wrong: no enumeration."""


def notice(req: falcon.Request) -> str | None:
    return NOTICES.get(req.get_param("done") or "")


def throttled_message(throttled: LoginThrottled) -> str:
    return f"Too many failed attempts for this account. Try again in {seconds(throttled.retry_after_s)}."


class LoginPage:
    rate_limited = True
    reads_device_cookie = True

    def __init__(self, pages: HostedPages, auth: AuthService, audit: AuditLog) -> None:
        self._pages = pages
        self._auth = auth
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_url = self._pages.next_url(req, req.get_param("next"))
        self._pages.render(req, resp, "login.html", next_url=next_url, email="", notice=notice(req), unverified=False)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        email = form.get("email_address", "")
        next_url = self._pages.next_url(req, form.get("next"))
        try:
            audited_login(self._auth, self._audit, req, email, form.get("password", ""))
        except (InvalidCredentials, ValidationError):
            self._again(req, resp, 400, email, next_url, BAD_CREDENTIALS)
        except LoginThrottled as throttled:
            resp.set_header("Retry-After", str(throttled.retry_after_s))
            self._again(req, resp, 429, email, next_url, throttled_message(throttled))
        except InactiveUser:
            self._again(req, resp, 403, email, next_url, "This account is deactivated.")
        except EmailNotVerified:
            self._again(req, resp, 403, email, next_url, NOT_VERIFIED, unverified=True)
        else:
            evicted = req.context.issue_session.evicted
            self._pages.redirect(resp, "/ui/account?done=evicted" if evicted and next_url == DEFAULT_NEXT else next_url)

    def _again(
        self, req: falcon.Request, resp: falcon.Response, status: int, email: str, next_url: str, error: str,
        unverified: bool = False,
    ) -> None:
        self._pages.render(req, resp, "login.html", status, next_url=next_url, email=email, error=error, unverified=unverified)


class SignupPage:
    rate_limited = True

    def __init__(self, pages: HostedPages, auth: AuthService, audit: AuditLog, emails: EmailAddresses) -> None:
        self._pages = pages
        self._auth = auth
        self._audit = audit
        self._emails = emails

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_url = self._pages.next_url(req, req.get_param("next"))
        self._pages.render(req, resp, "signup.html", next_url=next_url, form={})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        next_url = self._pages.next_url(req, form.get("next"))
        try:
            user = self._auth.register(
                form.get("email_address", ""), form.get("password", ""),
                form.get("first_name") or None, form.get("last_name") or None,
            )
        except ValidationError as error:
            message = validation_message(error.field, error.reason)
            self._pages.render(req, resp, "signup.html", 400, next_url=next_url, form=form, error=message)
            return
        except UserAlreadyExists:  # the API says so too (README, Known limits)
            message = "An account with this address already exists. Sign in, or reset its password."
            self._pages.render(req, resp, "signup.html", 409, next_url=next_url, form=form, error=message)
            return
        self._audit.record(req, "signup", user.email_address)
        self._emails.welcome(user)
        target = "/ui/login?done=signed-up"
        if next_url != DEFAULT_NEXT:
            target += "&next=" + quote(next_url, safe="")
        self._pages.redirect(resp, target)


class LogoutPage:
    """A form, not a link: a GET must never end a session (prefetchers, image tags)."""

    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in

    def __init__(self, pages: HostedPages, auth: AuthService, audit: AuditLog) -> None:
        self._pages = pages
        self._auth = auth
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._pages.render(req, resp, "logout.html", user=req.context.user)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._auth.logout(req.context.session)
        self._audit.record(req, "logout", req.context.user.email_address)
        req.context.end_session = True
        resp.set_header("Clear-Site-Data", '"cookies"')
        self._pages.redirect(resp, "/ui/login?done=signed-out")


class AccountPage:
    """The profile, password and sessions forms; each posts to its own resource and comes back here."""

    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in

    def __init__(self, pages: HostedPages, auth: AuthService) -> None:
        self._pages = pages
        self._auth = auth

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.show(req, resp, 200, notice=notice(req))

    def run_form(self, req: falcon.Request, resp: falcon.Response, action: Callable[[], object]) -> bool:
        """Run a form's action that proves the current password; when it is refused, show this
        page again with the problem (and Retry-After when throttled) and say False."""
        try:
            action()
        except ValidationError as error:
            self.show(req, resp, 400, error=validation_message(error.field, error.reason))
            return False
        except LoginThrottled as throttled:
            resp.set_header("Retry-After", str(throttled.retry_after_s))
            self.show(req, resp, 429, error=throttled_message(throttled))
            return False
        return True

    def show(self, req: falcon.Request, resp: falcon.Response, status: int, **context: object) -> None:
        current = req.context.session.session_id
        sessions = [session_view(record, current) for record in self._auth.live_sessions(req.context.user)]
        self._pages.render(req, resp, "account.html", status, user=req.context.user, sessions=sessions, **context)


class EndSessionForm:
    """`POST /ui/account/sessions/{id}`: the button beside each session; one's own signs out."""

    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in

    def __init__(self, pages: HostedPages, auth: AuthService, audit: AuditLog) -> None:
        self._pages = pages
        self._auth = auth
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response, session_id: str) -> None:
        end_session(self._auth, self._audit, req, session_id)
        if req.context.end_session:
            resp.set_header("Clear-Site-Data", '"cookies"')
            self._pages.redirect(resp, "/ui/login?done=signed-out")
        else:
            self._pages.redirect(resp, "/ui/account?done=session-ended")


class ProfileForm:
    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in

    def __init__(self, account: AccountPage, pages: HostedPages, accounts: AccountService, audit: AuditLog) -> None:
        self._account = account
        self._pages = pages
        self._accounts = accounts
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        names = {name: form.get(name) or None for name in ("first_name", "last_name")}
        try:
            user = self._accounts.update_profile(req.context.user.email_address, names)
        except ValidationError as error:
            self._account.show(req, resp, 400, error=validation_message(error.field, error.reason))
            return
        self._audit.record(req, "profile_updated", user.email_address)
        self._pages.redirect(resp, "/ui/account?done=profile")


class PasswordForm:
    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in
    rate_limited = True  # each attempt costs up to two hashes, as in the API

    def __init__(self, account: AccountPage, pages: HostedPages, accounts: AccountService, audit: AuditLog) -> None:
        self._account = account
        self._pages = pages
        self._accounts = accounts
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        change = lambda: audited_password_change(  # noqa: E731
            self._accounts, self._audit, req, form.get("current_password", ""), form.get("new_password", "")
        )
        if self._account.run_form(req, resp, change):
            self._pages.redirect(resp, "/ui/account?done=password")


class ResetPage:
    """Asks for a reset; the answer is the same page and words for every address."""

    rate_limited = True

    def __init__(self, pages: HostedPages, accounts: AccountService, audit: AuditLog) -> None:
        self._pages = pages
        self._accounts = accounts
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._pages.render(req, resp, "reset.html", email="")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        email = req.context.form.get("email_address", "")
        try:
            self._accounts.request_password_reset(email)
        except ValidationError as error:  # the address's syntax only, as in the API
            message = validation_message(error.field, error.reason)
            self._pages.render(req, resp, "reset.html", 400, email=email, error=message)
            return
        self._audit.record(req, "password_reset_requested", email)
        self._pages.render(req, resp, "reset.html", email="", notice=RESET_ACCEPTED)


class ResetConfirmPage:
    """`/ui/reset/confirm?token=...`: where the reset message links (ESAUTH_RESET_URL's default)."""

    rate_limited = True

    def __init__(self, pages: HostedPages, accounts: AccountService, audit: AuditLog) -> None:
        self._pages = pages
        self._accounts = accounts
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = req.get_param("token") or ""
        error = None if token else "This link has no reset token. Open the link from the message again."
        self._pages.render(req, resp, "reset_confirm.html", 200 if token else 400, token=token, error=error)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        token = form.get("token", "")
        try:
            user = self._accounts.confirm_password_reset(token, form.get("new_password", ""))
        except InvalidToken as error:
            self._pages.render(req, resp, "reset_confirm.html", 400, token="", error=error.reason)
            return
        except ValidationError as error:
            message = validation_message(error.field, error.reason)
            self._pages.render(req, resp, "reset_confirm.html", 400, token=token, error=message)
            return
        self._audit.record(req, "password_reset_done", user.email_address)
        self._pages.redirect(resp, "/ui/login?done=reset")


def add_pages(
    app: falcon.App, pages: HostedPages, auth: AuthService, accounts: AccountService, audit: AuditLog, emails: EmailAddresses
) -> AccountPage:
    """Routes every page but the email ones (ui.email_pages), which come back to the account page returned."""
    app.add_route("/ui/login", LoginPage(pages, auth, audit))
    app.add_route("/ui/signup", SignupPage(pages, auth, audit, emails))
    app.add_route("/ui/logout", LogoutPage(pages, auth, audit))
    account = AccountPage(pages, auth)
    app.add_route("/ui/account", account)
    app.add_route("/ui/account/sessions/{session_id}", EndSessionForm(pages, auth, audit))
    app.add_route("/ui/account/profile", ProfileForm(account, pages, accounts, audit))
    app.add_route("/ui/account/password", PasswordForm(account, pages, accounts, audit))
    app.add_route("/ui/reset", ResetPage(pages, accounts, audit))
    app.add_route("/ui/reset/confirm", ResetConfirmPage(pages, accounts, audit))
    app.add_static_route("/ui/static", str(STATIC_DIR))
    return account
