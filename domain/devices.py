"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a client that
signed in to an account before carries a signed cookie naming that account, so its failures
can be counted apart from everyone else's."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # domain.user imports domain.session, which holds a DeviceCookie
    from domain.user import User


@dataclass(frozen=True)
class DeviceCookie:
    """What a device cookie holds, signed by the HTTP layer: the account's id (never the email,
    which can change and is personal data in a cookie) and a random nonce naming this one
    device. A new nonce at every successful login."""

    user_id: str
    nonce: str

    def fits(self, user: User | None) -> bool:
        """Whether it was issued to this account (a cookie of another account, or for nobody,
        makes the attempt an untrusted one)."""
        return user is not None and bool(user.user_id) and self.user_id == user.user_id


@dataclass(frozen=True)
class DevicePolicy:
    """A device whose cookie fails `failures` times, each within `window` of the last, is locked
    out for `window` after that: its attempts are refused unchecked. The rightful user on it
    mistypes a few times at most; an attacker who stole the cookie gets `failures` guesses per
    window from it, on top of what untrusted clients get."""

    failures: int = 10
    window: timedelta = timedelta(hours=1)


def issue_device_cookie(user: User) -> DeviceCookie | None:
    """A new device cookie for the account just signed in to (None for a user without an id)."""
    return DeviceCookie(user.user_id, secrets.token_urlsafe(16)) if user.user_id else None


def device_key(nonce: str) -> str:
    """The failure store's key for a device: a digest of its nonce, prefixed so that no email's
    digest (hex only) can be it."""
    return "device-" + hashlib.sha256(nonce.encode("utf-8", "surrogatepass")).hexdigest()
