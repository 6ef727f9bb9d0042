"""The Notifier adapters: the file outbox and SMTP (against an in-process SMTP server)."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import re
import smtplib
import stat
import threading
from collections.abc import Iterator
from datetime import timezone
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from infrastructure.mail.outbox import OUTBOX_SENDER, OutboxNotifier
from infrastructure.mail.reset_message import SUBJECT, reset_link
from infrastructure.mail.smtp import SmtpNotifier
from tests.smtp_server import FakeSmtpServer, closed_port

TOKEN = "eyJ1IjoiYWRhQGV4YW1wbGUuY29tIn0.aVZ5QA.Zk9xR3-q_1vTn0bL8sVdW2yKcH4"
"""Shaped like an itsdangerous token; each test checks logs never hold it."""
ODD_TOKEN = "a+b/c=d&e f"
"""Not what the signer makes, but the link must survive any token."""
ADDRESS = "ada.lovelace@example.com"
SENDER = "esauth <no-reply@auth.example>"


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def assert_logs_hold_no_secret(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for secret in (TOKEN, ODD_TOKEN, ADDRESS, *secrets):
            assert secret not in text


# ----------------------------------------------------------------------------------------- outbox


@pytest.fixture
def outbox_dir(tmp_path):
    return tmp_path / "data" / "outbox"


def only_message(directory) -> tuple[str, bytes]:
    (path,) = directory.iterdir()
    return path.name, path.read_bytes()


def test_the_outbox_writes_one_owner_only_eml_file_per_reset(outbox_dir, clock):
    notifier = OutboxNotifier(outbox_dir, None, clock)
    assert stat.S_IMODE(outbox_dir.stat().st_mode) == 0o700

    notifier.send_password_reset(ADDRESS, TOKEN)

    (path,) = outbox_dir.iterdir()
    assert re.fullmatch(r"20260101T120000\.000000Z-[0-9a-f]{16}\.eml", path.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_outbox_files_do_not_collide_and_sort_by_time(outbox_dir, clock):
    notifier = OutboxNotifier(outbox_dir, None, clock)
    notifier.send_password_reset(ADDRESS, TOKEN)
    notifier.send_password_reset(ADDRESS, TOKEN)
    clock.advance(seconds=1)
    notifier.send_password_reset("grace@example.org", "later-token")

    names = sorted(path.name for path in outbox_dir.iterdir())
    assert len(names) == 3
    assert all(name.endswith(".eml") for name in names)  # no temporary file left behind
    assert "later-token" in parse((outbox_dir / names[-1]).read_bytes()).get_content()


def test_the_outbox_message_is_rfc5322_with_headers_and_the_api_call(outbox_dir, clock):
    OutboxNotifier(outbox_dir, None, clock).send_password_reset(ADDRESS, TOKEN)
    _, data = only_message(outbox_dir)

    message = parse(data)
    assert message["To"] == ADDRESS
    assert message["From"] == OUTBOX_SENDER
    assert message["Subject"] == SUBJECT
    assert parsedate_to_datetime(message["Date"]) == clock.now
    assert message["Message-ID"]
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert TOKEN in body
    assert "POST /v1/auth/password-reset/confirm" in body
    (request,) = [line.strip() for line in body.splitlines() if line.strip().startswith("{")]
    assert json.loads(request)["token"] == TOKEN
    assert "new_password" in json.loads(request)
    assert "1 hour" in body
    assert "used once" in body
    assert "token=" not in body


def test_the_raw_outbox_file_is_readable_as_it_stands(outbox_dir, clock):
    """No quoted-printable or base64: a developer can copy the link from the file itself."""
    url = "https://app.example/account/password-reset/with/a/rather/long/path/so/the/line/is/long"
    OutboxNotifier(outbox_dir, url, clock).send_password_reset(ADDRESS, TOKEN)
    _, data = only_message(outbox_dir)

    assert reset_link(url, TOKEN).encode() in data
    assert b"Content-Transfer-Encoding: 7bit" in data


@pytest.mark.parametrize(
    "reset_url, token, link",
    [
        ("https://app.example/reset", TOKEN, f"https://app.example/reset?token={TOKEN}"),
        ("https://app.example/reset?lang=fr", TOKEN, f"https://app.example/reset?lang=fr&token={TOKEN}"),
        ("https://app.example/reset?", TOKEN, f"https://app.example/reset?token={TOKEN}"),
        (
            "https://app.example/reset?token=old&lang=fr%20CA",
            TOKEN,
            f"https://app.example/reset?lang=fr%20CA&token={TOKEN}",
        ),
        ("https://app.example/#/reset", TOKEN, f"https://app.example/?token={TOKEN}#/reset"),
        ("https://app.example/reset", ODD_TOKEN, "https://app.example/reset?token=a%2Bb%2Fc%3Dd%26e+f"),
    ],
)
def test_with_a_reset_url_the_message_carries_the_link(outbox_dir, clock, reset_url, token, link):
    OutboxNotifier(outbox_dir, reset_url, clock).send_password_reset(ADDRESS, token)
    _, data = only_message(outbox_dir)

    body = parse(data).get_content()
    assert link in body.split()
    assert "POST /v1/auth/password-reset/confirm" not in body
    assert "1 hour" in body and "used once" in body


def test_an_outbox_that_cannot_be_written_logs_without_raising_or_leaking(outbox_dir, clock, caplog):
    notifier = OutboxNotifier(outbox_dir, None, clock)
    outbox_dir.rmdir()
    outbox_dir.write_text("not a directory")  # works as root too, unlike chmod

    with caplog.at_level(logging.INFO, logger="esauth"):
        notifier.send_password_reset(ADDRESS, TOKEN)

    assert "not written to the outbox" in caplog.text
    assert "example.com" in caplog.text
    assert_logs_hold_no_secret(caplog)


def test_an_address_that_cannot_be_a_header_is_logged_not_raised(outbox_dir, clock, caplog):
    notifier = OutboxNotifier(outbox_dir, None, clock)
    with caplog.at_level(logging.INFO, logger="esauth"):
        notifier.send_password_reset("ada@example.com\r\nBcc: eve@evil.example", TOKEN)

    assert list(outbox_dir.iterdir()) == []
    assert "ValueError" in caplog.text
    assert_logs_hold_no_secret(caplog, "ada@example.com", "eve@evil")


def test_an_outbox_open_to_others_is_warned_about(outbox_dir, clock, caplog):
    outbox_dir.mkdir(parents=True, mode=0o755)
    outbox_dir.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="esauth"):
        OutboxNotifier(outbox_dir, None, clock)
    assert "should be mode 0700" in caplog.text


# ------------------------------------------------------------------------------------------- SMTP


@pytest.fixture
def smtp_server() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def make_notifier(clock) -> Iterator:
    """Builds SmtpNotifiers that are always closed, and checks each one ended its worker."""
    made: list[SmtpNotifier] = []

    def make(port: int, **options) -> SmtpNotifier:
        options.setdefault("starttls", False)
        options.setdefault("timeout_s", 5.0)
        options.setdefault("clock", clock)
        notifier = SmtpNotifier("127.0.0.1", port, SENDER, **options)
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        assert notifier.close(timeout=10)
    assert not worker_threads()


def worker_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "esauth-smtp-notifier"]


def test_a_reset_e_mail_arrives_through_smtp_with_the_token(smtp_server, make_notifier, clock):
    notifier = make_notifier(smtp_server.port, reset_url="https://app.example/reset?lang=fr")
    notifier.send_password_reset(ADDRESS, TOKEN)
    assert notifier.close(timeout=10)

    (received,) = smtp_server.messages
    assert received.mail_from == "no-reply@auth.example"
    assert received.rcpt_tos == (ADDRESS,)
    assert received.auth is None
    message = parse(received.data)
    assert message["To"] == ADDRESS
    assert message["From"] == SENDER
    assert message["Subject"] == SUBJECT
    assert parsedate_to_datetime(message["Date"]) == clock.now
    assert f"https://app.example/reset?lang=fr&token={TOKEN}" in message.get_content()
    assert "EHLO" in smtp_server.commands
    assert "STARTTLS" not in smtp_server.commands


def test_the_fake_server_unstuffs_dots_and_answers_the_small_commands(smtp_server):
    """The test server itself: what smtplib dot-stuffs comes back as sent; RSET and NOOP answer."""
    raw = b"Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n"
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        assert client.noop()[0] == 250
        client.mail("first@example.org")
        assert client.rset()[0] == 250
        assert client.helo()[0] == 250
        client.sendmail("a@example.org", ["b@example.org", "c@example.org"], raw)

    (received,) = smtp_server.messages
    assert received.data == raw
    assert received.mail_from == "a@example.org"
    assert received.rcpt_tos == ("b@example.org", "c@example.org")
    assert smtp_server.commands[-1] == "QUIT"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_with_a_username_the_notifier_authenticates(make_notifier, mechanism, caplog):
    with FakeSmtpServer(auth_mechanisms=(mechanism,), credentials=("mailer", "s3cret pass")) as server:
        with caplog.at_level(logging.INFO, logger="esauth"):
            notifier = make_notifier(server.port, username="mailer", password="s3cret pass")
            notifier.send_password_reset(ADDRESS, TOKEN)
            assert notifier.close(timeout=10)

        (received,) = server.messages
        assert received.auth == (mechanism, "mailer", "s3cret pass")
        assert TOKEN in parse(received.data).get_content()
    assert "without STARTTLS" in caplog.text
    assert_logs_hold_no_secret(caplog, "s3cret pass")


def test_wrong_smtp_credentials_are_logged_not_raised(make_notifier, caplog):
    with FakeSmtpServer(auth_mechanisms=("PLAIN",), credentials=("mailer", "right")) as server:
        with caplog.at_level(logging.INFO, logger="esauth"):
            notifier = make_notifier(server.port, username="mailer", password="wrong")
            notifier.send_password_reset(ADDRESS, TOKEN)
            assert notifier.close(timeout=10)
        assert server.messages == []
    assert "SMTPAuthenticationError (SMTP 535)" in caplog.text
    assert_logs_hold_no_secret(caplog, "wrong")


def test_a_refused_connection_is_logged_without_the_token(make_notifier, caplog):
    notifier = make_notifier(closed_port())
    with caplog.at_level(logging.INFO, logger="esauth"):
        notifier.send_password_reset(ADDRESS, TOKEN)  # returns: nothing raised here
        assert notifier.close(timeout=10)

    (record,) = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "ConnectionRefusedError" in record.getMessage()
    assert "example.com" in record.getMessage()
    assert_logs_hold_no_secret(caplog)


@pytest.mark.parametrize(
    "step, reply, error",
    [
        ("GREETING", "554 5.3.2 No service here", "SMTPConnectError (SMTP 554)"),
        ("MAIL", "550 5.7.1 Sender refused", "SMTPSenderRefused (SMTP 550)"),
        ("RCPT", "550 5.1.1 No such user", "SMTPRecipientsRefused"),
        ("DATA", "554 5.5.0 No data for you", "SMTPDataError (SMTP 554)"),
        ("DATA_END", "554 5.6.0 Message rejected", "SMTPDataError (SMTP 554)"),
    ],
)
def test_a_5xx_answer_is_logged_without_the_token(make_notifier, caplog, step, reply, error):
    with FakeSmtpServer(refuse={step: reply}) as server:
        notifier = make_notifier(server.port)
        with caplog.at_level(logging.INFO, logger="esauth"):
            notifier.send_password_reset(ADDRESS, TOKEN)
            assert notifier.close(timeout=10)
        assert server.messages == []

    assert error in caplog.text
    assert "example.com" in caplog.text
    assert_logs_hold_no_secret(caplog)


def test_starttls_not_offered_means_no_message_sent_in_clear(smtp_server, make_notifier, caplog):
    notifier = make_notifier(smtp_server.port, starttls=True, username="mailer", password="s3cret pass")
    with caplog.at_level(logging.INFO, logger="esauth"):
        notifier.send_password_reset(ADDRESS, TOKEN)
        assert notifier.close(timeout=10)

    assert "SMTPNotSupportedError" in caplog.text
    assert smtp_server.messages == []
    assert not {"AUTH", "MAIL", "RCPT", "DATA"} & set(smtp_server.commands)
    assert_logs_hold_no_secret(caplog, "s3cret pass")


def test_the_worker_survives_a_failure_and_sends_the_next(make_notifier, caplog):
    with FakeSmtpServer(auth_mechanisms=("PLAIN",), credentials=("mailer", "right")) as server:
        notifier = make_notifier(server.port, username="mailer", password="right")
        with caplog.at_level(logging.INFO, logger="esauth"):
            notifier.send_password_reset("bad\naddress@example.com", TOKEN)
            notifier.send_password_reset(ADDRESS, TOKEN)
            assert notifier.close(timeout=10)
        assert len(server.messages) == 1
    assert "ValueError" in caplog.text


def test_sending_returns_before_the_server_even_answers(make_notifier):
    hold = threading.Event()
    with FakeSmtpServer(hold=hold) as server:
        notifier = make_notifier(server.port)
        notifier.send_password_reset(ADDRESS, TOKEN)
        assert server.wait_for_connections(1)
        assert server.messages == []  # the caller is back while the SMTP session is stuck
        hold.set()
        assert notifier.close(timeout=10)
        assert len(server.messages) == 1


def test_a_full_queue_drops_with_a_warning(make_notifier, caplog):
    hold = threading.Event()
    with FakeSmtpServer(hold=hold) as server:
        notifier = make_notifier(server.port, queue_size=1)
        with caplog.at_level(logging.INFO, logger="esauth"):
            notifier.send_password_reset(ADDRESS, TOKEN)
            assert server.wait_for_connections(1)  # the worker holds the first one
            notifier.send_password_reset(ADDRESS, TOKEN)  # queued
            notifier.send_password_reset(ADDRESS, TOKEN)  # no room
            hold.set()
            assert notifier.close(timeout=10)
        assert len(server.messages) == 2
    assert "queue is full (1)" in caplog.text
    assert_logs_hold_no_secret(caplog)


def test_the_worker_starts_on_first_use_and_close_stops_it(smtp_server, make_notifier, caplog):
    notifier = make_notifier(smtp_server.port)
    assert not worker_threads()

    notifier.send_password_reset(ADDRESS, TOKEN)
    (worker,) = worker_threads()
    assert worker.daemon

    assert notifier.close(timeout=10)
    assert not worker.is_alive()
    assert len(smtp_server.messages) == 1

    with caplog.at_level(logging.WARNING, logger="esauth"):
        notifier.send_password_reset(ADDRESS, TOKEN)  # after close: dropped, no new worker
    assert not worker_threads()
    assert "closed" in caplog.text
    assert notifier.close(timeout=1)


def test_closing_an_unused_notifier_starts_nothing(make_notifier):
    notifier = make_notifier(closed_port())
    assert notifier.close(timeout=1)
    assert not worker_threads()


def test_close_gives_up_after_its_timeout_and_drops_the_rest(make_notifier, caplog):
    hold = threading.Event()
    with FakeSmtpServer(hold=hold) as server:
        notifier = make_notifier(server.port)
        notifier.send_password_reset(ADDRESS, TOKEN)
        assert server.wait_for_connections(1)
        notifier.send_password_reset(ADDRESS, TOKEN)
        with caplog.at_level(logging.WARNING, logger="esauth"):
            assert not notifier.close(timeout=0.2)
        assert "not drained" in caplog.text
        hold.set()
        (worker,) = worker_threads()
        worker.join(10)  # finishes the message in hand, drops the queued one, ends
        assert not worker.is_alive()
        assert len(server.messages) == 1


def test_the_date_header_is_utc_from_the_clock(smtp_server, make_notifier, clock):
    notifier = make_notifier(smtp_server.port)
    notifier.send_password_reset(ADDRESS, TOKEN)
    notifier.close(timeout=10)
    (received,) = smtp_server.messages
    assert parsedate_to_datetime(parse(received.data)["Date"]).astimezone(timezone.utc) == clock.now
