"""One contract for every PasswordScreen: the fake and the shipped list must both pass it."""

import gzip

import pytest

from domain.passwords import matching_form
from domain.user import MIN_PASSWORD_LENGTH
from infrastructure.passwords.common_list import LIST_FILE, CommonPasswordList, shipped_list
from tests.fakes import FakePasswordScreen


class PasswordScreenContract:
    """Subclasses provide `screen`; its list holds at least these well-known passwords."""

    @pytest.mark.parametrize("password", ["password", "12345678", "qwertyuiop", "iloveyou", "password1"])
    def test_lists_the_best_known_passwords(self, screen, password):
        assert screen.is_listed(password) is True

    @pytest.mark.parametrize("password", ["violet kettle on the roof", "", "x" * 1024, "pass word", "passwordpassword1"])
    def test_does_not_list_other_passwords(self, screen, password):
        assert screen.is_listed(password) is False

    def test_matches_the_matching_form_only(self, screen):
        """Callers pass the matching form; the list does not fold again (so both agree on one rule)."""
        assert screen.is_listed(matching_form("PassWord")) is True
        assert screen.is_listed("PASSWORD") is False


class TestFakePasswordScreen(PasswordScreenContract):
    @pytest.fixture
    def screen(self):
        return FakePasswordScreen()


class TestShippedList(PasswordScreenContract):
    @pytest.fixture
    def screen(self):
        return shipped_list(MIN_PASSWORD_LENGTH)

    def test_is_read_once_per_process(self):
        assert shipped_list(MIN_PASSWORD_LENGTH) is shipped_list(MIN_PASSWORD_LENGTH)

    def test_holds_the_top_100000_in_matching_form(self):
        entries = gzip.decompress(LIST_FILE.read_bytes()).decode("utf-8").split("\n")
        assert entries[-1] == "" and "" not in entries[:-1]
        entries = entries[:-1]
        # 100,000 ranked entries; case-folding makes some of them one (`Password`, `password`).
        assert 96_000 < len(entries) <= 100_000
        assert entries == sorted(set(entries)), "sorted and unique, as the build script writes them"
        assert all(matching_form(entry) == entry for entry in entries)
        assert len(CommonPasswordList.load()) == len(entries)

    def test_keeps_in_memory_only_what_the_length_rule_lets_through(self):
        screen = shipped_list(MIN_PASSWORD_LENGTH)
        assert 30_000 < len(screen) < len(CommonPasswordList.load())
        assert CommonPasswordList.load().is_listed("123456") is True  # on the list, too short anyway
        assert screen.is_listed("123456") is False
