"""What a run measured (Run), a figure made of runs (Row), and every row of the bench (Results)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    peak_rss_mib: float | None
    cpu_ms_per_req: float | None = None
    cores: float | None = None
    """CPU the server (or the argon2 pool) used over the run, in cores: 2.0 is all of this machine."""
    store_cpu_ms_per_req: float | None = None
    store_reads_per_req: float | None = None
    """Document reads the store served per request, where it counts them."""
    queue_warnings: int = 0
    log_lines_per_req: float | None = None
    other_load: float | None = None
    """Cores used by processes that are not the bench's during the run (other jobs, steal)."""
    view_hit_ratio: float | None = None
    """Session checks the view answered, of all session checks, from the server's /metrics."""
    store_calls_per_req: float | None = None
    """Store calls esauth made per request (reads, writes, the session view's looks), from its /metrics."""
    set_cookie_per_req: float | None = None
    """Answers that carried Set-Cookie (a re-issued session), per request."""
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass
class Row:
    key: str
    scenario: str
    store: str
    threads: int
    conns: int | None
    runs: list[Run]
    baseline_key: str | None = None
    baseline_label: str = ""
    ratio: float | None = None
    target: str = ""
    verdict: str = ""
    sessions: int | None = None
    """Distinct sessions taking turns (the distinct-sessions rows), for their revisit interval."""
    session_view_ms: int | None = None
    """ESAUTH_SESSION_CHECK_CACHE_MS the server ran with (the distinct-sessions rows): the
    session view's bound; 0 means no view."""
    workers: int = 1
    """Processes the server ran, each with a session view of its own."""

    def median(self, name: str) -> float | None:
        values = [getattr(run, name) for run in self.runs if getattr(run, name) is not None]
        return statistics.median(values) if values else None


class Results:
    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.peer_versions: dict[str, str] = {}
        """Each peer stack's label -> its main distributions' versions, as its venv holds them."""
        self.seeding: list[str] = []
        """How long each large store took to seed, for the report."""
        self.metrics_names: list[str] = []
        """The metric families esauth's /metrics served, as first scraped."""
        self.session_memory = ""
        """What each distinct session costs a server in memory (bench/session_memory.py)."""
        self.workers = 1
        """Processes each esauth server (and bare Falcon) ran: the targets differ for N workers."""

    def add(self, row: Row, merge: bool = False, keep: int = 0) -> Row:
        """Record a row; with `merge`, pool its runs with the row already there and keep the
        `keep` least disturbed (a baseline measured again at the end of a noisy run)."""
        old = self.rows.get(row.key)
        if merge and old is not None:
            pooled = sorted(old.runs + row.runs, key=lambda run: run.other_load or 0.0)
            row.runs = pooled[:keep or len(pooled)]
        self.rows[row.key] = row
        return row

    def get(self, key: str) -> Row | None:
        return self.rows.get(key)


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def print_summary(row: Row, kept: str = "") -> None:
    """The end of a scenario's console line: its medians."""
    print(f"-> {kept}{row.median('rps'):,.0f} req/s p50 {row.median('p50_ms'):.1f} ms "
          f"p99 {row.median('p99_ms'):.1f} ms errors {row.median('errors'):.0f} "
          f"rss {row.median('peak_rss_mib'):.0f} MiB", flush=True)
