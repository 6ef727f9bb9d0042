"""The e-mails about addresses: the link that proves one, and the notice that an account left one."""

from __future__ import annotations

import json
from datetime import datetime
from email.message import EmailMessage

from infrastructure.mail.reset_message import compose, reset_link

VERIFY_PATH = "/v1/auth/verify-email"
VERIFY_SUBJECT = "Confirm your email address for esauth"
CHANGE_SUBJECT = "Confirm your new email address for esauth"
CHANGED_SUBJECT = "Your esauth account uses another email address now"


def verification_body(token: str, verify_url: str | None, change: bool) -> str:
    if verify_url:
        how = f"To confirm it, open this link:\n\n    {reset_link(verify_url, token)}\n"
    else:
        request = json.dumps({"token": token})
        how = (
            f"Your confirmation token:\n\n    {token}\n\n"
            f"To confirm it, send it to the esauth API:\n\n    POST {VERIFY_PATH}\n"
            f"    Content-Type: application/json\n\n    {request}\n"
        )
    if change:
        why = (
            "Someone asked to move an esauth account to this email address. It takes effect only\n"
            "once confirmed; every session of the account then ends.\n"
        )
    else:
        why = "Someone signed up to esauth with this email address.\n"
    return (
        f"{why}\n{how}\n"
        "This expires in 24 hours.\n\n"
        "If it was not you, ignore this message: nothing changes.\n"
    )


def build_verification_message(
    *, sender: str, recipient: str, token: str, verify_url: str | None, change: bool, now: datetime
) -> EmailMessage:
    subject = CHANGE_SUBJECT if change else VERIFY_SUBJECT
    return compose(sender=sender, recipient=recipient, subject=subject, body=verification_body(token, verify_url, change), now=now)


def changed_body(new_email: str) -> str:
    return (
        f"Your esauth account now signs in with another address: {new_email}\n"
        "Every session of the account was ended.\n\n"
        "If you did not make this change, someone else knows your password and now holds the\n"
        "account: contact the service's administrators.\n"
    )


def build_changed_message(*, sender: str, recipient: str, new_email: str, now: datetime) -> EmailMessage:
    return compose(sender=sender, recipient=recipient, subject=CHANGED_SUBJECT, body=changed_body(new_email), now=now)
