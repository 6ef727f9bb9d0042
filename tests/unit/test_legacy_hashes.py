"""The seed's werkzeug pbkdf2 hashes verify as werkzeug did, and UpgradingHasher retires them."""

import hashlib
import time

import pytest

from infrastructure.hashing.argon2_hasher import Argon2Hasher, Argon2Parameters
from infrastructure.hashing.legacy_hashes import MAX_ITERATIONS, is_werkzeug_pbkdf2, verify_werkzeug_pbkdf2
from infrastructure.hashing.upgrading_hasher import UpgradingHasher
from tests.conftest import CHEAP_ARGON2
from tests.contract.test_password_hasher import PasswordHasherContract

# Made once by werkzeug 0.9.6 itself (the version the seed's responses name), with
# generate_password_hash(password) and generate_password_hash(password, method="pbkdf2:sha256").
WERKZEUG_0_9_6_VECTORS = [
    ("pbkdf2:sha1:1000$jqBJyhpa$6f77e0a067149ae17f415a391678b05c05eeabeb", "test"),
    ("pbkdf2:sha1:1000$bsg3WUKj$10b3189960aaed48fbe518452453ae28fba9635e", "p\u00e4ssw\u00f6rd \u20ac"),
    (
        "pbkdf2:sha256:1000$oZ2zdfLQ$17018f612b36e70f62ced427910cab8e05cf501e17358542b3e15fddd9631add",
        "correct horse battery staple",
    ),
]


def werkzeug_hash(password: str, hash_name: str = "sha1", iterations: int | None = 1000, salt: str = "Ej9ZDw3H") -> str:
    """What generate_password_hash stores; `iterations=None` leaves the count out of the method."""
    rounds = 1000 if iterations is None else iterations
    digest = hashlib.pbkdf2_hmac(hash_name, password.encode("utf-8"), salt.encode("utf-8"), rounds).hex()
    method = f"pbkdf2:{hash_name}" if iterations is None else f"pbkdf2:{hash_name}:{iterations}"
    return f"{method}${salt}${digest}"


@pytest.mark.parametrize("stored, password", WERKZEUG_0_9_6_VECTORS)
def test_hashes_made_by_werkzeug_verify(stored, password):
    assert is_werkzeug_pbkdf2(stored) is True
    assert verify_werkzeug_pbkdf2(stored, password) is True
    assert verify_werkzeug_pbkdf2(stored, password + "x") is False


@pytest.mark.parametrize("hash_name", ["sha1", "sha256"])
@pytest.mark.parametrize("iterations", [1, 1000, 2500, 260_000, None])
def test_computed_hashes_verify_with_and_without_an_iteration_count(hash_name, iterations):
    stored = werkzeug_hash("s3cret pass", hash_name, iterations)
    assert is_werkzeug_pbkdf2(stored) is True
    assert verify_werkzeug_pbkdf2(stored, "s3cret pass") is True


def test_a_missing_count_means_werkzeug_0_9s_default_of_1000_for_sha256_too():
    """werkzeug 0.9.6's check_password_hash accepts this hash (checked once by hand)."""
    at_1000 = hashlib.pbkdf2_hmac("sha256", b"pw", b"salt1234", 1000).hex()
    at_260000 = hashlib.pbkdf2_hmac("sha256", b"pw", b"salt1234", 260_000).hex()
    assert verify_werkzeug_pbkdf2(f"pbkdf2:sha256$salt1234${at_1000}", "pw") is True
    assert verify_werkzeug_pbkdf2(f"pbkdf2:sha256$salt1234${at_260000}", "pw") is False


@pytest.mark.parametrize("wrong", ["", "s3cret pasS", "s3cret pass ", " s3cret pass", "s3cret", "s3cret pass\x01"])
def test_a_wrong_password_does_not_verify(wrong):
    # Not "s3cret pass\x00": HMAC pads short keys with zeros, so PBKDF2 (werkzeug's too) cannot
    # tell trailing NULs apart; that reveals nothing to anyone who does not know the password.
    assert verify_werkzeug_pbkdf2(werkzeug_hash("s3cret pass"), wrong) is False


def test_the_salt_and_the_count_are_part_of_the_hash():
    stored = werkzeug_hash("pw", salt="aaaaaaaa")
    method, _, digest = stored.split("$")
    assert verify_werkzeug_pbkdf2(f"{method}$aaaaaaab${digest}", "pw") is False
    assert verify_werkzeug_pbkdf2(stored.replace(":1000$", ":1001$"), "pw") is False
    assert verify_werkzeug_pbkdf2(stored.replace("pbkdf2:sha1", "pbkdf2:sha256"), "pw") is False


GOOD_SHA1 = werkzeug_hash("pw")
GOOD_DIGEST = GOOD_SHA1.rsplit("$", 1)[1]

