"""The whole app over real adapters: SQLite in tmp_path, argon2 at its cheapest, a FakeClock."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Iterator, Sequence

import pytest

from domain.access_tokens import AccessTokens
from domain.accounts import AccountService
from domain.admin import AdminService
from domain.auth import AuthService
from domain.email_addresses import EmailAddresses
from domain.mail_cooldown import MailCooldown
from domain.passkeys import Passkeys
from domain.session import SessionPolicy
from domain.throttle import FailureCounter
from domain.user import MIN_PASSWORD_LENGTH
from domain.users import Users
from entrypoints.http.app import create_app
from entrypoints.http.audit import AuditLog
from entrypoints.http.rate_limit import TokenBucketLimiter
from entrypoints.http.session import SessionCookies
from infrastructure.hashing.argon2_hasher import Argon2Hasher
from infrastructure.itsdangerous_tokens import ItsdangerousTokenSigner
from infrastructure.passwords.common_list import shipped_list
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.login_failures import SqliteLoginFailureRepository
from infrastructure.sqlite.user_repository import SqliteUserRepository
from infrastructure.second_factor.webauthn_verifier import WebauthnVerifier
from tests.fakes import FakeClock, RecordingNotifier
from tests.http.helpers import KEY, Api, MakeApi, second_factor_parts


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "users.sqlite3"


@pytest.fixture
def database(db_path: Path) -> Iterator[SqliteDatabase]:
    database = SqliteDatabase(db_path)
    yield database
    database.close()


@pytest.fixture
def repo(database: SqliteDatabase) -> SqliteUserRepository:
    return SqliteUserRepository(database)


@pytest.fixture
def users(repo: SqliteUserRepository, clock: FakeClock) -> Users:
    return Users(repo, clock)


@pytest.fixture
def failures(database: SqliteDatabase, clock: FakeClock) -> FailureCounter:
    return FailureCounter(SqliteLoginFailureRepository(database), clock)


@pytest.fixture
def auth(users: Users, cheap_hasher: Argon2Hasher, clock: FakeClock, failures: FailureCounter) -> AuthService:
    return AuthService(users, cheap_hasher, clock, failures, screen=shipped_list(MIN_PASSWORD_LENGTH))


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def accounts(users: Users, cheap_hasher: Argon2Hasher, clock: FakeClock, failures: FailureCounter, notifier: RecordingNotifier) -> AccountService:
    tokens = ItsdangerousTokenSigner([KEY], salt="esauth.password-reset.v1")
    return AccountService(users, cheap_hasher, clock, failures, tokens, notifier, screen=shipped_list(MIN_PASSWORD_LENGTH))


@pytest.fixture
def cooldown(database: SqliteDatabase, clock: FakeClock) -> MailCooldown:
    return MailCooldown(SqliteLoginFailureRepository(database), clock, timedelta(seconds=60))


@pytest.fixture
def emails(users: Users, accounts: AccountService, clock: FakeClock, notifier: RecordingNotifier, cooldown: MailCooldown) -> EmailAddresses:
    tokens = ItsdangerousTokenSigner([KEY], salt="esauth.email-verification.v1")
    return EmailAddresses(users, accounts, clock, tokens, notifier, cooldown)


@pytest.fixture
def passkeys(users: Users, auth: AuthService, clock: FakeClock) -> Passkeys:
    """Passkeys for the origin falcon.testing requests are made on (tests/http/ui_browser.ORIGIN)."""
    verifier = WebauthnVerifier("falconframework.org", "esauth", ("http://falconframework.org",), 120)
    return Passkeys(users, auth, verifier, clock, timedelta(seconds=120))


@pytest.fixture
def make_api(
    auth: AuthService, accounts: AccountService, emails: EmailAddresses, users: Users, clock: FakeClock, failures: FailureCounter
) -> MakeApi:
    """Apps over the one store and clock of the test, each with its own keys and cookie setting.

    The per-client rate limit is generous here (these tests make many requests from one address);
    its own tests set it low.
    """

    def make(
        keys: Sequence[str] = (KEY,), secure: bool = True, per_minute: int = 100_000, cookie_domain: str | None = None,
        **app_options: object,
    ) -> Api:
        cookies = SessionCookies(list(keys), SessionPolicy(), secure=secure, domain=cookie_domain)
        audit = AuditLog(keys[0], clock)
        app = create_app(
            auth, cookies, audit, TokenBucketLimiter(per_minute, clock), clock,
            accounts=accounts, emails=emails, admin=AdminService(users), tokens=AccessTokens(users, clock),
            **second_factor_parts(users, failures, clock, keys, secure, cookie_domain), **app_options,
        )
        return Api(app, cookies)

    return make


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    """The app as deployed by default: Secure cookies named `__Host-session`."""
    return make_api()


@pytest.fixture(params=[True, False], ids=["secure-cookie", "plain-cookie"])
def any_api(request: pytest.FixtureRequest, make_api: MakeApi) -> Api:
    """The app with ESAUTH_COOKIE_SECURE on (`__Host-session`) and off (`session`)."""
    return make_api(secure=request.param)


@pytest.fixture(autouse=True)
def no_hash_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The password hash never reaches a log record, whatever the test did."""
    caplog.set_level(logging.DEBUG)
    yield
    assert "$argon2" not in caplog.text


@pytest.fixture
def audit_lines(caplog: pytest.LogCaptureFixture):
    """The audit log's lines so far, parsed."""
    caplog.set_level(logging.INFO, logger="esauth.audit")

    def lines() -> list[dict]:
        return [json.loads(record.getMessage()) for record in caplog.records if record.name == "esauth.audit"]

    return lines
