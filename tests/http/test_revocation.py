"""Sessions end when they should: expiry messages, logout and logout-all across processes, rehash and dummy verify."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.access_tokens import AccessTokens
from domain.accounts import AccountService
from domain.admin import AdminService
from domain.auth import AuthService
from domain.email_addresses import EmailAddresses
from domain.mail_cooldown import MailCooldown
from domain.session import SessionPolicy
from domain.throttle import FailureCounter
from domain.user import MIN_PASSWORD_LENGTH
from domain.users import Users
from entrypoints.http.app import create_app
from entrypoints.http.audit import AuditLog
from entrypoints.http.rate_limit import TokenBucketLimiter
from entrypoints.http.session import SessionCookies
from infrastructure.hashing.argon2_hasher import Argon2Hasher, Argon2Parameters
from infrastructure.itsdangerous_tokens import ItsdangerousTokenSigner
from infrastructure.passwords.common_list import shipped_list
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.login_failures import SqliteLoginFailureRepository
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.conftest import CHEAP_ARGON2
from tests.fakes import FakeClock, RecordingNotifier
from tests.http.helpers import EMAIL, KEY, PASSWORD, Api, assert_error, second_factor_parts


@pytest.fixture
def process(db_path, clock: FakeClock, database):
    """Makes whole esauth instances as other server processes would have them: their own
    connections, cache and app, over the test's one SQLite file."""
    opened: list[SqliteDatabase] = []

    def make(hasher: Argon2Hasher | None = None) -> Api:
        own = SqliteDatabase(db_path)
        opened.append(own)
        users = Users(SqliteUserRepository(own), clock)
        hasher_ = hasher or Argon2Hasher(CHEAP_ARGON2)
        failures = FailureCounter(SqliteLoginFailureRepository(own), clock)
        auth = AuthService(users, hasher_, clock, failures, screen=shipped_list(MIN_PASSWORD_LENGTH))
        tokens = ItsdangerousTokenSigner([KEY], salt="esauth.password-reset.v1")
        accounts = AccountService(users, hasher_, clock, failures, tokens, RecordingNotifier(), screen=shipped_list(MIN_PASSWORD_LENGTH))
        cookies = SessionCookies([KEY], SessionPolicy())
        cooldown = MailCooldown(SqliteLoginFailureRepository(own), clock, timedelta(seconds=60))
        emails = EmailAddresses(users, accounts, clock, ItsdangerousTokenSigner([KEY], "esauth.email-verification.v1"), RecordingNotifier(), cooldown)
        app = create_app(
            auth, cookies, AuditLog(KEY, clock), TokenBucketLimiter(1000, clock), clock,
            accounts=accounts, emails=emails, admin=AdminService(users), tokens=AccessTokens(users, clock),
            **second_factor_parts(users, failures, clock),
        )
        return Api(app, cookies)

    yield make
    for own in opened:
        own.close()


@pytest.fixture
def other(process) -> Api:
    return process()


