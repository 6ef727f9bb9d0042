"""Every change that ends a session reaches the other worker's session check within the bound,
on every store, while other users keep both workers busy (domain/session_view.py).

Two real processes (`esauth serve --workers 2`), one keep-alive connection pinned to each: the
change is made on one and must count there at once; on the other, no request sent
BOUND_S or more after the change was answered may still be accepted. That is the whole claim,
with no slack: a worker answers from its view only while its last answered look for changes
began less than the bound ago, and a look begun after the change lists it.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from contextlib import contextmanager
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Callable, ContextManager, Iterator, TypeVar

import pytest

from tests.e2e.harness import HOST, REPO_ROOT, REQUEST_TIMEOUT_S, EsauthServer, Response, StartServer, esauth_command
from tests.e2e.seed_session import PASSWORD, cookie_header, log_in, sign_up
from tests.e2e.workers import Connection, one_connection_per_worker, wait_for_workers
from tests.engines import engine_for, engine_names

T = TypeVar("T")

BOUND_S = 1.0
"""ESAUTH_SESSION_CHECK_CACHE_MS's default, as the README states it."""
LOAD_USERS = 8
LOAD_THREADS = 2
ADMIN = "root@example.com"
NEW_PASSWORD = "a whole new passphrase"
OUTBOX_WAIT_S = 10.0


@dataclass
class Change:
    """What a change is, done by `make` on the worker that serves it; `refused` says whether an
    answer of `check` (asked on either worker) shows its effect."""

    make: Callable[[Connection], Response]
    check: Callable[[Connection], Response]
    refused: Callable[[Response], bool]


class Scenario:
    """One server, its two workers pinned, an administrator, and fresh users on demand."""

    def __init__(self, server: EsauthServer, first: Connection, second: Connection, admin: str) -> None:
        self.server, self.first, self.second, self.admin = server, first, second, admin
        self.made = 0

    def user(self, sessions: int = 1) -> tuple[str, list[str]]:
        self.made += 1
        email = f"user{self.made}@example.com"
        assert sign_up(self.server.client(), email).status == 200
        # A client of its own for each: a login sent with a live cookie ends that session.
        return email, [cookie_header(log_in(self.server.client(), email)[1]) for _ in range(sessions)]

    def session_ids(self, cookie: str) -> dict[bool, str]:
        """{current: id} of a user with two sessions, as the first worker lists them once the
        second login (which either worker may have served) has reached it."""
        return within_the_bound(lambda: {
            entry["current"]: entry["id"]
            for entry in self.first.request("GET", "/v1/users/me/sessions", cookie=cookie).json["data"]["sessions"]
        }, lambda ids: len(ids) == 2, "the second login")


def unauthorized(answer: Response) -> bool:
    assert answer.status in (200, 401), answer
    return answer.status == 401


def session_check(cookie: str) -> Callable[[Connection], Response]:
    return lambda connection: connection.request("GET", "/v1/test", cookie=cookie)


def logout(s: Scenario) -> Change:
    _, (cookie,) = s.user()
    return Change(lambda c: c.request("POST", "/v1/auth/logout", cookie=cookie), session_check(cookie), unauthorized)


def logout_all(s: Scenario) -> Change:
    _, (one, other) = s.user(sessions=2)
    return Change(lambda c: c.request("POST", "/v1/auth/logout-all", cookie=one), session_check(other), unauthorized)


def session_end(s: Scenario) -> Change:
    _, (one, other) = s.user(sessions=2)
    ended = s.session_ids(one)[False]  # `other`'s, ended from `one`
    return Change(lambda c: c.request("DELETE", f"/v1/users/me/sessions/{ended}", cookie=one), session_check(other), unauthorized)


def password_change(s: Scenario) -> Change:
    _, (one, other) = s.user(sessions=2)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    return Change(lambda c: c.request("POST", "/v1/users/me/password", body, cookie=one), session_check(other), unauthorized)


def deactivation(s: Scenario) -> Change:
    email, (cookie,) = s.user()
    return Change(lambda c: c.request("PATCH", f"/v1/users/{email}", {"is_active": False}, cookie=s.admin),
                  session_check(cookie), unauthorized)


def deletion(s: Scenario) -> Change:
    email, (cookie,) = s.user()
    return Change(lambda c: c.request("DELETE", f"/v1/users/{email}", cookie=s.admin), session_check(cookie), unauthorized)


def demotion(s: Scenario) -> Change:
    """Admin routes read the store at once everywhere; what a proxy is told (`X-Auth-Request-Admin`
    from /v1/auth/verify) comes from the session check, and so is bound like a revocation."""
    email, (cookie,) = s.user()
    verify = lambda c: c.request("GET", "/v1/auth/verify", cookie=cookie)  # noqa: E731
    assert s.first.request("PATCH", f"/v1/users/{email}", {"is_admin": True}, cookie=s.admin).status == 200
    within_the_bound(lambda: verify(s.second), lambda answer: answer.headers["X-Auth-Request-Admin"] == "true", "the promotion")

    def told(answer: Response) -> bool:
        assert answer.status == 200, answer
        return answer.headers["X-Auth-Request-Admin"] == "false"

    return Change(lambda c: c.request("PATCH", f"/v1/users/{email}", {"is_admin": False}, cookie=s.admin),
                  verify, told)


def token_revocation(s: Scenario) -> Change:
    _, (cookie,) = s.user()
    made = s.first.request("POST", "/v1/users/me/tokens", {"name": "ci", "current_password": PASSWORD}, cookie=cookie)
    assert made.status == 201, made
    token = made.json["data"]
    bearer = {"Authorization": f"Bearer {token['token']}"}
    return Change(lambda c: c.request("DELETE", f"/v1/users/me/tokens/{token['id']}", cookie=cookie),
                  lambda c: c.request("GET", "/v1/auth/verify", headers=bearer), unauthorized)


