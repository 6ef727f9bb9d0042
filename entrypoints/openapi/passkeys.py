"""Passkeys: the caller's own (/v1/users/me/passkeys) and signing in with one (/v1/auth/passkey/*).
Present only when a relying party is configured (ESAUTH_WEBAUTHN_RP_ID or ESAUTH_PUBLIC_URL)."""

from __future__ import annotations

from typing import Any

from domain.access_tokens import MAX_TOKEN_NAME_LENGTH
from domain.passkeys import MAX_PASSKEYS_PER_USER
from entrypoints.http.errors import PASSKEY_REFUSED
from entrypoints.openapi.parts import INSTANT, RETRY_AFTER, Schema, answer, body_object, error, operation, ref, success_body

PASSKEY: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z2-7]{13}$"},
        "name": {"type": "string"},
        "created_at": INSTANT,
        "last_used_at": {**INSTANT, "type": ["string", "null"]},
    },
    "required": ["id", "name", "created_at", "last_used_at"],
    "additionalProperties": False,
}
NAME = {"name": {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN_NAME_LENGTH}}
CREDENTIAL: Schema = {
    "type": "object",
    "description": "The answer of `navigator.credentials.create()` / `.get()` in its JSON form (`PublicKeyCredential.toJSON()`).",
}
PASSKEY_ID = {"name": "passkey_id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
CEREMONY_COOKIE = {
    "Set-Cookie": {
        "description": "The ceremony cookie `webauthn` (`__Host-webauthn` with Secure cookies): the signed challenge, "
        "HttpOnly, SameSite=Strict, for ESAUTH_WEBAUTHN_TIMEOUT seconds. It works once.",
        "required": True,
        "schema": {"type": "string", "pattern": "webauthn="},
    }
}
SIGNED_IN_COOKIES = {
    "Set-Cookie": {
        "description": "The new session cookie, and the ceremony cookie cleared.",
        "required": True,
        "schema": {"type": "string", "pattern": "session="},
    }
}
OPTIONS = success_body({
    "type": "object",
    "properties": {"publicKey": {"type": "object", "description": "For `PublicKeyCredential.parse...OptionsFromJSON()`."}},
    "required": ["publicKey"],
})
PENDING = error(401, "No pending sign-in, or it expired: log in with your password first.")
REFUSED = error(
    400,
    f"`{PASSKEY_REFUSED}` for every refusal: no ceremony cookie, an expired, forged or already answered challenge, "
    "another session's ceremony, a bad origin or relying party, a bad signature, a counter that did not grow, an "
    "unknown credential; or a malformed body.",
)

PATHS: dict[str, dict[str, Any]] = {
    "/v1/users/me/passkeys/options": {
        "post": operation(
            "startPasskey",
            "Start adding a passkey: creation options, and the ceremony cookie",
            "passkeys",
            {
                200: answer("The options for `navigator.credentials.create()`.", OPTIONS, CEREMONY_COOKIE),
                409: error(409, f"You have {MAX_PASSKEYS_PER_USER} passkeys, the most allowed: remove one first."),
            },
            login=True,
            session_only=True,
            unsafe=True,
            sudo=True,
            description="No body. The credential asked for is discoverable (a passkey) and names the user by their id, "
            "never their address.",
        )
    },
    "/v1/users/me/passkeys": {
        "post": operation(
            "addPasskey",
            "Keep a new passkey: the authenticator's answer to the options, in this session",
            "passkeys",
            {
                201: answer("Added.", success_body(PASSKEY), {"Location": {"required": True, "schema": {"type": "string", "pattern": "^/v1/users/me/passkeys/"}}}),
                400: REFUSED,
                409: error(409, f"You have {MAX_PASSKEYS_PER_USER} passkeys, the most allowed: remove one first."),
            },
            body=body_object({**NAME, "credential": CREDENTIAL}),
            login=True,
            session_only=True,
            unsafe=True,
            sudo=True,
        ),
        "get": operation(
            "listPasskeys",
            "Your passkeys (never their keys)",
            "passkeys",
            {200: answer("The passkeys.", success_body({
                "type": "object", "properties": {"passkeys": {"type": "array", "items": PASSKEY}}, "required": ["passkeys"],
                "additionalProperties": False,
            }))},
            login=True,
            session_only=True,
        ),
    },
    "/v1/users/me/passkeys/{passkey_id}": {
        "patch": operation(
            "renamePasskey",
            "Rename one of your passkeys",
            "passkeys",
            {200: answer("Renamed.", success_body(PASSKEY)), 404: error(404, "No such passkey.")},
            body=body_object(NAME),
            path_parameters=[PASSKEY_ID],
            login=True,
            session_only=True,
            unsafe=True,
        ),
        "delete": operation(
            "removePasskey",
            "Remove one of your passkeys: it signs nobody in any more",
            "passkeys",
            {200: answer("Removed.", success_body()), 404: error(404, "No such passkey.")},
            path_parameters=[PASSKEY_ID],
            login=True,
            session_only=True,
            unsafe=True,
            sudo=True,
        ),
    },
    "/v1/auth/passkey/options": {
        "post": operation(
            "startPasskeySignIn",
            "Start signing in with a passkey: request options, the same for everyone, and the ceremony cookie",
            "passkeys",
            {200: answer("The options for `navigator.credentials.get()`; they name no account.", OPTIONS, CEREMONY_COOKIE)},
            unsafe=True,
            rate_limited=True,
            store=False,
            description="No body. No address is asked for, so the answer cannot tell which accounts exist.",
        )
    },
    "/v1/auth/passkey/login": {
        "post": operation(
            "passkeySignIn",
            "Sign in with a passkey: a new session cookie",
            "passkeys",
            {
                200: answer("Signed in.", success_body(ref("schemas", "User")), SIGNED_IN_COOKIES),
                400: REFUSED,
                403: error(403, "This account is deactivated (said only after its passkey verified); or a cross-site request."),
            },
            body=body_object({"credential": CREDENTIAL}),
            unsafe=True,
            rate_limited=True,
            description="The password throttle neither holds nor clears this: a passkey cannot be guessed.",
        )
    },
    "/v1/auth/login/mfa/passkey/options": {
        "post": operation(
            "startPasskeySecondFactor",
            "The second step of a sign-in with a passkey: request options naming the account's passkeys",
            "passkeys",
            {
                200: answer("The options for `navigator.credentials.get()`.", OPTIONS, CEREMONY_COOKIE),
                400: error(400, f"`{PASSKEY_REFUSED}`: the account has no passkey."),
                401: PENDING,
            },
            unsafe=True,
            rate_limited=True,
            description="No body. Needs the pending sign-in cookie a right password set (`202` from `POST /v1/auth/login`).",
        )
    },
    "/v1/auth/login/mfa/passkey": {
        "post": operation(
            "finishPasskeySecondFactor",
            "The second step of a sign-in with a passkey: a new session cookie",
            "passkeys",
            {
                200: answer("Signed in.", success_body(ref("schemas", "User")), SIGNED_IN_COOKIES),
                400: error(400, f"`{PASSKEY_REFUSED}` (see `passkeySignIn`), or `The code is not correct.` when another answer "
                           "to the same challenge got there first (counted as a failed login), or a malformed body."),
                401: PENDING,
                429: error(429, "The account's login throttle, or this client's rate limit.", RETRY_AFTER),
            },
            body=body_object({"credential": CREDENTIAL}),
            unsafe=True,
            rate_limited=True,
        )
    },
}
