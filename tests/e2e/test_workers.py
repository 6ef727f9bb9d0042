"""`esauth serve --workers N`: N real processes on one socket, supervised by their parent."""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import pytest

from infrastructure.hashing.pool import cores_available, threads_for_worker
from tests.e2e.harness import HOST, StartServer, free_port
from tests.e2e.seed_session import (
    EMAIL,
    PASSWORD,
    assert_error,
    cookie_header,
    log_in,
    parse_set_cookie,
    refused_within,
    sign_up,
)
from tests.e2e.workers import alive, children, one_connection_per_worker, wait_for_workers
from tests.engines import engine_for, engine_names

REVOCATION_BOUND_S = 1.5
"""ESAUTH_SESSION_CHECK_CACHE_MS (default 1 s) bounds a revocation reaching every other worker;
measured here from the logout's answer to the refusal's, so with room for the refusing request
itself (tests/e2e/test_change_propagation.py holds every change to the bound exactly)."""
EXIT_BOUND_S = 5.0


def test_two_workers_both_serve_and_log_which_they_are(start_server: StartServer) -> None:
    server = start_server(workers=2)
    workers = wait_for_workers(server, 2)
    assert sorted(workers) == [1, 2] and len(set(workers.values())) == 2
    assert server.process.pid not in workers.values()
    with one_connection_per_worker(server, set(workers.values())) as pinned:
        assert set(pinned) == set(workers.values())
        for connection in pinned.values():
            assert connection.request("GET", "/v1/test").status == 401  # each answers the API, not just /health
    for number, pid in workers.items():  # one hashing thread per core in all (the server inherits our affinity)
        hashing = threads_for_worker(cores_available(), 2, number)
        assert f"worker={number} pid={pid} worker {number}: 4 request thread(s), {hashing} hashing thread(s)" in server.stderr()


def test_a_killed_worker_is_replaced_after_a_growing_back_off_and_service_goes_on(start_server: StartServer) -> None:
    server = start_server(workers=2)
    workers = wait_for_workers(server, 2)
    survivor = workers[2]
    for back_off in ("0.5", "1.0"):  # each died young: the second replacement waits twice as long
        victim = workers[1]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + EXIT_BOUND_S
        while alive(victim) and time.monotonic() < deadline:
            assert server.raw("GET", "/health").status == 200  # the survivor answers meanwhile
        assert not alive(victim)
        for _ in range(5):
            assert server.raw("GET", "/health").status == 200
        workers = wait_for_workers(server, 2)
        assert workers[2] == survivor and workers[1] != victim
        exited = re.search(rf"worker 1 \(pid {victim}\) exited with signal 9 after [0-9.]+ s; replacing it in ([0-9.]+) s", server.stderr())
        assert exited and exited.group(1) == back_off, server.stderr()
    with one_connection_per_worker(server, set(workers.values())) as pinned:
        assert pinned[workers[1]].request("GET", "/health").status == 200  # the replacement serves


