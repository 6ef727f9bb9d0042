"""Cross-site refusals and the headers every answer carries."""

from __future__ import annotations

import pytest

from tests.http.helpers import EMAIL, PASSWORD, Api, MakeApi, assert_error, stored_emails

SIGNUP = {"email_address": EMAIL, "password": PASSWORD}
OWN_ORIGIN = "http://falconframework.org"  # TestClient's default host


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://falconframework.org.evil.example"},
        {"Origin": "https://falconframework.org"},  # another scheme is another origin
        {"Origin": "http://falconframework.org:8080"},  # and so is another port
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_a_cross_site_state_change_is_refused_and_changes_nothing(api: Api, db_path, headers: dict) -> None:
    result = api.client.simulate_post("/v1/users/new", json=SIGNUP, headers=headers)
    assert_error(result, 403)
    assert stored_emails(db_path) == []


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl and servers send neither header
        {"Origin": OWN_ORIGIN, "Sec-Fetch-Site": "same-origin"},
        {"Origin": "HTTP://FalconFramework.org:80"},  # the same origin, spelled otherwise
        {"Sec-Fetch-Site": "none"},  # typed by the user
    ],
)
def test_same_origin_and_non_browser_requests_pass(api: Api, headers: dict) -> None:
    assert api.client.simulate_post("/v1/users/new", json=SIGNUP, headers=headers).status_code == 200


def test_behind_trusted_proxies_the_forwarded_origin_is_this_one(make_api: MakeApi) -> None:
    api = make_api(trusted_proxies=1)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "auth.example.com"}
    ok = api.client.simulate_post("/v1/users/new", json=SIGNUP, headers={**forwarded, "Origin": "https://auth.example.com"})
    assert ok.status_code == 200
    plain = api.client.simulate_post("/v1/auth/login", json=SIGNUP, headers={**forwarded, "Origin": "http://auth.example.com"})
    assert_error(plain, 403)
    untrusted = make_api()
    assert_error(untrusted.client.simulate_post("/v1/auth/login", json=SIGNUP, headers={**forwarded, "Origin": "https://auth.example.com"}), 403)


def test_an_allowed_origin_passes(make_api: MakeApi) -> None:
    api = make_api(allowed_origins=("https://app.example.com:443",))
    ok = api.client.simulate_post("/v1/users/new", json=SIGNUP, headers={"Origin": "https://App.example.com"})
    assert ok.status_code == 200
    refused = api.client.simulate_post("/v1/auth/login", json=SIGNUP, headers={"Origin": "https://other.example.com"})
    assert_error(refused, 403)


def test_reads_are_not_refused_for_their_origin(api: Api) -> None:
    cookie = api.signup_and_login()
    assert api.get_test(cookie, headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_a_body_on_a_state_change_must_be_json_even_where_none_is_read(api: Api) -> None:
    cookie = api.signup_and_login()
    form = api.client.simulate_post(
        "/v1/auth/logout", body="a=1", content_type="application/x-www-form-urlencoded", cookies=api.with_cookie(cookie)
    )
    assert_error(form, 415)
    assert api.get_test(cookie).status_code == 200  # the refused logout logged nobody out
    bodiless = api.client.simulate_post("/v1/auth/logout", cookies=api.with_cookie(cookie))
    assert bodiless.status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/v1/test"), ("POST", "/v1/users/new"), ("GET", "/nowhere"), ("POST", "/v1/auth/login"), ("GET", "/health")],
)
def test_every_answer_is_no_store_and_nosniff_with_a_request_id(api: Api, method: str, path: str) -> None:
    result = api.client.simulate_request(method, path, json=SIGNUP if method == "POST" else None)
    assert result.headers["cache-control"] == "no-store"
    assert result.headers["x-content-type-options"] == "nosniff"
    assert len(result.headers["x-request-id"]) == 32


def test_every_generated_request_id_is_different(api: Api) -> None:
    ids = {api.client.simulate_get("/health").headers["x-request-id"] for _ in range(50)}
    assert len(ids) == 50


def test_a_well_formed_request_id_is_kept_and_a_bad_one_replaced(api: Api) -> None:
    kept = api.client.simulate_get("/health", headers={"X-Request-ID": "lb-7f3a.42"})
    assert kept.headers["x-request-id"] == "lb-7f3a.42"
    replaced = api.client.simulate_get("/health", headers={"X-Request-ID": "<script>" + "x" * 80})
    assert replaced.headers["x-request-id"] != "<script>" + "x" * 80
    assert len(replaced.headers["x-request-id"]) == 32
