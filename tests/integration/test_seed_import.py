"""Users of a seed-era index (the 2014 Flask tutorial's `example`) imported, then logging in.

The seed index is made here as the seed made it: documents keyed by email, no mapping of its
own (so `email_address` is a dynamic text field), werkzeug pbkdf2 password hashes, `created_at`
as epoch seconds. The seed's `"_type": "user"` field is left out of the documents written to the
server because Elasticsearch 6+ refuses a `_type` inside a document; `user_from_seed` handles it
and is tested on its own below.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from domain.auth import AuthService
from domain.errors import InactiveUser, InvalidCredentials, StoreUnavailable
from domain.throttle import FailureCounter
from domain.users import Users
from infrastructure.hashing.argon2_hasher import Argon2Hasher
from infrastructure.search_engine.seed_source import SeedSource
from infrastructure.seed_import import (
    ImportReport,
    InvalidSeedDocument,
    SeedIndexNotFound,
    import_seed_users,
    user_from_seed,
)
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.user_repository import SqliteUserRepository
from infrastructure.hashing.upgrading_hasher import UpgradingHasher
from tests.conftest import CHEAP_ARGON2
from tests.fakes import FakeClock, FakePasswordScreen, InMemoryLoginFailureRepository, InMemoryUserRepository

UTC = timezone.utc

# The seed tutorial's own user, password "test", hashed by werkzeug 0.9.6's generate_password_hash.
SEED_TEST_HASH = "pbkdf2:sha1:1000$jqBJyhpa$6f77e0a067149ae17f415a391678b05c05eeabeb"


def werkzeug_hash(password: str, hash_name: str = "sha1", iterations: int | None = 1000, salt: str = "Ej9ZDw3H") -> str:
    rounds = 1000 if iterations is None else iterations
    digest = hashlib.pbkdf2_hmac(hash_name, password.encode("utf-8"), salt.encode("utf-8"), rounds).hex()
    method = f"pbkdf2:{hash_name}" if iterations is None else f"pbkdf2:{hash_name}:{iterations}"
    return f"{method}${salt}${digest}"


def seed_doc(email, password_hash, created_at=1417912435.2168, **fields):
    doc = {"email_address": email, "password": password_hash, "is_active": True, "created_at": created_at}
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not MISSING}


MISSING = object()
UPPER_HASH = werkzeug_hash("Other Password", salt="Zq8Lm2Pw")
FILLER = 10

SEED_DOCS = {
    "test@abc.com": seed_doc("test@abc.com", SEED_TEST_HASH, first_name="abc", last_name="123"),
    # Same mailbox by case: the seed keyed by the address as typed, esauth by its normal form.
    "Test@ABC.com": seed_doc("Test@ABC.com", UPPER_HASH),
    "sha256@abc.com": seed_doc("sha256@abc.com", werkzeug_hash("sha256 password", "sha256", 2000), first_name=None),
    "nocount@abc.com": seed_doc("nocount@abc.com", werkzeug_hash("no count here", "sha1", None)),
    "undated@abc.com": seed_doc("undated@abc.com", werkzeug_hash("undated pw"), created_at=MISSING),
    # Whole seconds; an ISO string cannot share the dynamic float field (see the unit tests below).
    "intdate@abc.com": seed_doc("intdate@abc.com", werkzeug_hash("int pw"), created_at=1420943340),
    "banned@abc.com": seed_doc("banned@abc.com", werkzeug_hash("banned pw"), is_active=False),
    "noflag@abc.com": seed_doc("noflag@abc.com", werkzeug_hash("noflag pw"), is_active=MISSING),
    # invalid ones
    "not-an-email": seed_doc("not-an-email", werkzeug_hash("whatever")),
    "hmac@abc.com": seed_doc("hmac@abc.com", "sha1$Ej9ZDw3H$" + "0" * 40),
    "plain@abc.com": seed_doc("plain@abc.com", "hunter22"),
    "nopassword@abc.com": seed_doc("nopassword@abc.com", MISSING),
    "longname@abc.com": seed_doc("longname@abc.com", werkzeug_hash("long"), first_name="x" * 101),
    **{
        f"user{i}@example.com": seed_doc(f"user{i}@example.com", werkzeug_hash(f"filler {i}", salt=f"salt{i}"))
        for i in range(FILLER)
    },
}

EXPECTED_REASONS = {
    "duplicate": 1,
    "invalid_email": 1,
    "unsupported_password_hash": 2,
    "missing_password": 1,
    "invalid_first_name": 1,
}
EXPECTED_IMPORTED = 8 + FILLER - 1  # the case duplicate is one of the first eight
EXPECTED_REPORT = ImportReport(
    imported=EXPECTED_IMPORTED, skipped_duplicate=1, skipped_invalid=5, reasons=EXPECTED_REASONS
)
PAGE = 4
assert len(SEED_DOCS) > 4 * PAGE


@pytest.fixture
def seed_index(search_engine, es_index):
    """The seed index, and a SeedSource to read it: plain HTTP, as import-seed reads any cluster."""
    client = search_engine.connect()
    written = client.bulk_create(es_index, SEED_DOCS)
    assert not written["errors"]
    source = SeedSource(search_engine.url)
    try:
        yield source, es_index
    finally:
        source.close()
        client.delete_index(es_index)
        client.close()


@pytest.fixture(params=["memory", "sqlite"])
def users(request, tmp_path):
    if request.param == "memory":
        yield InMemoryUserRepository()
        return
    database = SqliteDatabase(tmp_path / "x.sqlite3")
    try:
        yield SqliteUserRepository(database)
    finally:
        database.close()


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, 9, 30, tzinfo=UTC))


def auth_service(users, clock):
    hasher = UpgradingHasher(Argon2Hasher(CHEAP_ARGON2))
    return AuthService(Users(users, clock), hasher, clock, FailureCounter(InMemoryLoginFailureRepository(), clock), screen=FakePasswordScreen())


@pytest.mark.elasticsearch
def test_the_report_counts_imported_duplicate_and_invalid_documents(seed_index, users, clock):
    client, index = seed_index
    report = import_seed_users(client, index, users, clock, page_size=PAGE)
    assert report == EXPECTED_REPORT
    assert sum(report.reasons.values()) == report.skipped == 6
    shown = repr(report)
    assert "pbkdf2" not in shown and "@" not in shown


@pytest.mark.elasticsearch
def test_imported_users_keep_their_legacy_hash_names_flags_and_creation_time(seed_index, users, clock):
    client, index = seed_index
    import_seed_users(client, index, users, clock, page_size=PAGE)

    seed_user = users.get("test@abc.com")
    assert seed_user.password_hash in (SEED_TEST_HASH, UPPER_HASH)  # whichever came first
    assert seed_user.created_at == datetime(2014, 12, 7, 0, 33, 55, 216_000, tzinfo=UTC)  # 1417912435.2168
    assert seed_user.created_at.tzinfo is not None
    assert seed_user.is_active is True and seed_user.is_admin is False
    assert seed_user.session_ids == () and seed_user.login_count == 0 and seed_user.last_login_at is None
    if seed_user.password_hash == SEED_TEST_HASH:
        assert (seed_user.first_name, seed_user.last_name) == ("abc", "123")

    assert users.get("sha256@abc.com").password_hash.startswith("pbkdf2:sha256:2000$")
    assert users.get("sha256@abc.com").first_name is None
    assert users.get("undated@abc.com").created_at == clock()
    assert users.get("intdate@abc.com").created_at == datetime(2015, 1, 11, 2, 29, tzinfo=UTC)
    assert users.get("banned@abc.com").is_active is False
    assert users.get("noflag@abc.com").is_active is False  # the seed never let such a user in
    for skipped in ("not-an-email", "hmac@abc.com", "plain@abc.com", "nopassword@abc.com", "longname@abc.com"):
        assert users.get(skipped) is None
    for i in range(FILLER):
        assert users.get(f"user{i}@example.com") is not None


@pytest.mark.elasticsearch
def test_an_imported_user_logs_in_with_the_old_password_and_is_upgraded_to_argon2(seed_index, users, clock):
    client, index = seed_index
    import_seed_users(client, index, users, clock, page_size=PAGE)
    service = auth_service(users, clock)
    for email, password in (("sha256@abc.com", "sha256 password"), ("nocount@abc.com", "no count here")):
        with pytest.raises(InvalidCredentials):
            service.login(email, password + "!")
        assert users.get(email).password_hash.startswith("pbkdf2:")  # a failure upgrades nothing

        user, session = service.login(email.upper(), password)
        assert user.email_address == email
        stored = users.get(email)
        assert stored.password_hash.startswith("$argon2id$")
        assert session.session_id in stored.session_ids
        assert service.session_user(session).email_address == email

        clock.advance(seconds=5)
        _, second = service.login(email, password)
        assert users.get(email).password_hash == stored.password_hash  # upgraded once, kept
        with pytest.raises(InvalidCredentials):
            service.login(email, "not the password")


@pytest.mark.elasticsearch
def test_the_seed_tutorial_user_logs_in_with_test_whichever_case_duplicate_won(seed_index, users, clock):
    client, index = seed_index
    import_seed_users(client, index, users, clock, page_size=PAGE)
    password = "test" if users.get("test@abc.com").password_hash == SEED_TEST_HASH else "Other Password"
    service = auth_service(users, clock)
    service.login("Test@abc.com", password)
    assert users.get("test@abc.com").password_hash.startswith("$argon2id$")


@pytest.mark.elasticsearch
def test_an_imported_inactive_user_is_refused_after_the_right_password(seed_index, users, clock):
    client, index = seed_index
    import_seed_users(client, index, users, clock, page_size=PAGE)
    service = auth_service(users, clock)
    with pytest.raises(InactiveUser):
        service.login("banned@abc.com", "banned pw")
    with pytest.raises(InvalidCredentials):
        service.login("banned@abc.com", "wrong pw")


@pytest.mark.elasticsearch
def test_a_second_run_imports_nothing_and_leaves_upgraded_users_alone(seed_index, users, clock):
    client, index = seed_index
    import_seed_users(client, index, users, clock, page_size=PAGE)
    service = auth_service(users, clock)
    service.login("sha256@abc.com", "sha256 password")
    upgraded = users.get("sha256@abc.com")

    again = import_seed_users(client, index, users, clock)  # the default page size: one page
    assert again == ImportReport(
        imported=0,
        skipped_duplicate=EXPECTED_IMPORTED + 1,
        skipped_invalid=5,
        reasons={**EXPECTED_REASONS, "duplicate": EXPECTED_IMPORTED + 1},
    )
    assert users.get("sha256@abc.com") == upgraded
    assert users.get("sha256@abc.com").password_hash.startswith("$argon2id$")


@pytest.mark.elasticsearch
def test_a_page_of_one_reads_every_document(seed_index, clock):
    client, index = seed_index
    report = import_seed_users(client, index, InMemoryUserRepository(), clock, page_size=1)
    assert report == EXPECTED_REPORT


class FailingAfter(InMemoryUserRepository):
    """A target store that stops answering after `good` users."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def add(self, user):
        if self.good == 0:
            raise StoreUnavailable("sqlite: OperationalError")
        added = super().add(user)
        self.good -= 1
        return added


