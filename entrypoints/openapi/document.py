"""The OpenAPI 3.1 document of the API, assembled from one module per route group.

To add a route: describe it in its group's module (or a new module listed in GROUPS) with
`parts.operation(...)`, whose flags add the answers the middleware gives (401, 403, 413, 415,
429, 503). tests/http/test_openapi.py fails until every route of create_app is described.
"""

from __future__ import annotations

import json
from importlib.metadata import version as installed_version
from typing import Any, Callable

import falcon

from entrypoints.openapi import account, email, passkeys as passkey_paths, protect, second_factor, service, sessions, users
from entrypoints.openapi.parts import components

Paths = dict[str, dict[str, Any]]

GROUPS: tuple[Callable[[str], Paths], ...] = (
    lambda cookie_name: users.PATHS,
    sessions.paths,
    lambda cookie_name: account.PATHS,
    lambda cookie_name: email.PATHS,
    lambda cookie_name: service.PATHS,
    lambda cookie_name: protect.PATHS,
    lambda cookie_name: second_factor.PATHS,
)
"""Each group's paths; a group whose answers name the cookie (links) takes its name."""

DESCRIPTION = """\
A small authentication API: sign-up, login, logout and a login-required probe, served over JSON.

Every answer is JSON. Errors have one shape, `{"error": "<code>: <reason>", "message", "success": false}`,
whatever the Accept header. Bodies of state-changing requests must be `application/json` objects of at
most 64 KiB. Sessions ride in a signed, HttpOnly cookie that login sets; scripts and services use
personal access tokens (`Authorization: Bearer`) where a session is not required.

Outside this contract, the HTTP server itself refuses bodies over 1 MiB and headers over 32 KiB
(413, 431), malformed requests and requests framed by both Content-Length and Transfer-Encoding
(400), and other transfer codings (501), in the same JSON error shape, before any route is reached,
closing the connection.
"""


def build_document(cookie_name: str, version: str | None = None, metrics: bool = False, passkeys: bool = False) -> dict[str, Any]:
    """The document for a server whose session cookie is `cookie_name`, and which serves
    /metrics and the passkey routes or not."""
    paths: Paths = {}
    groups = GROUPS
    if metrics:
        groups = (*groups, lambda cookie_name: service.METRICS_PATHS)
    if passkeys:
        groups = (*groups, lambda cookie_name: passkey_paths.PATHS)
    for group in groups:
        for path, methods in group(cookie_name).items():
            if path in paths:
                raise ValueError(f"{path} is described by two route groups")
            paths[path] = methods
    return {
        "openapi": "3.1.0",
        "info": {"title": "esauth", "version": version or installed_version("esauth"), "description": DESCRIPTION},
        "paths": paths,
        "components": components(cookie_name),
    }


class OpenApiResource:
    """`GET /openapi.json`, serialized once: the document is fixed for the life of the app."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._text = json.dumps(document, ensure_ascii=False)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.text = self._text
