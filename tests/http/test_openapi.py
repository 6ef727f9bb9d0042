"""GET /openapi.json: a valid OpenAPI 3.1 document of exactly the routes create_app serves."""

from __future__ import annotations

import re
from typing import Any

import falcon
import falcon.inspect
import falcon.testing
import pytest
from openapi_spec_validator import validate

from domain.passkeys import Passkeys
from entrypoints.openapi.parts import ADMINS_ONLY, SUDO
from tests.http.helpers import Api, MakeApi

CONVERTER = re.compile(r"{(\w+):\w+}")
"""Falcon's `{email:path}` is OpenAPI's `{email}`."""
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NOT_THE_API = "/ui/"
"""The hosted pages: HTML forms for people (entrypoints/ui), not part of the JSON API the
document describes. Every other route is."""


@pytest.fixture(params=["plain", "passkeys"])
def api(request: pytest.FixtureRequest, make_api: MakeApi, passkeys: Passkeys) -> Api:
    """The app without and with the routes a relying party adds (passkeys)."""
    return make_api(passkeys=passkeys) if request.param == "passkeys" else make_api()


def served_document(api: Api) -> dict[str, Any]:
    # Not api.client: it refuses any answer naming a "password" field, which the document must.
    result = falcon.testing.TestClient(api.app).simulate_get("/openapi.json")
    assert result.status_code == 200, result.text
    assert result.headers["Content-Type"] == "application/json"
    return result.json


def app_operations(app: falcon.App) -> dict[tuple[str, str], Any]:
    """(path, method) -> resource, for every responder the app's own resources define
    (suffixed ones included), the hosted pages aside; Falcon's defaults (OPTIONS, 405 for the
    rest) are not ours."""
    found: dict[tuple[str, str], Any] = {}
    for route in falcon.inspect.inspect_routes(app):
        if route.path.startswith(NOT_THE_API):
            continue
        resource = app._router.find(re.sub(r"{[^}]+}", "someone@example.com", route.path))[0]
        assert type(resource).__name__ == route.class_name
        for method in route.methods:
            if not method.internal:
                found[(CONVERTER.sub(r"{\1}", route.path), method.method.lower())] = resource
    return found


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item if method in HTTP_METHODS}


def test_the_document_is_valid_openapi_3_1(any_api: Api) -> None:
    document = served_document(any_api)
    assert document["openapi"].startswith("3.1")
    validate(document)  # openapi-spec-validator: the document itself, against the 3.1 meta-schema


def test_the_document_with_and_without_passkeys_is_valid_openapi_3_1(api: Api) -> None:
    validate(served_document(api))


def test_every_route_and_method_of_the_app_is_documented_and_nothing_else(api: Api) -> None:
    served = set(app_operations(api.app))
    documented = documented_operations(served_document(api))
    assert served - documented == set(), "routes the document does not describe"
    assert documented - served == set(), "documented operations the app does not serve"
    assert ("/v1/auth/logout-all", "post") in served  # a suffixed responder is seen
    assert not [path for path, _ in documented if path.startswith(NOT_THE_API)]  # pages are not the API


def test_the_cookie_scheme_names_this_servers_cookie(any_api: Api) -> None:
    scheme = served_document(any_api)["components"]["securitySchemes"]["session"]
    assert scheme == {**scheme, "type": "apiKey", "in": "cookie", "name": any_api.cookie_name}


def applies(resource: Any, attribute: str, method: str) -> bool:
    """What the middleware reads: `attribute` is True, or a set of methods holding this one."""
    required = getattr(resource, attribute, False)
    return required is True or method.upper() in (required or ())


PENDING_SIGN_IN = {
    ("/v1/auth/login/mfa", "post"), ("/v1/auth/login/mfa/passkey/options", "post"), ("/v1/auth/login/mfa/passkey", "post"),
}
"""Not login-required, yet 401 without the pending sign-in cookie the password step set."""


@pytest.mark.parametrize("check", ["login", "admin", "rate", "sudo"])
def test_each_operation_documents_what_its_resource_declares(api: Api, check: str) -> None:
    """The answers the middleware gives follow from the resource's attributes; the document
    must say them, so a route made admin-only or rate-limited cannot keep an old description."""
    paths = served_document(api)["paths"]
    for (path, method), resource in app_operations(api.app).items():
        described = paths[path][method]
        responses = described["responses"]
        where = f"{method.upper()} {path}"
        if check == "login":
            login = applies(resource, "login_required", method)
            assert ("security" in described) is login, where
            assert ("401" in responses) is (login or (path, method) in PENDING_SIGN_IN), where
        elif check == "sudo":
            forbidden = responses.get("403", {}).get("description", "")
            assert (SUDO in forbidden) is applies(resource, "recent_auth_required", method), where
        elif check == "admin":
            forbidden = responses.get("403", {}).get("description", "")
            assert (ADMINS_ONLY in forbidden) is applies(resource, "admin_required", method), where
        else:
            rate_limited = method == "post" and getattr(resource, "rate_limited", False)
            assert ("429" in responses) is rate_limited, where
