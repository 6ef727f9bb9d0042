"""Building blocks of the OpenAPI document: shapes, headers and the answers many routes share.

An operation is described by what it is (`operation(...)` flags mirror the resource attributes
`login_required`, `admin_required`, `rate_limited` and the body it reads), so the error answers
that follow from a middleware are written once here and never forgotten on a new route.
"""

from __future__ import annotations

from typing import Any

import falcon

from domain.user import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from entrypoints.http.session import CLEAR_SITE_DATA

Schema = dict[str, Any]

SESSION_SCHEME = "session"
"""The name of the cookie security scheme in components.securitySchemes."""
BEARER_SCHEME = "bearer"
"""Personal access tokens (entrypoints.http.token_resources), accepted where a session is not required."""


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


# --------------------------------------------------------------------------------------------
# Fields


EMAIL: Schema = {"type": "string", "format": "email", "minLength": 3, "maxLength": MAX_EMAIL_LENGTH, "examples": ["ada@example.com"]}
PASSWORD: Schema = {
    "type": "string",
    "minLength": MIN_PASSWORD_LENGTH,
    "maxLength": MAX_PASSWORD_LENGTH,
    "description": "Not one of the 100,000 most common passwords, nor made of the account's address or `esauth` "
    "(README, Known-bad passwords): else 400 `is too common; choose another` or "
    "`must not be made of your email address or the service's name; choose another` (or, with "
    "ESAUTH_PWNED_PASSWORDS_URL, `has appeared in a data breach; choose another`).",
}
NAME: Schema = {
    "type": ["string", "null"],
    "maxLength": MAX_NAME_LENGTH,
    # No control characters (Unicode category C): those JSON and most UIs meet; the server
    # refuses the whole category (format, private-use and unassigned code points too).
    "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\ufeff]*$",
    "description": f"At most {MAX_NAME_LENGTH} characters after trimming, no control characters; empty means none.",
}
INSTANT: Schema = {"type": "string", "format": "date-time", "description": "ISO 8601 in UTC, to the millisecond."}


USER_FIELDS: dict[str, Schema] = {
    "id": {"type": "string", "pattern": "^[a-z2-7]{26}$", "description": "Opaque and immutable: key on it, never on the email."},
    "email_address": {"type": "string"},
    "first_name": NAME,
    "last_name": NAME,
    "is_active": {"type": "boolean"},
    "created_at": INSTANT,
}
"""entrypoints.http.representations.public_user"""
ACCOUNT_FIELDS: dict[str, Schema] = {
    "is_admin": {"type": "boolean"},
    "last_login_at": {**INSTANT, "type": ["string", "null"]},
    "login_count": {"type": "integer", "minimum": 0},
    "email_verified": {"type": "boolean", "description": "Whether the owner followed a confirmation link (or a reset) sent to the address."},
    "pending_email_address": {
        "type": ["string", "null"],
        "description": "An asked-for new address, until its confirmation link is followed.",
    },
}
"""What entrypoints.http.representations.account_view adds."""


