"""TOTP, recovery codes, the two-step sign-in and sudo mode, over fakes and a FakeClock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest

from domain.auth import AuthService
from domain.errors import (
    InvalidCredentials,
    InvalidSecondFactor,
    LoginThrottled,
    PendingLoginInvalid,
    ReauthenticationRequired,
    SecondFactorRequired,
    SecondFactorState,
    ValidationError,
)
from domain.second_factor import RECOVERY_CODES, TOTP_DIGITS, TOTP_INTERVAL_S, PendingLogin, TotpService
from domain.session import SessionPolicy
from domain.throttle import FailureCounter, failure_key
from domain.users import Users
from infrastructure.second_factor.fernet_box import FernetSecretBox
from infrastructure.second_factor.pyotp_codes import PyotpCodes
from tests.fakes import FakeClock, FakeHasher, FakePasswordScreen, InMemoryLoginFailureRepository, InMemoryUserRepository

CODES = PyotpCodes(TOTP_DIGITS, TOTP_INTERVAL_S)  # pure computation: the real algorithm, no fake needed

EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"
KEY = "unit-tests-totp-key-0123456789abcdefghij"
NEWER_KEY = "unit-tests-newer-totp-key-0123456789abcdef"


class World:
    """One account over fakes, with the services the composition root builds."""

    def __init__(self, repo: InMemoryUserRepository | None = None, keys: tuple[str, ...] = (KEY,)) -> None:
        self.clock = FakeClock()
        self.repo = repo or InMemoryUserRepository()
        self.users = Users(self.repo, self.clock, timedelta(0))
        self.failures = FailureCounter(InMemoryLoginFailureRepository(), self.clock)
        self.auth = AuthService(self.users, FakeHasher(), self.clock, self.failures, screen=FakePasswordScreen())
        self.totp = TotpService(self.users, self.failures, FernetSecretBox(keys), self.clock, CODES)
        self.auth.register(EMAIL, PASSWORD)

    def enrol(self) -> tuple[pyotp.TOTP, tuple[str, ...]]:
        enrolment = self.totp.begin(EMAIL)
        authenticator = pyotp.parse_uri(enrolment.uri)
        codes = self.totp.confirm(EMAIL, authenticator.at(self.clock()))
        self.clock.advance(seconds=30)  # the confirming code's step is spent
        return authenticator, codes

    def pending(self) -> PendingLogin:
        with pytest.raises(SecondFactorRequired) as owed:
            self.auth.login(EMAIL, PASSWORD)
        return owed.value.pending

    def code(self, authenticator: pyotp.TOTP) -> str:
        return authenticator.at(self.clock())


@pytest.fixture
def world() -> World:
    return World()


def test_enrolment_gives_an_otpauth_uri_and_stores_the_secret_sealed(world: World) -> None:
    enrolment = world.totp.begin(EMAIL)
    assert enrolment.uri.startswith("otpauth://totp/esauth:ada%40example.com?secret=")
    assert pyotp.parse_uri(enrolment.uri).secret == enrolment.secret and len(enrolment.secret) == 32
    stored = world.repo.get(EMAIL)
    assert stored.totp_secret and enrolment.secret not in stored.totp_secret
    assert not stored.totp_enabled and not stored.has_second_factor  # not in force until confirmed
    with pytest.raises(InvalidSecondFactor):
        world.totp.confirm(EMAIL, "000000" if world.code(pyotp.TOTP(enrolment.secret)) != "000000" else "111111")
    codes = world.totp.confirm(EMAIL, pyotp.TOTP(enrolment.secret).at(world.clock()))
    stored = world.repo.get(EMAIL)
    assert stored.has_second_factor and len(codes) == RECOVERY_CODES == len(set(codes))
    assert not set(codes) & set(stored.recovery_codes)  # digests only
    with pytest.raises(SecondFactorState):
        world.totp.begin(EMAIL)
    with pytest.raises(SecondFactorState):
        world.totp.confirm(EMAIL, "123456")


def test_a_password_alone_opens_no_session_and_the_code_finishes_the_sign_in(world: World) -> None:
    authenticator, _ = world.enrol()
    pending = world.pending()
    assert pending.methods == ("totp", "recovery_code")
    assert world.repo.get(EMAIL).session_ids == ()
    user, session = world.auth.finish_login(pending, world.totp.check(world.code(authenticator)), "Firefox on Linux", "10.0.0.1")
    assert user.session_ids == (session.session_id,) and user.login_count == 1
    assert session.authenticated_at == world.clock() and user.sessions[0].device == "Firefox on Linux"


def test_a_code_cannot_be_replayed_in_its_window_nor_an_older_one_used(world: World) -> None:
    authenticator, _ = world.enrol()
    code = world.code(authenticator)
    world.auth.finish_login(world.pending(), world.totp.check(code))
    with pytest.raises(InvalidSecondFactor):
        world.auth.finish_login(world.pending(), world.totp.check(code))
    previous = authenticator.at(world.clock() - timedelta(seconds=30))  # in the drift window, but before the used step
    with pytest.raises(InvalidSecondFactor):
        world.auth.finish_login(world.pending(), world.totp.check(previous))
    world.clock.advance(seconds=30)
    world.auth.finish_login(world.pending(), world.totp.check(world.code(authenticator)))


def test_codes_of_the_neighbouring_steps_are_accepted_and_farther_ones_not(world: World) -> None:
    authenticator, _ = world.enrol()
    far = authenticator.at(world.clock() + timedelta(seconds=90))
    with pytest.raises(InvalidSecondFactor):
        world.auth.finish_login(world.pending(), world.totp.check(far))
    world.auth.finish_login(world.pending(), world.totp.check(authenticator.at(world.clock() + timedelta(seconds=30))))


class RacingRepository(InMemoryUserRepository):
    """Lets another sign-in write first, between this one's read and its guarded write."""

    def __init__(self) -> None:
        super().__init__()
        self.before_next_update = None

    def update(self, user):
        race, self.before_next_update = self.before_next_update, None
        if race is not None:
            race()
        return super().update(user)


