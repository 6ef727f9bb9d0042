"""What an operator reads: /health/live and /health/ready, /metrics, the access log, and a store
outage told once. The app comes from the composition root (build_app) over SQLite in tmp_path."""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import falcon.testing
import pytest

from domain.session import SessionPolicy
from entrypoints.bootstrap import SQLITE_FILE, Services, build_app, build_services
from entrypoints.config import Settings
from entrypoints.http.session import SessionCookies
from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, KEY, PASSWORD, Api, assert_error, break_store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The argon2 floor: build_services refuses anything cheaper, and these tests hash a few times.
    return Settings(data_dir=tmp_path, secret_keys=(KEY,), hash_workers=1, client_requests_per_minute=3, access_log=True)


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    services = build_services(settings, clock)
    yield services
    services.close()


def api_of(settings: Settings, services: Services, clock: FakeClock) -> Api:
    """The app the composition root builds from these settings, and a client for it."""
    return Api(build_app(settings, services, clock), SessionCookies((KEY,), SessionPolicy()))


@pytest.fixture
def ops(settings: Settings, services: Services, clock: FakeClock) -> Api:
    return api_of(settings, services, clock)


def metric(api: Api, name: str, **labels: str) -> float:
    """One sample of GET /metrics (0 when the series does not exist yet)."""
    text = api.client.simulate_get("/metrics").text
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match and match[1] == name and ",".join(sorted((match[2] or "").split(","))) == wanted:
            return float(match[3])
    return 0.0


# -- health ---------------------------------------------------------------------------------


def test_live_and_ready_answer_200_without_a_session_and_are_never_rate_limited(ops: Api) -> None:
    for _ in range(5):  # more than the 3 a minute the client may spend on logins
        live = ops.client.simulate_get("/health/live", cookies={ops.cookie_name: "garbage"})
        ready = ops.client.simulate_get("/health/ready", cookies={ops.cookie_name: "garbage"})
        assert (live.status_code, live.json) == (200, {"status": "ok"})
        assert (ready.status_code, ready.json) == (200, {"status": "ok", "store": "sqlite"})
        assert "set-cookie" not in ready.headers
    assert ops.client.simulate_get("/health").json == {"status": "ok", "store": "sqlite"}


def test_ready_is_503_while_the_hashing_pool_is_saturated(settings: Settings, services: Services, clock: FakeClock) -> None:
    api = api_of(settings, services, clock)
    saturated = {"now": False}
    services.hasher.saturated = lambda limit: saturated["now"] and limit == 4  # 4 per worker, 1 worker
    assert api.client.simulate_get("/health/ready").status_code == 200
    saturated["now"] = True
    result = api.client.simulate_get("/health/ready")
    assert_error(result, 503, "The password hashing pool is saturated.")
    assert result.headers["retry-after"] == "1"
    assert api.client.simulate_get("/health/live").status_code == 200
    assert api.client.simulate_get("/health").status_code == 200, "/health says what it always said"


def test_when_the_store_is_down_ready_and_health_are_503_and_live_stays_200(ops: Api, services: Services, settings: Settings) -> None:
    restore = break_store(services.stores.users.inner._db.close, settings.data_dir / SQLITE_FILE)
    try:
        assert_error(ops.client.simulate_get("/health/ready"), 503, "The sqlite store is not answering.")
        assert_error(ops.client.simulate_get("/health"), 503)
        assert ops.client.simulate_get("/health/live").status_code == 200
    finally:
        restore()
    assert ops.client.simulate_get("/health/ready").status_code == 200


# -- metrics --------------------------------------------------------------------------------


