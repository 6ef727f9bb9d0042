"""One contract for every PasswordHasher: the fake and argon2 must both pass it."""

import pytest

from infrastructure.argon2_hasher import Argon2Hasher, Argon2Parameters
from tests.conftest import CHEAP_ARGON2
from tests.fakes import FakeHasher


class PasswordHasherContract:
    """Subclasses provide `hasher` and `stronger`: the same kind with other parameters."""

    def test_a_hash_verifies_its_password_only(self, hasher):
        hashed = hasher.hash("correct horse")
        assert hashed != "correct horse"
        assert hasher.verify(hashed, "correct horse") is True
        assert hasher.verify(hashed, "correct horsE") is False
        assert hasher.verify(hashed, "") is False

    def test_a_malformed_hash_does_not_verify_and_needs_rehash(self, hasher):
        for broken in ("", "plain", "$argon2id$v=19$garbage"):
            assert hasher.verify(broken, "anything") is False
            assert hasher.needs_rehash(broken) is True

    def test_own_hashes_need_no_rehash_but_other_parameters_do(self, hasher, stronger):
        assert hasher.needs_rehash(hasher.hash("pw")) is False
        assert stronger.needs_rehash(hasher.hash("pw")) is True
        assert stronger.verify(hasher.hash("pw"), "pw") is True  # old hashes still verify


class TestFakeHasher(PasswordHasherContract):
    @pytest.fixture
    def hasher(self):
        return FakeHasher(cost=1)

    @pytest.fixture
    def stronger(self):
        return FakeHasher(cost=2)


class TestArgon2Hasher(PasswordHasherContract):
    @pytest.fixture
    def hasher(self):
        return Argon2Hasher(CHEAP_ARGON2)

    @pytest.fixture
    def stronger(self):
        return Argon2Hasher(Argon2Parameters(CHEAP_ARGON2.time_cost + 1, CHEAP_ARGON2.memory_cost_kib * 2, 1))

    def test_hashes_are_salted(self, hasher):
        assert hasher.hash("same") != hasher.hash("same")

    def test_hashes_are_argon2id_with_the_given_parameters(self, hasher):
        assert hasher.hash("pw").startswith("$argon2id$v=19$m=8,t=1,p=1$")
