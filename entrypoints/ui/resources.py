"""One class per hosted page. Each calls the domain services the JSON API calls, through the same
helpers (audited_login, end_session, audited_password_change, the token helpers), so the pages
keep the API's audit events and throttles; they answer a person: a page with the problem in
words, or a 303."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import falcon

from domain.access_tokens import DEFAULT_LIFETIME_DAYS, AccessTokens
from domain.accounts import AccountService
from domain.auth import AuthService
from domain.email_addresses import EmailAddresses
from domain.passkeys import Passkeys
from domain.errors import (
    EmailNotVerified,
    InactiveUser,
    InvalidCredentials,
    InvalidToken,
    LoginThrottled,
    SecondFactorRequired,
    TokenNotFound,
    TooManyTokens,
    UserAlreadyExists,
    ValidationError,
)
from entrypoints.http.account_resources import RESET_ACCEPTED, audited_password_change, end_session, own_sessions
from entrypoints.http.passkey_resources import passkey_view
from entrypoints.http.audit import AuditLog
from entrypoints.http.pending_login import SecondFactorStep
from entrypoints.http.resources import audited_login, audited_logout
from entrypoints.http.second_factor_resources import totp_status
from entrypoints.http.token_resources import audited_token_create, audited_token_revoke, own_tokens
from entrypoints.ui.next_url import DEFAULT_NEXT
from entrypoints.ui.passkey_forms import add_passkey_forms
from entrypoints.ui.pages import STATIC_DIR, HostedPages, redirect, seconds, validation_message

NOTICES = {
    "signed-up": "Account created. Sign in with your new password.",
    "signed-out": "You are signed out.",
    "expired": "Your session has ended. Sign in again.",
    "reset": "Password changed. Sign in with your new password.",
    "profile": "Profile saved.",
    "password": "Password changed. Your other sessions were signed out.",
    "session-ended": "Session ended.",
    "token-revoked": "Token revoked. Whatever used it is refused from now on.",
    "evicted": "Signed in. You had the most sessions allowed, so your oldest one was signed out.",
    "email-verified": "Email address confirmed.",
    "email-changed": "Email address changed. Sign in with the new address; every session was signed out.",
    "email-requested": "A confirmation link is on its way to the new address; the change takes effect when you follow it.",
    "passkey-added": "Passkey added. You can sign in with it instead of your password.",
    "passkey-renamed": "Passkey renamed.",
    "passkey-removed": "Passkey removed. It no longer signs you in.",
    "pending-expired": "That sign-in took too long. Sign in again.",
    "totp-off": "The authenticator app is no longer needed to sign in.",
    "reauthenticated": "Confirmed. You can change your second factor and tokens now.",
}
NOT_VERIFIED = "Confirm your email address first: follow the link we sent you, or ask for a new one below."
TOKEN_SHOWN_ONCE = "Token created. Copy it now: it is not shown again."
TOKEN_LIFETIMES = (7, 30, 90, 365)
"""The lifetimes the page offers, in days (the API takes any from 1 to 365; 90 is its default)."""
BAD_CREDENTIALS = "That email address and password do not match an account."
"""One message whether the address is unknown or the password wrong: no enumeration."""


def notice(req: falcon.Request) -> str | None:
    return NOTICES.get(req.get_param("done") or "")


def throttled(resp: falcon.Response, refusal: LoginThrottled) -> str:
    """Sends `Retry-After` and says in words when to try again."""
    resp.set_header("Retry-After", str(refusal.retry_after_s))
    return f"Too many failed attempts for this account. Try again in {seconds(refusal.retry_after_s)}."


class SignedIn:
    """A page for a signed-in person. Pages are for browsers: the session cookie only, a bearer
    token never signs one in."""

    login_required = True
    session_required = True


@dataclass
class LoginPage:
    pages: HostedPages
    auth: AuthService
    audit: AuditLog
    step: SecondFactorStep
    rate_limited = True
    reads_device_cookie = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_url = self.pages.next_url(req, req.get_param("next"))
        self.pages.render(req, resp, "login.html", next_url=next_url, email="", notice=notice(req), unverified=False)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        email = form.get("email_address", "")
        next_url = self.pages.next_url(req, form.get("next"))
        try:
            audited_login(self.auth, self.audit, req, email, form.get("password", ""))
        except SecondFactorRequired as owed:
            self.step.begin(req, resp, owed.pending)
            redirect(resp, "/ui/login/code?next=" + quote(next_url, safe=""))
        except (InvalidCredentials, ValidationError):
            self._again(req, resp, 400, email, next_url, BAD_CREDENTIALS)
        except LoginThrottled as refusal:
            self._again(req, resp, 429, email, next_url, throttled(resp, refusal))
        except InactiveUser:
            self._again(req, resp, 403, email, next_url, "This account is deactivated.")
        except EmailNotVerified:
            self._again(req, resp, 403, email, next_url, NOT_VERIFIED, unverified=True)
        else:
            if not req.context.issue_session.evicted:
                redirect(resp, next_url)
            elif next_url == DEFAULT_NEXT:
                redirect(resp, "/ui/account?done=evicted")
            else:  # the notice first, then on to where the person was going
                redirect(resp, "/ui/account?done=evicted&next=" + quote(next_url, safe=""))

    def _again(
        self, req: falcon.Request, resp: falcon.Response, status: int, email: str, next_url: str, error: str,
        unverified: bool = False,
    ) -> None:
        self.pages.render(req, resp, "login.html", status, next_url=next_url, email=email, error=error, unverified=unverified)


@dataclass
class SignupPage:
    pages: HostedPages
    auth: AuthService
    audit: AuditLog
    emails: EmailAddresses
    rate_limited = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_url = self.pages.next_url(req, req.get_param("next"))
        self.pages.render(req, resp, "signup.html", next_url=next_url, form={})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        next_url = self.pages.next_url(req, form.get("next"))
        try:
            user = self.auth.register(
                form.get("email_address", ""), form.get("password", ""),
                form.get("first_name") or None, form.get("last_name") or None,
            )
        except ValidationError as error:
            message = validation_message(error.field, error.reason)
            self.pages.render(req, resp, "signup.html", 400, next_url=next_url, form=form, error=message)
            return
        except UserAlreadyExists:  # the API says so too (README, Known limits)
            message = "An account with this address already exists. Sign in, or reset its password."
            self.pages.render(req, resp, "signup.html", 409, next_url=next_url, form=form, error=message)
            return
        self.audit.record(req, "signup", user.email_address)
        self.emails.welcome(user)
        target = "/ui/login?done=signed-up"
        if next_url != DEFAULT_NEXT:
            target += "&next=" + quote(next_url, safe="")
        redirect(resp, target)


@dataclass
class LogoutPage(SignedIn):
    """A form, not a link: a GET must never end a session (prefetchers, image tags)."""

    pages: HostedPages
    auth: AuthService
    audit: AuditLog

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.pages.render(req, resp, "logout.html", user=req.context.user)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        audited_logout(self.auth, self.audit, req, resp)
        redirect(resp, "/ui/login?done=signed-out")


@dataclass
class AccountPage(SignedIn):
    """The profile, password, sessions and tokens forms; each posts to its own resource, which
    comes back here (or shows this page with its error)."""

    pages: HostedPages
    auth: AuthService
    tokens: AccessTokens
    passkeys: Passkeys | None = None

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        onward = self.pages.next_url(req, req.get_param("next"))  # checked here as at sign-in
        self.show(req, resp, 200, notice=notice(req), onward=None if onward == DEFAULT_NEXT else onward)

    def show(self, req: falcon.Request, resp: falcon.Response, status: int, **context: object) -> None:
        context.setdefault("onward", None)
        context.setdefault("new_token", None)
        self.pages.render(
            req, resp, "account.html", status, user=req.context.user, sessions=own_sessions(self.auth, req),
            totp=totp_status(req.context.user),
            passkeys=None if self.passkeys is None else [passkey_view(passkey) for passkey in req.context.user.passkeys],
            tokens=own_tokens(self.tokens, req), lifetimes=TOKEN_LIFETIMES, default_lifetime=DEFAULT_LIFETIME_DAYS,
            **context,
        )

    def refused(self, req: falcon.Request, resp: falcon.Response, error: Exception) -> None:
        """This page again, saying in words why a form of it did nothing."""
        if isinstance(error, ValidationError):
            self.show(req, resp, 400, error=validation_message(error.field, error.reason))
        elif isinstance(error, LoginThrottled):
            self.show(req, resp, 429, error=throttled(resp, error))
        elif isinstance(error, TooManyTokens):
            self.show(req, resp, 409, error=f"You have {error.limit} tokens, the most allowed: revoke one first.")
        elif isinstance(error, TokenNotFound):
            self.show(req, resp, 404, error="No such token: it may have been revoked already.")
        else:
            raise error


REFUSALS = (ValidationError, LoginThrottled, TooManyTokens, TokenNotFound)
"""What the account page's forms answer on the page itself."""


