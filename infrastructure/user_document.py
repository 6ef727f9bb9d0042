"""The stored form of a User, shared by every store so they cannot drift apart."""

from __future__ import annotations

from typing import Any

from domain.timestamps import format_time, parse_time
from domain.user import User


def to_document(user: User) -> dict[str, Any]:
    return {
        "email_address": user.email_address,
        "password_hash": user.password_hash,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_admin": user.is_admin,
        "created_at": format_time(user.created_at),
        "last_login_at": format_time(user.last_login_at) if user.last_login_at else None,
        "login_count": user.login_count,
        "security_stamp": user.security_stamp,
        "session_ids": list(user.session_ids),
        "failed_logins": user.failed_logins,
        "last_failed_login_at": format_time(user.last_failed_login_at) if user.last_failed_login_at else None,
        "user_id": user.user_id,
    }


def from_document(document: dict[str, Any], version: str) -> User:
    """Fields added in later releases read with defaults, so older documents still load."""
    return User(
        email_address=document["email_address"],
        password_hash=document["password_hash"],
        created_at=parse_time(document["created_at"]),
        first_name=document.get("first_name"),
        last_name=document.get("last_name"),
        is_active=document.get("is_active", True),
        is_admin=document.get("is_admin", False),
        last_login_at=parse_time(document["last_login_at"]) if document.get("last_login_at") else None,
        login_count=document.get("login_count", 0),
        security_stamp=document.get("security_stamp") or "",
        session_ids=tuple(document.get("session_ids") or ()),
        failed_logins=document.get("failed_logins", 0),
        last_failed_login_at=parse_time(document["last_failed_login_at"]) if document.get("last_failed_login_at") else None,
        user_id=document.get("user_id") or "",
        version=version,
    )
