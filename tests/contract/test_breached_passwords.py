"""One contract for every BreachedPasswords: the fake and the range adapter (against a range
server on loopback) must both pass it; then what only the adapter does: k-anonymity, padding,
outages that never block."""

import hashlib
import logging
import time

import pytest

from infrastructure.passwords.pwned_range import PwnedPasswordsRange
from tests.fakes import FakeBreachedPasswords
from tests.range_server import RangeServer

BREACHED = {"Tr0ub4dor&3": 12, "correct horse battery staple": 3}


class BreachedPasswordsContract:
    """Subclasses provide `breached`, which knows BREACHED."""

    def test_a_breached_password_is_breached_exactly_as_typed(self, breached):
        assert breached.is_breached("Tr0ub4dor&3") is True
        assert breached.is_breached("correct horse battery staple") is True
        assert breached.is_breached("tr0ub4dor&3") is False  # the service hashes what is typed

    def test_other_passwords_are_not(self, breached):
        assert breached.is_breached("violet kettle on the roof") is False
        assert breached.is_breached("é" * 8) is False


class TestFakeBreachedPasswords(BreachedPasswordsContract):
    @pytest.fixture
    def breached(self):
        return FakeBreachedPasswords(frozenset(BREACHED))


@pytest.fixture
def server():
    server = RangeServer(BREACHED)
    yield server
    server.close()


class TestPwnedPasswordsRange(BreachedPasswordsContract):
    @pytest.fixture
    def breached(self, server):
        return PwnedPasswordsRange(server.url, timeout_s=2)

    def test_only_five_hex_characters_of_the_sha1_leave_and_padding_is_asked_for(self, breached, server):
        breached.is_breached("Tr0ub4dor&3")
        (path, headers), = server.requests
        digest = hashlib.sha1(b"Tr0ub4dor&3").hexdigest().upper()
        assert path == f"/range/{digest[:5]}"
        assert headers.get("Add-Padding") == "true"
        assert digest[5:] not in path and "Tr0ub4dor" not in str(headers)

    def test_a_padding_line_is_not_a_breach(self, breached, server):
        server.pad_with("only padding here")
        assert breached.is_breached("only padding here") is False

    def test_a_failing_service_never_blocks_and_is_logged_once_until_it_answers(self, breached, server, caplog):
        server.status = 503
        with caplog.at_level(logging.INFO, logger="esauth"):
            assert breached.is_breached("Tr0ub4dor&3") is False
            assert breached.is_breached("Tr0ub4dor&3") is False
            server.status = 200
            assert breached.is_breached("Tr0ub4dor&3") is True
        messages = [record.getMessage() for record in caplog.records]
        assert len(messages) == 2, messages
        assert "does not answer" in messages[0] and "answers again" in messages[1]
        assert "Tr0ub4dor" not in " ".join(messages)

    def test_a_slow_service_is_given_up_on_within_the_time_out(self, server):
        server.delay_s = 1.0
        started = time.monotonic()
        assert PwnedPasswordsRange(server.url, timeout_s=0.2).is_breached("Tr0ub4dor&3") is False
        assert time.monotonic() - started < 0.9

    def test_a_service_that_is_not_there_never_blocks(self, server):
        url = server.url
        server.close()
        assert PwnedPasswordsRange(url, timeout_s=0.5).is_breached("Tr0ub4dor&3") is False
