"""One class per resource; each gets its collaborators in __init__ and lives as long as the app."""

from __future__ import annotations

from urllib.parse import quote

import falcon

from domain.admin import AdminService
from domain.auth import AuthService
from domain.email_addresses import EmailAddresses
from domain.errors import DeviceLocked, EmailNotVerified, InactiveUser, InvalidCredentials, LoginThrottled, SecondFactorRequired, StoreUnavailable
from domain.user import User
from entrypoints.http.admin_resources import page_body, search_params
from entrypoints.http.audit import AuditLog
from entrypoints.http.json_body import check_fields, read_object
from entrypoints.http.pending_login import SecondFactorStep
from entrypoints.http.representations import PublicUserJson, public_user
from entrypoints.http.session import signing_out
from entrypoints.http.user_agent import summarize


class SignupResource:
    """The seed's sign-up: `POST /v1/users/new` answers 200 with the new user."""

    rate_limited = True

    def __init__(self, auth: AuthService, audit: AuditLog, emails: EmailAddresses) -> None:
        self._auth = auth
        self._audit = audit
        self._emails = emails

    def register(self, req: falcon.Request, resp: falcon.Response) -> User:
        body = read_object(req)
        check_fields(body, ("email_address", "password"), ("first_name", "last_name"))
        user = self._auth.register(
            body["email_address"], body["password"], body.get("first_name"), body.get("last_name")
        )
        self._audit.record(req, "signup", user.email_address)
        self._emails.welcome(user)
        resp.media = {
            "message": f"'{user.email_address}' added successfully!",
            "success": True,
            "data": public_user(user),
        }
        return user

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.register(req, resp)


class UsersResource:
    """The users collection: `POST /v1/users` signs up (201 + Location), open to all;
    `GET /v1/users?q=&limit=&cursor=` searches, for administrators."""

    rate_limited = True
    login_required = admin_required = frozenset({"GET"})

    def __init__(self, signup: SignupResource, admin: AdminService) -> None:
        self._signup = signup
        self._admin = admin

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        user = self._signup.register(req, resp)
        resp.status = falcon.HTTP_201
        resp.location = f"/v1/users/{quote(user.email_address, safe='@')}"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query, limit, cursor = search_params(req)
        resp.media = page_body(self._admin.search(req.context.user, query, limit, cursor))


class LoginResource:
    """`POST /v1/auth/login`: a session, or (an account with a second factor) 202 and a pending
    sign-in that POST /v1/auth/login/mfa finishes."""

    rate_limited = True
    reads_device_cookie = True

    def __init__(self, auth: AuthService, audit: AuditLog, step: SecondFactorStep) -> None:
        self._auth = auth
        self._audit = audit
        self._step = step

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("email_address", "password"))
        try:
            user = audited_login(self._auth, self._audit, req, body["email_address"], body["password"])
        except SecondFactorRequired as owed:
            self._step.begin(req, resp, owed.pending)
            self._step.answer(resp, owed.pending)
            return
        resp.media = {
            "message": f"'{user.email_address}' successfully logged in!",
            "success": True,
            "data": public_user(user),
            # The cap on live sessions ended this many of the oldest: a client can tell its user
            # why another device was signed out (0 almost always; a count, not the ids).
            "sessions_evicted": len(req.context.issue_session.evicted),
        }


def audited_login(auth: AuthService, audit: AuditLog, req: falcon.Request, email: object, password: object) -> User:
    """Log in and audit the outcome, for the API and the hosted pages alike; the new session is
    left in `req.context.issue_session` for the session middleware to send (its `evicted` names
    the oldest sessions the cap on live sessions ended), and the new device cookie in
    `req.context.issue_device` (entrypoints.http.device_cookies). Audit lines say whether a valid
    device cookie came (`device_cookie`), and a throttled attempt which bucket held it back."""
    presented = req.context.device_cookie
    came = presented is not None
    try:
        user, session = auth.login(email, password, summarize(req.user_agent), audit.client(req), device_cookie=presented)
    except InvalidCredentials:
        audit.record(req, "login_failed", email, device_cookie=came)
        raise
    except LoginThrottled as throttled:
        bucket = "device" if isinstance(throttled, DeviceLocked) else "account"
        audit.record(req, "login_throttled", email, retry_after_s=throttled.retry_after_s, bucket=bucket, device_cookie=came)
        raise
    except InactiveUser:
        audit.record(req, "login_refused_inactive", email)
        raise
    except EmailNotVerified:
        audit.record(req, "login_refused_unverified", email)
        raise
    audit.record(req, "login_ok", user.email_address, trusted_device=came and presented.fits(user))
    if session.evicted:
        audit.record(req, "session_evicted", user.email_address, count=len(session.evicted))
    req.context.issue_session = session
    req.context.issue_device = session.device_cookie
    return user


class LogoutResource:
    """`POST /v1/auth/logout` revokes this session; the `all` suffix revokes every session of the user."""

    login_required = True
    session_required = True  # a token has no session to end

    def __init__(self, auth: AuthService, audit: AuditLog) -> None:
        self._auth = auth
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        audited_logout(self._auth, self._audit, req, resp)
        resp.media = {"message": f"'{req.context.user.email_address}' successfully logged out!", "success": True}

    def on_post_all(self, req: falcon.Request, resp: falcon.Response) -> None:
        revoked = self._auth.logout_all(req.context.session)
        self._end(req, resp, "logout_all", "successfully logged out of every session!", tokens_revoked=revoked)
        resp.media["data"] = {"tokens_revoked": revoked}

    def _end(self, req: falcon.Request, resp: falcon.Response, event: str, done: str, **details: object) -> None:
        email = req.context.user.email_address
        self._audit.record(req, event, email, **details)
        signing_out(req, resp)
        resp.media = {"message": f"'{email}' {done}", "success": True}


def audited_logout(auth: AuthService, audit: AuditLog, req: falcon.Request, resp: falcon.Response) -> None:
    """Revoke the caller's session, audit it and clear their cookie: the API's and the page's logout."""
    auth.logout(req.context.session)
    audit.record(req, "logout", req.context.user.email_address)
    signing_out(req, resp)


class TestResource:
    """The seed's login-required probe; it no longer echoes the cookie (that defeated HttpOnly)."""

    login_required = True

    def __init__(self, user_json: PublicUserJson) -> None:
        self._user_json = user_json

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        # The body a product behind esauth asks for on every request: spliced from the kept JSON
        # of the user, it reads exactly as resp.media = {"message", "success", "data": {"user"}}.
        resp.text = '{"message": "Test", "success": true, "data": {"user": ' + self._user_json(req.context.user) + "}}"


class HealthResource:
    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            self._auth.check_store()
        except StoreUnavailable:
            raise falcon.HTTPServiceUnavailable(
                description=f"The {self._auth.store_kind} store is not answering.", retry_after=1
            ) from None
        resp.media = {"status": "ok", "store": self._auth.store_kind}
