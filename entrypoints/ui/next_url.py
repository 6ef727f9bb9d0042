"""Where `?next=` may send a person after signing in: this origin or an allowed one, nothing else."""

from __future__ import annotations

from typing import Iterable
from urllib.parse import unquote, urlsplit

from entrypoints.http.origins import normalize_origin

DEFAULT_NEXT = "/ui/account"
MAX_NEXT_LENGTH = 2048


def safe_next(raw: str | None, own_origin: str | None, allowed_origins: Iterable[str] = ()) -> str:
    """`raw` if it is a path on this origin or a URL on `own_origin`/`allowed_origins`, else the
    account page. Browsers read `\\` as `/` and drop tabs and newlines inside URLs, so any of
    those (or a leading `//`, also once percent-decoded) is refused rather than interpreted."""
    if not raw or len(raw) > MAX_NEXT_LENGTH or not _plain(raw) or not _plain(unquote(raw)):
        return DEFAULT_NEXT
    if raw.startswith("/"):
        return DEFAULT_NEXT if raw.startswith("//") or unquote(raw).startswith("//") else raw
    try:
        parts = urlsplit(raw)
    except ValueError:
        return DEFAULT_NEXT
    if parts.scheme not in ("http", "https") or parts.username is not None or parts.password is not None:
        return DEFAULT_NEXT
    origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")
    if origin is not None and (origin == own_origin or origin in set(allowed_origins)):
        return raw
    return DEFAULT_NEXT


def _plain(value: str) -> bool:
    """No backslash, whitespace or control character anywhere."""
    return "\\" not in value and all(0x20 < ord(char) != 0x7F for char in value)
