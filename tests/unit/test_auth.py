"""The auth rules, with in-memory fakes: no HTTP, no store, no argon2."""

from dataclasses import replace
from datetime import timedelta
from itertools import count

import pytest

from domain.auth import MAX_LIVE_SESSIONS, AuthService
from domain.throttle import FailureCounter
from domain.users import Users
from domain.errors import (
    InactiveUser,
    InvalidCredentials,
    LoginThrottled,
    SessionInvalid,
    StoreUnavailable,
    UserAlreadyExists,
    ValidationError,
    VersionConflict,
)
from tests.fakes import (
    CountingUserRepository,
    FakeHasher,
    FakePasswordScreen,
    InMemoryLoginFailureRepository,
    InMemoryUserRepository,
    RecordingMetrics,
)

PASSWORD = "correct horse battery"


def make_auth(repo, hasher, clock, failures=None, session_check_bound=timedelta(seconds=1), **options) -> AuthService:
    """An AuthService over fakes, wired as the composition root wires the real one."""
    return AuthService(
        Users(repo, clock, session_check_bound),
        hasher,
        clock,
        FailureCounter(failures if failures is not None else InMemoryLoginFailureRepository(), clock),
        **options,
        screen=FakePasswordScreen(),
    )


@pytest.fixture
def users():
    return InMemoryUserRepository()


@pytest.fixture
def hasher():
    return FakeHasher()


@pytest.fixture
def failures():
    return InMemoryLoginFailureRepository()


@pytest.fixture
def auth(users, hasher, clock, failures):
    ids = count(1)
    return make_auth(users, hasher, clock, failures, new_session_id=lambda: f"sid-{next(ids)}")


def test_register_stores_a_normalized_user_with_a_hash_not_the_password(auth, users, clock):
    user = auth.register(" Ada@Example.COM", PASSWORD, "Ada", "Lovelace")
    stored = users.get("ada@example.com")
    assert stored == user
    assert stored.password_hash != PASSWORD and PASSWORD in stored.password_hash  # the fake's reversible form
    assert (stored.first_name, stored.last_name, stored.is_active, stored.created_at) == ("Ada", "Lovelace", True, clock.now)


def test_register_twice_with_the_same_identity_is_refused(auth):
    auth.register("ada@example.com", PASSWORD)
    with pytest.raises(UserAlreadyExists) as caught:
        auth.register("ADA@example.com ", "another password")
    assert caught.value.email_address == "ada@example.com"


def test_register_with_bad_input_stores_nothing(auth, users, hasher):
    with pytest.raises(ValidationError, match="password"):
        auth.register("ada@example.com", "short")
    with pytest.raises(ValidationError, match="first_name"):
        auth.register("ada@example.com", PASSWORD, first_name="x" * 101)
    assert users.get("ada@example.com") is None
    assert hasher.hash_calls == 1  # only the dummy hash made at start-up


def test_login_opens_a_new_session_each_time(auth, users, clock):
    auth.register("ada@example.com", PASSWORD)
    user, first = auth.login("ADA@example.com", PASSWORD)
    _, second = auth.login("ada@example.com", PASSWORD)
    assert first.session_id != second.session_id
    assert first.issued_at == first.last_seen == clock.now
    assert users.get("ada@example.com").session_ids == (first.session_id, second.session_id)
    assert user.email_address == "ada@example.com"


def test_login_keeps_only_the_newest_sessions(auth, users):
    auth.register("ada@example.com", PASSWORD)
    sessions = [auth.login("ada@example.com", PASSWORD)[1] for _ in range(MAX_LIVE_SESSIONS + 2)]
    live = users.get("ada@example.com").session_ids
    assert live == tuple(s.session_id for s in sessions[-MAX_LIVE_SESSIONS:])
    with pytest.raises(SessionInvalid):
        auth.session_user(sessions[0])