MALFORMED = [
    "",
    "pw",
    "pbkdf2",
    "pbkdf2:sha1:1000",
    "pbkdf2:sha1:1000$Ej9ZDw3H",
    f"pbkdf2:sha1:1000$Ej9ZDw3H${GOOD_DIGEST}$",
    f"pbkdf2:sha1:1000$Ej$9ZDw3H${GOOD_DIGEST}",
    f"pbkdf2$Ej9ZDw3H${GOOD_DIGEST}",  # no hash name
    f"pbkdf2:md5:1000$Ej9ZDw3H${GOOD_DIGEST[:32]}",  # unsupported hash
    f"pbkdf2:sha512:1000$Ej9ZDw3H${GOOD_DIGEST * 3}",
    f"pbkdf2:SHA1:1000$Ej9ZDw3H${GOOD_DIGEST}",
    f"sha1$Ej9ZDw3H${GOOD_DIGEST}",  # werkzeug's salted hmac form, not pbkdf2
    f"plain$${'pw'}",
    f"pbkdf2:sha1:0$Ej9ZDw3H${GOOD_DIGEST}",
    f"pbkdf2:sha1:-1000$Ej9ZDw3H${GOOD_DIGEST}",
    f"pbkdf2:sha1:$Ej9ZDw3H${GOOD_DIGEST}",
    f"pbkdf2:sha1:1_000$Ej9ZDw3H${GOOD_DIGEST}",
    f"pbkdf2:sha1: 1000$Ej9ZDw3H${GOOD_DIGEST}",
    f"pbkdf2:sha1:1000 $Ej9ZDw3H${GOOD_DIGEST}",
    f"pbkdf2:sha1:\u0661\u0660\u0660\u0660$Ej9ZDw3H${GOOD_DIGEST}",  # int() would read Arabic-Indic digits
    f"pbkdf2:sha1:1000:1$Ej9ZDw3H${GOOD_DIGEST}",
    f"pbkdf2:sha1:1000$Ej9ZDw3H${GOOD_DIGEST.upper()}",
    f"pbkdf2:sha1:1000$Ej9ZDw3H${GOOD_DIGEST[:-1]}",
    f"pbkdf2:sha1:1000$Ej9ZDw3H${GOOD_DIGEST}0",
    f"pbkdf2:sha1:1000$Ej9ZDw3H${'g' * 40}",
    f"pbkdf2:sha1:1000$Ej9ZDw3H${GOOD_DIGEST}\n",
    f"pbkdf2:sha1:1000$Ej\x009ZDw3H${GOOD_DIGEST}",
    f"pbkdf2:sha1:1000${'s' * 10_000}${GOOD_DIGEST}",
    " " + GOOD_SHA1,
    "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$aGFzaA",
    None,
    1000,
    GOOD_SHA1.encode(),
    ["pbkdf2:sha1:1000", "Ej9ZDw3H", GOOD_DIGEST],
]


@pytest.mark.parametrize("stored", MALFORMED, ids=lambda value: repr(value)[:48])
def test_malformed_or_unsupported_hashes_are_refused_without_raising(stored):
    assert is_werkzeug_pbkdf2(stored) is False
    assert verify_werkzeug_pbkdf2(stored, "pw") is False


@pytest.mark.parametrize("password", [None, b"pw", 123, "\udcff"])
def test_a_password_that_is_not_text_does_not_verify_and_does_not_raise(password):
    assert verify_werkzeug_pbkdf2(GOOD_SHA1, password) is False


@pytest.mark.parametrize("count", [MAX_ITERATIONS + 1, 99_999_999, 10**12, 2**64])
def test_a_crafted_huge_iteration_count_is_refused_at_once(count):
    stored = f"pbkdf2:sha256:{count}$Ej9ZDw3H${'0' * 64}"
    started = time.perf_counter()
    assert verify_werkzeug_pbkdf2(stored, "pw") is False
    assert is_werkzeug_pbkdf2(stored) is False
    assert time.perf_counter() - started < 0.05


def test_the_iteration_cap_itself_is_accepted():
    assert is_werkzeug_pbkdf2(f"pbkdf2:sha256:{MAX_ITERATIONS}$Ej9ZDw3H${'0' * 64}") is True


class TestUpgradingHasherContract(PasswordHasherContract):
    """UpgradingHasher is a PasswordHasher like any other for argon2 hashes."""

    @pytest.fixture
    def hasher(self):
        return UpgradingHasher(Argon2Hasher(CHEAP_ARGON2))

    @pytest.fixture
    def stronger(self):
        return UpgradingHasher(
            Argon2Hasher(Argon2Parameters(CHEAP_ARGON2.time_cost + 1, CHEAP_ARGON2.memory_cost_kib * 2, 1))
        )


class CountingArgon2(Argon2Hasher):
    def __init__(self) -> None:
        super().__init__(CHEAP_ARGON2)
        self.verify_calls = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verify_calls += 1
        return super().verify(password_hash, password)


@pytest.mark.parametrize("stored, password", WERKZEUG_0_9_6_VECTORS)
def test_upgrading_hasher_verifies_legacy_hashes_and_always_wants_them_replaced(stored, password):
    hasher = UpgradingHasher(Argon2Hasher(CHEAP_ARGON2))
    assert hasher.verify(stored, password) is True
    assert hasher.verify(stored, password + "!") is False
    assert hasher.needs_rehash(stored) is True


def test_upgrading_hasher_only_ever_makes_argon2_hashes():
    hasher = UpgradingHasher(Argon2Hasher(CHEAP_ARGON2))
    new = hasher.hash("test")
    assert new.startswith("$argon2id$")
    assert hasher.needs_rehash(new) is False
    assert hasher.verify(new, "test") is True
    assert hasher.params == CHEAP_ARGON2


def test_a_legacy_verification_costs_an_argon2_verify_too_so_timing_does_not_reveal_accounts():
    """An unknown email costs the service one argon2 verify; a legacy account must not cost less."""
    current = CountingArgon2()
    hasher = UpgradingHasher(current)
    stored, password = WERKZEUG_0_9_6_VECTORS[0]
    for attempt in (password, "wrong"):
        before = current.verify_calls
        hasher.verify(stored, attempt)
        assert current.verify_calls == before + 1


def test_a_malformed_legacy_looking_hash_falls_to_argon2_and_fails():
    hasher = UpgradingHasher(Argon2Hasher(CHEAP_ARGON2))
    huge = f"pbkdf2:sha256:{MAX_ITERATIONS + 1}$Ej9ZDw3H${'0' * 64}"
    assert hasher.verify(huge, "pw") is False
    assert hasher.needs_rehash(huge) is True
