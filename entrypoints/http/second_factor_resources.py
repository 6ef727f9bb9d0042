"""The second factor over HTTP: TOTP enrolment (/v1/users/me/totp), the sign-in's second step
(/v1/auth/login/mfa) and re-authentication for sudo mode (/v1/auth/reauthenticate)."""

from __future__ import annotations

from typing import Any

import falcon
import segno

from domain.auth import AuthService
from domain.errors import InvalidSecondFactor, LoginThrottled, ValidationError
from domain.second_factor import Enrolment, TotpService, recovery_codes_left
from domain.user import User
from entrypoints.http.audit import AuditLog
from entrypoints.http.json_body import check_fields, read_object
from entrypoints.http.pending_login import SecondFactorStep
from entrypoints.http.representations import public_user


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG (no script, no external reference), drawn here so
    the page needs no asset and its CSP stays strict."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", title="TOTP QR code")


def totp_status(user: User) -> dict[str, Any]:
    return {
        "enabled": user.totp_enabled,
        "enrolling": bool(user.totp_secret) and not user.totp_enabled,
        "recovery_codes_left": recovery_codes_left(user),
    }


def enrolment_view(enrolment: Enrolment) -> dict[str, Any]:
    return {"secret": enrolment.secret, "otpauth_uri": enrolment.uri, "qr_svg": qr_svg(enrolment.uri)}


def code_of(req: falcon.Request) -> object:
    body = read_object(req)
    check_fields(body, ("code",))
    return body["code"]


class TotpResource:
    """`GET` the state; `POST` starts enrolment (the secret is answered this once); `/confirm`
    puts it in force and answers the recovery codes (once); `/disable` removes it, given a code.
    Changing the second factor is sudo mode's business (`recent_auth_required`)."""

    login_required = True
    session_required = True
    recent_auth_required = frozenset({"POST"})
    rate_limited = True  # POST only: a code given to /disable is a guess like a password's

    def __init__(self, totp: TotpService, audit: AuditLog) -> None:
        self._totp = totp
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Your second factor", "success": True, "data": totp_status(req.context.user)}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.content_length:
            check_fields(read_object(req), ())
        email = req.context.user.email_address
        enrolment = self._totp.begin(email)
        self._audit.record(req, "totp_enrolment_started", email)
        resp.status = falcon.HTTP_201
        resp.media = {
            "message": "Add this secret to your authenticator app, then confirm with a code. It is not shown again.",
            "success": True,
            "data": enrolment_view(enrolment),
        }

    def on_post_confirm(self, req: falcon.Request, resp: falcon.Response) -> None:
        code = code_of(req)
        email = req.context.user.email_address
        codes = self._totp.confirm(email, code)
        self._audit.record(req, "totp_enabled", email)
        resp.media = {
            "message": "TOTP is on. Keep these recovery codes somewhere safe: each works once, and they are not shown again.",
            "success": True,
            "data": {"recovery_codes": list(codes)},
        }

    def on_post_disable(self, req: falcon.Request, resp: falcon.Response) -> None:
        code = code_of(req)
        email = req.context.user.email_address
        try:
            user = self._totp.disable(email, code)
        except InvalidSecondFactor:
            self._audit.record(req, "totp_disable_failed", email)
            raise
        self._audit.record(req, "totp_disabled", email)
        resp.media = {"message": "TOTP is off.", "success": True, "data": totp_status(user)}


class SecondFactorLoginResource:
    """`POST /v1/auth/login/mfa {code}`: the second step of a sign-in, with a TOTP or recovery code."""

    rate_limited = True
    reads_device_cookie = True  # the code step is throttled as the password step is

    def __init__(self, step: SecondFactorStep, totp: TotpService) -> None:
        self._step = step
        self._totp = totp

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        code = code_of(req)
        user = self._step.finish(req, resp, self._totp.check(code), factor=self._totp.kind(code))
        resp.media = {"message": f"'{user.email_address}' successfully logged in!", "success": True, "data": public_user(user)}


class ReauthenticateResource:
    """`POST /v1/auth/reauthenticate {password}` or `{code}`: sudo mode for the next
    ESAUTH_SUDO_MAX_AGE seconds; the session goes on under a re-issued cookie."""

    login_required = True
    session_required = True
    rate_limited = True

    def __init__(self, auth: AuthService, totp: TotpService, audit: AuditLog) -> None:
        self._auth = auth
        self._totp = totp
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, (), ("password", "code"))
        reauthenticate(self._auth, self._totp, self._audit, req, body.get("password"), body.get("code"))
        resp.media = {"message": "Confirmed. You may change your credentials now.", "success": True}


def reauthenticate(
    auth: AuthService, totp: TotpService, audit: AuditLog, req: falcon.Request, password: object, code: object
) -> None:
    """Prove the password or a code again and audit it, for the API and the pages alike; the
    renewed session is left in `req.context.issue_session`."""
    if (password is None) == (code is None):
        raise ValidationError("body", "give exactly one of password, code")
    email = req.context.user.email_address
    check = None if code is None else totp.check(code)
    try:
        req.context.issue_session = auth.reauthenticate(req.context.session, password, check)
    except (ValidationError, InvalidSecondFactor) as error:
        if not isinstance(error, ValidationError) or error.field == "password":
            audit.record(req, "reauthentication_failed", email)
        raise
    except LoginThrottled as throttled:
        audit.record(req, "login_throttled", email, retry_after_s=throttled.retry_after_s)
        raise
    audit.record(req, "reauthenticated", email, factor="password" if code is None else totp.kind(code))
