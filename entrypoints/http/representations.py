"""What clients see of a user."""

from __future__ import annotations

import json
import threading
from typing import Any

from domain.session import SessionRecord
from domain.timestamps import format_time
from domain.user import User


def public_user(user: User) -> dict[str, Any]:
    """The user as sign-up, login and /v1/test show it: never the hash, never the session ids."""
    return {
        "id": user.user_id,
        "email_address": user.email_address,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "created_at": format_time(user.created_at),
    }


def session_view(record: SessionRecord, current_id: str) -> dict[str, Any]:
    """One live session as its owner sees it; "last seen" to the minute, as coarse as it is kept."""
    seen = record.last_seen_at.replace(second=0, microsecond=0) if record.last_seen_at else None
    return {
        "id": record.session_id,
        "created_at": format_time(record.created_at) if record.created_at else None,
        "last_seen_at": format_time(seen) if seen else None,
        "device": record.device,
        "client": record.client,
        "current": record.session_id == current_id,
    }


class PublicUserJson:
    """`public_user` as JSON text, remembered per User object.

    The session check hands out the same User object for as long as this process's view of it
    lasts, so the login-required probe would format the same few users thousands of times a
    second. An entry is used only for the very object it was made from: any write or re-read
    makes a new User, so nothing stale is ever served. One is shared by the resources that answer
    with the user, kept for as many users as the session cookies are (emptied when full, the
    bound must hold the users taking turns).
    """

    def __init__(self, kept: int = 10_000) -> None:
        self._kept_max = kept
        self._kept: dict[str, tuple[User, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, user: User) -> str:
        entry = self._kept.get(user.email_address)
        if entry is not None and entry[0] is user:
            return entry[1]
        text = json.dumps(public_user(user), ensure_ascii=False)
        with self._lock:
            if len(self._kept) >= self._kept_max:
                self._kept.clear()
            if self._kept_max:
                self._kept[user.email_address] = (user, text)
        return text


def account_view(user: User) -> dict[str, Any]:
    """The fuller view for the user themselves (/v1/users/me) and for administrators."""
    return {
        **public_user(user),
        "is_admin": user.is_admin,
        "last_login_at": format_time(user.last_login_at) if user.last_login_at else None,
        "login_count": user.login_count,
        "email_verified": user.email_verified_at is not None,
        "pending_email_address": user.pending_email,
    }
