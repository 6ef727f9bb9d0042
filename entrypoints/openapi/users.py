"""Sign-up and the administration of users: /v1/users/new, /v1/users, /v1/users/{email}."""

from __future__ import annotations

from typing import Any

from domain.search import MAX_PAGE_SIZE
from entrypoints.openapi.parts import EMAIL, NAME, PASSWORD, answer, body_object, error, operation, ref, success_body

SIGNUP_BODY = body_object(
    {"email_address": EMAIL, "password": PASSWORD},
    {"first_name": NAME, "last_name": NAME},
)
TAKEN = error(409, "The address already has an account (the seed's contract: sign-up tells).")
ADMIN_BODY = body_object(
    {},
    {"is_active": {"type": "boolean"}, "is_admin": {"type": "boolean"}, "first_name": NAME, "last_name": NAME},
    min_properties=1,
)
EMAIL_IN_PATH = {
    "name": "email",
    "in": "path",
    "required": True,
    "description": "The account's address (any case; trimmed).",
    "schema": {"type": "string", "format": "email", "minLength": 1},
}
SELF_LOCKOUT = error(409, "An administrator cannot deactivate, demote or delete themselves.")
NO_SUCH_USER = error(404, "No account has this address.")


def _signed_up_links() -> dict[str, Any]:
    """What a client does next with a new account: log in, and (an admin) look at it."""
    email = "$response.body#/data/email_address"
    return {
        "LogIn": {
            "operationId": "logIn",
            "requestBody": {"email_address": "$request.body#/email_address", "password": "$request.body#/password"},
        },
        "GetUser": {"operationId": "getUser", "parameters": {"path.email": email}},
        "UpdateUser": {"operationId": "updateUser", "parameters": {"path.email": email}},
        "DeleteUser": {"operationId": "deleteUser", "parameters": {"path.email": email}},
    }


def _account_answer(description: str) -> dict[str, Any]:
    return answer(description, success_body(ref("schemas", "Account")))


PATHS: dict[str, dict[str, Any]] = {
    "/v1/users/new": {
        "post": operation(
            "signUp",
            "Sign up (the seed's route)",
            "users",
            {
                200: answer("The account was made.", success_body(ref("schemas", "User"))),
                409: TAKEN,
            },
            body=SIGNUP_BODY,
            unsafe=True,
            rate_limited=True,
            links={200: _signed_up_links()},
        )
    },
    "/v1/users": {
        "post": operation(
            "createUser",
            "Sign up, answered as a created resource",
            "users",
            {
                201: answer(
                    "The account was made.",
                    success_body(ref("schemas", "User")),
                    {"Location": ref("headers", "Location")},
                ),
                409: TAKEN,
            },
            body=SIGNUP_BODY,
            unsafe=True,
            rate_limited=True,
            links={201: _signed_up_links()},
        ),
        "get": operation(
            "searchUsers",
            "Search accounts (administrators)",
            "administration",
            {
                200: answer(
                    "A page of accounts, newest first.",
                    success_body(
                        {
                            "type": "object",
                            "properties": {
                                "users": {"type": "array", "items": ref("schemas", "Account"), "maxItems": MAX_PAGE_SIZE},
                                "next_cursor": {"type": ["string", "null"]},
                            },
                            "required": ["users", "next_cursor"],
                            "additionalProperties": False,
                        }
                    ),
                ),
                400: error(400, "`q`, `limit` or `cursor` is malformed; the message names it."),
            },
            query=[
                {
                    "name": "q",
                    "in": "query",
                    "description": "Every word must prefix the email or a name.",
                    "schema": {"type": "string"},
                },
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 20}},
                {
                    "name": "cursor",
                    "in": "query",
                    "description": "`next_cursor` of the previous page.",
                    "schema": {"type": "string"},
                },
            ],
            login=True,
            admin=True,
        ),
    },
    "/v1/users/{email}": {
        "get": operation(
            "getUser",
            "Read an account (administrators)",
            "administration",
            {
                200: _account_answer("The account."),
                400: error(400, "The address is malformed."),
                404: NO_SUCH_USER,
            },
            path_parameters=[EMAIL_IN_PATH],
            login=True,
            admin=True,
        ),
        "patch": operation(
            "updateUser",
            "Change an account (administrators); deactivating ends its sessions",
            "administration",
            {200: _account_answer("The updated account."), 404: NO_SUCH_USER, 409: SELF_LOCKOUT},
            body=ADMIN_BODY,
            path_parameters=[EMAIL_IN_PATH],
            login=True,
            admin=True,
            unsafe=True,
        ),
        "delete": operation(
            "deleteUser",
            "Delete an account (administrators); its sessions end",
            "administration",
            {
                200: answer("The account is gone.", success_body()),
                400: error(400, "The address is malformed."),
                404: NO_SUCH_USER,
                409: SELF_LOCKOUT,
            },
            path_parameters=[EMAIL_IN_PATH],
            login=True,
            admin=True,
            unsafe=True,
        ),
    },
}


