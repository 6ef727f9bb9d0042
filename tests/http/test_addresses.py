"""One address, one account, whatever its Unicode form or IDNA spelling; and accounts an earlier
release stored under another spelling are still found under the spelling their owner types."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.auth import AuthService
from domain.user import User
from infrastructure.hashing.argon2_hasher import Argon2Hasher
from infrastructure.sqlite.user_repository import SqliteUserRepository
from tests.fakes import FakeClock, RecordingNotifier
from tests.http.helpers import PASSWORD, Api, assert_error, stored_emails

NFC_E = "\u00e9@b.com"
NFD_E = "e\u0301@b.com"
SPELLINGS = {
    "nfc-nfd": (NFC_E, NFD_E),
    "ligature": ("ff@b.com", "\ufb00@b.com"),
    "fullwidth": ("test@abc.com", "ｔｅｓｔ@ａｂｃ.ｃｏｍ"),
    "idna": ("user@exämple.com", "user@xn--exmple-cua.com"),
    "idna-reversed": ("user@xn--exmple-cua.com", "user@exämple.com"),
}


@pytest.mark.parametrize("first, second", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_second_spelling_of_one_address_is_the_same_account(api: Api, db_path: Path, first: str, second: str) -> None:
    created = api.signup(first, PASSWORD)
    assert created.status_code == 200, created.text
    identity = created.json["data"]["email_address"]

    assert_error(api.signup(second, PASSWORD), 409, f"'{identity}' already exists.")
    assert stored_emails(db_path) == [identity]
    logged_in = api.login(second, PASSWORD)
    assert logged_in.status_code == 200, logged_in.text
    assert logged_in.json["data"]["email_address"] == identity


@pytest.mark.parametrize("email", ["a..b@x.com", ".a@x.com", "a@ex_ample.com", "a@" + "b" * 64 + ".com"])
def test_addresses_the_rule_refuses_are_a_400_naming_the_field(api: Api, db_path: Path, email: str) -> None:
    body = assert_error(api.signup(email, PASSWORD), 400)
    assert body["message"].startswith("email_address: ")
    assert stored_emails(db_path) == []


# -- accounts stored by an earlier release (trimmed and lower-cased only) --------------------


@pytest.fixture
def stored_earlier(repo: SqliteUserRepository, cheap_hasher: Argon2Hasher, clock: FakeClock):
    """Store a user the way an earlier release did: under the address as typed, lower-cased."""

    def store(email: str) -> User:
        return repo.add(User(email_address=email, password_hash=cheap_hasher.hash(PASSWORD), created_at=clock()))

    return store


@pytest.mark.parametrize("stored", [NFD_E, "user@xn--exmple-cua.com", "ｔｅｓｔ@ａｂｃ.ｃｏｍ", "a..b@x.com"])
def test_an_account_stored_under_an_earlier_spelling_still_logs_in_and_blocks_its_sign_up(
    api: Api, db_path: Path, stored_earlier, stored: str
) -> None:
    stored_earlier(stored)

    result = api.login(stored.upper(), PASSWORD)
    assert result.status_code == 200, result.text
    assert result.json["data"]["email_address"] == stored
    assert api.get_test(result.cookies[api.cookie_name].value).status_code == 200
    if stored != "a..b@x.com":  # which the rule no longer accepts at sign-up at all
        assert assert_error(api.signup(stored, PASSWORD), 409)
    assert stored_emails(db_path) == [stored]


def test_a_reset_for_an_earlier_spelling_goes_to_the_stored_mailbox(api: Api, stored_earlier, notifier: RecordingNotifier) -> None:
    stored_earlier(NFD_E)

    assert api.request_reset(NFD_E).status_code == 202

    assert [sent_to for sent_to, _ in notifier.sent] == [NFD_E]
    assert api.confirm_reset(notifier.sent[0][1], "a-new-password-1").status_code == 200
    assert api.login(NFD_E, "a-new-password-1").status_code == 200


def test_an_admin_finds_an_account_under_its_earlier_spelling(api: Api, auth: AuthService, stored_earlier) -> None:
    stored_earlier("user@xn--exmple-cua.com")
    auth.register("root@abc.com", PASSWORD, is_admin=True)
    cookie = api.login_cookie("root@abc.com")

    result = api.client.simulate_patch(
        "/v1/users/USER@xn--exmple-cua.com", json={"first_name": "Ü"}, cookies=api.with_cookie(cookie)
    )

    assert result.status_code == 200, result.text
    assert result.json["data"]["email_address"] == "user@xn--exmple-cua.com"
    assert result.json["data"]["first_name"] == "Ü"


def test_a_colliding_pair_stays_two_reachable_accounts_until_an_admin_deletes_one(
    api: Api, auth: AuthService, repo: SqliteUserRepository, cheap_hasher: Argon2Hasher, clock: FakeClock, db_path: Path
) -> None:
    """What `esauth init` reports: each account is found under the spelling it was made from,
    so its owner still logs in, and the admin can delete either by its stored spelling."""
    repo.add(User(email_address=NFD_E, password_hash=cheap_hasher.hash("nfd-owner-password"), created_at=clock()))
    # The known limit (README): typed in the identity form, a sign-up cannot see an older spelling.
    assert api.signup(NFC_E, "nfc-owner-password").status_code == 200
    assert sorted(stored_emails(db_path)) == sorted([NFD_E, NFC_E])

    assert api.login(NFD_E, "nfd-owner-password").json["data"]["email_address"] == NFD_E
    assert api.login(NFC_E, "nfc-owner-password").json["data"]["email_address"] == NFC_E

    auth.register("root@abc.com", PASSWORD, is_admin=True)
    admin = api.with_cookie(api.login_cookie("root@abc.com"))
    assert api.client.simulate_delete(f"/v1/users/{NFD_E}", cookies=admin).status_code == 200
    assert sorted(stored_emails(db_path)) == sorted([NFC_E, "root@abc.com"])
