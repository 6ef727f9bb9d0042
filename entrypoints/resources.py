"""One class per resource; each gets its collaborators in __init__ and lives as long as the app."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import falcon

from domain.auth import AuthService
from domain.errors import StoreUnavailable
from domain.user import User
from domain.timestamps import format_time
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

    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    def _register(self, req: falcon.Request) -> User:
        body = read_object(req)
        check_fields(body, ("email_address", "password"), ("first_name", "last_name"))
        return self._auth.register(
            body["email_address"], body["password"], body.get("first_name"), body.get("last_name")
        )

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
    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("email_address", "password"))
        user, session = self._auth.login(body["email_address"], body["password"])
        req.context.issue_session = session
        resp.media = {
            "message": f"'{user.email_address}' successfully logged in!",
            "success": True,
            "data": public_user(user),
        }


class LogoutResource:
    login_required = True

    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._auth.logout(req.context.session)
        req.context.end_session = True
        resp.media = {
            "message": f"'{req.context.user.email_address}' successfully logged out!",
            "success": True,
        }


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
