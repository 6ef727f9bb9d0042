"""The second factor: TOTP enrolment, the sign-in's second step, and re-authentication (sudo mode)."""

from __future__ import annotations

from typing import Any

from domain.second_factor import RECOVERY_CODES
from entrypoints.openapi.parts import RETRY_AFTER, answer, body_object, error, operation, ref, success_body

CODE = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "description": "A 6-digit TOTP code, or one of the recovery codes (`xxxxx-xxxxx`; spaces, dashes and case ignored).",
}
STATUS = {
    "type": "object",
    "properties": {
        "enabled": {"type": "boolean"},
        "enrolling": {"type": "boolean", "description": "An enrolment was started and waits for its first code."},
        "recovery_codes_left": {"type": "integer", "minimum": 0, "maximum": RECOVERY_CODES},
    },
    "required": ["enabled", "enrolling", "recovery_codes_left"],
    "additionalProperties": False,
}
ENROLMENT = {
    "type": "object",
    "properties": {
        "secret": {"type": "string", "pattern": "^[A-Z2-7]{32}$", "description": "Base32; shown this once, stored sealed."},
        "otpauth_uri": {"type": "string", "pattern": "^otpauth://totp/"},
        "qr_svg": {"type": "string", "description": "The URI as an inline SVG QR code."},
    },
    "required": ["secret", "otpauth_uri", "qr_svg"],
    "additionalProperties": False,
}
RECOVERY = {
    "type": "object",
    "properties": {
        "recovery_codes": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z2-7]{5}-[a-z2-7]{5}$"},
            "minItems": RECOVERY_CODES,
            "maxItems": RECOVERY_CODES,
        }
    },
    "required": ["recovery_codes"],
    "additionalProperties": False,
}
THROTTLED = error(429, "The account's login throttle (a wrong code counts as a failed login), or this client's rate limit.", RETRY_AFTER)


def _totp_change(operation_id: str, summary: str, responses: dict[int, dict[str, Any]], body: dict[str, Any] | None) -> dict[str, Any]:
    return operation(
        operation_id, summary, "second factor", responses,
        body=body, login=True, session_only=True, sudo=True, unsafe=True, rate_limited=True,
    )


PATHS: dict[str, dict[str, Any]] = {
    "/v1/auth/login/mfa": {
        "post": operation(
            "logInSecondFactor",
            "Finish a two-step sign-in with a TOTP or recovery code: a new session cookie",
            "second factor",
            {
                200: answer("Logged in.", success_body(ref("schemas", "User")), {"Set-Cookie": ref("headers", "SetSignInCookies")}),
                400: error(400, "`The code is not correct.` (wrong, already used, or a spent recovery code; counted as a failed login), or a malformed body."),
                401: error(401, "No pending sign-in cookie, or it expired, or the password changed since: log in with the password again."),
                429: THROTTLED,
            },
            body=body_object({"code": CODE}),
            unsafe=True,
            rate_limited=True,
        )
    },
    "/v1/auth/reauthenticate": {
        "post": operation(
            "reauthenticate",
            "Prove the password or a second factor again: sudo mode for ESAUTH_SUDO_MAX_AGE seconds",
            "second factor",
            {
                200: answer("Confirmed; the session goes on under a re-issued cookie.", success_body(), {"Set-Cookie": ref("headers", "SetCookie")}),
                400: error(400, "A wrong password or code (counted as a failed login), or not exactly one of `password`, `code`."),
                429: THROTTLED,
            },
            body=body_object({}, {"password": {"type": "string"}, "code": CODE}, min_properties=1),
            login=True,
            session_only=True,
            unsafe=True,
            rate_limited=True,
        )
    },
    "/v1/users/me/totp": {
        "get": operation(
            "getTotp",
            "Whether TOTP is on, and how many recovery codes are left",
            "second factor",
            {200: answer("The state.", success_body(STATUS))},
            login=True,
            session_only=True,
        ),
        "post": _totp_change(
            "startTotp",
            "Start TOTP enrolment: a new secret, its otpauth:// URI and QR code, shown this once",
            {201: answer("Started; confirm with a code.", success_body(ENROLMENT)), 409: error(409, "TOTP is already enabled.")},
            None,
        ),
    },
    "/v1/users/me/totp/confirm": {
        "post": _totp_change(
            "confirmTotp",
            "Put TOTP in force with a code from the new secret; the ten recovery codes, shown this once",
            {
                200: answer("On.", success_body(RECOVERY)),
                400: error(400, "`The code is not correct.`, or a malformed body."),
                409: error(409, "No enrolment to confirm."),
            },
            body_object({"code": CODE}),
        )
    },
    "/v1/users/me/totp/disable": {
        "post": _totp_change(
            "disableTotp",
            "Turn TOTP off, with a TOTP or recovery code",
            {
                200: answer("Off.", success_body(STATUS)),
                400: error(400, "`The code is not correct.` (counted as a failed login), or a malformed body."),
                409: error(409, "TOTP is not enabled."),
            },
            body_object({"code": CODE}),
        )
    },
}
