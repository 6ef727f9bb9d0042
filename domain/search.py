"""Paging through users: the cursor is opaque to clients and the same for every store."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from domain.errors import ValidationError
from domain.timestamps import format_time, parse_time
from domain.user import User

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class UserPage:
    users: tuple[User, ...]
    next_cursor: str | None
    """Pass back to get the page after this one; None on the last page."""


def query_terms(query: str) -> tuple[str, ...]:
    """Lower-case words of a search; every one must match (an email prefix or a name word prefix)."""
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationError("q", f"must be at most {MAX_QUERY_LENGTH} characters")
    return tuple(query.lower().split())


def name_words(*names: str | None) -> tuple[str, ...]:
    """The lower-case, whitespace-split words of the names: what a search term is a prefix of.

    Python's lower() and split() (Unicode-aware) define it once for every store; SQLite's own
    lower() and LIKE fold ASCII only.
    """
    return tuple(word for name in names if isinstance(name, str) for word in name.lower().split())


def encode_cursor(user: User) -> str:
    """Where a page ended, in the sort order (created_at descending, email ascending)."""
    raw = json.dumps([format_time(user.created_at), user.email_address]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, email = json.loads(raw)
        if not isinstance(created_at, str) or not isinstance(email, str):
            raise TypeError("not [time, email]")
        email.encode("utf-8")  # a lone surrogate would fail later, in the store
        return parse_time(created_at), email
    except (ValueError, TypeError, OverflowError, RecursionError):  # Overflow: year 1 with an offset
        raise ValidationError("cursor", "is not a cursor this API returned") from None
