"""One text form for instants, used in responses and in stores alike."""

from __future__ import annotations

from datetime import datetime, timezone


def format_time(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the millisecond: sortable as text and as an ES date."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
