"""Raw argon2 throughput: the limit for login (verify) and sign-up (hash).

A pool of --threads threads calls esauth's own hasher (built from the ESAUTH_* environment
exactly as the server builds it) in a loop for --duration seconds, in-process, no HTTP.
Prints one JSON line: ops/s, per-call p50/p99, CPU per call and this process's peak RSS.

    python bench/argon2_baseline.py --op verify --threads 8 --duration 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from entrypoints.bootstrap import build_hasher
from entrypoints.config import Settings

PASSWORD = "bench-password-1234"


def peak_rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--op", choices=("verify", "hash"), required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True)
    args = parser.parse_args()

    hasher = build_hasher(Settings.from_env(os.environ))
    stored = hasher.hash(PASSWORD)
    if args.op == "verify":
        def op() -> None:
            if not hasher.verify(stored, PASSWORD):
                raise SystemExit("argon2 verify failed")
    else:
        def op() -> None:
            hasher.hash(PASSWORD)

    latencies: list[float] = []
    lock = threading.Lock()
    start = time.perf_counter()
    cpu_start = time.process_time()
    deadline = start + args.duration

    def worker() -> None:
        mine = []
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            op()
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        for future in [pool.submit(worker) for _ in range(args.threads)]:
            future.result()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    latencies.sort()
    p = hasher.params
    print(json.dumps({
        "ops": len(latencies),
        "duration_s": elapsed,
        "ops_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "cpu_ms_per_op": cpu * 1000 / len(latencies),
        "cores": cpu / elapsed,
        "peak_rss_kib": peak_rss_kib(),
        "params": {"time_cost": p.time_cost, "memory_cost_kib": p.memory_cost_kib, "parallelism": p.parallelism},
    }))


if __name__ == "__main__":
    main()
