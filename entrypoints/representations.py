"""What clients see of a user."""

from __future__ import annotations

from typing import Any

from domain.timestamps import format_time
from domain.user import User


def public_user(user: User) -> dict[str, Any]:
    """The user as sign-up, login and /v1/test show it: never the hash, never the session ids."""
    return {
        "email_address": user.email_address,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "created_at": format_time(user.created_at),
    }


def account_view(user: User) -> dict[str, Any]:
    """The fuller view for the user themselves (/v1/users/me) and for administrators."""
    return {
        **public_user(user),
        "is_admin": user.is_admin,
        "last_login_at": format_time(user.last_login_at) if user.last_login_at else None,
        "login_count": user.login_count,
    }