def test_two_sign_ins_racing_with_one_code_cannot_both_win() -> None:
    repo = RacingRepository()
    world = World(repo)
    authenticator, _ = world.enrol()
    code = world.code(authenticator)
    first, second = world.pending(), world.pending()
    won = []
    repo.before_next_update = lambda: won.append(world.auth.finish_login(second, world.totp.check(code)))
    with pytest.raises(InvalidSecondFactor):
        world.auth.finish_login(first, world.totp.check(code))  # re-read after the conflict: the step is spent
    assert len(won) == 1 and world.repo.get(EMAIL).session_ids == (won[0][1].session_id,)


def test_a_recovery_code_works_once_in_any_spelling(world: World) -> None:
    _, codes = world.enrol()
    world.auth.finish_login(world.pending(), world.totp.check(f"  {codes[3].upper()} "))
    assert len(world.repo.get(EMAIL).recovery_codes) == RECOVERY_CODES - 1
    with pytest.raises(InvalidSecondFactor):
        world.auth.finish_login(world.pending(), world.totp.check(codes[3].replace("-", "")))
    world.auth.finish_login(world.pending(), world.totp.check(codes[4].replace("-", "")))


def test_wrong_codes_are_throttled_like_passwords_and_the_password_does_not_reset_the_count(world: World) -> None:
    authenticator, _ = world.enrol()
    for _ in range(5):
        with pytest.raises(InvalidSecondFactor):
            world.auth.finish_login(world.pending(), world.totp.check("not-a-code"))
    assert world.repo.get(EMAIL).failed_logins == 5
    with pytest.raises(LoginThrottled):
        world.auth.finish_login(world.pending(), world.totp.check("999999"))  # the password itself is throttled now
    world.clock.advance(seconds=2)
    pending = world.pending()  # a right password: the count stays
    assert world.repo.get(EMAIL).failed_logins == 5
    with pytest.raises(InvalidSecondFactor):
        world.auth.finish_login(pending, world.totp.check("12345"))
    with pytest.raises(LoginThrottled):
        world.auth.finish_login(pending, world.totp.check(world.code(authenticator)))  # a right code waits too
    world.clock.advance(seconds=3)
    world.auth.finish_login(pending, world.totp.check(world.code(authenticator)))
    assert world.repo.get(EMAIL).failed_logins == 0


def test_a_pending_sign_in_expires_and_dies_with_a_password_change(world: World) -> None:
    authenticator, _ = world.enrol()
    pending = world.pending()
    world.clock.advance(minutes=5, seconds=1)
    with pytest.raises(PendingLoginInvalid):
        world.auth.finish_login(pending, world.totp.check(world.code(authenticator)))
    pending = world.pending()
    world.repo.update(replace(world.repo.get(EMAIL), password_hash=FakeHasher().hash("another password 1")))
    with pytest.raises(PendingLoginInvalid):
        world.auth.finish_login(pending, world.totp.check(world.code(authenticator)))


def test_a_pending_sign_in_is_refused_once_totp_is_off(world: World) -> None:
    authenticator, codes = world.enrol()
    pending = world.pending()
    world.totp.disable(EMAIL, codes[0])
    assert not world.repo.get(EMAIL).has_second_factor and world.repo.get(EMAIL).totp_secret == ""
    with pytest.raises(PendingLoginInvalid):
        world.auth.finish_login(pending, world.totp.check(world.code(authenticator)))
    user, _ = world.auth.login(EMAIL, PASSWORD)  # one step again
    assert user.session_ids


