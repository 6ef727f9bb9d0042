"""CORS for listed front ends only, and a session cookie shared across subdomains."""

from __future__ import annotations

import pytest

from tests.http.helpers import EMAIL, PASSWORD, Api, MakeApi, assert_error

FRONT = "https://app.example.com"
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
                "access-control-allow-headers", "access-control-expose-headers", "access-control-max-age")


@pytest.fixture
def cors_api(make_api: MakeApi) -> Api:
    return make_api(allowed_origins=(FRONT,))


def preflight(api: Api, origin: str, method: str = "POST", headers: str = "content-type"):
    return api.client.simulate_options("/v1/auth/login", headers={
        "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers,
    })


def test_a_preflight_from_a_listed_origin_is_answered_with_only_what_the_api_uses(cors_api: Api) -> None:
    result = preflight(cors_api, FRONT, headers="Content-Type, Authorization")
    assert result.status_code == 204
    assert result.headers["access-control-allow-origin"] == FRONT
    assert result.headers["access-control-allow-credentials"] == "true"
    assert result.headers["access-control-allow-methods"] == "GET, HEAD, POST, PATCH, DELETE"
    assert result.headers["access-control-allow-headers"] == "content-type, authorization, x-request-id"
    assert "Origin" in result.headers["vary"]


@pytest.mark.parametrize("origin,method,headers", [
    ("https://evil.example", "POST", "content-type"),
    ("https://app.example.com.evil.example", "POST", "content-type"),
    ("http://app.example.com", "POST", "content-type"),  # another scheme is another origin
    (FRONT, "PUT", "content-type"),
    (FRONT, "POST", "x-custom"),
])
def test_other_origins_and_requests_beyond_the_api_get_no_cors_headers(cors_api: Api, origin, method, headers) -> None:
    result = preflight(cors_api, origin, method, headers)
    assert not any(name in result.headers for name in CORS_HEADERS), result.headers


def test_a_credentialed_request_from_a_listed_origin_is_readable_by_it_even_when_refused(cors_api: Api) -> None:
    cors_api.signup(EMAIL, PASSWORD)
    ok = cors_api.login(EMAIL, PASSWORD, Origin=FRONT)
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == FRONT and ok.headers["access-control-allow-credentials"] == "true"
    assert "X-Request-ID" in ok.headers["access-control-expose-headers"]
    refused = cors_api.client.simulate_get("/v1/test", headers={"Origin": FRONT})
    assert_error(refused, 401)
    assert refused.headers["access-control-allow-origin"] == FRONT


def test_a_request_from_another_origin_gets_no_cors_headers_and_is_still_refused(cors_api: Api) -> None:
    cors_api.signup(EMAIL, PASSWORD)
    result = cors_api.login(EMAIL, PASSWORD, Origin="https://evil.example")
    assert_error(result, 403)
    assert not any(name in result.headers for name in CORS_HEADERS)
    assert "Origin" in result.headers["vary"]


def test_without_listed_origins_there_is_no_cors_at_all(api: Api) -> None:
    result = preflight(api, FRONT)
    assert not any(name in result.headers for name in CORS_HEADERS)
    assert "vary" not in result.headers


def test_a_cookie_domain_shares_the_session_under_the_secure_prefix(make_api: MakeApi) -> None:
    api = make_api(cookie_domain="example.com")
    assert api.cookie_name == "__Secure-session"
    api.signup(EMAIL, PASSWORD)
    result = api.login(EMAIL, PASSWORD)
    cookie = result.cookies["__Secure-session"]
    assert cookie.domain in ("example.com", ".example.com") and cookie.secure and cookie.http_only and cookie.path == "/"
    assert api.client.simulate_get("/v1/test", cookies={"__Secure-session": cookie.value}).status_code == 200
    logout = api.client.simulate_post("/v1/auth/logout", cookies={"__Secure-session": cookie.value})
    assert logout.cookies["__Secure-session"].value == "" and logout.cookies["__Secure-session"].domain in ("example.com", ".example.com")