@dataclass
class EndSessionForm(SignedIn):
    """`POST /ui/account/sessions/{id}`: the button beside each session; one's own signs out."""

    auth: AuthService
    audit: AuditLog

    def on_post(self, req: falcon.Request, resp: falcon.Response, session_id: str) -> None:
        end_session(self.auth, self.audit, req, resp, session_id)
        redirect(resp, "/ui/login?done=signed-out" if req.context.end_session else "/ui/account?done=session-ended")


@dataclass
class ProfileForm(SignedIn):
    account: AccountPage
    accounts: AccountService
    audit: AuditLog

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        names = {name: form.get(name) or None for name in ("first_name", "last_name")}
        try:
            user = self.accounts.update_profile(req.context.user.email_address, names)
        except REFUSALS as error:
            self.account.refused(req, resp, error)
            return
        self.audit.record(req, "profile_updated", user.email_address)
        redirect(resp, "/ui/account?done=profile")


@dataclass
class PasswordForm(SignedIn):
    account: AccountPage
    accounts: AccountService
    audit: AuditLog
    rate_limited = True  # each attempt costs up to two hashes, as in the API

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        try:
            audited_password_change(
                self.accounts, self.audit, req, form.get("current_password", ""), form.get("new_password", "")
            )
        except REFUSALS as error:
            self.account.refused(req, resp, error)
            return
        redirect(resp, "/ui/account?done=password")


