"""The password-reset e-mail, and the RFC 5322 framing of every message (compose), built once for
every notifier adapter (outbox file, SMTP)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

SUBJECT = "Reset your esauth password"
CONFIRM_PATH = "/v1/auth/password-reset/confirm"
TOKEN_PARAMETER = "token"
MAX_LINE_OCTETS = 998
"""RFC 5322's hard limit; within it the body is sent as plain 7bit, so the link stays unbroken."""


def reset_link(reset_url: str, token: str) -> str:
    """`reset_url` (or any page a message links to) with the token as its `token` query parameter: an existing query is kept (any
    `token` already in it is replaced), and the fragment stays last."""
    parts = urlsplit(reset_url)
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair and unquote_plus(pair.split("=", 1)[0]) != TOKEN_PARAMETER
    ]
    kept.append(urlencode({TOKEN_PARAMETER: token}))
    return urlunsplit(parts._replace(query="&".join(kept)))


def reset_body(token: str, reset_url: str | None) -> str:
    if reset_url:
        how = (
            "To choose a new password, open this link:\n"
            "\n"
            f"    {reset_link(reset_url, token)}\n"
        )
    else:
        request = json.dumps({"token": token, "new_password": "<your new password>"})
        how = (
            "Your password-reset token:\n"
            "\n"
            f"    {token}\n"
            "\n"
            "To choose a new password, send it with the new password to the esauth API:\n"
            "\n"
            f"    POST {CONFIRM_PATH}\n"
            "    Content-Type: application/json\n"
            "\n"
            f"    {request}\n"
        )
    return (
        "Someone asked to reset the password of your esauth account.\n"
        "\n"
        f"{how}"
        "\n"
        "This expires in 1 hour and can be used once. Using it signs out every session of the account.\n"
        "\n"
        "If you did not ask for this, ignore this message: your password stays as it is.\n"
    )


def build_reset_message(
    *, sender: str, recipient: str, token: str, reset_url: str | None, now: datetime
) -> EmailMessage:
    return compose(sender=sender, recipient=recipient, subject=SUBJECT, body=reset_body(token, reset_url), now=now)


def compose(*, sender: str, recipient: str, subject: str, body: str, now: datetime) -> EmailMessage:
    """One RFC 5322 message, for every message esauth sends. Raises ValueError for a header
    value that cannot be a header (a line break in an address), never for the content."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message["Auto-Submitted"] = "auto-generated"
    if body.isascii() and all(len(line) <= MAX_LINE_OCTETS for line in body.splitlines()):
        message.set_content(body, cte="7bit")
    else:
        message.set_content(body)
    return message


def recipient_domain(email_address: str) -> str:
    """The part of an address that logs may name: its domain, made safe for one log line."""
    domain = email_address.rpartition("@")[2].lower()
    return re.sub(r"[^a-z0-9.\-]", "?", domain)[:253] or "?"


def _domain_of(sender: str) -> str:
    """The Message-ID's right-hand side: the sender's domain (`Name <a@b>` or `a@b`)."""
    match = re.search(r"@([A-Za-z0-9.\-]+)", sender)
    return match.group(1) if match else "localhost"
