"""Email verification and change: /v1/auth/verify-email (+ /resend) and /v1/users/me/email."""

from __future__ import annotations

from typing import Any

from entrypoints.http.email_resources import CHANGE_ACCEPTED, RESEND_ACCEPTED
from entrypoints.openapi.parts import EMAIL, RETRY_AFTER, answer, body_object, error, operation, ref, success_body

PATHS: dict[str, dict[str, Any]] = {
    "/v1/auth/verify-email": {
        "post": operation(
            "verifyEmail",
            "Follow a confirmation link: the address is confirmed, or an asked-for email change takes effect",
            "email",
            {
                200: answer(
                    "Confirmed; for an email change, the account now signs in with the new address and every session ended.",
                    success_body(ref("schemas", "User")),
                ),
                400: error(400, "A used, expired, superseded or tampered token, or a malformed body."),
                409: error(409, "The new address of an email change got an account of its own since the change was asked for."),
            },
            body=body_object({"token": {"type": "string"}}),
            unsafe=True,
            rate_limited=True,
            description=(
                "Tokens come by mail: at sign-up (unless ESAUTH_EMAIL_VERIFICATION is off), from /resend, and to the "
                "new address of an email change. They last 24 hours."
            ),
        )
    },
    "/v1/auth/verify-email/resend": {
        "post": operation(
            "resendEmailVerification",
            "Ask for a new confirmation link; the answer is the same whether or not such an account exists",
            "email",
            {202: answer("Accepted.", success_body(message={"const": RESEND_ACCEPTED}))},
            body=body_object({"email_address": EMAIL}),
            unsafe=True,
            rate_limited=True,
            description="At most one message per address per ESAUTH_EMAIL_COOLDOWN (default 60 s), reset messages included.",
        )
    },
    "/v1/users/me/email": {
        "post": operation(
            "requestEmailChange",
            "Ask to move your account to a new address; it takes effect when the link sent there is followed",
            "email",
            {
                202: answer(
                    "Asked for; the same answer whether or not the new address has an account (then no message is sent).",
                    success_body(ref("schemas", "Account"), message={"const": CHANGE_ACCEPTED}),
                ),
                400: error(400, "A wrong current password (counted as a failed login), your own address, an invalid one, or a malformed body."),
                429: error(429, "The account's login throttle, or this client's rate limit.", RETRY_AFTER),
            },
            body=body_object({"current_password": {"type": "string"}, "new_email_address": EMAIL}),
            login=True,
            session_only=True,
            unsafe=True,
            rate_limited=True,
        )
    },
}
