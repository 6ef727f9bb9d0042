"""What a store answers when asked which users changed: the feed that keeps a session view true."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    """Users written or deleted after a `mark`, and the mark to ask from next time.

    `versions` maps each such email to its version at the time of asking (None: deleted), so a
    process that holds exactly that version (it made the write) need not read it again.
    `complete` is False when the store cannot list everything since the mark (too many changes,
    or its history no longer reaches back that far): the caller must then forget all it holds.
    A mark is opaque to the caller and only meaningful to the store that gave it.
    """

    mark: str
    versions: dict[str, str | None] = field(default_factory=dict)
    complete: bool = True