def body_object(required: dict[str, Schema], optional: dict[str, Schema] | None = None, *, min_properties: int = 0) -> Schema:
    """A request body: a JSON object of exactly these fields (unknown fields are a 400)."""
    schema: Schema = {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    if min_properties:
        schema["minProperties"] = min_properties
    return schema


def success_body(data: Schema | None = None, message: Schema | None = None) -> Schema:
    """The seed's answer shape: {"message", "success": true, "data"?}."""
    properties: dict[str, Schema] = {
        "message": message or {"type": "string"},
        "success": {"const": True},
    }
    required = ["message", "success"]
    if data is not None:
        properties["data"] = data
        required.append("data")
    return {"type": "object", "properties": properties, "required": required}


# --------------------------------------------------------------------------------------------
# Headers and answers


def answer(
    description: str,
    schema: Schema | None = None,
    headers: dict[str, Any] | None = None,
    media_type: str = "application/json",
) -> dict[str, Any]:
    """A response with the headers every answer carries; JSON unless said otherwise."""
    response: dict[str, Any] = {
        "description": description,
        "headers": {
            "Cache-Control": ref("headers", "CacheControl"),
            "X-Content-Type-Options": ref("headers", "XContentTypeOptions"),
            "X-Request-ID": ref("headers", "XRequestId"),
            **(headers or {}),
        },
    }
    if schema is not None:
        response["content"] = {media_type: {"schema": schema}}
    return response


def error(code: int, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """An error answer; its `error` field is exactly the status line the server sends."""
    reason = falcon.code_to_http_status(code).split(" ", 1)[1]
    schema = {
        "allOf": [ref("schemas", "Error")],
        "properties": {"error": {"const": f"{code}: {reason}"}},
    }
    return answer(description, schema, headers)


CROSS_SITE = "A browser sent this state-changing request from another origin"
SESSION_ONLY = "A bearer token was sent where only a login session may act"
ADMINS_ONLY = "The session's user is not an administrator"
SUDO = (
    "The session last proved a credential longer ago than ESAUTH_SUDO_MAX_AGE (sudo mode): "
    "`POST /v1/auth/reauthenticate` first"
)
RETRY_AFTER = {"Retry-After": ref("headers", "RetryAfter")}
SET_COOKIE = {"Set-Cookie": ref("headers", "SetCookie")}
MAY_SET_COOKIE = {"Set-Cookie": ref("headers", "SetCookieOptional")}


def operation(
    operation_id: str,
    summary: str,
    tag: str,
    responses: dict[int, dict[str, Any]],
    *,
    body: Schema | None = None,
    query: list[dict[str, Any]] | None = None,
    path_parameters: list[dict[str, Any]] | None = None,
    login: bool = False,
    session_only: bool = False,
    admin: bool = False,
    sudo: bool = False,
    unsafe: bool = False,
    rate_limited: bool = False,
    store: bool = True,
    description: str | None = None,
    links: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One method of one path, with the error answers its traits imply added to `responses`.

    unsafe: POST/PATCH/DELETE, which the cross-site guard checks (403) and which must carry
    `application/json` when they carry a body at all (415).
    login: a session cookie or a bearer token; session_only: the cookie only (a token is 403);
    sudo: the cookie of a session that proved a credential recently (else 403).
    """
    all_responses: dict[int, dict[str, Any]] = dict(responses)

    def add(code: int, response: dict[str, Any]) -> None:
        all_responses.setdefault(code, response)

    if body is not None or unsafe:
        add(413, ref("responses", "TooLarge"))
        add(415, ref("responses", "UnsupportedMediaType"))
    if body is not None:
        add(400, ref("responses", "BadRequest"))
    traits = ((unsafe, CROSS_SITE), (admin, ADMINS_ONLY), (session_only, SESSION_ONLY), (sudo, SUDO))
    forbidden = [reason for applies, reason in traits if applies]
    if forbidden:
        add(403, error(403, "; or ".join(forbidden) + "."))
    if login:
        add(401, ref("responses", "LoginRequired"))
        for code in [code for code in all_responses if 200 <= code < 300]:
            all_responses[code] = _may_reissue_cookie(all_responses[code])
    if rate_limited:
        add(429, ref("responses", "RateLimited"))
    if store:
        add(503, ref("responses", "StoreUnavailable"))
    result: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": {str(code): all_responses[code] for code in sorted(all_responses)},
    }
    if description:
        result["description"] = description
    parameters = [*(path_parameters or []), *(query or [])]
    if parameters:
        result["parameters"] = parameters
    if body is not None:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if login:
        result["security"] = [{SESSION_SCHEME: []}] if session_only else [{SESSION_SCHEME: []}, {BEARER_SCHEME: []}]
    for code, response_links in (links or {}).items():
        result["responses"][str(code)] = {**result["responses"][str(code)], "links": response_links}
    return result


def _may_reissue_cookie(response: dict[str, Any]) -> dict[str, Any]:
    """A logged-in success may carry the session re-issued (idle clock restarted, newer key)."""
    if "Set-Cookie" in response["headers"]:
        return response
    return {**response, "headers": {**response["headers"], **MAY_SET_COOKIE}}


def components(cookie_name: str) -> dict[str, Any]:
    """Shapes, headers and shared answers; `cookie_name` is this server's (it depends on
    ESAUTH_COOKIE_SECURE: `__Host-session`, or `session` over plain http)."""
    set_cookie = {
        "description": (
            f"The session cookie `{cookie_name}` (HttpOnly, SameSite=Lax, Path=/, Secure unless turned off), "
            "or its clearing (empty, Max-Age=0)."
        ),
        "schema": {"type": "string", "pattern": f"^{cookie_name}="},
    }
    return {
        "securitySchemes": {
            SESSION_SCHEME: {
                "type": "apiKey",
                "in": "cookie",
                "name": cookie_name,
                "description": "The signed session cookie that `POST /v1/auth/login` sets.",
            },
            BEARER_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "description": (
                    "A personal access token (`esauth_pat_...`, made by `POST /v1/users/me/tokens`). A refused one is 401 "
                    "with `WWW-Authenticate: Bearer error=\"invalid_token\"` and spends one of the client address's "
                    "rate-limit tokens; while it has none, bearer requests from it are 429 (401 at /v1/auth/verify)."
                ),
            },
        },
        "schemas": {
            "Error": {
                "type": "object",
                "description": "Every error, whatever the Accept header.",
                "properties": {
                    "error": {"type": "string", "pattern": "^[1-5][0-9]{2}: .+$", "examples": ["409: Conflict"]},
                    "message": {"type": "string"},
                    "success": {"const": False},
                },
                "required": ["error", "message", "success"],
                "additionalProperties": False,
            },
            "User": {
                "type": "object",
                "description": "A user as clients see it; the password hash never leaves the server.",
                "properties": USER_FIELDS,
                "required": list(USER_FIELDS),
                "additionalProperties": False,
            },
            "Account": {
                "type": "object",
                "description": "The fuller view a user has of themselves, and administrators of everyone.",
                "properties": {**USER_FIELDS, **ACCOUNT_FIELDS},
                "required": [*USER_FIELDS, *ACCOUNT_FIELDS],
                "additionalProperties": False,
            },
        },
        "headers": {
            "CacheControl": {"description": "No answer may be cached.", "required": True, "schema": {"const": "no-store"}},
            "XContentTypeOptions": {"required": True, "schema": {"const": "nosniff"}},
            "XRequestId": {
                "description": "The caller's X-Request-ID if it is 1-64 characters of [A-Za-z0-9._-], else a new one.",
                "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
            },
            "RetryAfter": {"description": "Seconds to wait.", "required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}},
            "SetCookie": {**set_cookie, "required": True},
            "SetCookieOptional": {
                **set_cookie,
                "description": set_cookie["description"] + " Sent when the session is re-issued (at most once a minute, "
                "or after a key rotation) or cleared (a forged, expired or revoked cookie).",
                "required": False,
            },
            "SetPendingCookie": {
                "description": "The pending sign-in cookie (`__Host-esauth-pending`, or `esauth-pending` over plain http; "
                "HttpOnly, SameSite=Strict, Path=/): it opens nothing but `POST /v1/auth/login/mfa`, and lives "
                "ESAUTH_MFA_PENDING_TTL seconds.",
                "required": True,
                "schema": {"type": "string", "pattern": "^(__Host-|__Secure-)?esauth-pending="},
            },
            "SetSignInCookies": {
                "description": "The pending sign-in cookie cleared and, on success, the session and a new device cookie set.",
                "required": False,
                "schema": {"type": "string", "pattern": "^(__Host-|__Secure-)?(esauth-pending|session|device)="},
            },
            "Location": {"required": True, "schema": {"type": "string", "pattern": "^/v1/users/"}},
            "ClearSiteData": {"required": True, "schema": {"const": CLEAR_SITE_DATA}},
        },
        "responses": {
            "BadRequest": error(400, "The body is not a JSON object of the accepted fields, or a field is invalid; the message names it."),
            "LoginRequired": error(
                401,
                "No session cookie, or a forged, expired or revoked one (which is then cleared); or a bearer token that "
                "is malformed, unknown, revoked or expired (`The bearer token is not valid.`).",
                MAY_SET_COOKIE,
            ),
            "TooLarge": error(413, "The body is larger than 64 KiB."),
            "UnsupportedMediaType": error(415, "A body was sent that is not `application/json`."),
            "RateLimited": error(
                429,
                "This client address spent its requests for the minute (ESAUTH_CLIENT_REQUESTS_PER_MINUTE, default 30, "
                "shared by login, sign-up, password change, reset and the email routes).",
                RETRY_AFTER,
            ),
            "StoreUnavailable": error(503, "The store does not answer; esauth recovers by itself when it does.", RETRY_AFTER),
        },
    }
