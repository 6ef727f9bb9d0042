"""Sessions: /v1/auth/login, /v1/auth/logout, /v1/auth/logout-all, the probe /v1/test, and the
caller's own sessions /v1/users/me/sessions."""

from __future__ import annotations

from typing import Any

from domain.auth import MAX_LIVE_SESSIONS
from entrypoints.http.device_cookies import device_cookie_name
from entrypoints.openapi.parts import (
    EMAIL,
    MAY_SET_COOKIE,
    RETRY_AFTER,
    SET_COOKIE,
    answer,
    body_object,
    error,
    operation,
    ref,
    success_body,
)

SECOND_FACTOR_REQUIRED = {
    "type": "object",
    "properties": {
        "second_factor_required": {"const": True},
        "methods": {"type": "array", "items": {"enum": ["totp", "recovery_code"]}},
        "expires_in": {"type": "integer", "minimum": 1, "description": "Seconds the pending sign-in lasts."},
    },
    "required": ["second_factor_required", "methods", "expires_in"],
    "additionalProperties": False,
}
ENDED = {**SET_COOKIE, "Clear-Site-Data": ref("headers", "ClearSiteData")}
INSTANT_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
LIVE_SESSION = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "created_at": INSTANT_OR_NULL,
        "last_seen_at": {**INSTANT_OR_NULL, "description": "To the minute; moves when the session is re-issued."},
        "device": {"type": "string", "description": "A short summary of the User-Agent, e.g. `Firefox on Linux`."},
        "client": {"type": "string"},
        "current": {"type": "boolean", "description": "Whether this is the caller's own session."},
    },
    "required": ["id", "created_at", "last_seen_at", "device", "client", "current"],
    "additionalProperties": False,
}
LOGGED_IN = success_body(ref("schemas", "User"))
LOGGED_IN["properties"]["sessions_evicted"] = {
    "type": "integer",
    "minimum": 0,
    "description": "How many of the user's oldest sessions this login ended because they already had the most "
    f"live sessions allowed ({MAX_LIVE_SESSIONS}); almost always 0. Tell the person: another device was signed out.",
}
LOGGED_IN["required"].append("sessions_evicted")
SESSION_IN_PATH = {"name": "session_id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


def _logged_in_links(cookie_name: str) -> dict[str, Any]:
    """The cookie login sets, used for what a logged-in client does."""
    cookie = {f"cookie.{cookie_name}": f"$response.header.Set-Cookie#regex:^{cookie_name}=([^;]*)"}
    return {
        "Probe": {"operationId": "probe", "parameters": cookie},
        "GetMe": {"operationId": "getMe", "parameters": cookie},
        "UpdateMe": {"operationId": "updateMe", "parameters": cookie},
        "ChangePassword": {
            "operationId": "changePassword",
            "parameters": cookie,
            "requestBody": {"current_password": "$request.body#/password", "new_password": "$request.body#/password"},
        },
        "Verify": {"operationId": "verifyGet", "parameters": cookie},
        "MakeToken": {
            "operationId": "makeToken",
            "parameters": cookie,
            "requestBody": {"name": "made after login", "current_password": "$request.body#/password"},
        },
        "ListTokens": {"operationId": "listTokens", "parameters": cookie},
        "ListSessions": {"operationId": "listSessions", "parameters": cookie},
        "GetTotp": {"operationId": "getTotp", "parameters": cookie},
        "Reauthenticate": {
            "operationId": "reauthenticate",
            "parameters": cookie,
            "requestBody": {"password": "$request.body#/password"},
        },
        "LogOut": {"operationId": "logOut", "parameters": cookie},
        "LogOutAll": {"operationId": "logOutAll", "parameters": cookie},
    }


def _ending(operation_id: str, summary: str, done: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return operation(
        operation_id,
        summary,
        "sessions",
        {200: answer(f"{done}Logged out; the cookie is cleared.", success_body(data), ENDED)},
        login=True,
        session_only=True,
        unsafe=True,
    )


def _device_cookie(cookie_name: str) -> str:
    """What the login says of the device cookie it reads and sets. In words, not as a cookie
    parameter: a browser sends it by itself, and a parameter would have the contract run
    (schemathesis) spend its stateful steps fuzzing it instead of following the links."""
    name = device_cookie_name(secure=cookie_name != "session")
    return (
        f"A 200 also sets the device cookie `{name}` (HttpOnly, SameSite=Strict, Path=/, Secure unless turned off, "
        "for ESAUTH_DEVICE_COOKIE_DAYS): a signed {account id, nonce}, new at each login. A login that sends the "
        "account's own counts its failures for that device alone: failures from elsewhere do not throttle it, and "
        "after ESAUTH_DEVICE_FAILURES of its own within ESAUTH_DEVICE_LOCKOUT it is locked out (429). A cookie that "
        "is forged, expired or another account's makes the attempt an untrusted one, answered alike."
    )


def paths(cookie_name: str) -> dict[str, dict[str, Any]]:
    return {
        "/v1/auth/login": {
            "post": operation(
                "logIn",
                "Log in: a new session cookie, and a new device cookie",
                "sessions",
                {
                    200: answer("Logged in. Two cookies are set: the session, and a new device cookie.", LOGGED_IN, SET_COOKIE),
                    202: answer(
                        "The password is right and the account has a second factor: no session yet, a pending "
                        "sign-in cookie that `POST /v1/auth/login/mfa` finishes.",
                        success_body(SECOND_FACTOR_REQUIRED),
                        {"Set-Cookie": ref("headers", "SetPendingCookie")},
                    ),
                    400: error(400, "`Unknown email_address or bad password`, or a malformed body (the message names the field)."),
                    403: error(
                        403,
                        "The account is deactivated; or its address is not confirmed yet and ESAUTH_EMAIL_VERIFICATION is "
                        "`required` (said only once the password is right); or a browser sent this from another origin.",
                    ),
                    429: error(
                        429,
                        "Too many failed logins for this address from untrusted clients (after ESAUTH_LOGIN_FREE_FAILURES, "
                        "delays double up to ESAUTH_LOGIN_MAX_DELAY), or from this device cookie (locked out for "
                        "ESAUTH_DEVICE_LOCKOUT after ESAUTH_DEVICE_FAILURES), or this client address spent its requests "
                        "for the minute.",
                        RETRY_AFTER,
                    ),
                },
                body=body_object({"email_address": EMAIL, "password": {"type": "string"}}),
                description=_device_cookie(cookie_name),
                unsafe=True,
                rate_limited=True,
                links={200: _logged_in_links(cookie_name)},
            )
        },
        "/v1/auth/logout": {"post": _ending("logOut", "End this session (it is revoked, not just forgotten)", "")},
        "/v1/auth/logout-all": {"post": _ending(
            "logOutAll",
            "End every session of the user and every personal access token",
            "Every session and every personal access token is revoked (a token made by whoever else had the account "
            "would outlive the sessions); `tokens_revoked` says how many tokens ended. ",
            {
                "type": "object",
                "properties": {"tokens_revoked": {"type": "integer", "minimum": 0}},
                "required": ["tokens_revoked"],
                "additionalProperties": False,
            },
        )},
        "/v1/users/me/sessions": {
            "get": operation(
                "listSessions",
                "Your live sessions, newest first",
                "sessions",
                {
                    200: answer(
                        "The sessions.",
                        success_body(
                            {
                                "type": "object",
                                "properties": {"sessions": {"type": "array", "items": LIVE_SESSION}},
                                "required": ["sessions"],
                                "additionalProperties": False,
                            }
                        ),
                    )
                },
                login=True,
                session_only=True,
            )
        },
        "/v1/users/me/sessions/{session_id}": {
            "delete": operation(
                "endSession",
                "End one of your sessions; ending your own clears your cookie",
                "sessions",
                {
                    200: answer(
                        "Ended.",
                        success_body(message={"const": "Session ended."}),
                        {**MAY_SET_COOKIE, "Clear-Site-Data": {**ref("headers", "ClearSiteData")}},
                    ),
                    404: error(404, "No live session of yours has this id."),
                },
                path_parameters=[SESSION_IN_PATH],
                login=True,
                session_only=True,
                unsafe=True,
            )
        },
        "/v1/test": {
            "get": operation(
                "probe",
                "The seed's login-required probe",
                "sessions",
                {
                    200: answer(
                        "The session's user.",
                        success_body(
                            {
                                "type": "object",
                                "properties": {"user": ref("schemas", "User")},
                                "required": ["user"],
                                "additionalProperties": False,
                            },
                            {"const": "Test"},
                        ),
                    )
                },
                login=True,
            )
        },
    }
