"""A user's own account: /v1/users/me, its password, and password reset."""

from __future__ import annotations

from typing import Any

from domain.accounts import PROFILE_FIELDS
from entrypoints.http.account_resources import RESET_ACCEPTED
from entrypoints.openapi.parts import EMAIL, NAME, PASSWORD, RETRY_AFTER, SET_COOKIE, answer, body_object, error, operation, ref, success_body

ACCOUNT = success_body(ref("schemas", "Account"))

PATHS: dict[str, dict[str, Any]] = {
    "/v1/users/me": {
        "get": operation(
            "getMe",
            "Your account",
            "account",
            {200: answer("The account.", ACCOUNT)},
            login=True,
        ),
        "patch": operation(
            "updateMe",
            "Change your names",
            "account",
            {200: answer("The updated account.", ACCOUNT)},
            body=body_object({}, {name: NAME for name in PROFILE_FIELDS}, min_properties=1),
            login=True,
            unsafe=True,
        ),
    },
    "/v1/users/me/password": {
        "post": operation(
            "changePassword",
            "Change your password; every other session ends, yours goes on under a new cookie",
            "account",
            {
                200: answer("Changed.", ACCOUNT, SET_COOKIE),
                400: error(400, "A wrong current password (counted as a failed login), a new one outside the policy, or a malformed body."),
                429: error(429, "The account's login throttle, or this client's rate limit.", RETRY_AFTER),
            },
            body=body_object({"current_password": {"type": "string"}, "new_password": PASSWORD}),
            login=True,
            session_only=True,
            unsafe=True,
            rate_limited=True,
        )
    },
    "/v1/auth/password-reset": {
        "post": operation(
            "requestPasswordReset",
            "Ask for a reset message; the answer is the same whether or not the account exists",
            "account",
            {202: answer("Accepted.", success_body(message={"const": RESET_ACCEPTED}))},
            body=body_object({"email_address": EMAIL}),
            unsafe=True,
            rate_limited=True,
        )
    },
    "/v1/auth/password-reset/confirm": {
        "post": operation(
            "confirmPasswordReset",
            "Set a new password with a reset token; every session ends",
            "account",
            {
                200: answer("Changed; log in with the new password.", success_body()),
                400: error(400, "A used, expired or tampered token, a new password outside the policy, or a malformed body."),
            },
            body=body_object({"token": {"type": "string"}, "new_password": PASSWORD}),
            unsafe=True,
            rate_limited=True,
        )
    },
}
