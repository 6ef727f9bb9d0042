"""Device cookies in the domain (OWASP "Slow Down Online Guessing Attacks with Device Cookies"):
each device's failures in a bucket of its own, apart from untrusted clients'; fakes and FakeClock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.auth import AuthService
from domain.devices import DeviceCookie, DevicePolicy, device_key
from domain.errors import DeviceLocked, InvalidCredentials, LoginThrottled
from domain.throttle import FailureCounter, ThrottlePolicy, lockout_policy
from domain.users import Users
from tests.fakes import (
    CountingLoginFailureRepository,
    CountingUserRepository,
    FakeClock,
    FakeHasher,
    FakePasswordScreen,
    InMemoryLoginFailureRepository,
    InMemoryUserRepository,
)

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"
WRONG = "wrong password"
DEVICES = DevicePolicy(failures=3, window=timedelta(minutes=10))


def make_auth(clock, users=None, failures=None, hasher=None, devices=DEVICES) -> AuthService:
    counter = FailureCounter(failures if failures is not None else InMemoryLoginFailureRepository(), clock, ThrottlePolicy(), devices)
    return AuthService(
        Users(users if users is not None else InMemoryUserRepository(), clock), hasher or FakeHasher(), clock, counter,
        screen=FakePasswordScreen(),
    )


@pytest.fixture
def failures():
    return InMemoryLoginFailureRepository()


@pytest.fixture
def auth(clock, failures):
    return make_auth(clock, failures=failures)


def device_of(auth: AuthService, email: str = EMAIL) -> DeviceCookie:
    """The device cookie a successful login issues."""
    _, session = auth.login(email, PASSWORD)
    assert session.device_cookie is not None
    return session.device_cookie


def fail(auth, email=EMAIL, cookie=None):
    with pytest.raises(InvalidCredentials):
        auth.login(email, WRONG, device_cookie=cookie)


def test_every_login_issues_a_new_device_cookie_bound_to_the_account(auth):
    user = auth.register(EMAIL, PASSWORD)
    first, second = device_of(auth), device_of(auth)
    assert first.user_id == second.user_id == user.user_id
    assert first.nonce != second.nonce and len(first.nonce) >= 22  # 128 random bits
    assert first.fits(user) and not DeviceCookie("someone-else", first.nonce).fits(user)


def test_the_attack_an_attacker_elsewhere_throttles_untrusted_clients_but_not_the_users_device(auth, clock):
    auth.register(EMAIL, PASSWORD)
    device = device_of(auth)
    for _ in range(5):
        fail(auth)  # the attacker, with no device cookie
    with pytest.raises(LoginThrottled) as caught:
        auth.login(EMAIL, PASSWORD)  # the user on a new browser: throttled, as before
    assert not isinstance(caught.value, DeviceLocked)

    user, session = auth.login(EMAIL, PASSWORD, device_cookie=device)  # the user's own device: at once
    assert user.email_address == EMAIL and session.device_cookie is not None

    assert user.failed_logins == 5, "the user's login does not forgive the attacker's failures"
    with pytest.raises(LoginThrottled):
        auth.login(EMAIL, PASSWORD)  # untrusted clients still wait


def test_a_device_that_fails_n_times_within_the_window_is_locked_out_alone(auth, clock, failures):
    auth.register(EMAIL, PASSWORD)
    stolen, own = device_of(auth), device_of(auth)
    for _ in range(DEVICES.failures):
        fail(auth, cookie=stolen)
    assert failures.get(device_key(stolen.nonce)).failures == DEVICES.failures  # on the lockout list
    with pytest.raises(DeviceLocked) as caught:
        auth.login(EMAIL, PASSWORD, device_cookie=stolen)  # refused unchecked, right password or not
    assert caught.value.retry_after_s == 600

    assert auth.login(EMAIL, PASSWORD, device_cookie=own)[0].email_address == EMAIL  # another device is not held back
    assert auth.login(EMAIL, PASSWORD)[0].email_address == EMAIL  # nor are untrusted clients: no failure counted there
    clock.advance(minutes=10)
    assert auth.login(EMAIL, PASSWORD, device_cookie=stolen)[0].email_address == EMAIL  # the window has passed


def test_failures_further_apart_than_the_window_do_not_lock_a_device(auth, clock):
    auth.register(EMAIL, PASSWORD)
    device = device_of(auth)
    for _ in range(DEVICES.failures * 2):
        fail(auth, cookie=device)
        clock.advance(minutes=10, seconds=1)
    assert auth.login(EMAIL, PASSWORD, device_cookie=device)[0].email_address == EMAIL


def test_a_successful_login_from_a_device_forgets_its_count(auth, failures):
    auth.register(EMAIL, PASSWORD)
    device = device_of(auth)
    for _ in range(DEVICES.failures - 1):
        fail(auth, cookie=device)
    _, session = auth.login(EMAIL, PASSWORD, device_cookie=device)
    assert failures.get(device_key(device.nonce)) is None
    for _ in range(DEVICES.failures - 1):
        fail(auth, cookie=session.device_cookie)  # the new cookie starts afresh
    assert auth.login(EMAIL, PASSWORD, device_cookie=session.device_cookie)[0].email_address == EMAIL


@pytest.mark.parametrize("cookie", [DeviceCookie("another-account", "nonce"), DeviceCookie("", "nonce")], ids=["other", "no-id"])
def test_a_cookie_of_another_account_counts_as_untrusted(auth, cookie):
    auth.register(EMAIL, PASSWORD)
    for _ in range(5):
        fail(auth, cookie=cookie)
    with pytest.raises(LoginThrottled) as caught:
        auth.login(EMAIL, PASSWORD, device_cookie=cookie)
    assert not isinstance(caught.value, DeviceLocked)


def test_a_locked_device_of_one_account_is_just_untrusted_for_another(auth):
    auth.register(EMAIL, PASSWORD)
    auth.register("bob@example.com", PASSWORD)
    device = device_of(auth)
    for _ in range(DEVICES.failures):
        fail(auth, cookie=device)
    assert auth.login("bob@example.com", PASSWORD, device_cookie=device)[0].email_address == "bob@example.com"


def test_the_lockout_holds_for_every_process_sharing_the_store(clock):
    users, failures = InMemoryUserRepository(), InMemoryLoginFailureRepository()
    here, there = make_auth(clock, users, failures), make_auth(clock, users, failures)
    here.register(EMAIL, PASSWORD)
    device = device_of(here)
    for auth in (here, there, here):
        fail(auth, cookie=device)
    with pytest.raises(DeviceLocked):
        there.login(EMAIL, PASSWORD, device_cookie=device)


def test_a_locked_device_costs_no_hash(clock):
    hasher = FakeHasher()
    auth = make_auth(clock, hasher=hasher)
    auth.register(EMAIL, PASSWORD)
    device = device_of(auth)
    for _ in range(DEVICES.failures):
        fail(auth, cookie=device)
    verifies = hasher.verify_calls
    with pytest.raises(DeviceLocked):
        auth.login(EMAIL, PASSWORD, device_cookie=device)
    assert hasher.verify_calls == verifies


@pytest.mark.parametrize("with_cookie", [False, True], ids=["no-cookie", "someone-elses-cookie"])
def test_unknown_and_known_addresses_cost_the_same_store_calls_with_or_without_a_cookie(clock, with_cookie):
    calls: list[str] = []
    auth = make_auth(clock, CountingUserRepository(calls), CountingLoginFailureRepository(calls))
    auth.register(EMAIL, PASSWORD)
    auth.register("mallory@example.com", PASSWORD)
    _, session = auth.login("mallory@example.com", PASSWORD)
    cookie = session.device_cookie if with_cookie else None

    def calls_of(email: str, cookie: DeviceCookie | None) -> list[str]:
        calls.clear()
        fail(auth, email, cookie)
        return list(calls)

    known, unknown = calls_of(EMAIL, cookie), calls_of("nobody@example.com", cookie)
    assert known == unknown
    without = calls_of("nobody2@example.com", None)
    assert known.count("read") == without.count("read") + (1 if with_cookie else 0)  # the cookie's count, read either way

    for _ in range(4):  # five each, with the one above
        fail(auth, EMAIL, cookie)
        fail(auth, "nobody@example.com", cookie)

    def throttled_calls(email: str) -> list[str]:
        calls.clear()
        with pytest.raises(LoginThrottled):
            auth.login(email, PASSWORD, device_cookie=cookie)
        return list(calls)

    assert throttled_calls(EMAIL) == throttled_calls("nobody@example.com")


def test_concurrent_failures_with_one_cookie_withhold_a_right_guess(clock, failures):
    """The device's count is re-read before a right guess is answered: guesses that counted
    meanwhile (here, written straight to the store) hold it back."""
    auth = make_auth(clock, failures=failures)
    auth.register(EMAIL, PASSWORD)
    device = device_of(auth)
    real_get = failures.get
    reads = []

    def get(key):
        record = real_get(key)
        reads.append(key)
        if key == device_key(device.nonce) and len([k for k in reads if k == key]) == 1:
            # after the first read, others fail N times with the same cookie
            for _ in range(DEVICES.failures):
                failures.put(lockout_policy(DEVICES).after_failure(real_get(key), key, clock()))
        return record

    failures.get = get
    with pytest.raises(DeviceLocked):
        auth.login(EMAIL, PASSWORD, device_cookie=device)


def test_the_device_window_cannot_outlast_the_purge_of_old_failures(clock):
    with pytest.raises(ValueError, match="outlast"):
        FailureCounter(InMemoryLoginFailureRepository(), clock, ThrottlePolicy(), DevicePolicy(window=timedelta(days=2)))