def test_a_server_whose_workers_cannot_start_exits_1_instead_of_looping(start_server: StartServer) -> None:
    server = start_server(workers=2, wait=False, ESAUTH_ELASTICSEARCH_URL=f"http://{HOST}:{free_port()}")
    assert server.process.wait(timeout=30) == 1
    log = server.stderr()
    assert "the user store is not reachable" in log and "a worker exited before the server ever served: stopping" in log
    assert "replacing it" not in log


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_a_login_under_way_finish_then_everything_exits(start_server: StartServer, workers: int) -> None:
    # argon2 at 25 iterations: a login takes long enough to be surely under way at SIGTERM.
    server = start_server(workers=workers, ESAUTH_ARGON2_TIME_COST="25")
    pids = set(wait_for_workers(server, workers).values()) if workers > 1 else {server.process.pid}
    assert sign_up(server.client()).status == 200
    with one_connection_per_worker(server, pids) as pinned:
        connection = next(iter(pinned.values()))
        answers = []
        login = threading.Thread(
            target=lambda: answers.append(
                (connection.request("POST", "/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD}), time.monotonic())
            )
        )
        login.start()
        time.sleep(0.2)  # the request is on a connection already accepted: it is being hashed now
        sent_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        login.join(timeout=30)
        assert answers, "the login got no answer"
        answer, answered_at = answers[0]
        assert answer.status == 200, answer
        assert answer.set_cookies()
        assert answered_at > sent_at, "the login was answered before SIGTERM: nothing was drained"
    assert server.process.wait(timeout=EXIT_BOUND_S + 30) == 0
    assert not any(alive(pid) for pid in pids)
    log = server.stderr()
    assert log.count("stopping: finishing the requests under way") == workers, log
    if workers > 1:
        assert "SIGTERM: stopping 2 worker(s)" in log and "all workers stopped" in log


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_stopping_still_reads_and_answers_a_request_whose_body_is_on_its_way(start_server: StartServer, stop: int) -> None:
    server = start_server(workers=2)
    workers = wait_for_workers(server, 2)
    with one_connection_per_worker(server, set(workers.values())) as pinned:
        connection = next(iter(pinned.values())).http
        connection.putrequest("POST", "/v1/auth/login")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", "2")
        connection.endheaders(b"{")
        time.sleep(0.2)
        server.process.send_signal(stop)
        time.sleep(0.5)  # every worker is draining by now (its loop looks every 0.25 s)
        connection.send(b"}")
        with connection.getresponse() as answer:
            assert answer.status == 400, answer.read()  # the app's own answer to an empty object
    assert server.process.wait(timeout=EXIT_BOUND_S) == 0


def test_workers_exit_by_themselves_when_the_parent_is_killed(start_server: StartServer) -> None:
    server = start_server(workers=2)
    workers = set(wait_for_workers(server, 2).values())
    server.process.kill()
    server.process.wait(timeout=5)
    deadline = time.monotonic() + EXIT_BOUND_S
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers), "a worker outlived its parent"


def test_the_rate_limit_is_one_servers_not_one_per_worker(start_server: StartServer) -> None:
    server = start_server(workers=2, ESAUTH_CLIENT_REQUESTS_PER_MINUTE="6")
    workers = wait_for_workers(server, 2)
    with one_connection_per_worker(server, set(workers.values())) as pinned:
        first, second = pinned.values()
        # Alternating workers, 12 requests from one address; an empty body fails validation
        # after the rate limit has spent its token, so nothing is hashed.
        answers = [(first if turn % 2 == 0 else second).request("POST", "/v1/auth/login", {}) for turn in range(12)]
    statuses = [answer.status for answer in answers]
    assert statuses == [400] * 6 + [429] * 6, statuses
    assert_error(answers[-1], 429)


@pytest.mark.parametrize("store", ["sqlite", *(pytest.param(name, marks=pytest.mark.elasticsearch) for name in engine_names())])
def test_a_logout_on_one_worker_is_refused_by_every_worker_within_the_bound(
    start_server: StartServer, store: str, request: pytest.FixtureRequest
) -> None:
    variables = {}
    if store != "sqlite":
        variables = engine_for(request, store).env(request.getfixturevalue("es_index"))
    server = start_server(workers=2, **variables)
    workers = wait_for_workers(server, 2)
    client = server.client()
    assert sign_up(client).status == 200
    _, value = log_in(client)
    cookie = cookie_header(value)
    with one_connection_per_worker(server, set(workers.values())) as pinned:
        first, second = pinned.values()
        for connection in (first, second):
            assert connection.request("GET", "/v1/test", cookie=cookie).status == 200  # each worker now holds the user
        assert first.request("POST", "/v1/auth/logout", cookie=cookie).status == 200
        revoked_at = time.monotonic()
        assert_error(first.request("GET", "/v1/test", cookie=cookie), 401)  # at once where it was revoked
        ask = second.request
        took = refused_within(lambda: ask("GET", "/v1/test", cookie=cookie), revoked_at, REVOCATION_BOUND_S, "the other worker")
        assert took < REVOCATION_BOUND_S
        for connection in (first, second):
            assert_error(connection.request("GET", "/v1/test", cookie=cookie), 401)
    assert children(server.process.pid) == set(workers.values())


@pytest.mark.parametrize("store", ["sqlite", *(pytest.param(name, marks=pytest.mark.elasticsearch) for name in engine_names())])
def test_device_buckets_and_a_device_lockout_hold_across_workers(
    start_server: StartServer, store: str, request: pytest.FixtureRequest
) -> None:
    """The attack of README's former known limit, over two workers: failures without a device
    cookie throttle untrusted clients on both, never the user's device; a device that fails
    ESAUTH_DEVICE_FAILURES times, on either worker, is locked out on both."""
    variables = {"ESAUTH_CLIENT_REQUESTS_PER_MINUTE": "100000", "ESAUTH_DEVICE_FAILURES": "2"}
    if store != "sqlite":
        variables.update(engine_for(request, store).env(request.getfixturevalue("es_index")))
    server = start_server(workers=2, **variables)
    workers = wait_for_workers(server, 2)
    assert sign_up(server.client()).status == 200
    right, wrong = {"email_address": EMAIL, "password": PASSWORD}, {"email_address": EMAIL, "password": PASSWORD + "!"}
    with one_connection_per_worker(server, set(workers.values())) as pinned:
        first, second = pinned.values()

        def device_of(answer) -> str:
            assert answer.status == 200, answer
            (value,) = [value for name, value, _ in map(parse_set_cookie, answer.set_cookies()) if name == "device"]
            return f"device={value}"

        own, stolen = device_of(first.request("POST", "/v1/auth/login", right)), device_of(second.request("POST", "/v1/auth/login", right))
        for turn in range(5):  # the attacker, without a device cookie, on both workers
            assert_error((first, second)[turn % 2].request("POST", "/v1/auth/login", wrong), 400)
        for connection in (first, second):
            assert_error(connection.request("POST", "/v1/auth/login", right), 429)  # untrusted: throttled on both
            assert connection.request("POST", "/v1/auth/login", right, cookie=own).status == 200  # the device: at once

        assert_error(first.request("POST", "/v1/auth/login", wrong, cookie=stolen), 400)
        assert_error(second.request("POST", "/v1/auth/login", wrong, cookie=stolen), 400)
        for connection in (first, second):
            locked = connection.request("POST", "/v1/auth/login", right, cookie=stolen)
            assert_error(locked, 429)
            assert 3500 < int(locked.headers["Retry-After"]) <= 3600  # ESAUTH_DEVICE_LOCKOUT's default hour
            assert connection.request("POST", "/v1/auth/login", right, cookie=own).status == 200  # another device is not
    assert children(server.process.pid) == set(workers.values())
