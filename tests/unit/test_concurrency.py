"""Races the rules must survive: concurrent guesses, and the session view against writes."""

from __future__ import annotations

import threading
from typing import Callable
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor

import pytest

from domain.accounts import AccountService
from domain.auth import AuthService
from domain.errors import InvalidCredentials, LoginThrottled, SessionInvalid, ValidationError
from domain.session import Session
from domain.throttle import FailureCounter
from domain.users import Users
from infrastructure.itsdangerous_tokens import ItsdangerousTokenSigner
from tests.fakes import (
    CountingLoginFailureRepository,
    CountingUserRepository,
    FakeHasher,
    FakePasswordScreen,
    InMemoryLoginFailureRepository,
    InMemoryUserRepository,
    RecordingNotifier,
)

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
    auth = AuthService(Users(repo, clock), FakeHasher(), clock, FailureCounter(failures, clock), screen=FakePasswordScreen())
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
    """Runs `meanwhile` once, during the next verify: other attempts that land first."""

    def __init__(self, cost: int = 1) -> None:
        super().__init__(cost)
        self.meanwhile: Callable[[], None] | None = None

    def verify(self, password_hash: str, password: str) -> bool:
        meanwhile, self.meanwhile = self.meanwhile, None
        if meanwhile is not None:
            meanwhile()
        return super().verify(password_hash, password)


def withholding_setup(clock, cost: int = 1, failures_before: int = 4, repo: InMemoryUserRepository | None = None):
    repo = repo if repo is not None else InMemoryUserRepository()
    hasher = MeanwhileHasher(cost)
    counter = FailureCounter(InMemoryLoginFailureRepository(), clock)
    auth = AuthService(Users(repo, clock), hasher, clock, counter, screen=FakePasswordScreen())
    AuthService(Users(repo, clock), FakeHasher(), clock, counter, screen=FakePasswordScreen()).register(EMAIL, PASSWORD)  # hashed at cost 1
    for _ in range(failures_before):
        with pytest.raises(InvalidCredentials):
            auth.login(EMAIL, "wrong password")
    return repo, hasher, auth, counter


def failures_meanwhile(auth: AuthService, count: int) -> Callable[[], None]:
    def land() -> None:
        for _ in range(count):
            with pytest.raises(InvalidCredentials):
                auth.login(EMAIL, "another wrong password")

    return land


def test_a_right_password_is_withheld_when_other_failures_used_up_the_budget_meanwhile(clock):
    """The count an attempt was checked against is re-checked when its outcome is written."""
    repo, hasher, auth, _ = withholding_setup(clock)
    hasher.meanwhile = failures_meanwhile(auth, 1)
    with pytest.raises(LoginThrottled):
        auth.login(EMAIL, PASSWORD)  # right, but checked against four failures and written over five
    user = repo.get(EMAIL)
    assert (user.failed_logins, user.session_ids, user.login_count) == (5, (), 0)


def test_a_deactivated_account_withholds_a_right_password_too(clock):
    """Its outcome writes nothing (the count is already clear), so it must be decided on a fresh read."""
    repo, hasher, auth, _ = withholding_setup(clock, failures_before=0)
    repo.update(replace(repo.get(EMAIL), is_active=False))
    hasher.meanwhile = failures_meanwhile(auth, 5)
    with pytest.raises(LoginThrottled):
        auth.login(EMAIL, PASSWORD)  # not InactiveUser: that would confirm the password


def test_a_withheld_right_password_costs_no_rehash(clock):
    """Re-hashing a stale hash happens after the login is written, so a withheld answer takes no longer."""
    repo, hasher, auth, _ = withholding_setup(clock, cost=2)  # registered with cost 1: needs a rehash
    hasher.meanwhile = failures_meanwhile(auth, 1)
    hashes = hasher.hash_calls
    with pytest.raises(LoginThrottled):
        auth.login(EMAIL, PASSWORD)
    assert hasher.hash_calls == hashes
    assert repo.get(EMAIL).password_hash == f"fake$1${PASSWORD}"
    clock.advance(seconds=1)
    auth.login(EMAIL, PASSWORD)
    assert repo.get(EMAIL).password_hash == f"fake$2${PASSWORD}"  # upgraded once the login went through


