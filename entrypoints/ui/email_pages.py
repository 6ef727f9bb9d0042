"""The hosted pages of email verification and change: the link's page, asking for a new link,
and the change form on the account page."""

from __future__ import annotations

import falcon

from domain.email_addresses import EmailAddresses
from domain.errors import InvalidToken, UserAlreadyExists, ValidationError
from entrypoints.http.audit import AuditLog
from entrypoints.http.email_resources import RESEND_ACCEPTED, audited_change_request, audited_verification
from entrypoints.ui.pages import HostedPages, redirect, validation_message
from entrypoints.ui.resources import REFUSALS, AccountPage


class VerifyEmailPage:
    """`/ui/verify-email?token=...`, where the messages link (ESAUTH_VERIFY_URL's default). The
    GET only shows a button: mail scanners open links, and a GET must change nothing."""

    rate_limited = True

    def __init__(self, pages: HostedPages, emails: EmailAddresses, audit: AuditLog) -> None:
        self._pages = pages
        self._emails = emails
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = req.get_param("token") or ""
        error = None if token else "This link has no confirmation token. Open the link from the message again."
        self._pages.render(req, resp, "verify_email.html", 200 if token else 400, token=token, error=error)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            outcome, user = audited_verification(self._emails, self._audit, req, req.context.form.get("token", ""))
        except (InvalidToken, ValidationError) as error:
            reason = error.reason if isinstance(error, InvalidToken) else validation_message(error.field, error.reason)
            self._pages.render(req, resp, "verify_email.html", 400, token="", error=reason)
            return
        except UserAlreadyExists as taken:
            message = f"'{taken.email_address}' has an account of its own since the change was asked for; the change did not happen."
            self._pages.render(req, resp, "verify_email.html", 409, token="", error=message)
            return
        if outcome == "changed":
            req.context.end_session = True  # a cookie of this browser names the old address
            redirect(resp, "/ui/login?done=email-changed")
        else:
            redirect(resp, "/ui/login?done=email-verified")


class ResendPage:
    """Asks for a new confirmation link; the same page and words for every address."""

    rate_limited = True

    def __init__(self, pages: HostedPages, emails: EmailAddresses, audit: AuditLog) -> None:
        self._pages = pages
        self._emails = emails
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._pages.render(req, resp, "verify_resend.html", email=req.get_param("email_address") or "")

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        email = req.context.form.get("email_address", "")
        try:
            self._emails.resend(email)
        except ValidationError as error:
            self._pages.render(req, resp, "verify_resend.html", 400, email=email, error=validation_message(error.field, error.reason))
            return
        self._audit.record(req, "email_verification_requested", email)
        self._pages.render(req, resp, "verify_resend.html", email="", notice=RESEND_ACCEPTED)


class EmailForm:
    """`POST /ui/account/email`: the change form of the account page."""

    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in
    rate_limited = True  # each attempt costs a hash, as in the API

    def __init__(self, account: AccountPage, pages: HostedPages, emails: EmailAddresses, audit: AuditLog) -> None:
        self._account = account
        self._pages = pages
        self._emails = emails
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = req.context.form
        try:
            audited_change_request(
                self._emails, self._audit, req, form.get("current_password", ""), form.get("new_email_address", "")
            )
        except REFUSALS as error:
            self._account.refused(req, resp, error)
            return
        redirect(resp, "/ui/account?done=email-requested")


def add_email_pages(app: falcon.App, pages: HostedPages, emails: EmailAddresses, audit: AuditLog, account: AccountPage) -> None:
    app.add_route("/ui/verify-email", VerifyEmailPage(pages, emails, audit))
    app.add_route("/ui/verify-email/resend", ResendPage(pages, emails, audit))
    app.add_route("/ui/account/email", EmailForm(account, pages, emails, audit))
