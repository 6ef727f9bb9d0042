"""Protecting other apps: the forward-auth check /v1/auth/verify and personal access tokens."""

from __future__ import annotations

from typing import Any

from domain.access_tokens import MAX_LIFETIME_DAYS, MAX_TOKEN_NAME_LENGTH, MAX_TOKENS_PER_USER
from entrypoints.http.forward_auth import MAX_FORWARDED_URI
from entrypoints.openapi.parts import INSTANT, RETRY_AFTER, Schema, answer, body_object, error, operation, ref, success_body

IDENTITY_HEADERS = {
    "X-Auth-Request-User": {"required": True, "description": "The user's id.", "schema": {"type": "string", "pattern": "^[a-z2-7]{26}$"}},
    "X-Auth-Request-Email": {
        "required": True,
        "description": "The user's email (percent-encoded UTF-8 if it is not ASCII).",
        "schema": {"type": "string"},
    },
    "X-Auth-Request-Admin": {"required": True, "schema": {"enum": ["true", "false"]}},
}
FORWARDED = [
    {"name": "X-Forwarded-Method", "in": "header", "required": False, "description": "The original request's method (Traefik, Caddy).",
     "schema": {"type": "string"}},
    {"name": "X-Forwarded-Uri", "in": "header", "required": False, "description": "The original request's target (Traefik, Caddy).",
     "schema": {"type": "string"}},
    {"name": "X-Original-URI", "in": "header", "required": False, "description": "The original request's target (nginx).",
     "schema": {"type": "string"}},
]
IMPOSSIBLE = error(
    403,
    "The proxy described an impossible request: a method other than GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS, "
    f"or a target that is not a path from the root (at most {MAX_FORWARDED_URI} characters, printable ASCII, not //).",
)
TOKEN: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z2-7]{13}$"},
        "name": {"type": "string"},
        "created_at": INSTANT,
        "expires_at": INSTANT,
        "last_used_at": {**INSTANT, "type": ["string", "null"], "description": "Rounded down to the hour."},
    },
    "required": ["id", "name", "created_at", "expires_at", "last_used_at"],
    "additionalProperties": False,
}
MADE = {
    **TOKEN,
    "properties": {**TOKEN["properties"], "token": {"type": "string", "pattern": "^esauth_pat_[a-z2-7_]+$"}},
    "required": [*TOKEN["required"], "token"],
}
TOKEN_ID = {"name": "token_id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


def _verify(method: str) -> dict[str, Any]:
    body = None if method == "head" else success_body(
        {"type": "object", "properties": {"user": ref("schemas", "User")}, "required": ["user"], "additionalProperties": False},
        {"const": "Authenticated"},
    )
    return operation(
        f"verify{method.capitalize()}",
        "Forward auth: who is asking, for a proxy in front of another app",
        "protect",
        {200: answer("Logged in: the identity is in the headers, for the proxy to copy.", body, IDENTITY_HEADERS), 403: IMPOSSIBLE},
        query=FORWARDED,
        login=True,
    )


PATHS: dict[str, dict[str, Any]] = {
    "/v1/auth/verify": {"get": _verify("get"), "head": _verify("head")},
    "/v1/users/me/tokens": {
        "post": operation(
            "makeToken",
            "Make a personal access token with a session and the current password; it is shown this once",
            "protect",
            {
                201: answer("Made.", success_body(MADE), {"Location": {"required": True, "schema": {"type": "string", "pattern": "^/v1/users/me/tokens/"}}}),
                400: error(400, "A wrong current password (counted as a failed login), or a malformed body (the message names the field)."),
                409: error(409, f"You have {MAX_TOKENS_PER_USER} tokens, the most allowed: revoke one first."),
                429: error(429, "The account's login throttle, or this client's rate limit.", RETRY_AFTER),
            },
            body=body_object(
                {
                    "name": {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN_NAME_LENGTH},
                    "current_password": {
                        "type": "string",
                        "description": "The account's password: a stolen session alone cannot make a credential that outlives it.",
                    },
                },
                {"expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIFETIME_DAYS, "description": "Default (or null): 90."}},
            ),
            login=True,
            session_only=True,
            unsafe=True,
            rate_limited=True,
        ),
        "get": operation(
            "listTokens",
            "Your personal access tokens, without their secrets",
            "protect",
            {200: answer("The tokens.", success_body({
                "type": "object", "properties": {"tokens": {"type": "array", "items": TOKEN}}, "required": ["tokens"],
                "additionalProperties": False,
            }))},
            login=True,
            session_only=True,
        ),
    },
    "/v1/users/me/tokens/{token_id}": {
        "delete": operation(
            "revokeToken",
            "Revoke one of your tokens: refused at once here, within the session bound everywhere",
            "protect",
            {200: answer("Revoked.", success_body()), 404: error(404, "No such token.")},
            path_parameters=[TOKEN_ID],
            login=True,
            session_only=True,
            sudo=True,
            unsafe=True,
        )
    },
}
