"""What every peer app shares: its settings, the bench's users, and the two commands the bench
runs in the peer's own venv besides serving it.

    python bench/peers/<app>.py seed --users N --sessions S --cookies FILE
        creates the schema, writes N users (one hash made once by the stack's own hasher, reused),
        and writes one Cookie line for each of users 0..S-1: a live session the stack made itself.
    python bench/peers/<app>.py raw-verify --threads T --duration D
        the stack's own password verify on T threads for D seconds: the limit of its login.

Both print one JSON line. The app reads PEER_DB (its SQLite file) and PEER_SECRET from the
environment, which the bench sets alike for seeding and serving.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # esauth_bench.common: the bench's users

from esauth_bench.common import EMAIL, PASSWORD  # noqa: E402

__all__ = ["DB", "PASSWORD", "SECRET", "USER_PAGE", "email", "main"]
"""What the apps take from here."""

DB = os.environ.get("PEER_DB", "peer.sqlite3")
SECRET = os.environ.get("PEER_SECRET", "")
USER_PAGE = {"message": "Test", "success": True}
"""GET /v1/test's answer (plus the user), as esauth's."""


def email(i: int) -> str:
    return EMAIL.format(i)


def raw_verify(verify: Callable[[], bool], threads: int, duration_s: float) -> dict:
    """`verify` on `threads` threads until the time is up: calls per second, latency, CPU per call."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    deadline = time.monotonic() + duration_s

    def loop(mine: list[float]) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            if not verify():
                raise SystemExit("the stack's verify refused the right password")
            mine.append(time.perf_counter() - started)

    cpu0, wall0 = time.process_time(), time.monotonic()
    workers = [threading.Thread(target=loop, args=(mine,)) for mine in latencies]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    every = sorted(latency for mine in latencies for latency in mine)
    return {
        "ops_per_s": len(every) / wall,
        "p50_ms": statistics.median(every) * 1000,
        "p99_ms": every[int(len(every) * 0.99) - 1 if len(every) > 1 else 0] * 1000,
        "cpu_ms_per_op": cpu * 1000 / len(every),
        "cores": cpu / wall,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main(seed: Callable[[int, int, Path], None], verifier: Callable[[], Callable[[], bool]],
         hasher: str) -> None:
    """The app's command line: `seed` and `raw-verify` (see the module's docstring)."""
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed")
    seeding.add_argument("--users", type=int, required=True)
    seeding.add_argument("--sessions", type=int, required=True)
    seeding.add_argument("--cookies", type=Path, required=True)
    verifying = commands.add_parser("raw-verify")
    verifying.add_argument("--threads", type=int, required=True)
    verifying.add_argument("--duration", type=float, required=True)
    args = parser.parse_args()
    if args.command == "seed":
        if not args.sessions <= args.users:
            parser.error("--sessions: at most --users")
        started = time.monotonic()
        seed(args.users, args.sessions, args.cookies)
        print(json.dumps({"seconds": time.monotonic() - started}))
    else:
        print(json.dumps({**raw_verify(verifier(), args.threads, args.duration), "hasher": hasher}))
