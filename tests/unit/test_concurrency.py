"""Races the rules must survive: concurrent guesses, and the session view against writes."""

from __future__ import annotations

import threading
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor

import pytest

from domain.auth import AuthService
from domain.errors import InvalidCredentials, LoginThrottled, SessionInvalid
from domain.throttle import FailureCounter
from domain.users import Users
from tests.fakes import FakeHasher, InMemoryLoginFailureRepository, InMemoryUserRepository

PASSWORD = "correct horse battery"
EMAIL = "ada@example.com"


def test_concurrent_guesses_get_no_more_attempts_than_the_policy_allows(clock):
    repo, failures = InMemoryUserRepository(), InMemoryLoginFailureRepository()
    hasher = FakeHasher()
    auth = AuthService(Users(repo, clock), hasher, clock, FailureCounter(failures, clock))
    auth.register(EMAIL, PASSWORD)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            auth.login(EMAIL, "wrong password")
    clock.advance(seconds=1)
    verifies = hasher.verify_calls
    barrier = threading.Barrier(20)

    def guess(n: int) -> str:
        barrier.wait()
        try:
            auth.login(EMAIL, f"guess {n}")
        except InvalidCredentials:
            return "checked"
        except LoginThrottled:
            return "throttled"
        return "logged in"

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(guess, range(20)))
    assert outcomes.count("checked") == 1
    assert outcomes.count("throttled") == 19
    assert hasher.verify_calls - verifies == 1
    assert failures.get(next(iter(failures._records))).failures == 6


class PausingRepository(InMemoryUserRepository):
    """A get() that can be held after it has read, to let a write land in between."""

    def __init__(self):
        super().__init__()
        self.hold = None  # (read_done, release) events when set

    def get(self, email_address):
        user = super().get(email_address)
        hold, self.hold = self.hold, None
        if hold is not None:
            read_done, release = hold
            read_done.set()
            release.wait(5)
        return user


def two_processes(repo, clock):
    failures = InMemoryLoginFailureRepository()

    def process() -> AuthService:
        return AuthService(Users(repo, clock), FakeHasher(), clock, FailureCounter(failures, clock))

    return process(), process()


def test_a_login_elsewhere_is_accepted_at_once_though_this_process_remembers_the_user(clock):
    repo = InMemoryUserRepository()
    here, elsewhere = two_processes(repo, clock)
    here.register(EMAIL, PASSWORD)
    _, first = here.login(EMAIL, PASSWORD)
    elsewhere.session_user(first)  # elsewhere now remembers the user with one session
    _, second = here.login(EMAIL, PASSWORD)
    assert elsewhere.session_user(second).email_address == EMAIL


def run_paused_read(repo, read):
    """Start `read` in a thread, hold its store read after it has happened, return (thread, release)."""
    read_done, release = threading.Event(), threading.Event()
    repo.hold = (read_done, release)
    thread = threading.Thread(target=read)
    thread.start()
    assert read_done.wait(5)
    return thread, release


def test_a_read_that_began_before_a_logout_never_brings_the_session_back(clock):
    repo = PausingRepository()
    users = Users(repo, clock)
    auth = AuthService(users, FakeHasher(), clock, FailureCounter(InMemoryLoginFailureRepository(), clock))
    auth.register(EMAIL, PASSWORD)
    _, session = auth.login(EMAIL, PASSWORD)
    clock.advance(seconds=1)  # the view of the login has expired: the next check reads the store

    thread, release = run_paused_read(repo, lambda: auth.session_user(session))
    auth.logout(session)  # lands while the check's read (with the session still live) is held
    release.set()
    thread.join(5)
    with pytest.raises(SessionInvalid):
        auth.session_user(session)


def test_a_read_that_began_before_a_delete_never_brings_the_user_back(clock):
    repo = PausingRepository()
    users = Users(repo, clock)
    auth = AuthService(users, FakeHasher(), clock, FailureCounter(InMemoryLoginFailureRepository(), clock))
    auth.register(EMAIL, PASSWORD)
    _, session = auth.login(EMAIL, PASSWORD)
    clock.advance(seconds=1)

    thread, release = run_paused_read(repo, lambda: users.recent(EMAIL))
    assert users.delete(EMAIL)
    release.set()
    thread.join(5)
    assert users.recent(EMAIL) is None
    with pytest.raises(SessionInvalid):
        auth.session_user(session)


class CountingGets(InMemoryUserRepository):
    def __init__(self):
        super().__init__()
        self.gets = 0

    def get(self, email_address):
        self.gets += 1
        return super().get(email_address)


def test_a_login_reads_the_user_once_and_a_stale_read_still_loses_to_a_newer_write(clock):
    repo = CountingGets()
    users = Users(repo, clock)
    auth = AuthService(users, FakeHasher(), clock, FailureCounter(InMemoryLoginFailureRepository(), clock))
    auth.register(EMAIL, PASSWORD)
    repo.gets = 0
    auth.login(EMAIL, PASSWORD)
    assert repo.gets == 1

    stale = repo.get(EMAIL)
    repo.update(replace(stale, first_name="Newer"))
    written = users.modify(EMAIL, lambda current: replace(current, login_count=current.login_count + 1), read=stale)
    assert (written.first_name, written.login_count) == ("Newer", stale.login_count + 1)