@dataclass
class TokensForm(SignedIn):
    """`POST /ui/account/tokens`: a new personal access token, shown on the page this once (there
    is nothing to redirect to: only its digest is kept). Asks for the current password, as the
    API does, through the same helper."""

    account: AccountPage
    accounts: AccountService
    audit: AuditLog
    rate_limited = True  # each attempt costs a hash

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        try:
            token, _ = audited_token_create(
                self.account.tokens, self.accounts, self.audit, req,
                form.get("name", ""), lifetime(form.get("expires_in_days", "")), form.get("current_password", ""),
            )
        except REFUSALS as error:
            self.account.refused(req, resp, error)
            return
        self.account.show(req, resp, 200, notice=TOKEN_SHOWN_ONCE, new_token=token)


def lifetime(value: str) -> object:
    """A form's days as the number the API takes; anything else is passed on to be refused in words."""
    return int(value) if value.isdigit() and len(value) <= 3 else value


@dataclass
class TokenForm(SignedIn):
    """`POST /ui/account/tokens/{id}`: the button beside each token; revokes it."""

    account: AccountPage
    audit: AuditLog

    def on_post(self, req: falcon.Request, resp: falcon.Response, token_id: str) -> None:
        try:
            audited_token_revoke(self.account.tokens, self.audit, req, token_id)
        except REFUSALS as error:
            self.account.refused(req, resp, error)
            return
        redirect(resp, "/ui/account?done=token-revoked")


@dataclass
class ResetPage:
    """Asks for a reset; the answer is the same page and words for every address."""

    pages: HostedPages
    accounts: AccountService
    audit: AuditLog
    rate_limited = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.pages.render(req, resp, "reset.html", email="")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        email = req.context.form.get("email_address", "")
        try:
            self.accounts.request_password_reset(email)
        except ValidationError as error:  # the address's syntax only, as in the API
            message = validation_message(error.field, error.reason)
            self.pages.render(req, resp, "reset.html", 400, email=email, error=message)
            return
        self.audit.record(req, "password_reset_requested", email)
        self.pages.render(req, resp, "reset.html", email="", notice=RESET_ACCEPTED)


@dataclass
class ResetConfirmPage:
    """`/ui/reset/confirm?token=...`: where the reset message links (ESAUTH_RESET_URL's default)."""

    pages: HostedPages
    accounts: AccountService
    audit: AuditLog
    rate_limited = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = req.get_param("token") or ""
        error = None if token else "This link has no reset token. Open the link from the message again."
        self.pages.render(req, resp, "reset_confirm.html", 200 if token else 400, token=token, error=error)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        token = form.get("token", "")
        try:
            user = self.accounts.confirm_password_reset(token, form.get("new_password", ""))
        except InvalidToken as error:
            self.pages.render(req, resp, "reset_confirm.html", 400, token="", error=error.reason)
            return
        except ValidationError as error:
            message = validation_message(error.field, error.reason)
            self.pages.render(req, resp, "reset_confirm.html", 400, token=token, error=message)
            return
        self.audit.record(req, "password_reset_done", user.email_address)
        redirect(resp, "/ui/login?done=reset")


def add_pages(
    app: falcon.App, pages: HostedPages, auth: AuthService, accounts: AccountService, tokens: AccessTokens, audit: AuditLog,
    step: SecondFactorStep,
    emails: EmailAddresses,
    passkeys: Passkeys | None = None,
) -> AccountPage:
    """Adds the pages but the email ones (ui.email_pages) and the second factor's; the account
    page, for those pages to show again."""
    app.add_route("/ui/login", LoginPage(pages, auth, audit, step))
    app.add_route("/ui/signup", SignupPage(pages, auth, audit, emails))
    app.add_route("/ui/logout", LogoutPage(pages, auth, audit))
    account = AccountPage(pages, auth, tokens, passkeys)
    app.add_route("/ui/account", account)
    app.add_route("/ui/account/sessions/{session_id}", EndSessionForm(auth, audit))
    if passkeys is not None:
        add_passkey_forms(app, account, passkeys, audit)
    app.add_route("/ui/account/profile", ProfileForm(account, accounts, audit))
    app.add_route("/ui/account/password", PasswordForm(account, accounts, audit))
    app.add_route("/ui/account/tokens", TokensForm(account, accounts, audit))
    app.add_route("/ui/account/tokens/{token_id}", TokenForm(account, audit))
    app.add_route("/ui/reset", ResetPage(pages, accounts, audit))
    app.add_route("/ui/reset/confirm", ResetConfirmPage(pages, accounts, audit))
    app.add_static_route("/ui/static", str(STATIC_DIR))
    return account