def withheld_password_change(clock, guess: str) -> tuple[CountingUserRepository, MeanwhileHasher, int]:
    """Change the password with `guess` while five wrong changes land during its verify, which
    must answer LoginThrottled. Returns the store (whose calls are then the guess's own), the
    hasher, and how many hashes it had made before the guess."""
    repo, hasher, auth, counter = withholding_setup(clock, failures_before=0, repo=CountingUserRepository())
    _, session = auth.login(EMAIL, PASSWORD)
    accounts = AccountService(Users(repo, clock), hasher, clock, counter, ItsdangerousTokenSigner(["k" * 32], "s"), RecordingNotifier(), screen=FakePasswordScreen())

    def wrong_changes() -> None:
        for _ in range(5):
            with pytest.raises(ValidationError):
                accounts.change_password(session, "not my password", "a new password!")
        repo.calls.clear()

    hasher.meanwhile = wrong_changes
    hashes = hasher.hash_calls
    with pytest.raises(LoginThrottled):
        accounts.change_password(session, guess, "a new password!")
    return repo, hasher, hashes


def test_a_withheld_password_change_hashes_no_new_password(clock):
    repo, hasher, hashes = withheld_password_change(clock, PASSWORD)
    assert hasher.hash_calls == hashes
    assert repo.get(EMAIL).password_hash == f"fake$1${PASSWORD}"


def test_known_and_unknown_addresses_make_the_same_store_calls(clock):
    repo = CountingUserRepository()
    auth = AuthService(Users(repo, clock), FakeHasher(), clock, FailureCounter(CountingLoginFailureRepository(repo.calls), clock), screen=FakePasswordScreen())
    auth.register(EMAIL, PASSWORD)
    calls: dict[str, list[list[str]]] = {}
    for email in (EMAIL, "nobody@example.com"):
        calls[email] = []
        for _ in range(7):  # five answered, then throttled
            repo.calls.clear()
            with pytest.raises((InvalidCredentials, LoginThrottled)):
                auth.login(email, "wrong password")
            calls[email].append(sorted(repo.calls))
    assert calls[EMAIL] == calls["nobody@example.com"]
    assert calls[EMAIL][0] == ["read", "read", "write"]
    assert calls[EMAIL][-1] == ["read", "read"]


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
        return AuthService(Users(repo, clock), FakeHasher(), clock, FailureCounter(failures, clock), screen=FakePasswordScreen())

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


def logged_in_a_second_ago(repo: PausingRepository, clock) -> tuple[Users, AuthService, Session]:
    """A user logged in once; this process's view of that login has expired, so the next
    session check reads the store."""
    users = Users(repo, clock)
    auth = AuthService(users, FakeHasher(), clock, FailureCounter(InMemoryLoginFailureRepository(), clock), screen=FakePasswordScreen())
    auth.register(EMAIL, PASSWORD)
    _, session = auth.login(EMAIL, PASSWORD)
    clock.advance(seconds=1)
    return users, auth, session


def test_a_read_that_began_before_a_logout_never_brings_the_session_back(clock):
    repo = PausingRepository()
    _, auth, session = logged_in_a_second_ago(repo, clock)

    thread, release = run_paused_read(repo, lambda: auth.session_user(session))
    auth.logout(session)  # lands while the check's read (with the session still live) is held
    release.set()
    thread.join(5)
    with pytest.raises(SessionInvalid):
        auth.session_user(session)


def test_a_read_that_began_before_a_delete_never_brings_the_user_back(clock):
    repo = PausingRepository()
    users, auth, session = logged_in_a_second_ago(repo, clock)

    thread, release = run_paused_read(repo, lambda: users.recent(EMAIL))
    assert users.delete(EMAIL)
    release.set()
    thread.join(5)
    assert users.recent(EMAIL) is None
    with pytest.raises(SessionInvalid):
        auth.session_user(session)


def test_a_login_reads_the_user_once_and_a_stale_read_still_loses_to_a_newer_write(clock):
    repo = CountingUserRepository()
    users = Users(repo, clock)
    auth = AuthService(users, FakeHasher(), clock, FailureCounter(InMemoryLoginFailureRepository(), clock), screen=FakePasswordScreen())
    auth.register(EMAIL, PASSWORD)
    repo.calls.clear()
    auth.login(EMAIL, PASSWORD)
    assert repo.gets == 1

    stale = repo.get(EMAIL)
    repo.update(replace(stale, first_name="Newer"))
    written = users.modify(EMAIL, lambda current: replace(current, login_count=current.login_count + 1), read=stale)
    assert (written.first_name, written.login_count) == ("Newer", stale.login_count + 1)


def test_a_withheld_right_guess_makes_the_same_store_calls_as_a_withheld_wrong_one(clock):
    """Even when its outcome would change nothing (a clear count, at password change), a right
    guess proves its decision with the same guarded write a wrong one makes."""
    right, _, _ = withheld_password_change(clock, PASSWORD)
    wrong, _, _ = withheld_password_change(clock, "not my password")
    assert right.calls == wrong.calls == ["write", "read"]
