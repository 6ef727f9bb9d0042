"""One class per resource; each gets its collaborators in __init__ and lives as long as the app."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import falcon

from domain.auth import AuthService
from domain.errors import InactiveUser, InvalidCredentials, LoginThrottled, StoreUnavailable
from domain.timestamps import format_time
from domain.user import User
from entrypoints.audit import AuditLog
from entrypoints.json_body import check_fields, read_object


def public_user(user: User) -> dict[str, Any]:
    """What a client may see of a user: never the hash, never the session ids."""
    return {
        "email_address": user.email_address,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "created_at": format_time(user.created_at),
    }


class UsersResource:
    """Sign-up: `POST /v1/users` (201 + Location) and the seed's `POST /v1/users/new` (200)."""

    rate_limited = True

    def __init__(self, auth: AuthService, audit: AuditLog) -> None:
        self._auth = auth
        self._audit = audit

    def _register(self, req: falcon.Request) -> User:
        body = read_object(req)
        check_fields(body, ("email_address", "password"), ("first_name", "last_name"))
        user = self._auth.register(
            body["email_address"], body["password"], body.get("first_name"), body.get("last_name")
        )
        self._audit.record(req, "signup", user.email_address)
        return user

    def _answer(self, resp: falcon.Response, user: User) -> None:
        resp.media = {
            "message": f"'{user.email_address}' added successfully!",
            "success": True,
            "data": public_user(user),
        }

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        user = self._register(req)
        self._answer(resp, user)
        resp.status = falcon.HTTP_201
        resp.location = f"/v1/users/{quote(user.email_address, safe='@')}"

    def on_post_new(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._answer(resp, self._register(req))


class LoginResource:
    rate_limited = True

    def __init__(self, auth: AuthService, audit: AuditLog) -> None:
        self._auth = auth
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("email_address", "password"))
        email = body["email_address"]
        try:
            user, session = self._auth.login(email, body["password"])
        except InvalidCredentials:
            self._audit.record(req, "login_failed", email)
            raise
        except LoginThrottled as throttled:
            self._audit.record(req, "login_throttled", email, retry_after_s=throttled.retry_after_s)
            raise
        except InactiveUser:
            self._audit.record(req, "login_refused_inactive", email)
            raise
        self._audit.record(req, "login_ok", user.email_address)
        req.context.issue_session = session
        resp.media = {
            "message": f"'{user.email_address}' successfully logged in!",
            "success": True,
            "data": public_user(user),
        }


class LogoutResource:
    """`POST /v1/auth/logout` revokes this session; the `all` suffix revokes every session of the user."""

    login_required = True

    def __init__(self, auth: AuthService, audit: AuditLog) -> None:
        self._auth = auth
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._auth.logout(req.context.session)
        self._end(req, resp, "logout", "successfully logged out!")

    def on_post_all(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._auth.logout_all(req.context.session)
        self._end(req, resp, "logout_all", "successfully logged out of every session!")

    def _end(self, req: falcon.Request, resp: falcon.Response, event: str, done: str) -> None:
        email = req.context.user.email_address
        self._audit.record(req, event, email)
        req.context.end_session = True
        resp.set_header("Clear-Site-Data", '"cookies"')
        resp.media = {"message": f"'{email}' {done}", "success": True}


class TestResource:
    """The seed's login-required probe; it no longer echoes the cookie (that defeated HttpOnly)."""

    login_required = True

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Test", "success": True, "data": {"user": public_user(req.context.user)}}


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
