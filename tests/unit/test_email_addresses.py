"""Email verification and change, with fakes: what is sent, when a link works, what a move keeps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.accounts import AccountService
from domain.auth import AuthService
from domain.email_addresses import EmailAddresses
from domain.errors import EmailNotVerified, InvalidCredentials, InvalidToken, UserAlreadyExists, ValidationError
from domain.mail_cooldown import MailCooldown, cooldown_key
from domain.session import Session
from domain.throttle import FailureCounter, failure_key
from domain.users import Users
from infrastructure.itsdangerous_tokens import ItsdangerousTokenSigner
from tests.fakes import FakeHasher, FakePasswordScreen, InMemoryLoginFailureRepository, InMemoryUserRepository, RecordingNotifier

PASSWORD = "correct horse battery"
EMAIL = "ada@example.com"
NEW = "ada@new.example.org"


class Wired:
    def __init__(self, clock, mode: str = "optional", cooldown_s: int = 60) -> None:
        self.repo = InMemoryUserRepository()
        self.failure_store = InMemoryLoginFailureRepository()
        self.notifier = RecordingNotifier()
        self.users = Users(self.repo, clock)
        failures = FailureCounter(self.failure_store, clock)
        hasher = FakeHasher()
        self.cooldown = MailCooldown(self.failure_store, clock, timedelta(seconds=cooldown_s))
        self.auth = AuthService(users=self.users, hasher=hasher, clock=clock, failures=failures,
                                screen=FakePasswordScreen(), require_verified_email=mode == "required")
        reset_tokens = ItsdangerousTokenSigner(["k" * 32], salt="esauth.password-reset")
        self.accounts = AccountService(self.users, hasher, clock, failures, reset_tokens, self.notifier,
                                       screen=FakePasswordScreen(), cooldown=self.cooldown)
        self.emails = EmailAddresses(
            self.users, self.accounts, clock, ItsdangerousTokenSigner(["k" * 32], salt="esauth.email-verification"),
            self.notifier, self.cooldown, mode,
        )

    def sign_up(self, email: str = EMAIL):
        user = self.auth.register(email, PASSWORD)
        self.emails.welcome(user)
        return user

    def session(self, email: str = EMAIL) -> Session:
        return self.auth.login(email, PASSWORD)[1]

    def last_token(self, to: str) -> str:
        return [token for address, token, _ in self.notifier.verifications if address == to][-1]


@pytest.fixture
def wired(clock) -> Wired:
    return Wired(clock)


# -- verification ---------------------------------------------------------------------------


def test_a_sign_up_sends_a_link_that_confirms_the_address(wired: Wired, clock):
    wired.sign_up()
    [(to, token, change)] = wired.notifier.verifications
    assert (to, change) == (EMAIL, False)
    assert wired.repo.get(EMAIL).email_verified_at is None
    assert wired.emails.verify(token)[0] == "verified"
    assert wired.repo.get(EMAIL).email_verified_at == clock.now
    assert wired.emails.verify(token)[0] == "verified"  # following it again changes nothing


def test_off_sends_nothing_and_required_refuses_the_login_only_after_the_right_password(clock):
    off = Wired(clock, "off")
    off.sign_up()
    off.emails.resend(EMAIL)
    assert off.notifier.verifications == []

    required = Wired(clock, "required")
    required.sign_up()
    with pytest.raises(InvalidCredentials):
        required.auth.login(EMAIL, "a wrong password")  # the wrong password learns nothing more
    with pytest.raises(EmailNotVerified):
        required.auth.login(EMAIL, PASSWORD)
    assert required.repo.get(EMAIL).session_ids == ()  # no session was opened
    assert required.repo.get(EMAIL).failed_logins == 0  # the right password cleared the count
    required.emails.verify(required.last_token(EMAIL))
    user, session = required.auth.login(EMAIL, PASSWORD)
    assert session.session_id in required.repo.get(EMAIL).session_ids


def test_a_resend_goes_to_an_unverified_account_only_once_per_cooldown(wired: Wired, clock):
    wired.sign_up()
    wired.emails.resend(EMAIL)  # within the minute of the sign-up's message
    assert len(wired.notifier.verifications) == 1
    clock.advance(seconds=61)
    wired.emails.resend(" ADA@example.com ")
    assert len(wired.notifier.verifications) == 2
    wired.emails.resend("nobody@example.com")  # nothing to send, and nothing visible
    wired.emails.verify(wired.last_token(EMAIL))
    clock.advance(seconds=61)
    wired.emails.resend(EMAIL)  # already confirmed
    assert len(wired.notifier.verifications) == 2


def test_the_cooldown_is_shared_with_password_resets_and_kept_in_the_store(wired: Wired, clock):
    wired.sign_up()
    wired.accounts.request_password_reset(EMAIL)  # a reset right after the sign-up's message
    assert wired.notifier.sent == []
    clock.advance(seconds=61)
    wired.accounts.request_password_reset(EMAIL)
    assert len(wired.notifier.sent) == 1
    record = wired.failure_store.get(cooldown_key(EMAIL))
    assert (record.failures, record.last_failure_at) == (2, clock.now)
    assert cooldown_key(EMAIL) != failure_key(EMAIL)  # never an account's login count
    other_process = MailCooldown(wired.failure_store, clock, timedelta(seconds=60))
    assert other_process.claim(EMAIL) is False


def test_two_processes_claiming_one_address_at_once_send_one_message(clock):
    store = InMemoryLoginFailureRepository()
    first, second = (MailCooldown(store, clock, timedelta(seconds=60)) for _ in range(2))
    read = store.get

    def racing_get(key):  # the second process reads before the first one writes
        answer = read(key)
        store.get = read
        assert second.claim(EMAIL) is True
        return answer

    store.get = racing_get
    assert first.claim(EMAIL) is False  # its guarded write lost
    assert MailCooldown(store, clock, timedelta(0)).claim(EMAIL) is True  # 0 turns it off


def test_a_reset_confirms_the_address_too(wired: Wired):
    wired.sign_up()
    wired.notifier.sent.clear()
    wired.cooldown.period = timedelta(0)
    wired.accounts.request_password_reset(EMAIL)
    [(_, token)] = wired.notifier.sent
    wired.accounts.confirm_password_reset(token, "another fine passphrase")
    assert wired.repo.get(EMAIL).email_verified_at is not None


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_a_tampered_token_is_refused(wired: Wired, token):
    with pytest.raises((InvalidToken, ValidationError)):
        wired.emails.verify(token)


def test_a_link_expires_after_a_day_and_dies_with_its_account(wired: Wired, clock):
    wired.sign_up()
    token = wired.last_token(EMAIL)
    clock.advance(hours=24, seconds=1)
    with pytest.raises(InvalidToken, match="expired"):
        wired.emails.verify(token)
    clock.advance(hours=-24)
    wired.users.delete(EMAIL)
    wired.sign_up()  # the same address, a new account: the old link is not its own
    with pytest.raises(InvalidToken):
        wired.emails.verify(token)


# -- change ---------------------------------------------------------------------------------


def test_a_change_takes_effect_only_when_the_new_address_follows_its_link(wired: Wired, clock):
    user = wired.sign_up()
    session = wired.session()
    wired.emails.request_change(session, PASSWORD, " Ada@New.Example.org ")
    assert wired.repo.get(EMAIL).pending_email == NEW
    assert wired.repo.get(NEW) is None
    token = wired.last_token(NEW)
    assert wired.notifier.verifications[-1][2] is True  # worded as a change

    outcome, moved = wired.emails.verify(token)

    assert outcome == "changed"
    assert wired.repo.get(EMAIL) is None
    assert (moved.email_address, moved.user_id, moved.pending_email) == (NEW, user.user_id, None)
    assert moved.email_verified_at == clock.now
    assert moved.session_ids == ()  # every session ends: cookies name the old address
    assert wired.notifier.changed == [(EMAIL, NEW)]
    assert wired.users.email_for_id(user.user_id) == NEW
    wired.auth.login(NEW, PASSWORD)
    with pytest.raises(InvalidCredentials):
        wired.auth.login(EMAIL, PASSWORD)
    with pytest.raises(InvalidToken):
        wired.emails.verify(token)  # used


def test_a_change_needs_the_current_password_and_counts_a_wrong_one(wired: Wired):
    wired.sign_up()
    session = wired.session()
    with pytest.raises(ValidationError, match="current_password"):
        wired.emails.request_change(session, "not the password", NEW)
    assert wired.repo.get(EMAIL).failed_logins == 1
    assert wired.repo.get(EMAIL).pending_email is None
    assert [to for to, _, _ in wired.notifier.verifications] == [EMAIL]
    with pytest.raises(ValidationError, match="new_email_address"):
        wired.emails.request_change(session, PASSWORD, "not an address")
    with pytest.raises(ValidationError, match="already your address"):
        wired.emails.request_change(session, PASSWORD, "ADA@example.com")


def test_a_taken_address_gets_no_message_and_the_answer_is_the_same(wired: Wired):
    wired.sign_up()
    wired.sign_up(NEW)
    session = wired.session()
    sent_before = len(wired.notifier.verifications)
    user = wired.emails.request_change(session, PASSWORD, NEW)  # no error: nothing said about NEW
    assert user.pending_email == NEW
    assert len(wired.notifier.verifications) == sent_before


def test_an_address_taken_after_the_request_is_refused_at_the_link_and_nothing_moves(wired: Wired, clock):
    wired.sign_up()
    wired.emails.request_change(wired.session(), PASSWORD, NEW)
    token = wired.last_token(NEW)
    clock.advance(seconds=61)
    wired.sign_up(NEW)
    with pytest.raises(UserAlreadyExists):
        wired.emails.verify(token)
    assert wired.repo.get(EMAIL).pending_email == NEW  # still asked for; the other account untouched
    assert wired.repo.get(NEW).user_id != wired.repo.get(EMAIL).user_id


def test_a_newer_request_or_a_password_change_kills_an_older_link(wired: Wired, clock):
    wired.sign_up()
    session = wired.session()
    wired.emails.request_change(session, PASSWORD, NEW)
    first = wired.last_token(NEW)
    wired.emails.request_change(session, PASSWORD, "ada@third.example.org")
    with pytest.raises(InvalidToken, match="newer request"):
        wired.emails.verify(first)
    clock.advance(seconds=61)
    wired.emails.request_change(session, PASSWORD, NEW)
    second = wired.last_token(NEW)
    wired.accounts.change_password(session, PASSWORD, "another fine passphrase")
    with pytest.raises(InvalidToken):
        wired.emails.verify(second)
    assert wired.repo.get(NEW) is None


def test_change_messages_to_one_new_address_keep_the_cooldown(wired: Wired):
    wired.sign_up()
    session = wired.session()
    wired.emails.request_change(session, PASSWORD, NEW)
    wired.emails.request_change(session, PASSWORD, NEW)
    assert [to for to, _, _ in wired.notifier.verifications].count(NEW) == 1