def test_metrics_count_requests_by_route_template_logins_throttles_and_the_session_cache(ops: Api, clock: FakeClock) -> None:
    cookie = ops.signup_and_login()
    ops.get_test(cookie)  # a miss: the session view's first look vouches for nothing read before it
    ops.get_test(cookie)  # a hit
    ops.client.simulate_get(f"/v1/users/{EMAIL}", cookies=ops.with_cookie(cookie))  # 403: not an admin
    ops.client.simulate_get("/no/such/path/abc@example.com")
    assert ops.login(EMAIL, "wrong password").status_code == 400  # the third token of the minute
    assert ops.login(EMAIL, PASSWORD).status_code == 429  # the client's rate

    assert metric(ops, "esauth_http_requests_total", route="/v1/test", method="GET", status="200") == 2
    assert metric(ops, "esauth_http_requests_total", route="/v1/users/{email}", method="GET", status="403") == 1
    assert metric(ops, "esauth_http_requests_total", route="unmatched", method="GET", status="404") == 1
    text = ops.client.simulate_get("/metrics").text
    assert EMAIL not in text and "abc@example.com" not in text, "raw paths never become labels"
    assert metric(ops, "esauth_http_request_duration_seconds_count", route="/v1/test", method="GET") == 2
    assert metric(ops, "esauth_logins_total", outcome="ok") == 1
    assert metric(ops, "esauth_logins_total", outcome="failed") == 1
    assert metric(ops, "esauth_throttled_total", reason="client") == 1
    assert metric(ops, "esauth_session_cache_total", result="hit") == 1
    assert metric(ops, "esauth_session_cache_total", result="miss") == 1
    assert metric(ops, "esauth_store_call_duration_seconds_count", store="sqlite", operation="add") == 1
    assert metric(ops, "esauth_store_errors_total", store="sqlite", operation="get") == 0
    assert metric(ops, "esauth_hash_queue_depth") == 0
    assert metric(ops, "esauth_hash_queue_wait_seconds_count") >= 3  # sign-up, two logins
    assert metric(ops, "process_resident_memory_bytes") > 0


def test_the_login_throttle_counts_apart_from_the_client_rate(settings: Settings, clock: FakeClock) -> None:
    services = build_services(replace(settings, client_requests_per_minute=100, login_free_failures=1), clock)
    try:
        api = api_of(settings, services, clock)
        api.login("nobody@example.com", PASSWORD)
        assert api.login("nobody@example.com", PASSWORD).status_code == 429
        assert metric(api, "esauth_throttled_total", reason="login") == 1
        assert metric(api, "esauth_throttled_total", reason="client") == 0
        assert metric(api, "esauth_logins_total", outcome="throttled") == 1
    finally:
        services.close()


def test_bad_bearer_tokens_throttled_count_as_the_client_rate_not_a_login_throttle(settings: Settings, clock: FakeClock) -> None:
    services = build_services(replace(settings, client_requests_per_minute=2), clock)
    try:
        api = api_of(settings, services, clock)
        guesses = [api.client.simulate_get("/v1/test", headers={"Authorization": "Bearer esauth_pat_guess"}).status_code
                   for _ in range(6)]
        assert guesses[0] == 401 and guesses[-1] == 429  # refused, then the client's bucket is empty
        throttled = guesses.count(429)
        assert metric(api, "esauth_throttled_total", reason="client") == throttled
        assert metric(api, "esauth_throttled_total", reason="login") == 0
    finally:
        services.close()


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.7", "2001:db8::1"])
def test_metrics_are_refused_outside_the_allowed_networks(ops: Api, address: str) -> None:
    result = ops.client.simulate_get("/metrics", remote_addr=address)
    assert_error(result, 403, "Metrics are not served to this address.")
    assert "esauth_" not in result.text


def test_metrics_allowed_to_a_network_and_behind_a_proxy_to_the_client_it_vouches_for(settings: Settings, services: Services, clock: FakeClock) -> None:
    proxied = replace(settings, metrics_allow=(ipaddress.ip_network("10.0.0.0/8"),), trusted_proxies=1)
    api = api_of(proxied, services, clock)
    inside = api.client.simulate_get("/metrics", remote_addr="127.0.0.1", headers={"X-Forwarded-For": "10.9.8.7"})
    assert inside.status_code == 200
    assert inside.headers["content-type"].startswith("text/plain; version=0.0.4")
    outside = api.client.simulate_get("/metrics", remote_addr="127.0.0.1", headers={"X-Forwarded-For": "203.0.113.9"})
    assert outside.status_code == 403, "a proxy on loopback does not open /metrics to everyone"


