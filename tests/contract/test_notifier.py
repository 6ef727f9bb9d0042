"""One contract for every Notifier: the recording fake, the file outbox and SMTP."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Callable

import pytest

from infrastructure.mail.outbox import OutboxNotifier
from infrastructure.mail.smtp import SmtpNotifier
from tests.fakes import RecordingNotifier
from tests.smtp_server import FakeSmtpServer

Delivered = Callable[[], list[tuple[str, str]]]
"""(recipient, text) of every message delivered so far; the text holds the token somewhere."""


class NotifierContract:
    """Subclasses provide `notifier` and `delivered`."""

    def test_a_reset_reaches_its_recipient_with_the_token(self, notifier, delivered: Delivered):
        notifier.send_password_reset("ada@example.com", "tok.EN-123_x")
        messages = delivered()
        assert len(messages) == 1
        recipient, text = messages[0]
        assert recipient == "ada@example.com"
        assert "tok.EN-123_x" in text

    def test_each_request_is_its_own_message(self, notifier, delivered: Delivered):
        notifier.send_password_reset("ada@example.com", "first-token")
        notifier.send_password_reset("bob@example.com", "second-token")
        messages = sorted(delivered())
        assert [recipient for recipient, _ in messages] == ["ada@example.com", "bob@example.com"]
        assert "first-token" in messages[0][1] and "second-token" in messages[1][1]
        assert "second-token" not in messages[0][1]

    def test_a_verification_reaches_its_recipient_with_the_token(self, notifier, delivered: Delivered):
        notifier.send_email_verification("ada@example.com", "verify.TOKEN-1")
        notifier.send_email_verification("new@example.org", "change.TOKEN-2", change=True)
        messages = sorted(delivered())
        assert [recipient for recipient, _ in messages] == ["ada@example.com", "new@example.org"]
        assert "verify.TOKEN-1" in messages[0][1] and "change.TOKEN-2" in messages[1][1]

    def test_the_old_address_is_told_the_new_one(self, notifier, delivered: Delivered):
        notifier.send_email_changed("ada@example.com", "ada@new.example.org")
        [(recipient, text)] = delivered()
        assert recipient == "ada@example.com"
        assert "ada@new.example.org" in text


class TestRecordingNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self):
        return RecordingNotifier()

    @pytest.fixture
    def delivered(self, notifier) -> Delivered:
        return notifier.everything


def parse(raw: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return str(message["To"]), message.get_body(("plain",)).get_content()


class TestOutboxNotifier(NotifierContract):
    @pytest.fixture
    def notifier(self, tmp_path: Path, clock):
        return OutboxNotifier(tmp_path / "outbox", None, clock)

    @pytest.fixture
    def delivered(self, tmp_path: Path) -> Delivered:
        return lambda: [parse(path.read_bytes()) for path in sorted((tmp_path / "outbox").glob("*.eml"))]


class TestSmtpNotifier(NotifierContract):
    @pytest.fixture
    def server(self):
        with FakeSmtpServer() as server:
            yield server

    @pytest.fixture
    def notifier(self, server: FakeSmtpServer, clock):
        notifier = SmtpNotifier(server.host, server.port, "esauth@example.com", starttls=False, timeout_s=5.0, clock=clock)
        yield notifier
        notifier.close(timeout=10)

    @pytest.fixture
    def delivered(self, notifier: SmtpNotifier, server: FakeSmtpServer) -> Delivered:
        def read() -> list[tuple[str, str]]:
            assert notifier.close(timeout=10)  # lets the worker deliver what it queued
            return [parse(message.data) for message in server.messages]

        return read