@pytest.mark.elasticsearch
def test_a_failing_target_aborts_the_import_frees_the_scroll_and_a_rerun_finishes(seed_index, clock, monkeypatch):
    client, index = seed_index
    cleared = []
    clear_scroll = client.clear_scroll
    monkeypatch.setattr(client, "clear_scroll", lambda scroll_id: cleared.append(scroll_id) or clear_scroll(scroll_id))
    users = FailingAfter(good=5)
    with pytest.raises(StoreUnavailable):
        import_seed_users(client, index, users, clock, page_size=PAGE)
    assert len(cleared) == 1 and cleared[0]

    users.good = 10**6
    report = import_seed_users(client, index, users, clock, page_size=PAGE)
    assert report.imported == EXPECTED_IMPORTED - 5
    assert report.skipped_duplicate == 1 + 5
    assert len(cleared) == 2


@pytest.mark.elasticsearch
def test_a_missing_seed_index_is_reported_as_such(search_engine_url, es_index, clock):
    client = SeedSource(search_engine_url)
    try:
        with pytest.raises(SeedIndexNotFound, match=es_index):
            import_seed_users(client, es_index, InMemoryUserRepository(), clock)
    finally:
        client.close()


# The conversion of one document, with no server.

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
GOOD = werkzeug_hash("pw")


