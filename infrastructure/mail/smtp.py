"""A Notifier that sends esauth's e-mails through an SMTP server (stdlib smtplib).

Each send_* only queues: one background worker thread does the SMTP conversation, so
neither a slow mail server nor whether a message was sent at all shows in the time the HTTP
answer takes. The queue is bounded; when it is full the message is dropped with a warning.
Failures are logged with the exception type, the SMTP reply code when there is one, and the
recipient's domain: never the token, the message, the full address or the SMTP password.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import ssl
import threading
from datetime import datetime
from email.message import EmailMessage
from typing import Callable

from infrastructure.mail.address_messages import build_changed_message, build_verification_message
from infrastructure.clock import utc_now
from infrastructure.mail.reset_message import build_reset_message, recipient_domain
from ports.clock import Clock

log = logging.getLogger("esauth.notifier")

_STOP = object()


class SmtpNotifier:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout_s: float = 10.0,
        reset_url: str | None = None,
        verify_url: str | None = None,
        clock: Clock = utc_now,
        queue_size: int = 1000,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout_s = timeout_s
        self._reset_url = reset_url
        self._verify_url = verify_url
        self._clock = clock
        self._queue_size = queue_size
        self._queue: queue.Queue = queue.Queue()  # bounded by send_password_reset, so close() never blocks
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._abandon = threading.Event()
        self._tls: ssl.SSLContext | None = None
        if username and not starttls:
            log.warning("SMTP login to %s:%s without STARTTLS: the password travels in clear", host, port)

    def send_password_reset(self, email_address: str, token: str) -> None:
        self._enqueue("password-reset", email_address, lambda now: build_reset_message(
            sender=self._sender, recipient=email_address, token=token, reset_url=self._reset_url, now=now
        ))

    def send_email_verification(self, email_address: str, token: str, change: bool = False) -> None:
        self._enqueue("email-verification", email_address, lambda now: build_verification_message(
            sender=self._sender, recipient=email_address, token=token, verify_url=self._verify_url, change=change, now=now
        ))

    def send_email_changed(self, email_address: str, new_email_address: str) -> None:
        self._enqueue("email-changed", email_address, lambda now: build_changed_message(
            sender=self._sender, recipient=email_address, new_email=new_email_address, now=now
        ))

    def _enqueue(self, what: str, email_address: str, build: Callable[[datetime], EmailMessage]) -> None:
        with self._lock:
            if self._closed:
                log.warning(
                    "SMTP notifier is closed: %s e-mail for a recipient at %s dropped", what, recipient_domain(email_address)
                )
                return
            if self._queue.qsize() >= self._queue_size:
                log.warning(
                    "SMTP notifier queue is full (%d): %s e-mail for a recipient at %s dropped",
                    self._queue_size,
                    what,
                    recipient_domain(email_address),
                )
                return
            self._queue.put((what, email_address, build))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="esauth-smtp-notifier", daemon=True)
                self._thread.start()

    def close(self, timeout: float = 10.0) -> bool:
        """Stops taking messages, sends those queued and stops the worker, waiting up to `timeout`
        seconds. True when everything queued was handled; False when time ran out, in which case the
        worker finishes the message in hand, drops the rest and ends by itself (it is a daemon)."""
        with self._lock:
            self._closed = True
            thread = self._thread
            if thread is None:
                return True
            self._queue.put(_STOP)
        thread.join(timeout)
        if not thread.is_alive():
            return True
        self._abandon.set()
        log.warning(
            "SMTP notifier not drained within %.1fs: up to %d queued e-mail(s) dropped",
            timeout,
            max(self._queue.qsize() - 1, 0),
        )
        return False

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._abandon.is_set():
                continue
            self._deliver(*item)

    def _deliver(self, what: str, email_address: str, build: Callable[[datetime], EmailMessage]) -> None:
        domain = recipient_domain(email_address)
        try:
            message = build(self._clock())
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)
            try:
                smtp.ehlo()
                if self._starttls:
                    # Raises SMTPNotSupportedError when the server does not offer it: never falls back to clear.
                    smtp.starttls(context=self._tls_context())
                    smtp.ehlo()
                if self._username:
                    smtp.login(self._username, self._password or "")
                # The envelope goes to the account's address only, whatever a To header parses to.
                smtp.send_message(message, to_addrs=[email_address])
            finally:
                _quit(smtp)
        except Exception as error:  # the port must not raise; the worker must keep running
            code = getattr(error, "smtp_code", None)
            log.error(
                "%s e-mail for a recipient at %s not sent via %s:%s: %s%s",
                what,
                domain,
                self._host,
                self._port,
                type(error).__name__,
                f" (SMTP {code})" if isinstance(code, int) else "",
            )
            return
        log.info("%s e-mail sent for a recipient at %s", what, domain)

    def _tls_context(self) -> ssl.SSLContext:
        """Certificate and host name checked against the system's CAs; made once, by the worker."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls


def _quit(smtp: smtplib.SMTP) -> None:
    """QUIT politely; whatever the answer, the connection ends closed (a message already
    accepted stays sent even when the server then misbehaves)."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