def test_an_idle_session_is_told_it_expired(api: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    clock.advance(minutes=30, seconds=1)
    assert_error(api.get_test(cookie), 401, "Session expired, please log in again.")


def test_an_old_session_is_told_it_expired_even_while_active(api: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    logged_in_at = clock.now
    while clock.now - logged_in_at <= timedelta(hours=12):
        answer = api.get_test(cookie)
        assert answer.status_code == 200
        if api.cookie_name in answer.cookies:
            cookie = answer.cookies[api.cookie_name].value  # the renewed cookie, as a browser keeps it
        clock.advance(minutes=29)
    assert_error(api.get_test(cookie), 401, "Session expired, please log in again.")


def test_logout_is_refused_at_once_here_and_at_the_next_look_on_another_process(api: Api, other: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    assert other.get_test(cookie).status_code == 200  # the other process has read the user now

    assert api.client.simulate_post("/v1/auth/logout", cookies=api.with_cookie(cookie)).status_code == 200
    assert_error(api.get_test(cookie), 401)
    clock.advance(milliseconds=249)
    assert other.get_test(cookie).status_code == 200  # until its next look for changes
    clock.advance(milliseconds=1)  # a quarter of the 1 s bound: the other process looks, and drops the user
    assert_error(other.get_test(cookie), 401)


def test_a_token_revoked_here_is_refused_on_another_process_within_the_same_bound(api: Api, other: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    made = api.client.simulate_post("/v1/users/me/tokens", cookies=api.with_cookie(cookie), json={"name": "ci", "current_password": PASSWORD}).json["data"]
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert other.client.simulate_get("/v1/auth/verify", headers=headers).status_code == 200  # made here, used there at once

    assert api.client.simulate_delete(f"/v1/users/me/tokens/{made['id']}", cookies=api.with_cookie(cookie)).status_code == 200
    assert_error(api.client.simulate_get("/v1/auth/verify", headers=headers), 401)
    clock.advance(milliseconds=249)
    assert other.client.simulate_get("/v1/auth/verify", headers=headers).status_code == 200  # until its next look
    clock.advance(milliseconds=1)
    assert_error(other.client.simulate_get("/v1/auth/verify", headers=headers), 401)


def test_logging_out_everywhere_ends_tokens_on_another_process_within_the_same_bound(api: Api, other: Api, clock: FakeClock) -> None:
    cookie = api.signup_and_login()
    made = api.client.simulate_post("/v1/users/me/tokens", cookies=api.with_cookie(cookie), json={"name": "ci", "current_password": PASSWORD}).json["data"]
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert other.client.simulate_get("/v1/auth/verify", headers=headers).status_code == 200
    assert api.client.simulate_post("/v1/auth/logout-all", cookies=api.with_cookie(cookie)).json["data"] == {"tokens_revoked": 1}
    assert_error(api.client.simulate_get("/v1/auth/verify", headers=headers), 401)
    clock.advance(milliseconds=249)
    assert other.client.simulate_get("/v1/auth/verify", headers=headers).status_code == 200  # until its next look
    clock.advance(milliseconds=1)
    assert_error(other.client.simulate_get("/v1/auth/verify", headers=headers), 401)


def test_logout_all_revokes_every_session_and_clears_site_data(api: Api, other: Api, clock: FakeClock) -> None:
    phone = api.signup_and_login()
    laptop = api.login_cookie()
    assert other.get_test(phone).status_code == 200

    result = api.client.simulate_post("/v1/auth/logout-all", cookies=api.with_cookie(laptop))
    assert result.status_code == 200
    assert result.json == {"message": f"'{EMAIL}' successfully logged out of every session!", "success": True,
                           "data": {"tokens_revoked": 0}}
    assert result.headers["clear-site-data"] == '"cache"'
    assert result.cookies[api.cookie_name].value == ""
    for cookie in (phone, laptop):
        assert_error(api.get_test(cookie), 401)
    clock.advance(seconds=1)
    assert_error(other.get_test(phone), 401)
    assert api.login_cookie()  # a fresh login works again


def test_logout_clears_site_data_and_logout_all_needs_a_session(api: Api) -> None:
    cookie = api.signup_and_login()
    result = api.client.simulate_post("/v1/auth/logout", cookies=api.with_cookie(cookie))
    assert result.headers["clear-site-data"] == '"cache"'
    assert_error(api.client.simulate_post("/v1/auth/logout-all"), 401)


class CountingHasher(Argon2Hasher):
    def __init__(self, params: Argon2Parameters) -> None:
        super().__init__(params)
        self.verified: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return super().verify(password_hash, password)


def test_an_unknown_email_costs_a_verify_with_the_configured_parameters(process) -> None:
    hasher = CountingHasher(CHEAP_ARGON2)
    api = process(hasher)
    assert_error(api.login("nobody@abc.com", PASSWORD), 400)
    assert len(hasher.verified) == 1
    assert hasher.verified[0].startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_login_upgrades_a_hash_made_with_other_parameters(process, database) -> None:
    old = process(Argon2Hasher(CHEAP_ARGON2))
    assert old.signup(EMAIL, PASSWORD).status_code == 200
    repo = SqliteUserRepository(database)
    assert "m=8,t=1,p=1" in repo.get(EMAIL).password_hash

    stronger = Argon2Parameters(time_cost=2, memory_cost_kib=16, parallelism=1)
    new = process(Argon2Hasher(stronger))
    assert new.login(EMAIL, PASSWORD).status_code == 200
    upgraded = repo.get(EMAIL).password_hash
    assert "m=16,t=2,p=1" in upgraded
    assert new.login(EMAIL, PASSWORD).status_code == 200
    assert repo.get(EMAIL).password_hash == upgraded  # upgraded once, not at every login