def hit(doc_id="a@b.co", **source):
    return {"_id": doc_id, "_source": {"email_address": doc_id, "password": GOOD, "is_active": True, **source}}


def test_the_seed_type_field_is_honoured():
    assert user_from_seed(hit(_type="user"), NOW).email_address == "a@b.co"
    with pytest.raises(InvalidSeedDocument) as refused:
        user_from_seed(hit(_type="comment"), NOW)
    assert refused.value.reason == "not_a_user"


def test_the_email_falls_back_to_the_document_id_and_is_normalized():
    doc = hit(" Some.One@Example.COM ")
    del doc["_source"]["email_address"]
    assert user_from_seed(doc, NOW).email_address == "some.one@example.com"


@pytest.mark.parametrize(
    "created_at, expected",
    [
        (1417912435.2168, datetime(2014, 12, 7, 0, 33, 55, 216_000, tzinfo=UTC)),  # to the millisecond
        ("2014-12-07T00:33:55.216899Z", datetime(2014, 12, 7, 0, 33, 55, 216_000, tzinfo=UTC)),
        (1417912435, datetime(2014, 12, 7, 0, 33, 55, tzinfo=UTC)),
        ("2014-12-07T00:33:55Z", datetime(2014, 12, 7, 0, 33, 55, tzinfo=UTC)),
        ("2014-12-07T01:33:55+01:00", datetime(2014, 12, 7, 0, 33, 55, tzinfo=UTC)),
        ("2014-12-07T00:33:55", datetime(2014, 12, 7, 0, 33, 55, tzinfo=UTC)),  # naive: taken as UTC
        (None, NOW),
        ("", NOW),
        ("yesterday", NOW),
        (True, NOW),
        (float("nan"), NOW),
        (float("inf"), NOW),
        (-1.0, NOW),
        (1417912435216, NOW),  # milliseconds: far beyond year 9999 as seconds
        (10**30, NOW),
        ([1417912435], NOW),
    ],
)
def test_created_at_is_an_aware_utc_time_or_the_import_time(created_at, expected):
    user = user_from_seed(hit(created_at=created_at), NOW)
    assert user.created_at == expected
    assert user.created_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "doc, reason",
    [
        ({"_id": "a@b.co"}, "no_source"),
        ({"_id": "a@b.co", "_source": "text"}, "no_source"),
        (hit(email_address=None), "invalid_email"),
        (hit(email_address=42), "invalid_email"),
        (hit(password=""), "missing_password"),
        (hit(password=None), "missing_password"),
        (hit(password=["pbkdf2:sha1:1000"]), "unsupported_password_hash"),
        (hit(password="$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA"), "unsupported_password_hash"),
        (hit(password=f"pbkdf2:sha1:{10**8 - 1}$s$" + "0" * 40), "unsupported_password_hash"),
        (hit(first_name=7), "invalid_first_name"),
        (hit(last_name="bad\x07name"), "invalid_last_name"),
        (hit(is_active="true"), "invalid_is_active"),
        (hit(is_active=1), "invalid_is_active"),
    ],
)
def test_a_document_that_cannot_become_a_user_names_its_reason(doc, reason):
    with pytest.raises(InvalidSeedDocument) as refused:
        user_from_seed(doc, NOW)
    assert refused.value.reason == reason


def test_names_are_trimmed_and_blank_names_dropped_like_sign_up():
    user = user_from_seed(hit(first_name="  Ada ", last_name="   "), NOW)
    assert (user.first_name, user.last_name) == ("Ada", None)
    assert user.session_ids == ()
