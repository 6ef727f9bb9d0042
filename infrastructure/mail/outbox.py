"""A Notifier that writes each e-mail (reset, verification, change notice) as a file a developer can read.

The default for the embedded run: no mail server, one `<UTC timestamp>-<random>.eml` per message in
an owner-only directory (the files hold live tokens). A file appears whole or not at all.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

from infrastructure.mail.address_messages import build_changed_message, build_verification_message
from infrastructure.mail.reset_message import build_reset_message, recipient_domain
from ports.clock import Clock

log = logging.getLogger("esauth.notifier")

OUTBOX_SENDER = "esauth <esauth@localhost>"


class OutboxNotifier:
    def __init__(self, directory: Path, reset_url: str | None, clock: Clock, verify_url: str | None = None) -> None:
        self.directory = Path(directory)
        self._reset_url = reset_url
        self._verify_url = verify_url
        self._clock = clock
        self._ensure_directory()
        if self.directory.stat().st_mode & 0o077:
            log.warning("%s is open to other users; it holds live reset tokens and should be mode 0700", self.directory)

    def send_password_reset(self, email_address: str, token: str) -> None:
        self._deliver("password-reset", email_address, lambda now: build_reset_message(
            sender=OUTBOX_SENDER, recipient=email_address, token=token, reset_url=self._reset_url, now=now
        ))

    def send_email_verification(self, email_address: str, token: str, change: bool = False) -> None:
        self._deliver("email-verification", email_address, lambda now: build_verification_message(
            sender=OUTBOX_SENDER, recipient=email_address, token=token, verify_url=self._verify_url, change=change, now=now
        ))

    def send_email_changed(self, email_address: str, new_email_address: str) -> None:
        self._deliver("email-changed", email_address, lambda now: build_changed_message(
            sender=OUTBOX_SENDER, recipient=email_address, new_email=new_email_address, now=now
        ))

    def _deliver(self, what: str, email_address: str, build: Callable[[datetime], EmailMessage]) -> None:
        """Writes the message; a failure (disk, permissions, an address that cannot be a header)
        is logged with its type and the recipient's domain only, and never raised."""
        try:
            now = self._clock()
            message = build(now)
            self._ensure_directory()
            stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
            path = self._write(f"{stamp}-{secrets.token_hex(8)}.eml", bytes(message))
        except Exception as error:  # the port must not raise for a delivery failure
            log.error(
                "%s message for a recipient at %s not written to the outbox: %s",
                what,
                recipient_domain(email_address),
                type(error).__name__,
            )
            return
        log.info("%s message written to %s", what, path)

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def _write(self, name: str, data: bytes) -> Path:
        """A hidden temporary file (so `*.eml` never matches a partial one), then os.replace."""
        final = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return final