def test_wrong_password_and_unknown_email_fail_alike_and_both_cost_a_verify(auth, hasher):
    auth.register("ada@example.com", PASSWORD)
    before = hasher.verify_calls
    with pytest.raises(InvalidCredentials):
        auth.login("ada@example.com", "wrong password")
    with pytest.raises(InvalidCredentials):
        auth.login("nobody@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials):
        auth.login("not an address", PASSWORD)
    assert hasher.verify_calls - before == 3


def test_login_with_a_non_string_field_is_a_validation_error(auth):
    with pytest.raises(ValidationError, match="password"):
        auth.login("ada@example.com", None)
    with pytest.raises(ValidationError, match="email_address"):
        auth.login(["ada@example.com"], PASSWORD)


def test_inactive_user_cannot_log_in_even_with_the_right_password(auth, users):
    user = auth.register("ada@example.com", PASSWORD)
    users.update(replace(user, is_active=False))
    with pytest.raises(InactiveUser):
        auth.login("ada@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials):  # the wrong password does not reveal the status
        auth.login("ada@example.com", "wrong password")
    assert users.get("ada@example.com").session_ids == ()


def test_login_upgrades_a_hash_made_with_other_parameters(users, clock):
    old = FakeHasher(cost=1)
    make_auth(users, old, clock).register("ada@example.com", PASSWORD)
    assert users.get("ada@example.com").password_hash == f"fake$1${PASSWORD}"
    make_auth(users, FakeHasher(cost=2), clock).login("ada@example.com", PASSWORD)
    assert users.get("ada@example.com").password_hash == f"fake$2${PASSWORD}"


def test_a_current_hash_is_not_rewritten(auth, users, hasher):
    auth.register("ada@example.com", PASSWORD)
    stored_hash = users.get("ada@example.com").password_hash
    calls = hasher.hash_calls
    auth.login("ada@example.com", PASSWORD)
    assert users.get("ada@example.com").password_hash == stored_hash
    assert hasher.hash_calls == calls


class RacingRepository(InMemoryUserRepository):
    """Lets a competing write land between a login's read and its write, once."""

    def __init__(self, compete):
        super().__init__()
        self._compete = compete

    def update(self, user):
        compete, self._compete = self._compete, None
        if compete is not None:
            super().update(compete(self.get(user.email_address)))
        return super().update(user)


def test_a_password_change_during_login_wins_over_the_login(clock):
    hasher = FakeHasher()
    repo = RacingRepository(lambda current: replace(current, password_hash=hasher.hash("brand new password")))
    auth = make_auth(repo, hasher, clock)
    auth.register("ada@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials):
        auth.login("ada@example.com", PASSWORD)
    assert hasher.verify(repo.get("ada@example.com").password_hash, "brand new password")


def test_a_concurrent_rehash_does_not_undo_a_concurrent_password_change(clock):
    """The login that loses the race re-reads, re-checks, and never writes its stale hash."""
    old_hasher, hasher = FakeHasher(cost=1), FakeHasher(cost=2)
    repo = RacingRepository(lambda current: replace(current, password_hash=hasher.hash("brand new password")))
    make_auth(repo, old_hasher, clock).register("ada@example.com", PASSWORD)
    with pytest.raises(InvalidCredentials):
        make_auth(repo, hasher, clock).login("ada@example.com", PASSWORD)
    assert repo.get("ada@example.com").password_hash == "fake$2$brand new password"


def test_a_concurrent_session_write_is_merged_not_lost(clock):
    hasher = FakeHasher()
    repo = RacingRepository(lambda current: replace(current, session_ids=(*current.session_ids, "other")))
    auth = make_auth(repo, hasher, clock, new_session_id=lambda: "mine")
    auth.register("ada@example.com", PASSWORD)
    auth.login("ada@example.com", PASSWORD)
    assert repo.get("ada@example.com").session_ids == ("other", "mine")


class AlwaysConflicting(InMemoryUserRepository):
    def update(self, user):
        raise VersionConflict(user.email_address)


def test_endless_conflicts_give_up_as_throttled_like_a_crowd_on_an_unknown_address(clock):
    """A known account must not answer a crowd of attempts differently (503) from an unknown one."""
    auth = make_auth(AlwaysConflicting(), FakeHasher(), clock)
    auth.register("ada@example.com", PASSWORD)
    for password in (PASSWORD, "wrong password"):
        with pytest.raises(LoginThrottled) as caught:
            auth.login("ada@example.com", password)
        assert caught.value.retry_after_s == 1


def test_session_user_requires_a_live_session_of_an_active_user(auth, users, clock):
    auth.register("ada@example.com", PASSWORD)
    user, session = auth.login("ada@example.com", PASSWORD)
    assert auth.session_user(session).email_address == "ada@example.com"
    with pytest.raises(SessionInvalid):
        auth.session_user(replace(session, session_id="forged"))
    with pytest.raises(SessionInvalid):
        auth.session_user(replace(session, email_address="nobody@example.com"))
    users.update(replace(users.get("ada@example.com"), is_active=False))
    clock.advance(seconds=1)  # a write made elsewhere is seen once the session check's cache expires
    with pytest.raises(SessionInvalid):
        auth.session_user(session)


def test_logout_revokes_only_that_session(auth):
    auth.register("ada@example.com", PASSWORD)
    _, phone = auth.login("ada@example.com", PASSWORD)
    _, laptop = auth.login("ada@example.com", PASSWORD)
    auth.logout(phone)
    with pytest.raises(SessionInvalid):
        auth.session_user(phone)
    assert auth.session_user(laptop).email_address == "ada@example.com"
    auth.logout(phone)  # twice is harmless
    auth.logout(replace(phone, email_address="gone@example.com"))


def test_logout_all_revokes_every_session_of_the_user(auth):
    auth.register("ada@example.com", PASSWORD)
    _, phone = auth.login("ada@example.com", PASSWORD)
    _, laptop = auth.login("ada@example.com", PASSWORD)
    auth.logout_all(laptop)
    for session in (phone, laptop):
        with pytest.raises(SessionInvalid):
            auth.session_user(session)


def test_the_session_check_reads_the_store_once_per_change_not_per_request(clock):
    users = CountingUserRepository()
    auth = make_auth(users, FakeHasher(), clock)
    auth.register("ada@example.com", PASSWORD)
    _, session = auth.login("ada@example.com", PASSWORD)
    users.calls.clear()
    auth.session_user(session)  # the view's first look vouches for nothing held before it: one read
    for _ in range(40):  # ten seconds of checks, the view asking what changed every 250 ms
        auth.session_user(session)
        clock.advance(milliseconds=250)
    assert users.gets == 1
    auth.seen(session, clock())  # a write made here is kept as written, not read again
    for _ in range(8):
        auth.session_user(session)
        clock.advance(milliseconds=250)
    assert users.gets == 2  # seen() read the user to write it; the checks read nothing


def test_a_revocation_elsewhere_is_seen_within_the_bound_and_one_here_at_once(clock):
    users, failures = InMemoryUserRepository(), InMemoryLoginFailureRepository()
    here = make_auth(users, FakeHasher(), clock, failures)
    elsewhere = make_auth(users, FakeHasher(), clock, failures)
    here.register("ada@example.com", PASSWORD)
    _, first = here.login("ada@example.com", PASSWORD)
    _, second = here.login("ada@example.com", PASSWORD)
    here.session_user(first)
    elsewhere.session_user(first)

    elsewhere.logout(first)
    with pytest.raises(SessionInvalid):
        elsewhere.session_user(first)  # at once on the process that served the logout
    clock.advance(milliseconds=249)
    here.session_user(first)  # still held by the other process until its next look
    clock.advance(milliseconds=1)
    with pytest.raises(SessionInvalid):
        here.session_user(first)
    assert here.session_user(second).email_address == "ada@example.com"


def test_a_zero_bound_reads_the_store_every_time(clock):
    users = CountingUserRepository()
    auth = make_auth(users, FakeHasher(), clock, session_check_bound=timedelta(0))
    auth.register("ada@example.com", PASSWORD)
    _, session = auth.login("ada@example.com", PASSWORD)
    users.calls.clear()
    auth.session_user(session)
    auth.session_user(session)
    assert users.gets == 2


def test_the_session_check_reports_its_view_hits_and_misses(clock):
    metrics = RecordingMetrics()
    users = Users(InMemoryUserRepository(), clock, timedelta(seconds=1), metrics)
    auth = AuthService(users, FakeHasher(), clock, FailureCounter(InMemoryLoginFailureRepository(), clock), screen=FakePasswordScreen())
    auth.register("ada@example.com", PASSWORD)
    _, session = auth.login("ada@example.com", PASSWORD)
    auth.session_user(session)  # before the view's first look: a miss
    clock.advance(seconds=5)
    auth.session_user(session)  # nothing changed: a hit, however long ago it was read
    auth.session_user(session)
    assert metrics.of("session_cache") == [(False,), (True,), (True,)]


def fail(auth, email="ada@example.com", password="wrong password"):
    with pytest.raises(InvalidCredentials):
        auth.login(email, password)


@pytest.mark.parametrize("email", ["ada@example.com", "nobody@example.com"])
def test_after_five_failures_every_attempt_waits_right_password_or_not(auth, clock, hasher, email):
    auth.register("ada@example.com", PASSWORD)
    for _ in range(5):
        fail(auth, email)
    verifies = hasher.verify_calls
    with pytest.raises(LoginThrottled) as caught:
        auth.login(email, PASSWORD)
    assert caught.value.retry_after_s == 1
    assert hasher.verify_calls == verifies  # a throttled attempt costs no hash
    clock.advance(seconds=1)
    fail(auth, email)  # the sixth failure doubles the wait
    with pytest.raises(LoginThrottled) as caught:
        auth.login(email, PASSWORD)
    assert caught.value.retry_after_s == 2


def test_unknown_and_known_emails_are_throttled_identically(auth, clock):
    auth.register("ada@example.com", PASSWORD)
    waits = {}
    for email in ("ada@example.com", "nobody@example.com"):
        observed = []
        for _ in range(9):
            try:
                auth.login(email, "wrong password")
                observed.append("ok")
            except InvalidCredentials:
                observed.append("invalid")
            except LoginThrottled as throttled:
                observed.append(throttled.retry_after_s)
                clock.advance(seconds=throttled.retry_after_s)
        waits[email] = observed
    assert waits["ada@example.com"] == waits["nobody@example.com"]
    assert waits["ada@example.com"][:6] == ["invalid"] * 5 + [1]


def test_a_successful_login_resets_the_count(auth, clock, failures):
    auth.register("ada@example.com", PASSWORD)
    for _ in range(4):
        fail(auth)
    auth.login("ada@example.com", PASSWORD)
    for _ in range(4):
        fail(auth)
    auth.login("ada@example.com", PASSWORD)  # four more failures: still under the limit


def test_the_delay_is_capped_and_never_permanent(auth, clock):
    auth.register("ada@example.com", PASSWORD)
    waits = []
    for _ in range(40):
        try:
            auth.login("ada@example.com", "wrong password")
        except InvalidCredentials:
            continue
        except LoginThrottled as throttled:
            waits.append(throttled.retry_after_s)
            clock.advance(seconds=throttled.retry_after_s)
    assert max(waits) == 15 * 60
    assert waits[:5] == [1, 2, 4, 8, 16]
    clock.advance(minutes=15)
    user, _ = auth.login("ada@example.com", PASSWORD)
    assert user.email_address == "ada@example.com"


def test_failures_counted_before_sign_up_keep_counting_after_it(clock):
    """A registered address continues from the count its unknown self had, as an unknown one would."""
    failures = InMemoryLoginFailureRepository()
    auth = make_auth(InMemoryUserRepository(), FakeHasher(), clock, failures)
    answers: dict[str, list[object]] = {}
    for email in ("ada@example.com", "nobody@example.com"):
        answers[email] = []
        for attempt in range(14):
            if attempt == 8 and email == "ada@example.com":
                auth.register(email, PASSWORD)
            try:
                auth.login(email, "wrong password")
            except InvalidCredentials:
                answers[email].append("invalid")
            except LoginThrottled as throttled:
                answers[email].append(throttled.retry_after_s)
                clock.advance(seconds=throttled.retry_after_s)
    assert answers["ada@example.com"] == answers["nobody@example.com"]
    assert answers["ada@example.com"][8:] == ["invalid", 4, "invalid", 8, "invalid", 16]


def test_a_count_the_failure_store_cannot_forget_does_not_fail_a_login_already_written(clock):
    class NoDeletes(InMemoryLoginFailureRepository):
        def delete(self, key):
            raise StoreUnavailable("down")

    failures = NoDeletes()
    auth = make_auth(InMemoryUserRepository(), FakeHasher(), clock, failures)
    with pytest.raises(InvalidCredentials):
        auth.login("ada@example.com", "wrong password")  # counted while nobody had the address
    auth.register("ada@example.com", PASSWORD)
    user, _ = auth.login("ada@example.com", PASSWORD)
    assert user.login_count == 1


class ReadOnlyFailures(InMemoryLoginFailureRepository):
    def put(self, record):
        raise StoreUnavailable("read-only")


def test_the_write_probe_leaves_nothing_behind_and_fails_on_a_store_that_only_reads(users, hasher, clock, failures):
    writes = []

    class Recording(InMemoryLoginFailureRepository):
        def put(self, record):
            writes.append(record.key)
            return super().put(record)

    recording = Recording()
    auth = make_auth(users, hasher, clock, recording)
    auth.check_store_writes()
    auth.check_store_writes()  # again, under the same key
    assert len(writes) == 2 and len(set(writes)) == 1
    assert recording.get(writes[0]) is None, "the probe deletes what it wrote"
    assert not all(c in "0123456789abcdef" for c in writes[0]), "no email's digest can be the probe's key"
    with pytest.raises(StoreUnavailable):
        make_auth(users, hasher, clock, ReadOnlyFailures()).check_store_writes()