def test_with_metrics_allowed_to_nobody_there_is_no_route_and_nothing_is_counted(settings: Settings, clock: FakeClock) -> None:
    off = replace(settings, metrics_allow=())
    services = build_services(off, clock)
    try:
        api = api_of(off, services, clock)
        assert_error(api.client.simulate_get("/metrics"), 404)
        assert type(services.metrics).__name__ == "NoMetrics"
    finally:
        services.close()


# -- logs -----------------------------------------------------------------------------------


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [dict(record.msg) for record in caplog.records if record.name == "esauth.access"]


def test_one_access_line_per_request_with_route_status_duration_request_id_and_client(ops: Api, caplog) -> None:
    cookie = ops.signup_and_login()
    caplog.clear()
    ops.client.simulate_get("/v1/test", cookies=ops.with_cookie(cookie), headers={"X-Request-ID": "probe-1"})
    ops.client.simulate_get(f"/v1/users/{EMAIL}?token=secret-token", cookies=ops.with_cookie(cookie))
    lines = access_lines(caplog)
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/v1/test", 200),
        ("GET", "/v1/users/{email}", 403),
    ]
    assert lines[0]["request_id"] == "probe-1" and lines[0]["client"] == "127.0.0.1"
    assert all(isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0 for line in lines)
    text = "\n".join(record.getMessage() for record in caplog.records if record.name == "esauth.access")
    assert text.splitlines()[0].startswith("GET /v1/test 200 ")
    for secret in (cookie, "secret-token", EMAIL, PASSWORD):
        assert secret not in caplog.text


def test_the_access_log_can_be_turned_off(settings: Settings, services: Services, clock: FakeClock, caplog) -> None:
    quiet = replace(settings, access_log=False)
    api = api_of(quiet, services, clock)
    api.client.simulate_get("/health")
    assert access_lines(caplog) == []


def test_a_store_outage_logs_one_line_when_it_starts_and_one_with_the_count_when_it_ends(
    ops: Api, services: Services, settings: Settings, caplog, clock: FakeClock
) -> None:
    ops.signup()
    services.background.close()  # the sign-up's confirmation message goes before the store does
    caplog.clear()
    restore = break_store(services.stores.users.inner._db.close, settings.data_dir / SQLITE_FILE)
    for _ in range(2):  # what the client's rate allows
        assert ops.login().status_code == 503
    for _ in range(3):
        assert ops.client.simulate_get("/health").status_code == 503
    restore()
    clock.advance(minutes=1)  # a fresh rate-limit allowance
    assert ops.login().status_code == 200
    assert ops.client.simulate_get("/health").status_code == 200  # as a probe keeps asking

    store_lines = [r for r in caplog.records if r.name.startswith("esauth") and r.name != "esauth.access" and r.name != "esauth.audit"]
    assert [(r.name, r.levelno) for r in store_lines] == [("esauth.store", logging.ERROR), ("esauth.store", logging.WARNING)]
    start, end = (r.getMessage() for r in store_lines)
    assert "the sqlite store is not answering (sqlite: OperationalError: unable to open database file)" in start
    assert re.search(r"answers again after \d+\.\d s; 5 requests failed meanwhile", end), end
    assert not any(r.exc_info for r in caplog.records), "no traceback"


def test_the_openapi_document_describes_the_probes_and_metrics_where_they_are_served(settings: Settings, services: Services, clock: FakeClock) -> None:
    def paths(api: Api) -> set[str]:
        return set(falcon.testing.TestClient(api.app).simulate_get("/openapi.json").json["paths"])

    served = paths(api_of(settings, services, clock))
    assert {"/health", "/health/live", "/health/ready", "/metrics"} <= served
    assert "/metrics" not in paths(api_of(replace(settings, metrics_allow=()), services, clock))