def test_disabling_needs_a_right_code_and_counts_wrong_ones(world: World) -> None:
    with pytest.raises(SecondFactorState):
        world.totp.disable(EMAIL, "123456")
    authenticator, _ = world.enrol()
    with pytest.raises(InvalidSecondFactor):
        world.totp.disable(EMAIL, "000000" if world.code(authenticator) != "000000" else "111111")
    assert world.repo.get(EMAIL).failed_logins == 1 and world.repo.get(EMAIL).totp_enabled
    world.totp.disable(EMAIL, world.code(authenticator))
    assert world.repo.get(EMAIL).failed_logins == 0


def test_a_secret_sealed_by_an_older_key_is_resealed_by_the_newest_when_used() -> None:
    world = World()
    authenticator, _ = world.enrol()
    sealed = world.repo.get(EMAIL).totp_secret
    world.totp = TotpService(world.users, world.failures, FernetSecretBox((NEWER_KEY, KEY)), world.clock, CODES)
    world.auth.finish_login(world.pending(), world.totp.check(world.code(authenticator)))
    resealed = world.repo.get(EMAIL).totp_secret
    assert resealed != sealed and FernetSecretBox((NEWER_KEY,)).open(resealed) == authenticator.secret


def test_reauthentication_with_the_password_or_a_code_renews_the_proof(world: World) -> None:
    _, session = world.auth.login(EMAIL, PASSWORD)
    policy = SessionPolicy(sudo_max_age=timedelta(minutes=15))
    world.clock.advance(minutes=16)
    with pytest.raises(ReauthenticationRequired):
        policy.check_recent(session, world.clock())
    with pytest.raises(ValidationError, match="password: is not correct"):
        world.auth.reauthenticate(session, "wrong password here")
    assert world.repo.get(EMAIL).failed_logins == 1
    renewed = world.auth.reauthenticate(session, PASSWORD)
    policy.check_recent(renewed, world.clock())
    assert renewed.session_id == session.session_id and renewed.issued_at == session.issued_at
    assert world.repo.get(EMAIL).failed_logins == 0
    authenticator, _ = world.enrol()
    world.clock.advance(minutes=16)
    with pytest.raises(InvalidSecondFactor):
        world.auth.reauthenticate(renewed, check=world.totp.check("12-34"))
    policy.check_recent(world.auth.reauthenticate(renewed, check=world.totp.check(world.code(authenticator))), world.clock())


def test_a_cookie_of_an_earlier_release_counts_from_its_login() -> None:
    world = World()
    _, session = world.auth.login(EMAIL, PASSWORD)
    old = replace(session, authenticated_at=None)
    policy = SessionPolicy(sudo_max_age=timedelta(minutes=15))
    world.clock.advance(minutes=15)
    policy.check_recent(old, world.clock())
    world.clock.advance(seconds=1)
    with pytest.raises(ReauthenticationRequired):
        policy.check_recent(old, world.clock())


def test_the_finished_sign_in_drops_a_count_the_failure_store_held_for_the_address() -> None:
    failures = InMemoryLoginFailureRepository()
    world = World()
    world.failures = FailureCounter(failures, world.clock)
    world.auth = AuthService(world.users, FakeHasher(), world.clock, world.failures, screen=FakePasswordScreen())
    world.totp = TotpService(world.users, world.failures, FernetSecretBox((KEY,)), world.clock, CODES)
    authenticator, _ = world.enrol()
    for _ in range(3):
        world.failures.count_unknown(EMAIL, failures.get(failure_key(EMAIL)))  # as if counted before sign-up
    pending = world.pending()
    assert failures.get(failure_key(EMAIL)).failures == 3  # a right password alone keeps it
    world.auth.finish_login(pending, world.totp.check(world.code(authenticator)))
    assert failures.get(failure_key(EMAIL)) is None


def test_the_accounts_own_device_gets_through_both_steps_while_others_fail_elsewhere(world: World) -> None:
    """Device cookies (domain.devices) hold at the code step too: an attacker failing from
    elsewhere throttles the account's count, not the rightful user's browser."""
    authenticator, _ = world.enrol()
    _, session = world.auth.finish_login(world.pending(), world.totp.check(world.code(authenticator)))
    device = session.device_cookie
    assert device is not None and device.fits(world.repo.get(EMAIL))
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            world.auth.login(EMAIL, "an attacker's guess")
    with pytest.raises(LoginThrottled):
        world.auth.login(EMAIL, PASSWORD)
    with pytest.raises(SecondFactorRequired) as owed:
        world.auth.login(EMAIL, PASSWORD, device_cookie=device)
    with pytest.raises(InvalidSecondFactor):
        world.auth.finish_login(owed.value.pending, world.totp.check("12-34"), device_cookie=device)
    assert world.repo.get(EMAIL).failed_logins == 5  # counted in the device's bucket, not the account's
    next_step = authenticator.at(world.clock() + timedelta(seconds=30))  # this step's code is spent
    user, opened = world.auth.finish_login(owed.value.pending, world.totp.check(next_step), device_cookie=device)
    assert opened.session_id in user.session_ids and opened.device_cookie is not None
    assert user.failed_logins == 5  # the attacker's failures are not forgiven by the user's sign-in
