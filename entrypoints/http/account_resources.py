"""A user's own account: /v1/users/me, its password, and password reset."""

from __future__ import annotations

import falcon

from domain.accounts import PROFILE_FIELDS, AccountService
from domain.auth import AuthService
from domain.errors import ValidationError
from domain.user import User
from entrypoints.http.audit import AuditLog
from entrypoints.http.json_body import check_fields, read_object
from entrypoints.http.representations import account_view, session_view
from entrypoints.http.session import signing_out

RESET_ACCEPTED = "If that address has an active account, a password reset message is on its way."


class MeResource:
    login_required = True

    def __init__(self, accounts: AccountService, audit: AuditLog) -> None:
        self._accounts = accounts
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Your account", "success": True, "data": account_view(req.context.user)}

    def on_patch(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, (), PROFILE_FIELDS)
        if not body:
            raise ValidationError("body", f"name at least one of {', '.join(PROFILE_FIELDS)}")
        user = self._accounts.update_profile(req.context.user.email_address, body)
        self._audit.record(req, "profile_updated", user.email_address)
        resp.media = {"message": "Account updated.", "success": True, "data": account_view(user)}


class SessionsResource:
    """`GET /v1/users/me/sessions`: the caller's live sessions, newest first (OWASP ASVS 7.5.2)."""

    login_required = True
    session_required = True  # the list marks the session asking; a token has none

    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Your sessions", "success": True, "data": {"sessions": own_sessions(self._auth, req)}}


def own_sessions(auth: AuthService, req: falcon.Request) -> list[dict[str, object]]:
    """The caller's live sessions, newest first, theirs marked: for the API and the account page."""
    current = req.context.session.session_id
    return [session_view(record, current) for record in auth.live_sessions(req.context.user)]


class SessionResource:
    """`DELETE /v1/users/me/sessions/{id}`: ends one of the caller's sessions (their own too)."""

    login_required = True
    session_required = True  # ending sessions is the sessions' own business

    def __init__(self, auth: AuthService, audit: AuditLog) -> None:
        self._auth = auth
        self._audit = audit

    def on_delete(self, req: falcon.Request, resp: falcon.Response, session_id: str) -> None:
        end_session(self._auth, self._audit, req, resp, session_id)
        resp.media = {"message": "Session ended.", "success": True}


def end_session(auth: AuthService, audit: AuditLog, req: falcon.Request, resp: falcon.Response, session_id: str) -> None:
    """End one of the caller's sessions and audit it; ending their own signs them out."""
    auth.end_session(req.context.session, session_id)
    audit.record(req, "session_ended", req.context.user.email_address)
    if session_id == req.context.session.session_id:
        signing_out(req, resp)


class PasswordResource:
    """`POST /v1/users/me/password`: the caller's session survives under a new id; all others end."""

    login_required = True
    session_required = True  # credentials change with a session only
    rate_limited = True  # each attempt costs up to two hashes, and a burst is hashed in full

    def __init__(self, accounts: AccountService, audit: AuditLog) -> None:
        self._accounts = accounts
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("current_password", "new_password"))
        user = audited_password_change(self._accounts, self._audit, req, body["current_password"], body["new_password"])
        resp.media = {"message": "Password changed. Other sessions were logged out.", "success": True, "data": account_view(user)}


def audited_password_change(
    accounts: AccountService, audit: AuditLog, req: falcon.Request, current_password: object, new_password: object
) -> User:
    """Change the caller's password and audit it, for the API and the hosted pages alike; the
    caller's renewed session is left in `req.context.issue_session`."""
    email = req.context.user.email_address
    try:
        user, session = accounts.change_password(req.context.session, current_password, new_password)
    except ValidationError as error:
        if error.field == "current_password":
            audit.record(req, "password_change_failed", email)
        raise
    audit.record(req, "password_changed", email)
    req.context.issue_session = session
    return user


class PasswordResetResource:
    """`POST /v1/auth/password-reset` answers alike for every address; `/confirm` uses the token."""

    rate_limited = True

    def __init__(self, accounts: AccountService, audit: AuditLog) -> None:
        self._accounts = accounts
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("email_address",))
        self._accounts.request_password_reset(body["email_address"])
        self._audit.record(req, "password_reset_requested", body["email_address"])
        resp.status = falcon.HTTP_202
        resp.media = {"message": RESET_ACCEPTED, "success": True}

    def on_post_confirm(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("token", "new_password"))
        user = self._accounts.confirm_password_reset(body["token"], body["new_password"])
        self._audit.record(req, "password_reset_done", user.email_address)
        resp.media = {"message": "Password changed. Log in with the new password.", "success": True}
