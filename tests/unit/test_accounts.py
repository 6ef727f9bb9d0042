"""Self-service account rules: profile, password change, password reset."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.accounts import AccountService
from domain.auth import AuthService
from domain.errors import InvalidCredentials, InvalidToken, LoginThrottled, SessionInvalid, ValidationError
from domain.throttle import FailureCounter
from domain.users import Users
from infrastructure.itsdangerous_tokens import ItsdangerousTokenSigner
from tests.fakes import FakeHasher, FakePasswordScreen, InMemoryLoginFailureRepository, InMemoryUserRepository, RecordingNotifier

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
EMAIL = "ada@example.com"


@pytest.fixture
def repo():
    return InMemoryUserRepository()


@pytest.fixture
def notifier():
    return RecordingNotifier()


@pytest.fixture
def wired(repo, clock, notifier):
    users = Users(repo, clock)
    failures = FailureCounter(InMemoryLoginFailureRepository(), clock)
    hasher = FakeHasher()
    auth = AuthService(users, hasher, clock, failures, screen=FakePasswordScreen())
    tokens = ItsdangerousTokenSigner(["k" * 32], salt="esauth.password-reset")
    accounts = AccountService(users, hasher, clock, failures, tokens, notifier, screen=FakePasswordScreen())
    auth.register(EMAIL, PASSWORD, "Ada", "Lovelace")
    return auth, accounts


@pytest.fixture
def auth(wired):
    return wired[0]


@pytest.fixture
def accounts(wired):
    return wired[1]


@pytest.mark.parametrize("gone", ["deleted", "deactivated"])
def test_a_profile_change_for_an_account_gone_meanwhile_is_a_dead_session(accounts, repo, gone):
    """The session check may answer from a view a change elsewhere reaches only within
    ESAUTH_SESSION_CHECK_CACHE_MS, so a change can arrive for an account deleted or deactivated
    just before: it ends the session (401),
    as a password change does, rather than a 404 the contract does not list for /v1/users/me,
    or an edit of a deactivated account."""
    if gone == "deleted":
        repo.delete(EMAIL)
    else:
        repo.update(replace(repo.get(EMAIL), is_active=False))
    with pytest.raises(SessionInvalid):
        accounts.update_profile(EMAIL, {"first_name": "Augusta"})
    assert gone == "deleted" or repo.get(EMAIL).first_name == "Ada"


def test_update_profile_validates_and_changes_only_names(accounts, repo):
    updated = accounts.update_profile(EMAIL, {"first_name": "  Augusta ", "last_name": None})
    assert (updated.first_name, updated.last_name) == ("Augusta", None)
    assert repo.get(EMAIL).first_name == "Augusta"
    with pytest.raises(ValidationError, match="last_name"):
        accounts.update_profile(EMAIL, {"last_name": "x" * 101})
    assert repo.get(EMAIL).last_name is None


def test_change_password_keeps_the_caller_and_ends_every_other_session(auth, accounts, repo):
    _, phone = auth.login(EMAIL, PASSWORD)
    _, laptop = auth.login(EMAIL, PASSWORD)
    user, kept = accounts.change_password(laptop, PASSWORD, NEW_PASSWORD)
    assert kept.session_id != laptop.session_id and kept.issued_at == laptop.issued_at
    assert user.session_ids == (kept.session_id,)
    assert auth.session_user(kept).email_address == EMAIL
    for old in (phone, laptop):
        with pytest.raises(SessionInvalid):
            auth.session_user(old)
    auth.login(EMAIL, NEW_PASSWORD)
    with pytest.raises(InvalidCredentials):
        auth.login(EMAIL, PASSWORD)


def test_a_wrong_current_password_is_refused_and_counts_toward_throttling(auth, accounts, repo):
    _, session = auth.login(EMAIL, PASSWORD)
    before = repo.get(EMAIL)
    for _ in range(5):
        with pytest.raises(ValidationError, match="current_password"):
            accounts.change_password(session, "not my password", NEW_PASSWORD)
    with pytest.raises(LoginThrottled):
        accounts.change_password(session, PASSWORD, NEW_PASSWORD)
    with pytest.raises(LoginThrottled):
        auth.login(EMAIL, PASSWORD)
    after = repo.get(EMAIL)
    assert after.failed_logins == 5
    assert replace(after, failed_logins=0, last_failed_login_at=None) == before  # the password stands


def test_the_new_password_must_pass_the_policy(auth, accounts):
    _, session = auth.login(EMAIL, PASSWORD)
    with pytest.raises(ValidationError, match="new_password"):
        accounts.change_password(session, PASSWORD, "short")


def test_a_reset_is_sent_only_to_known_active_users(accounts, notifier, repo):
    accounts.request_password_reset("nobody@example.com")
    assert notifier.sent == []
    accounts.request_password_reset(" ADA@example.com")
    assert [email for email, _ in notifier.sent] == [EMAIL]
    repo.update(replace(repo.get(EMAIL), is_active=False))
    accounts.request_password_reset(EMAIL)
    assert len(notifier.sent) == 1
    with pytest.raises(ValidationError, match="email_address"):
        accounts.request_password_reset("not an address")


def test_a_reset_token_sets_the_password_once_and_ends_every_session(auth, accounts, notifier, clock):
    _, session = auth.login(EMAIL, PASSWORD)
    accounts.request_password_reset(EMAIL)
    (_, token), = notifier.sent
    accounts.confirm_password_reset(token, NEW_PASSWORD)
    with pytest.raises(SessionInvalid):
        auth.session_user(session)
    auth.login(EMAIL, NEW_PASSWORD)
    with pytest.raises(InvalidToken, match="already used"):
        accounts.confirm_password_reset(token, "yet another password")


def test_a_reset_token_expires_after_an_hour(accounts, notifier, clock):
    accounts.request_password_reset(EMAIL)
    (_, token), = notifier.sent
    clock.advance(hours=1, seconds=1)
    with pytest.raises(InvalidToken, match="expired"):
        accounts.confirm_password_reset(token, NEW_PASSWORD)


def test_a_reset_token_dies_when_the_password_changes_another_way(auth, accounts, notifier):
    accounts.request_password_reset(EMAIL)
    (_, token), = notifier.sent
    _, session = auth.login(EMAIL, PASSWORD)
    accounts.change_password(session, PASSWORD, NEW_PASSWORD)
    with pytest.raises(InvalidToken, match="already used, or the password changed"):
        accounts.confirm_password_reset(token, "yet another password")


@pytest.mark.parametrize("mangle", [lambda t: t + "x", lambda t: "x" + t[1:], lambda t: t.replace(".", "!"), lambda t: ""])
def test_a_tampered_token_is_refused(accounts, notifier, mangle):
    accounts.request_password_reset(EMAIL)
    (_, token), = notifier.sent
    with pytest.raises(InvalidToken, match="not valid"):
        accounts.confirm_password_reset(mangle(token), NEW_PASSWORD)


def test_a_token_signed_with_another_key_or_salt_is_refused(accounts, clock):
    payload = {"u": EMAIL, "h": "0" * 32, "e": int((clock.now + timedelta(hours=1)).timestamp())}
    for signer in (ItsdangerousTokenSigner(["o" * 32], "esauth.password-reset"), ItsdangerousTokenSigner(["k" * 32], "esauth.session.v1")):
        with pytest.raises(InvalidToken):
            accounts.confirm_password_reset(signer.sign(payload), NEW_PASSWORD)


def test_a_successful_reset_clears_the_login_throttle(auth, accounts, notifier):
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            auth.login(EMAIL, "wrong password")
    with pytest.raises(LoginThrottled):
        auth.login(EMAIL, PASSWORD)
    accounts.request_password_reset(EMAIL)
    (_, token), = notifier.sent
    accounts.confirm_password_reset(token, NEW_PASSWORD)
    auth.login(EMAIL, NEW_PASSWORD)


def test_a_reset_request_does_the_same_work_for_every_address_before_answering(repo, clock, notifier):
    """Looking the user up, signing and sending are deferred: what the request path does (and
    so how long the answer takes) cannot depend on whether the account exists."""

    class CountingReads(InMemoryUserRepository):
        reads = 0

        def get(self, email_address):
            CountingReads.reads += 1
            return super().get(email_address)

    users_repo = CountingReads()
    users = Users(users_repo, clock)
    failures = FailureCounter(InMemoryLoginFailureRepository(), clock)
    AuthService(users, FakeHasher(), clock, failures, screen=FakePasswordScreen()).register(EMAIL, PASSWORD)
    deferred = []
    accounts = AccountService(
        users, FakeHasher(), clock, failures, ItsdangerousTokenSigner(["k" * 32], "s"), notifier, defer=deferred.append,
        screen=FakePasswordScreen(),
    )
    CountingReads.reads = 0
    accounts.request_password_reset(EMAIL)
    accounts.request_password_reset("nobody@example.com")
    assert (CountingReads.reads, notifier.sent, len(deferred)) == (0, [], 2)
    for task in deferred:
        task()
    assert [email for email, _ in notifier.sent] == [EMAIL]


def test_a_token_that_is_not_text_is_a_validation_error(accounts):
    with pytest.raises(ValidationError, match="token"):
        accounts.confirm_password_reset("\ud800abc", NEW_PASSWORD)


def test_a_deleted_users_password_change_is_a_session_error_and_counts_nothing(auth, accounts, repo):
    _, session = auth.login(EMAIL, PASSWORD)
    repo.delete(EMAIL)
    with pytest.raises(SessionInvalid):
        accounts.change_password(session, PASSWORD, NEW_PASSWORD)


def test_a_token_issued_before_a_deactivation_stays_dead_after_reactivation(auth, accounts, notifier, repo, clock):
    from domain.admin import AdminService

    accounts.request_password_reset(EMAIL)
    (_, token), = notifier.sent
    admin = AdminService(Users(repo, clock))
    admin.apply(EMAIL, {"is_active": False})
    admin.apply(EMAIL, {"is_active": True})
    with pytest.raises(InvalidToken, match="already used, or the password changed"):
        accounts.confirm_password_reset(token, NEW_PASSWORD)
