"""The command line of bench/run.py: its flags, and one whole run from baselines to report."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import baselines, report
from .common import GROWTH_USERS, LARGEST_STORE, REPO, BenchError
from .processes import Processes, raise_on_sigterm
from .runner import Bench
from .servers import esauth_default_threads, esauth_has_workers
from .store_suite import run_store
from .peer_envs import STACKS
from .scenarios import peers
from .stores import STARTERS, check_available
from .wrk import find_wrk

DESCRIPTION = "The esauth benchmark: every endpoint against its physical limit, measured in one run."
SCENARIOS = ("test", "sessions", "verify", "metrics", "login", "unknown", "signup")
"""verify and metrics need the 16 hot sessions of test (and verify's distinct rows, sessions);
each is left out, saying so, on an esauth without /v1/auth/verify or /metrics."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="1 run of 2 s per figure, growth and diagnostics off, no BENCHMARKS.md")
    parser.add_argument("--runs", type=int, help="runs per figure, the median is reported (default 3)")
    parser.add_argument("--duration", type=int, help="seconds per run (default 5)")
    parser.add_argument("--threads", help="waitress threads, comma-separated (default: esauth's default)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes `esauth serve` (and bare Falcon) run, as ESAUTH_WORKERS (default 1: one "
                             "process, as the figures in BENCHMARKS.md; CPU counts every worker, peak RSS is the "
                             "largest one's)")
    parser.add_argument("--connections", default="16,64", help="wrk connections, comma-separated (default 16,64)")
    parser.add_argument("--stores", default=",".join(STARTERS),
                        help=f"{','.join(STARTERS)} (default all; elasticsearch is osmem-server, opensearch "
                             "a real node, which needs Java 21+ and mvn)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"any of {','.join(SCENARIOS)} (default all)")
    parser.add_argument("--sessions", type=int, default=10_000,
                        help="distinct live sessions taking turns in the `sessions` scenario (default 10,000)")
    parser.add_argument("--growth", action=argparse.BooleanOptionalAction, default=None,
                        help="also run GET /v1/test and login on a store grown to each of --users (default on, off "
                             "with --quick unless --users is given)")
    parser.add_argument("--users", help=f"store sizes for --growth, comma-separated (default {GROWTH_USERS},"
                                        f"{LARGEST_STORE}); see BENCHMARKS.md for how long seeding takes")
    parser.add_argument("--seed-minutes", type=float, default=30,
                        help="minutes the direct seeding of one store may take; sizes of --users not reached by then "
                             "are left out, saying so (default 30)")
    parser.add_argument("--nginx", action=argparse.BooleanOptionalAction, default=None,
                        help="also run the cookie check, /v1/auth/verify and an auth_request-protected app through "
                             "deploy/nginx's config, beside bare Falcon behind it (default on, off with --quick)")
    parser.add_argument("--peers", help=f"peer stacks to measure in the same run: {','.join(STACKS)}, all or none "
                                        "(default all, none with --quick); each is built in its own venv on first use")
    parser.add_argument("--diagnostics", action=argparse.BooleanOptionalAction, default=None,
                        help="also run GET /v1/test with ESAUTH_SESSION_CHECK_CACHE_MS=0, the per-request store "
                             "read (default on, off with --quick)")
    parser.add_argument("--no-baselines", dest="baselines", action="store_false",
                        help="skip the bare-Falcon and argon2 baselines (no ratios)")
    parser.add_argument("--max-other-load", type=float, default=0.25,
                        help="cores other jobs may use during a run before it is measured again (default 0.25)")
    parser.add_argument("--noise-retries", type=int, default=2,
                        help="extra attempts for a disturbed run; the least disturbed is kept (default 2)")
    parser.add_argument("--quiet-wait", type=float, default=20,
                        help="seconds to wait for other jobs to quiet down before each run (default 20)")
    parser.add_argument("--noise-budget", type=float, default=15,
                        help="minutes the whole run may spend waiting for quiet and re-measuring (default 15)")
    parser.add_argument("--wrk", help="path to wrk (default: found on PATH)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--no-install", action="store_true", help="never install wrk with apt-get")
    parser.add_argument("--output", help="write the report here (default BENCHMARKS.md; with --quick, none)")
    parser.add_argument("--block", help="the generated block of --output this run rewrites (default: one per "
                                        "--workers count), e.g. `--block growth` for a run of only the large stores")
    parser.add_argument("--json", help="also write every run's raw figures here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp dir with server logs")
    args = parser.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    args.duration = args.duration or (2 if args.quick else 5)
    if args.growth is None:
        args.growth = args.users is not None or not args.quick
    try:
        sizes = [int(size) for size in (args.users or f"{GROWTH_USERS},{LARGEST_STORE}").split(",") if size.strip()]
    except ValueError:
        parser.error("--users: comma-separated numbers of users")
    args.users_list = sorted(set(sizes)) if args.growth else []
    if args.nginx is None:
        args.nginx = not args.quick
    chosen = args.peers if args.peers is not None else ("none" if args.quick else "all")
    args.peers_list = list(STACKS) if chosen == "all" else [] if chosen == "none" else [
        name.strip() for name in chosen.split(",") if name.strip()]
    bad = set(args.peers_list) - set(STACKS)
    if bad:
        parser.error(f"--peers: unknown {', '.join(sorted(bad))} (known: {', '.join(STACKS)})")
    if args.diagnostics is None:
        args.diagnostics = not args.quick
    if args.output is None and not args.quick:
        args.output = str(REPO / "BENCHMARKS.md")
    args.connections_list = [int(c) for c in args.connections.split(",") if c.strip()]
    args.stores_list = [s.strip() for s in args.stores.split(",") if s.strip()]
    args.scenarios_set = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    bad = set(args.stores_list) - set(STARTERS)
    if bad:
        parser.error(f"--stores: unknown {', '.join(sorted(bad))}")
    bad = args.scenarios_set - set(SCENARIOS)
    if bad:
        parser.error(f"--scenarios: unknown {', '.join(sorted(bad))}")
    if args.workers < 1:
        parser.error("--workers: at least 1")
    if args.sessions < 1 or (args.users_list and args.sessions > args.users_list[0]):
        parser.error("--sessions: at least 1, and at most the smallest of --users (they are the first of the growth "
                     "users)")
    if min(args.connections_list) < args.wrk_threads:
        parser.error("--connections: each must be at least --wrk-threads")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_on_sigterm)
    procs = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="esauth-bench-"))
    started = time.monotonic()
    try:
        commit = report.git_describe()  # before the run: what was measured, even if the tree moves meanwhile
        check_available(args.stores_list)
        if args.workers != 1 and not esauth_has_workers():
            raise BenchError(f"--workers {args.workers}: this esauth serves in one process only")
        wrk, wrk_how = find_wrk(args.wrk, not args.no_install)
        print(f"bench: wrk {wrk} ({wrk_how}); work dir {workdir}", flush=True)
        default_threads = esauth_default_threads()
        if args.threads:
            threads_list: list[int | None] = [int(t) for t in args.threads.split(",") if t.strip()]
        else:
            threads_list = [None]  # esauth serve without --threads: its own default
        bench = Bench(args, workdir, procs, wrk)
        bench.results.workers = args.workers
        for threads in threads_list:
            n = threads or default_threads
            print(f"\n== waitress threads={n}{' (esauth default)' if threads is None else ''}: "
                  f"{args.runs} run(s) × {args.duration} s per figure", flush=True)
            if args.baselines:
                baselines.argon2(bench, n)
                bench.results.argon2_params = bench.argon2_params
                baselines.bare_falcon(bench, n, args.connections_list)
            for store in args.stores_list:
                run_store(bench, store, threads, n, args.connections_list, args.scenarios_set, args.users_list,
                          args.diagnostics, args.sessions, args.nginx, args.seed_minutes)
            if threads == threads_list[0] and args.peers_list:
                peers.peers(bench, args.peers_list, args.connections_list, args.sessions)
            if args.baselines:
                baselines.remeasure_disturbed(bench, n)
        if "sessions" in args.scenarios_set:
            import session_memory  # bench/ (run.py's own directory); in-process, a few seconds
            bench.results.session_memory = session_memory.summary(args.sessions)
        report.evaluate(bench.results)
        report.flag_disturbed(bench.results, args.max_other_load)
        info = report.machine_info(wrk, wrk_how, commit)
        text = report.render(bench.results, args, info, threads_list, default_threads,
                             getattr(bench, "argon2_params", None))
        print("\n" + text)
        print(f"\nbench: finished in {(time.monotonic() - started) / 60:.1f} min", flush=True)
        if args.output:
            report.write_report(Path(args.output), text, args.workers, args.block)
            print(f"bench: wrote {args.output}")
        if args.json:
            Path(args.json).write_text(json.dumps(
                {key: {"row": {k: v for k, v in row.__dict__.items() if k != "runs"},
                       "runs": [run.__dict__ for run in row.runs]} for key, row in bench.results.rows.items()},
                indent=2, default=str))
        return 0
    except BenchError as error:
        print(f"\nbench: {error}", file=sys.stderr)
        return 1
    finally:
        procs.stop_all()
        if args.keep_logs:
            print(f"bench: logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
