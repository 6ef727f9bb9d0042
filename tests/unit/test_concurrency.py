"""Races the rules must survive: concurrent guesses, and the session view against writes."""

from __future__ import annotations

import threading
from typing import Callable
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


def guessing(auth: AuthService, count: int) -> list[str]:
    """`count` wrong guesses at once; what each was answered."""
    barrier = threading.Barrier(count)

    def guess(n: int) -> str:
        barrier.wait()
        try:
            auth.login(EMAIL, f"guess {n}")
        except InvalidCredentials:
            return "checked"
        except LoginThrottled:
            return "throttled"
        return "logged in"

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(guess, range(count)))


def test_concurrent_guesses_get_no_more_answers_than_the_policy_allows(clock):
    repo, failures = InMemoryUserRepository(), InMemoryLoginFailureRepository()
    auth = AuthService(Users(repo, clock), FakeHasher(), clock, FailureCounter(failures, clock))
    auth.register(EMAIL, PASSWORD)

    outcomes = guessing(auth, 20)
    assert outcomes.count("checked") == 5  # the free failures, then the first delay
    assert outcomes.count("throttled") == 15
    assert repo.get(EMAIL).failed_logins == 5

    clock.advance(seconds=1)
    outcomes = guessing(auth, 20)
    assert outcomes.count("checked") == 1  # one attempt per delay
    assert outcomes.count("throttled") == 19
    assert repo.get(EMAIL).failed_logins == 6
    assert failures._records == {}, "a known account is counted on the user, not in the failure store"


class MeanwhileHasher(FakeHasher):
    """Runs `meanwhile` once, during the first verify: another attempt that lands first."""

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: Callable[[], None] | None = None

    def verify(self, password_hash: str, password: str) -> bool:
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return super().verify(password_hash, password)


def test_a_right_password_is_withheld_when_other_failures_used_up_the_budget_meanwhile(clock):
    """The count an attempt was checked against is re-checked when its outcome is written."""
    repo = InMemoryUserRepository()
    hasher = MeanwhileHasher()
    auth = AuthService(Users(repo, clock), hasher, clock, FailureCounter(InMemoryLoginFailureRepository(), clock))
    auth.register(EMAIL, PASSWORD)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            auth.login(EMAIL, "wrong password")

    def fifth_failure() -> None:
        with pytest.raises(InvalidCredentials):
            auth.login(EMAIL, "another wrong password")

    hasher.meanwhile = fifth_failure
    with pytest.raises(LoginThrottled):
        auth.login(EMAIL, PASSWORD)  # right, but checked against four failures and written over five
    user = repo.get(EMAIL)
    assert (user.failed_logins, user.session_ids, user.login_count) == (5, (), 0)


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
