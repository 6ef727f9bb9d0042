"""What a scenario family runs against: one esauth server on one store, and how it was started."""

from __future__ import annotations

from dataclasses import dataclass

from ..runner import Bench
from ..servers import Server


@dataclass
class Target:
    bench: Bench
    server: Server
    store: str
    threads: int
    """The thread count the server runs with (esauth's default when not given), for the rows."""
    threads_flag: int | None
    """What --threads passed to `esauth serve` (None: its default), to start a variant the same way."""
    conns_list: list[int]
    env: dict[str, str]
    """The server's environment: a variant (the session cache off) starts from it."""
    direct_users: int = 0
    """Users written straight into the store after the seeded ones (numbers SEED_USERS on)."""


def growth_prefix(users: int) -> str:
    """The row-key prefix of a scenario run again on a store grown to `users` (0: not grown)."""
    return f"growth{users}-" if users else ""


def growth_label(users: int) -> str:
    """What the Scenario column adds for a grown store: ` (100k users)`, ` (1M users)`."""
    if not users:
        return ""
    size = f"{users // 1_000_000:,}M" if users % 1_000_000 == 0 else f"{users // 1000:,}k"
    return f" ({size} users)"
