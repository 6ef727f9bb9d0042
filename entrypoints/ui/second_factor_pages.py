"""The hosted pages of the second factor: the sign-in's second step, TOTP set-up and removal,
and re-authentication (sudo mode). They call what the JSON API calls, with the same audit
events and throttles."""

from __future__ import annotations

from urllib.parse import quote

import falcon

from domain.auth import AuthService
from domain.errors import InvalidSecondFactor, LoginThrottled, PendingLoginInvalid, SecondFactorState, ValidationError
from domain.second_factor import TotpService
from entrypoints.http.audit import AuditLog
from entrypoints.http.pending_login import SecondFactorStep
from entrypoints.http.second_factor_resources import qr_svg, reauthenticate
from entrypoints.ui.pages import HostedPages, redirect, validation_message
from entrypoints.ui.resources import AccountPage, throttled

WRONG_CODE = "That code is not right, or it was used already. Wait for the next one and try again."


class CodePage:
    """`/ui/login/code`: where the sign-in page sends a person whose account has a second factor."""

    rate_limited = True
    reads_device_cookie = True

    def __init__(self, pages: HostedPages, step: SecondFactorStep, totp: TotpService) -> None:
        self._pages = pages
        self._step = step
        self._totp = totp

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._pages.render(req, resp, "code.html", next_url=self._pages.next_url(req, req.get_param("next")))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        code = form.get("code", "")
        next_url = self._pages.next_url(req, form.get("next"))
        try:
            self._step.finish(req, resp, self._totp.check(code), factor=self._totp.kind(code))
        except PendingLoginInvalid:
            redirect(resp, "/ui/login?done=pending-expired&next=" + quote(next_url, safe=""))
        except InvalidSecondFactor:
            self._pages.render(req, resp, "code.html", 400, next_url=next_url, error=WRONG_CODE)
        except LoginThrottled as refusal:
            self._pages.render(req, resp, "code.html", 429, next_url=next_url, error=throttled(resp, refusal))
        else:
            redirect(resp, next_url)


class TotpForms:
    """`POST /ui/account/totp` (start: the QR code), `/confirm` (the recovery codes, once),
    `/disable`. Sudo mode applies as in the API: an old session is sent to re-authenticate."""

    login_required = True
    session_required = True
    recent_auth_required = True
    rate_limited = True

    def __init__(self, account: AccountPage, pages: HostedPages, totp: TotpService, audit: AuditLog) -> None:
        self._account = account
        self._pages = pages
        self._totp = totp
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        email = req.context.user.email_address
        try:
            enrolment = self._totp.begin(email)
        except SecondFactorState as state:
            self._account.show(req, resp, 409, error=state.reason)
            return
        self._audit.record(req, "totp_enrolment_started", email)
        self._pages.render(req, resp, "totp_enrol.html", secret=enrolment.secret, qr_svg=qr_svg(enrolment.uri))

    def on_post_confirm(self, req: falcon.Request, resp: falcon.Response) -> None:
        email = req.context.user.email_address
        try:
            codes = self._totp.confirm(email, req.context.form.get("code", ""))
        except SecondFactorState as state:
            self._account.show(req, resp, 409, error=state.reason)
            return
        except InvalidSecondFactor:
            # The same secret again (it is only kept sealed): the person tries the next code.
            self._account.show(req, resp, 400, error="That code did not match. Set up the app again.")
            return
        self._audit.record(req, "totp_enabled", email)
        self._pages.render(req, resp, "totp_codes.html", codes=codes)

    def on_post_disable(self, req: falcon.Request, resp: falcon.Response) -> None:
        email = req.context.user.email_address
        try:
            self._totp.disable(email, req.context.form.get("code", ""))
        except SecondFactorState as state:
            self._account.show(req, resp, 409, error=state.reason)
            return
        except InvalidSecondFactor:
            self._audit.record(req, "totp_disable_failed", email)
            self._account.show(req, resp, 400, error=WRONG_CODE)
            return
        except LoginThrottled as refusal:
            self._account.show(req, resp, 429, error=throttled(resp, refusal))
            return
        self._audit.record(req, "totp_disabled", email)
        redirect(resp, "/ui/account?done=totp-off")


class ReauthenticatePage:
    """`/ui/reauthenticate?next=`: the password (or a code) again, then back to where sudo mode
    sent the person."""

    login_required = True
    session_required = True
    rate_limited = True

    def __init__(self, pages: HostedPages, auth: AuthService, totp: TotpService, audit: AuditLog) -> None:
        self._pages = pages
        self._auth = auth
        self._totp = totp
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._show(req, resp, 200, self._pages.next_url(req, req.get_param("next")))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        next_url = self._pages.next_url(req, form.get("next"))
        password, code = form.get("password") or None, form.get("code") or None
        if password is not None and code is not None:
            code = None  # the password, when both are typed
        try:
            reauthenticate(self._auth, self._totp, self._audit, req, password, code)
        except ValidationError as error:
            self._show(req, resp, 400, next_url, validation_message(error.field, error.reason))
        except InvalidSecondFactor:
            self._show(req, resp, 400, next_url, WRONG_CODE)
        except LoginThrottled as refusal:
            self._show(req, resp, 429, next_url, throttled(resp, refusal))
        else:
            redirect(resp, next_url)

    def _show(self, req: falcon.Request, resp: falcon.Response, status: int, next_url: str, error: str | None = None) -> None:
        user = req.context.user
        self._pages.render(
            req, resp, "reauthenticate.html", status, next_url=next_url, user=user, totp_enabled=user.totp_enabled, error=error
        )


def add_second_factor_pages(
    app: falcon.App, pages: HostedPages, account: AccountPage, auth: AuthService, step: SecondFactorStep, totp: TotpService, audit: AuditLog
) -> None:
    app.add_route("/ui/login/code", CodePage(pages, step, totp))
    forms = TotpForms(account, pages, totp, audit)
    app.add_route("/ui/account/totp", forms)
    app.add_route("/ui/account/totp/confirm", forms, suffix="confirm")
    app.add_route("/ui/account/totp/disable", forms, suffix="disable")
    app.add_route("/ui/reauthenticate", ReauthenticatePage(pages, auth, totp, audit))
