"""The limits esauth is measured against, in the same run and with the same settings.

- raw argon2 hash and verify with esauth's parameters on one thread per core, as esauth's hashing
  pools run them together whatever the worker count (bench/argon2_baseline.py, in-process, no
  HTTP): the limit of login and sign-up;
- a bare Falcon app behind esauth's own waitress settings (bench/bare_app.py): the limit of
  any request, so of the cookie check.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from infrastructure.hashing.pool import cores_available

from .common import BENCH_DIR, REPO, BenchError
from .measure import LoadMeter, wait_quiet
from .results import Row, Run
from .runner import Bench
from .servers import esauth_env, start_bare_falcon


def argon2(bench: Bench, threads: int, ops: tuple[str, ...] = ("verify", "hash"), merge: bool = False) -> None:
    """The baseline of the servers run with `threads` waitress threads (its rows' key), measured on
    one thread per core: more hashes at once than cores only time-slice (infrastructure/hashing/pool)."""
    args = bench.args
    env = esauth_env(bench.workdir / "argon2", bench.args.workers)
    cores = cores_available()
    for op in ops:
        print(f"  {'raw argon2 ' + op:<34} {'in-process':<13} t={cores:<3} ", end="", flush=True)
        argv = [sys.executable, str(BENCH_DIR / "argon2_baseline.py"), "--op", op,
                "--threads", str(cores), "--duration", str(args.duration)]

        def measure() -> Run:
            if time.monotonic() < bench.retry_deadline:
                wait_quiet([], args.max_other_load, args.quiet_wait)
            with LoadMeter([]) as load:
                result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True,
                                        timeout=args.duration + 60)
            if result.returncode != 0:
                raise BenchError(f"argon2 baseline failed:\n{result.stderr}")
            data = json.loads(result.stdout.strip().splitlines()[-1])
            bench.argon2_params = data["params"]
            return Run(data["ops_per_s"], data["p50_ms"], data["p99_ms"], 0, data["peak_rss_kib"] / 1024,
                       cpu_ms_per_req=data["cpu_ms_per_op"], cores=data["cores"], other_load=load.other_cores)

        runs = []
        for _ in range(args.runs):
            runs.append(bench.least_disturbed(measure))
            print(f"{runs[-1].rps:,.1f} ", end="", flush=True)
        row = bench.results.add(Row(f"argon2-{op}-t{threads}", f"raw argon2 {op}", "in-process", cores, None, runs),
                                merge=merge, keep=args.runs)
        kept = "the least disturbed of both times " if merge else ""
        print(f"-> {kept}{row.median('rps'):,.1f} ops/s p50 {row.median('p50_ms'):.1f} ms", flush=True)


def bare_falcon(bench: Bench, threads: int, conns_list: list[int], merge: bool = False) -> None:
    env = esauth_env(bench.workdir / "bare", bench.args.workers)
    server = start_bare_falcon(bench.procs, bench.workdir, env, threads)
    try:
        for conns in conns_list:
            bench.scenario(f"bare-t{threads}-c{conns}", "bare Falcon GET (baseline)", "—", threads, server,
                           "/v1/test", "get.lua", conns, lambda: [], 200, merge=merge)
    finally:
        bench.procs.stop(server.proc)


def remeasure_disturbed(bench: Bench, threads: int) -> None:
    """Measure again, at the end, baselines that other jobs disturbed at the start; each keeps
    its least disturbed runs from both times. A ratio is only as good as its baseline."""
    def disturbed(key: str) -> bool:
        row = bench.results.get(key)
        return row is not None and (row.median("other_load") or 0.0) > bench.args.max_other_load

    ops = tuple(op for op in ("verify", "hash") if disturbed(f"argon2-{op}-t{threads}"))
    conns = [c for c in bench.args.connections_list if disturbed(f"bare-t{threads}-c{c}")]
    if ops or conns:
        print("  (baselines disturbed by other jobs: measuring them again)", flush=True)
    if ops:
        argon2(bench, threads, ops, merge=True)
    if conns:
        bare_falcon(bench, threads, conns, merge=True)