def email_change(s: Scenario) -> Change:
    """The user moves to a new address (UserRepository.move): the old address must reach the
    other worker's view as a change, or it keeps the old address's user, and its sessions."""
    email, (one, other) = s.user(sessions=2)
    new = email.replace("@example.com", "@moved.example.com")
    asked = s.first.request("POST", "/v1/users/me/email", {"current_password": PASSWORD, "new_email_address": new}, cookie=one)
    assert asked.status == 202, asked
    token = token_in_outbox(Path(s.server.env["ESAUTH_DATA_DIR"]) / "outbox", new)
    return Change(lambda c: c.request("POST", "/v1/auth/verify-email", {"token": token}), session_check(other), unauthorized)


def token_in_outbox(outbox: Path, recipient: str) -> str:
    """The confirmation token in the message to `recipient`, waiting (bounded) for the worker
    that sends it in the background."""
    deadline = time.monotonic() + OUTBOX_WAIT_S
    while time.monotonic() < deadline:
        for file in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
            with file.open("rb") as handle:
                message = BytesParser(policy=policy.default).parse(handle)
            found = re.search(r'"token": "([^"]+)"|[?&]token=([^\s&]+)', message.get_body(preferencelist=("plain",)).get_content())
            if found and message["To"] == recipient:
                return found.group(1) or found.group(2)
        time.sleep(0.05)
    raise AssertionError(f"no confirmation to {recipient} in {outbox} within {OUTBOX_WAIT_S} s")


CHANGES = [logout, logout_all, session_end, password_change, deactivation, deletion, demotion, token_revocation, email_change]


def within_the_bound(ask: Callable[[], T], shows: Callable[[T], bool], what: str) -> T:
    """Ask until the answer shows `what` (a change answered just before); fail if an answer
    to a request sent BOUND_S or more after that still does not."""
    answered_at = time.monotonic()
    while True:
        sent_at = time.monotonic()
        answer = ask()
        if shows(answer):
            return answer
        assert sent_at - answered_at < BOUND_S, f"{what} not seen {sent_at - answered_at:.3f} s after it was made"
        time.sleep(0.02)


def reaches_both_within_the_bound(s: Scenario, change: Change) -> float:
    """Make the change on the first worker; return how long the second took to show it."""
    for connection in (s.first, s.second):
        assert not change.refused(change.check(connection)), "the change's effect showed before it was made"
    made = change.make(s.first)
    assert made.status == 200, made
    answered_at = time.monotonic()
    assert change.refused(change.check(s.first)), "not at once on the worker that served the change"
    within_the_bound(lambda: change.check(s.second), change.refused, "the change")
    return time.monotonic() - answered_at


@pytest.fixture
def busy(start_server: StartServer) -> Callable[..., ContextManager[Scenario]]:
    """A two-worker server with LOAD_USERS other users checking their sessions on both workers
    in turns, from LOAD_THREADS keep-alive connections, for as long as the test runs."""

    @contextmanager
    def serve(**variables: str) -> Iterator[Scenario]:
        # Every user here signs up and logs in from one address: the per-client rate would refuse them.
        server = start_server(workers=2, ESAUTH_CLIENT_REQUESTS_PER_MINUTE="1000", **variables)
        workers = wait_for_workers(server, 2)
        made = subprocess.run(
            [*esauth_command(), "create-user", ADMIN, "--admin", "--password-stdin"],
            input=PASSWORD + "\n", env=server.env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        )
        assert made.returncode == 0, made.stderr
        admin = cookie_header(log_in(server.client(), ADMIN)[1])
        with one_connection_per_worker(server, set(workers.values())) as pinned:
            scenario = Scenario(server, *pinned.values(), admin)
            load = [scenario.user()[1][0] for _ in range(LOAD_USERS)]
            stop, answers = threading.Event(), []
            threads = [threading.Thread(target=_check_in_turns, args=(server.port, load, stop, answers)) for _ in range(LOAD_THREADS)]
            for thread in threads:
                thread.start()
            try:
                yield scenario
            finally:
                stop.set()
                for thread in threads:
                    thread.join(timeout=REQUEST_TIMEOUT_S)
            assert answers and set(answers) == {200}, f"the load's own sessions were refused: {sorted(set(answers))}"

    return serve


def _check_in_turns(port: int, cookies: list[str], stop: threading.Event, answers: list[int]) -> None:
    """GET /v1/test with each cookie in turn until told to stop, reconnecting now and then so
    both workers get a share."""
    turn = 0
    while not stop.is_set():
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
        try:
            for _ in range(20):
                connection.request("GET", "/v1/test", headers={"Cookie": cookies[turn % len(cookies)]})
                with connection.getresponse() as answer:
                    answer.read()
                    answers.append(answer.status)
                turn += 1
        finally:
            connection.close()


@pytest.mark.parametrize("store", ["sqlite", *(pytest.param(name, marks=pytest.mark.elasticsearch) for name in engine_names())])
def test_every_change_that_ends_a_session_reaches_the_other_worker_within_the_bound(
    busy, store: str, request: pytest.FixtureRequest
) -> None:
    variables = {} if store == "sqlite" else engine_for(request, store).env(request.getfixturevalue("es_index"))
    took = {}
    with busy(**variables) as scenario:
        for make in CHANGES:
            took[make.__name__] = reaches_both_within_the_bound(scenario, make(scenario))
    assert set(took) == {make.__name__ for make in CHANGES}
    print(f"{store}: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in took.items()))
