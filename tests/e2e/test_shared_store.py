"""Two esauth processes sharing one search engine (each engine): revocation and throttling cross processes."""

from __future__ import annotations

import time

from tests.engines import SearchEngine
from tests.e2e.harness import StartServer, random_secret_key
from tests.e2e.seed_session import EMAIL, PASSWORD, assert_error, log_in, refused_within, sign_up

REVOCATION_BOUND_S = 2.0
"""What the README promises: a session revoked on one process is refused by every other one
within this long (the session check's per-process cache lives 1 s)."""


def test_logout_on_one_process_is_refused_on_the_other_within_the_bound(
    start_server: StartServer, search_engine: SearchEngine, es_index: str
) -> None:
    shared = search_engine.env(es_index)
    key = random_secret_key()
    a = start_server(secret_key=key, **shared)
    b = start_server(secret_key=key, **shared)
    client_a, client_b = a.client(), b.client()
    assert sign_up(client_a).status == 200
    _, cookie = log_in(client_a)
    header = f"session={cookie}"
    assert client_b.get("/v1/test", cookie=header).status == 200  # b has now cached the user

    assert client_a.post("/v1/auth/logout", cookie=header).status == 200
    revoked_at = time.monotonic()
    assert_error(client_a.get("/v1/test", cookie=header), 401)  # at once where it was revoked

    took = refused_within(lambda: client_b.get("/v1/test", cookie=header), revoked_at, REVOCATION_BOUND_S, "the other process")
    assert took < REVOCATION_BOUND_S


def test_failed_logins_count_across_processes(
    start_server: StartServer, search_engine: SearchEngine, es_index: str
) -> None:
    # A first delay long enough that it cannot run out while the test makes its requests.
    shared = {**search_engine.env(es_index), "ESAUTH_LOGIN_BASE_DELAY": "60"}
    a = start_server(**shared)
    b = start_server(**shared)
    assert sign_up(a.client()).status == 200
    for server in (a, b, a, b, a):
        answer = server.client().post("/v1/auth/login", {"email_address": EMAIL, "password": "wrong password"})
        assert_error(answer, 400, "Unknown email_address or bad password")
    throttled = b.client().post("/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD})
    assert_error(throttled, 429)
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
