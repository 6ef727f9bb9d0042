"""Email verification and change: /v1/auth/verify-email (+ /resend) and /v1/users/me/email."""

from __future__ import annotations

import falcon

from domain.email_addresses import EmailAddresses
from domain.errors import ValidationError
from domain.user import User
from entrypoints.http.audit import AuditLog
from entrypoints.http.json_body import check_fields, read_object
from entrypoints.http.representations import account_view, public_user

RESEND_ACCEPTED = "If that address has an account that is not confirmed yet, a message with a new link is on its way."
CHANGE_ACCEPTED = (
    "A message with a confirmation link is on its way to the new address. The change takes effect once "
    "the link is followed; until then you sign in with your current address."
)
VERIFIED = "Email address confirmed."


def changed_message(user: User) -> str:
    return f"Your account now signs in as '{user.email_address}'. Every session ended: log in again."


def audited_verification(emails: EmailAddresses, audit: AuditLog, req: falcon.Request, token: object) -> tuple[str, User]:
    """Follow a confirmation link and audit it, for the API and the hosted pages alike."""
    outcome, user = emails.verify(token)
    audit.record(req, "email_changed" if outcome == "changed" else "email_verified", user.email_address)
    return outcome, user


def audited_change_request(
    emails: EmailAddresses, audit: AuditLog, req: falcon.Request, current_password: object, new_email: object
) -> User:
    """Ask for an email change and audit it (a wrong current password as a failed attempt)."""
    email = req.context.user.email_address
    try:
        user = emails.request_change(req.context.session, current_password, new_email)
    except ValidationError as error:
        if error.field == "current_password" and error.reason == "is not correct":
            audit.record(req, "email_change_failed", email)
        raise
    audit.record(req, "email_change_requested", email)
    return user


class VerifyEmailResource:
    """`POST /v1/auth/verify-email {token}` follows a link; `/resend {email_address}` asks for a
    new one and answers alike for every address."""

    rate_limited = True

    def __init__(self, emails: EmailAddresses, audit: AuditLog) -> None:
        self._emails = emails
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("token",))
        outcome, user = audited_verification(self._emails, self._audit, req, body["token"])
        message = changed_message(user) if outcome == "changed" else VERIFIED
        resp.media = {"message": message, "success": True, "data": public_user(user)}

    def on_post_resend(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("email_address",))
        self._emails.resend(body["email_address"])
        self._audit.record(req, "email_verification_requested", body["email_address"])
        resp.status = falcon.HTTP_202
        resp.media = {"message": RESEND_ACCEPTED, "success": True}


class EmailChangeResource:
    """`POST /v1/users/me/email {current_password, new_email_address}`: 202 whether or not the
    new address is free (the link decides), so the answer tells nothing about other accounts."""

    login_required = True
    session_required = True  # credentials change with a session only
    rate_limited = True  # each attempt costs a hash, like a login

    def __init__(self, emails: EmailAddresses, audit: AuditLog) -> None:
        self._emails = emails
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("current_password", "new_email_address"))
        user = audited_change_request(self._emails, self._audit, req, body["current_password"], body["new_email_address"])
        resp.status = falcon.HTTP_202
        resp.media = {"message": CHANGE_ACCEPTED, "success": True, "data": account_view(user)}
