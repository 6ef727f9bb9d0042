"""The esauth benchmark: every endpoint against its physical limit, measured in one run.

    .venv/bin/python bench/run.py            # full run (15-30 min), writes BENCHMARKS.md
    .venv/bin/python bench/run.py --quick    # 1 run of 2 s per figure, prints only

It starts `esauth serve` on a free loopback port, once on the embedded SQLite store and once
on Elasticsearch (an osmem-server it starts), seeds 100 users over HTTP, and drives every
scenario with wrk (a separate process, Lua scripts in bench/wrk/) at 16 and 64 connections:
GET /v1/test with a cookie, login with the right password, login with an unknown email, and
sign-up. Then it writes 100,000 more users straight into the store (one shared argon2 hash)
and runs GET /v1/test and login again. The baselines are measured in the same run with the
same waitress settings: a bare Falcon app (bench/bare_app.py) and raw argon2 hash/verify with
esauth's parameters and thread count (bench/argon2_baseline.py). A diagnostic runs GET
/v1/test again with ESAUTH_SESSION_CHECK_CACHE_MS=0, pricing the per-request store read.

The server gets ESAUTH_COOKIE_SECURE=false, a temp ESAUTH_DATA_DIR, a random ESAUTH_SECRET_KEY
and the per-client rate limit lifted (wrk is one client); ESAUTH_ARGON2_*, ESAUTH_SESSION_*
and ESAUTH_LOG_* pass through from the caller. Each figure is the median of --runs runs of
--duration seconds, after a 1 s warm-up; a run during which other jobs on the machine used
more than --max-other-load cores is measured again (within --noise-budget). Login with the
right password and with an unknown email (same store and connections) are measured in turns,
a run of one then a run of the other, so the machine's drift hits both alike. Everything is on
127.0.0.1, and every process it starts is stopped at the end, also on errors and Ctrl-C.

wrk: found on PATH (or --wrk PATH); if missing, installed with `apt-get install wrk` when
running as root on Debian/Ubuntu (--no-install to forbid); otherwise the run stops and says how.
"""

from __future__ import annotations

import argparse
import ctypes
import http.client
import importlib.metadata
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WRK_SCRIPTS = BENCH_DIR / "wrk"
sys.path.insert(0, str(REPO))

PASSWORD = "bench-password-1234"
EMAIL = "user-{}@bench.example.com"
SEED_USERS = 100
COOKIE_USERS = 16
"""Users 0..15 hold the cookies for GET /v1/test and never log in during the login scenarios
(a user keeps 10 live sessions, so logging them in again would revoke the cookies)."""
GROWTH_USERS = 100_000
GROWTH_STRIDE = 9973
"""A prime stride spreads the growth scenarios' users over the whole 100,000."""
WARMUP_S = 1
RATE_LIMIT_LIFTED = 1_000_000_000
SERVER_START_TIMEOUT_S = 60
HTTP_TIMEOUT_S = 30
MiB = 1024 * 1024


class BenchError(RuntimeError):
    """A reason to stop the run, worded for the person running it."""


# ---------------------------------------------------------------------------------------------
# Processes: every child is tracked, and stopped in `finally`, by its own pid.

try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: rely on the finally block alone
    _prctl = None


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL if the runner dies, even by SIGKILL."""
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Processes:
    def __init__(self) -> None:
        self._running: list[tuple[str, subprocess.Popen]] = []
        self._closers: list[Callable[[], None]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                argv,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        self._running.append((name, proc))
        return proc

    def adopt(self, closer: Callable[[], None]) -> None:
        """A process started by someone else's API (osmem-server), stopped with its own closer."""
        self._closers.append(closer)

    def stop(self, proc: subprocess.Popen, grace_s: float = 5.0) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(grace_s)
        self._running = [(n, p) for n, p in self._running if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(list(self._running)):
            try:
                self.stop(proc)
            except Exception as error:  # keep stopping the others
                print(f"bench: could not stop pid {proc.pid}: {error}", file=sys.stderr)
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception as error:
                print(f"bench: could not stop a helper: {error}", file=sys.stderr)
        self._closers.clear()


def _raise_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(f"bench: stopped by signal {signum}")


# ---------------------------------------------------------------------------------------------
# /proc readings: RSS and CPU of a process.


def proc_status_kib(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def reset_peak_rss(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0, needs write access to clear_refs)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of all the process's threads."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Polls VmRSS every 20 ms while a run lasts; the peak is max(polled, VmHWM after reset)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._hwm_reset = False

    def __enter__(self) -> "RssSampler":
        self._hwm_reset = reset_peak_rss(self.pid)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_kib = max(self.peak_kib, proc_status_kib(self.pid, "VmRSS"))

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        if self._hwm_reset:
            self.peak_kib = max(self.peak_kib, proc_status_kib(self.pid, "VmHWM"))


def system_busy_seconds() -> float:
    """CPU time all CPUs spent busy (user, nice, system, irq, softirq, steal) since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class LoadMeter:
    """Cores used by everything but the bench over an interval.

    Busy time of the whole machine minus the CPU of the bench's own processes: the given pids
    (servers), reaped children (wrk, the argon2 baseline) and this runner. On a shared machine
    this shows which runs other jobs disturbed.
    """

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.other_cores = 0.0

    def _ours(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids) + _children_cpu() + time.process_time()

    def __enter__(self) -> "LoadMeter":
        self._t0, self._busy0, self._ours0 = time.monotonic(), system_busy_seconds(), self._ours()
        return self

    def __exit__(self, *exc: Any) -> None:
        wall = time.monotonic() - self._t0
        other = (system_busy_seconds() - self._busy0) - (self._ours() - self._ours0)
        self.other_cores = max(0.0, other / wall) if wall > 0 else 0.0


def wait_quiet(pids: list[int], max_other: float, max_wait_s: float) -> float:
    """Wait (bounded) until other jobs use under max_other cores; the last load seen."""
    deadline = time.monotonic() + max_wait_s
    while True:
        with LoadMeter(pids) as meter:
            time.sleep(0.5)
        if meter.other_cores <= max_other or time.monotonic() >= deadline:
            return meter.other_cores


# ---------------------------------------------------------------------------------------------
# wrk


def find_wrk(explicit: str | None, may_install: bool) -> tuple[str, str]:
    """The wrk binary and how it was found; installs Debian's package if allowed and possible."""
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise BenchError(f"--wrk {explicit}: not an executable file")
        return explicit, "given with --wrk"
    found = shutil.which("wrk")
    if found:
        return found, "found on PATH"
    how = "install it (Debian/Ubuntu: `sudo apt-get install wrk`) or pass --wrk PATH"
    if not may_install:
        raise BenchError(f"wrk is not on PATH and --no-install was given: {how}")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BenchError(f"wrk is not on PATH and this run cannot install it (needs root and apt-get): {how}")
    print("bench: wrk not found; installing Debian's wrk: apt-get update && apt-get install -y wrk", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"installing wrk with apt-get failed ({error}): {how}") from None
    found = shutil.which("wrk")
    if not found:
        raise BenchError(f"apt-get install wrk did not put wrk on PATH: {how}")
    return found, "installed now with apt-get"


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    line = (result.stdout + result.stderr).strip().splitlines()
    return line[0].split(" [")[0] if line else "unknown"


# ---------------------------------------------------------------------------------------------
# Results


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
    queue_warnings: int = 0
    log_lines_per_req: float | None = None
    other_load: float | None = None
    """Cores used by processes that are not the bench's during the run (other jobs, steal)."""
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

    def median(self, name: str) -> float | None:
        values = [getattr(run, name) for run in self.runs if getattr(run, name) is not None]
        return statistics.median(values) if values else None


class Results:
    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

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


# ---------------------------------------------------------------------------------------------
# HTTP helpers for seeding (plain http.client: loopback only)


def http_call(port: int, method: str, path: str, body: dict | None = None,
              cookie: str | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_S)
    try:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if cookie:
            headers["Cookie"] = cookie
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# The bench


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log_path: Path
    env: dict[str, str]
    store_pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Spec:
    """The arguments of `Bench.scenario`, for `Bench.interleaved`."""
    key: str
    label: str
    store: str
    threads: int
    server: Server
    path: str
    script: str
    conns: int
    script_args: Callable[[], list[str]]
    expected: int


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path, procs: Processes, wrk: str) -> None:
        self.args = args
        self.workdir = workdir
        self.procs = procs
        self.wrk = wrk
        self.results = Results()
        self.wrk_threads = args.wrk_threads
        self.nonce = secrets.token_hex(4)
        self._counter = 0
        self.retry_deadline = time.monotonic() + args.noise_budget * 60
        """After this, disturbed runs are kept as they are and nobody waits for quiet: bounded time."""

    # -- environment and servers ---------------------------------------------------------------

    def base_env(self, data_dir: Path, es_url: str | None = None, es_index: str | None = None) -> dict[str, str]:
        """The caller's environment minus its ESAUTH_* store/secret settings, plus the bench's.

        ESAUTH_ARGON2_* and ESAUTH_SESSION_* pass through, so the server and the argon2
        baseline both use whatever parameters esauth is configured with.
        """
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("ESAUTH_") or k.startswith(("ESAUTH_ARGON2_", "ESAUTH_SESSION_", "ESAUTH_LOG_"))}
        env.update(
            # All of wrk's connections come from one address: at the default 30 logins and
            # sign-ups a minute per client, nearly every request would be a 429.
            ESAUTH_CLIENT_REQUESTS_PER_MINUTE=str(RATE_LIMIT_LIFTED),
            ESAUTH_COOKIE_SECURE="false",
            ESAUTH_DATA_DIR=str(data_dir),
            ESAUTH_SECRET_KEY=secrets.token_urlsafe(48),
            PYTHONUNBUFFERED="1",
        )
        if es_url:
            env["ESAUTH_ELASTICSEARCH_URL"] = es_url
            # osmem's root answer says OpenSearch; it is measured through elasticsearch-py as before.
            env.setdefault("ESAUTH_ES_ENGINE", "elasticsearch")
            env["ESAUTH_ES_INDEX"] = es_index or f"esauth-bench-{self.nonce}"
        return env

    def start_server(self, name: str, argv_tail: list[str], env: dict[str, str], threads: int | None,
                     store_pid: int | None = None) -> Server:
        port = free_port()
        argv = [*argv_tail, "--host", "127.0.0.1", "--port", str(port)]
        if threads is not None:
            argv += ["--threads", str(threads)]
        log_path = self.workdir / f"{name}-{port}.log"
        proc = self.procs.start(name, argv, env, log_path)
        server = Server(name, proc, port, log_path, env, store_pid)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise BenchError(f"{name} exited with {proc.returncode} at start-up:\n{tail(log_path)}")
            try:
                status, _, _ = http_call(port, "GET", "/health")
                if status == 200:
                    return server
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(f"{name} did not answer /health within {SERVER_START_TIMEOUT_S} s:\n{tail(log_path)}")

    def start_esauth(self, store: str, env: dict[str, str], threads: int | None,
                     store_pid: int | None = None) -> Server:
        esauth = Path(sys.executable).with_name("esauth")
        if not esauth.exists():
            raise BenchError(f"{esauth} not found: install esauth into this venv (make test does)")
        return self.start_server(f"esauth-{store}", [str(esauth), "serve"], env, threads, store_pid)

    # -- one measurement -----------------------------------------------------------------------

    def wrk_once(self, server: Server, path: str, script: str, conns: int, duration_s: int,
                 script_args: list[str], expected: int) -> Run:
        argv = [
            self.wrk, f"-t{self.wrk_threads}", f"-c{conns}", f"-d{duration_s}s", "--timeout", "10s",
            "-s", str(WRK_SCRIPTS / script), server.url + path, "--",
            f"threads={self.wrk_threads}", *script_args,
        ]
        pid = server.proc.pid
        pids = [pid] + ([server.store_pid] if server.store_pid else [])
        wait_idle(server)
        if duration_s > WARMUP_S and time.monotonic() < self.retry_deadline:
            wait_quiet(pids, self.args.max_other_load, self.args.quiet_wait)
        log_offset = server.log_path.stat().st_size
        cpu0 = cpu_seconds(pid)
        store_cpu0 = cpu_seconds(server.store_pid) if server.store_pid else None
        with RssSampler(pid) as rss, LoadMeter(pids) as load:
            try:
                result = subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 60)
            except subprocess.TimeoutExpired:
                raise BenchError(f"wrk did not finish within {duration_s + 60} s: {' '.join(argv)}") from None
        cpu = cpu_seconds(pid) - cpu0
        store_cpu = cpu_seconds(server.store_pid) - store_cpu0 if server.store_pid else None
        if server.proc.poll() is not None:
            raise BenchError(f"{server.name} died during the run:\n{tail(server.log_path)}")
        line = next((l for l in result.stdout.splitlines() if l.startswith("BENCHJSON ")), None)
        if result.returncode != 0 or line is None:
            raise BenchError(f"wrk failed ({result.returncode}): {' '.join(argv)}\n{result.stdout}\n{result.stderr}")
        data = json.loads(line[len("BENCHJSON "):])
        requests = data["requests"]
        unexpected = sum(n for code, n in data["statuses"].items() if int(code) != expected)
        socket_errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
        queue_warnings = count_in_log(server.log_path, log_offset, b"Task queue depth")
        log_lines = count_in_log(server.log_path, log_offset, b"")
        return Run(
            rps=requests / (data["duration_us"] / 1e6),
            p50_ms=data["p50_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            errors=unexpected + socket_errors,
            peak_rss_mib=rss.peak_kib / 1024,
            cpu_ms_per_req=cpu * 1000 / requests if requests else None,
            cores=cpu / (data["duration_us"] / 1e6),
            store_cpu_ms_per_req=store_cpu * 1000 / requests if (requests and store_cpu is not None) else None,
            queue_warnings=queue_warnings,
            log_lines_per_req=log_lines / requests if requests else None,
            other_load=load.other_cores,
            statuses=data["statuses"],
        )

    def scenario(self, key: str, label: str, store: str, threads: int, server: Server, path: str,
                 script: str, conns: int, script_args: Callable[[], list[str]], expected: int,
                 merge: bool = False) -> Row:
        print(f"  {label:<34} {store:<13} c={conns:<3} ", end="", flush=True)
        self.wrk_once(server, path, script, conns, WARMUP_S, script_args(), expected)
        runs = []
        for _ in range(self.args.runs):
            runs.append(self.least_disturbed(
                lambda: self.wrk_once(server, path, script, conns, self.args.duration, script_args(), expected)))
            print(f"{runs[-1].rps:,.0f} ", end="", flush=True)
        row = self.results.add(Row(key, label, store, threads, conns, runs), merge=merge, keep=self.args.runs)
        print_summary(row, "the least disturbed of both times " if merge else "")
        return row

    def interleaved(self, specs: list[Spec]) -> list[Row]:
        """`scenario` for each spec, runs taken in turns (a, b, a, b, ...): the machine's drift hits all alike."""
        letters = "abcdefghijklmnopqrstuvwxyz"[:len(specs)]
        legend = "; ".join(f"{letter}: {spec.label}" for letter, spec in zip(letters, specs))
        print(f"  in turns ({legend}) {specs[0].store} c={specs[0].conns} ", end="", flush=True)
        for spec in specs:
            self.measure(spec, WARMUP_S)
        runs: list[list[Run]] = [[] for _ in specs]
        for _ in range(self.args.runs):
            for letter, spec, spec_runs in zip(letters, specs, runs):
                spec_runs.append(self.least_disturbed(lambda spec=spec: self.measure(spec, self.args.duration)))
                print(f"{letter} {spec_runs[-1].rps:,.0f} ", end="", flush=True)
        print(flush=True)
        rows = []
        for spec, spec_runs in zip(specs, runs):
            row = self.results.add(Row(spec.key, spec.label, spec.store, spec.threads, spec.conns, spec_runs),
                                   keep=self.args.runs)
            print(f"  {spec.label:<34} {spec.store:<13} c={spec.conns:<3} ", end="")
            print_summary(row, "in turns: ")
            rows.append(row)
        return rows

    def measure(self, spec: Spec, duration_s: int) -> Run:
        return self.wrk_once(spec.server, spec.path, spec.script, spec.conns, duration_s, spec.script_args(),
                             spec.expected)

    def least_disturbed(self, measure: Callable[[], Run]) -> Run:
        """Measure; while other jobs took more than --max-other-load cores, measure again
        (--noise-retries times at most) and keep the least disturbed attempt."""
        attempts = [measure()]
        while (attempts[-1].other_load > self.args.max_other_load and len(attempts) <= self.args.noise_retries
               and time.monotonic() < self.retry_deadline):
            print(f"(other jobs used {attempts[-1].other_load:.2f} cores: again)", end=" ", flush=True)
            attempts.append(measure())
        return min(attempts, key=lambda run: run.other_load)

    def new_nonce(self) -> str:
        self._counter += 1
        return f"{self.nonce}{self._counter}"

    # -- baselines -----------------------------------------------------------------------------

    def argon2_baseline(self, threads: int, ops: tuple[str, ...] = ("verify", "hash"), merge: bool = False) -> None:
        env = self.base_env(self.workdir / "argon2")
        for op in ops:
            print(f"  {'raw argon2 ' + op:<34} {'in-process':<13} t={threads:<3} ", end="", flush=True)
            argv = [sys.executable, str(BENCH_DIR / "argon2_baseline.py"), "--op", op,
                    "--threads", str(threads), "--duration", str(self.args.duration)]

            def measure() -> Run:
                if time.monotonic() < self.retry_deadline:
                    wait_quiet([], self.args.max_other_load, self.args.quiet_wait)
                with LoadMeter([]) as load:
                    result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True,
                                            timeout=self.args.duration + 60)
                if result.returncode != 0:
                    raise BenchError(f"argon2 baseline failed:\n{result.stderr}")
                data = json.loads(result.stdout.strip().splitlines()[-1])
                self.argon2_params = data["params"]
                return Run(data["ops_per_s"], data["p50_ms"], data["p99_ms"], 0, data["peak_rss_kib"] / 1024,
                           cpu_ms_per_req=data["cpu_ms_per_op"], cores=data["cores"], other_load=load.other_cores)

            runs = []
            for _ in range(self.args.runs):
                runs.append(self.least_disturbed(measure))
                print(f"{runs[-1].rps:,.1f} ", end="", flush=True)
            row = self.results.add(Row(f"argon2-{op}-t{threads}", f"raw argon2 {op}", "in-process", threads, None, runs),
                                   merge=merge, keep=self.args.runs)
            kept = "the least disturbed of both times " if merge else ""
            print(f"-> {kept}{row.median('rps'):,.1f} ops/s p50 {row.median('p50_ms'):.1f} ms", flush=True)

    def bare_baseline(self, threads: int, conns_list: list[int], merge: bool = False) -> None:
        env = self.base_env(self.workdir / "bare")
        server = self.start_server("bare-falcon", [sys.executable, str(BENCH_DIR / "bare_app.py")], env, threads)
        try:
            for conns in conns_list:
                self.scenario(f"bare-t{threads}-c{conns}", "bare Falcon GET (baseline)", "—", threads, server,
                              "/v1/test", "get.lua", conns, lambda: [], 200, merge=merge)
        finally:
            self.procs.stop(server.proc)

    def remeasure_disturbed_baselines(self, threads: int) -> None:
        """Measure again, at the end, baselines that other jobs disturbed at the start; each keeps
        its least disturbed runs from both times. A ratio is only as good as its baseline."""
        def disturbed(key: str) -> bool:
            row = self.results.get(key)
            return row is not None and (row.median("other_load") or 0.0) > self.args.max_other_load

        ops = tuple(op for op in ("verify", "hash") if disturbed(f"argon2-{op}-t{threads}"))
        conns = [c for c in self.args.connections_list if disturbed(f"bare-t{threads}-c{c}")]
        if ops or conns:
            print("  (baselines disturbed by other jobs: measuring them again)", flush=True)
        if ops:
            self.argon2_baseline(threads, ops, merge=True)
        if conns:
            self.bare_baseline(threads, conns, merge=True)

    # -- esauth on one store -------------------------------------------------------------------

    def seed_over_http(self, server: Server, first: int, count: int) -> None:
        def sign_up(i: int) -> None:
            status, _, body = http_call(server.port, "POST", "/v1/users",
                                        {"email_address": EMAIL.format(i), "password": PASSWORD})
            if status not in (201, 409):
                raise BenchError(f"seeding {EMAIL.format(i)}: HTTP {status} {body[:200]!r}")
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(sign_up, range(first, first + count)))

    def cookies_for(self, server: Server, user_numbers: list[int]) -> Path:
        lines = []
        for i in user_numbers:
            status, headers, body = http_call(server.port, "POST", "/v1/auth/login",
                                              {"email_address": EMAIL.format(i), "password": PASSWORD})
            if status != 200:
                raise BenchError(f"logging in {EMAIL.format(i)}: HTTP {status} {body[:200]!r}")
            cookie = next((h.split(";", 1)[0] for h in headers.get_all("Set-Cookie") or [] if h.startswith("session=")), None)
            if not cookie:
                raise BenchError(f"logging in {EMAIL.format(i)}: no session cookie in the answer")
            status, _, _ = http_call(server.port, "GET", "/v1/test", cookie=cookie)
            if status != 200:
                raise BenchError(f"GET /v1/test with a fresh cookie answered {status}")
            lines.append(cookie)
        path = self.workdir / f"cookies-{secrets.token_hex(4)}.txt"
        path.write_text("\n".join(lines) + "\n")
        return path

    def emails_file(self, user_numbers: list[int]) -> Path:
        path = self.workdir / f"emails-{secrets.token_hex(4)}.txt"
        path.write_text("".join(EMAIL.format(i) + "\n" for i in user_numbers))
        return path

    def seed_directly(self, env: dict[str, str], first: int, count: int) -> float:
        """Write pre-hashed users (one argon2 hash, made with esauth's parameters, shared by all)
        through the store esauth's own composition root builds for these settings."""
        from domain.user import User
        from entrypoints.bootstrap import build_hasher, build_stores
        from entrypoints.config import Settings

        started = time.monotonic()
        settings = Settings.from_env(env)
        password_hash = build_hasher(settings).hash(PASSWORD)
        now = datetime.now(timezone.utc)

        def user(i: int) -> User:
            return User(email_address=EMAIL.format(i), password_hash=password_hash, created_at=now,
                        first_name="Bench", last_name="User")

        repository = build_stores(settings, report=lambda message: None).users
        repository.add(user(first))
        if settings.elasticsearch_url:
            # The repository's add is one HTTP request per user, ~450/s on osmem (4 minutes for
            # 100,000). So the first user goes through the repository, and the rest are bulk
            # copies of the very document it stored, with only the address changed.
            from infrastructure.search_engine.client import connect

            client = connect(settings.elasticsearch_url, engine=settings.es_engine, request_timeout_s=120)
            stored = client.get(settings.es_index, EMAIL.format(first))["_source"]
            if stored.get("email_address") != EMAIL.format(first):
                raise BenchError("the stored user document has no email_address field to vary")
            numbers = range(first + 1, first + count)
            for chunk in (numbers[start:start + 5000] for start in range(0, len(numbers), 5000)):
                answer = client.bulk_create(settings.es_index, {
                    EMAIL.format(i): {**stored, "email_address": EMAIL.format(i)} for i in chunk})
                if answer.get("errors"):
                    failed = [item for item in answer["items"] if item["create"].get("error")]
                    raise BenchError(f"bulk seeding: {len(failed)} users failed: {failed[:2]}")
            client.close()
        else:
            for i in range(first + 1, first + count):
                repository.add(user(i))
        for i in (first, first + count // 2, first + count - 1):
            found = repository.get(EMAIL.format(i))
            if found is None or found.password_hash != password_hash or found.email_address != EMAIL.format(i):
                raise BenchError(f"seeded user {EMAIL.format(i)} does not read back through the repository")
        return time.monotonic() - started

    def esauth_store(self, store: str, threads: int | None, threads_n: int, conns_list: list[int],
                     scenarios: set[str], growth: bool, diagnostics: bool) -> None:
        data_dir = self.workdir / f"data-{store}-{threads_n}"
        es_url = store_pid = osmem = None
        if store == "elasticsearch":
            from osmem_server import OsmemServer

            osmem = OsmemServer.start(japanese=False, addr="127.0.0.1:0")
            self.procs.adopt(osmem.close)
            es_url, store_pid = osmem.url, osmem.pid
            if not es_url.startswith(("http://127.0.0.1:", "http://localhost:")):
                raise BenchError(f"osmem-server is not on loopback: {es_url}")
        env = self.base_env(data_dir, es_url)
        # The same store and secret key, with the session check reading the store on every request.
        uncached_env = {**env, "ESAUTH_SESSION_CHECK_CACHE_MS": "0"}
        try:
            server = self.start_esauth(store, env, threads, store_pid)
            try:
                started = time.monotonic()
                self.seed_over_http(server, 0, SEED_USERS)
                print(f"  ({store}: seeded {SEED_USERS} users over HTTP in {time.monotonic() - started:.1f} s)",
                      flush=True)
                cookies = self.cookies_for(server, list(range(COOKIE_USERS))) if "test" in scenarios else None
                self.run_store_scenarios(server, store, threads_n, conns_list, scenarios, "", cookies,
                                         login_users=list(range(COOKIE_USERS, SEED_USERS)))
                if diagnostics and cookies:
                    self.uncached_test(uncached_env, store, threads, threads_n, conns_list, store_pid, cookies, "")
                if growth:
                    seconds = self.seed_directly(env, SEED_USERS, GROWTH_USERS)
                    print(f"  ({store}: wrote {GROWTH_USERS:,} more users directly in {seconds:.1f} s)", flush=True)
                    spread = [SEED_USERS + (k * GROWTH_STRIDE) % GROWTH_USERS for k in range(1000)]
                    cookies = self.cookies_for(server, spread[:COOKIE_USERS]) if "test" in scenarios else None
                    self.run_store_scenarios(server, store, threads_n, conns_list, scenarios & {"test", "login"},
                                             "growth-", cookies, login_users=spread[COOKIE_USERS:])
                    if diagnostics and cookies:
                        self.uncached_test(uncached_env, store, threads, threads_n, conns_list, store_pid, cookies,
                                           "growth-")
            finally:
                self.procs.stop(server.proc)
        finally:
            if osmem is not None:
                osmem.close()  # idempotent: stop_all calls it again at the end

    def uncached_test(self, env: dict[str, str], store: str, threads: int | None, threads_n: int,
                      conns_list: list[int], store_pid: int | None, cookies: Path, prefix: str) -> None:
        """GET /v1/test with ESAUTH_SESSION_CHECK_CACHE_MS=0: what the per-request store read costs."""
        server = self.start_esauth(store, env, threads, store_pid)
        growth = " (100k users)" if prefix else ""
        try:
            for conns in conns_list:
                self.scenario(f"{prefix}uncached-{store}-t{threads_n}-c{conns}",
                              f"GET /v1/test, no session cache{growth}", store, threads_n, server, "/v1/test",
                              "get.lua", conns, lambda: [f"cookies={cookies}"], 200)
        finally:
            self.procs.stop(server.proc)

    def run_store_scenarios(self, server: Server, store: str, threads: int, conns_list: list[int],
                            scenarios: set[str], prefix: str, cookies: Path | None, login_users: list[int]) -> None:
        growth = " (100k users)" if prefix else ""
        if "test" in scenarios and cookies:
            for conns in conns_list:
                self.scenario(f"{prefix}test-{store}-t{threads}-c{conns}", f"GET /v1/test{growth}", store, threads,
                              server, "/v1/test", "get.lua", conns, lambda: [f"cookies={cookies}"], 200)
        emails = self.emails_file(login_users) if "login" in scenarios else None
        login = [Spec(f"{prefix}login-{store}-t{threads}-c{conns}", f"login, right password{growth}", store, threads,
                      server, "/v1/auth/login", "login.lua", conns,
                      lambda: ["mode=ok", f"emails={emails}", f"password={PASSWORD}"], 200)
                 for conns in conns_list] if "login" in scenarios else []
        unknown = [Spec(f"unknown-{store}-t{threads}-c{conns}", "login, unknown email", store, threads,
                        server, "/v1/auth/login", "login.lua", conns,
                        lambda: ["mode=unknown", f"password={PASSWORD}", f"nonce={self.new_nonce()}"], 400)
                   for conns in conns_list] if "unknown" in scenarios and not prefix else []
        if login and unknown:  # the pair the unknown-email target compares: measured in turns
            for pair in zip(login, unknown):
                self.interleaved(list(pair))
        else:
            for spec in login + unknown:
                self.scenario(**vars(spec))
        if "signup" in scenarios and not prefix:
            for conns in conns_list:
                self.scenario(f"signup-{store}-t{threads}-c{conns}", "POST /v1/users (sign-up)", store, threads,
                              server, "/v1/users", "signup.lua", conns,
                              lambda: [f"password={PASSWORD}", f"nonce={self.new_nonce()}"], 201)


def print_summary(row: Row, kept: str = "") -> None:
    """The end of a scenario's console line: its medians."""
    print(f"-> {kept}{row.median('rps'):,.0f} req/s p50 {row.median('p50_ms'):.1f} ms "
          f"p99 {row.median('p99_ms'):.1f} ms errors {row.median('errors'):.0f} "
          f"rss {row.median('peak_rss_mib'):.0f} MiB", flush=True)


def wait_idle(server: Server, timeout_s: float = 60.0) -> None:
    """Wait until the server has finished the previous run's requests.

    waitress keeps serving requests whose client has gone: after a run at 64 connections
    against a ~60 logins/s server, a second of orphaned argon2 work would count against the
    next run. Idle = under 5% of one core for two 0.2 s intervals in a row.
    """
    pids = [server.proc.pid] + ([server.store_pid] if server.store_pid else [])
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(0.2)
        quiet = quiet + 1 if sum(cpu_seconds(pid) for pid in pids) - before < 0.01 else 0
    if quiet < 2:
        print(f"(bench: {server.name} still busy after {timeout_s:.0f} s; measuring anyway)", end=" ", flush=True)


def count_in_log(path: Path, offset: int, needle: bytes) -> int:
    count = 0
    with open(path, "rb") as log:
        log.seek(offset)
        for line in log:
            if needle in line:
                count += 1
    return count


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def esauth_default_threads() -> int:
    """The thread count `esauth serve` uses when --threads is not given, read from its own parser."""
    from entrypoints import cli

    return cli.parser().parse_args(["serve"]).threads


# ---------------------------------------------------------------------------------------------
# Ratios, targets, tables


def evaluate(results: Results) -> None:
    """Each row's baseline, ratio, target and verdict (keys: [growth-]kind-store-tN-cN)."""
    rows = results.rows
    for key, row in rows.items():
        t, c = row.threads, row.conns
        kind = key.split("-")[0] if not key.startswith("growth-") else "growth-" + key.split("-")[1]
        store = row.store
        if kind in ("test", "uncached"):
            base = rows.get(f"bare-t{t}-c{c}")
            if base:
                row.baseline_key, row.baseline_label = base.key, f"bare Falcon {fmt(base.median('rps'), 0)} req/s"
                row.ratio = row.median("rps") / base.median("rps")
                p99_ratio = row.median("p99_ms") / base.median("p99_ms")
                if kind == "test":
                    row.target = "≥0.75" + (f"; p99 ≤2× ({p99_ratio:.1f}×)" if c >= 64 else "")
                    ok = row.ratio >= 0.75 and (c < 64 or p99_ratio <= 2.0)
                    row.verdict = "met" if ok else "MISSED"
        elif kind in ("login", "unknown", "signup"):
            op = "hash" if kind == "signup" else "verify"
            base = rows.get(f"argon2-{op}-t{t}")
            if base:
                row.baseline_key, row.baseline_label = base.key, f"argon2 {op} {fmt(base.median('rps'))}/s"
                row.ratio = row.median("rps") / base.median("rps")
            if kind in ("login", "signup"):
                row.target = "≥0.9"
                ok = row.ratio is not None and row.ratio >= 0.9
                if kind == "login" and c is not None and c >= 64:
                    limit = t * argon2_memory_mib(results) + 80
                    row.target += f"; RSS ≤{limit:.0f} MiB"
                    ok = ok and (row.median("peak_rss_mib") or 0) <= limit
                row.verdict = "met" if ok else "MISSED"
            else:
                right = rows.get(f"login-{store}-t{t}-c{c}")
                if right:
                    latency_ratio = row.median("p50_ms") / right.median("p50_ms")
                    row.target = f"p50 ±20% of right pw ({latency_ratio:.2f}×)"
                    row.verdict = "met" if abs(latency_ratio - 1) <= 0.20 else "MISSED"
        elif kind.startswith("growth-"):
            small = rows.get(key[len("growth-"):])
            if small:
                row.baseline_key, row.baseline_label = small.key, f"100 users p50 {fmt(small.median('p50_ms'))} ms"
                row.ratio = row.median("p50_ms") / small.median("p50_ms")
                if kind != "growth-uncached":  # a diagnostic: no target of its own
                    row.target = "p50 ≤1.15×"
                    row.verdict = "met" if row.ratio <= 1.15 else "MISSED"


def flag_disturbed(results: Results, max_other: float) -> None:
    """Say so next to figures whose runs other jobs disturbed despite the retries."""
    for row in results.rows.values():
        load = row.median("other_load")
        if load is not None and load > max_other:
            row.verdict = (row.verdict + " " if row.verdict else "") + f"(disturbed: other jobs {load:.2f} cores)"


def argon2_memory_mib(results: Results) -> float:
    params = getattr(results, "argon2_params", None) or {"memory_cost_kib": 19 * 1024}
    return params["memory_cost_kib"] / 1024


def main_table(results: Results) -> str:
    head = ("| Scenario | Store | Threads | Conns | req/s | p50 ms | p99 ms | Errors | Peak RSS MiB "
            "| Baseline | Ratio | Target | Verdict |")
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for row in results.rows.values():
        conns = f"{row.conns}" if row.conns else "—"
        rps = fmt(row.median("rps"), 1 if row.conns is None else 0)
        lines.append(
            f"| {row.scenario} | {row.store} | {row.threads} | {conns} | {rps} | {fmt(row.median('p50_ms'))} "
            f"| {fmt(row.median('p99_ms'))} | {fmt(row.median('errors'), 0)} | {fmt(row.median('peak_rss_mib'), 0)} "
            f"| {row.baseline_label or '—'} | {fmt(row.ratio, 2)} | {row.target or '—'} | {row.verdict or '—'} |"
        )
    return "\n".join(lines)


def diagnostics_table(results: Results) -> str:
    head = ("| Scenario | Store | Threads | Conns | server CPU ms/req | server cores | store CPU ms/req "
            "| server log lines/req | waitress queue warnings/run | other jobs (cores) | runs (req/s) |")
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for row in results.rows.values():
        digits = 1 if row.conns is None else 0
        runs = ", ".join(fmt(run.rps, digits) for run in row.runs)
        loads = ", ".join(f"{run.other_load:.2f}" for run in row.runs if run.other_load is not None)
        lines.append(
            f"| {row.scenario} | {row.store} | {row.threads} | {row.conns or '—'} "
            f"| {fmt(row.median('cpu_ms_per_req'), 3)} | {fmt(row.median('cores'), 2)} "
            f"| {fmt(row.median('store_cpu_ms_per_req'), 3)} "
            f"| {fmt(row.median('log_lines_per_req'), 2)} "
            f"| {fmt(row.median('queue_warnings'), 0) if row.conns else '—'} | {loads or '—'} | {runs} |"
        )
    return "\n".join(lines)


def machine_info(wrk: str, wrk_how: str, commit: str) -> list[str]:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = proc_meminfo_kib("MemTotal")

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return [
        f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
        f"{mem_kib / 1024 / 1024:.1f} GiB RAM, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, falcon {version('falcon')}, waitress {version('waitress')}, "
        f"argon2-cffi {version('argon2-cffi')} (bindings {version('argon2-cffi-bindings')}), "
        f"itsdangerous {version('itsdangerous')}, elasticsearch-py {version('elasticsearch')}, "
        f"osmem-server {version('osmem-server')}, SQLite {sqlite3.sqlite_version}",
        f"- Load generator: {wrk_version(wrk)} ({wrk}, {wrk_how})",
        f"- esauth: {commit}",
    ]


def git_describe() -> str:
    """The commit measured, and whether esauth's tracked code differed from it (docs, the
    Makefile and the bench itself aside)."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%h %s"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)*.md", ":(exclude)bench", ":(exclude)Makefile"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown (no git)"
    return f"commit {head}" + (" (with uncommitted changes to tracked code)" if dirty else "") if head else "unknown"


def proc_meminfo_kib(name: str) -> int:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="1 run of 2 s per figure, growth and diagnostics off, no BENCHMARKS.md")
    parser.add_argument("--runs", type=int, help="runs per figure, the median is reported (default 3)")
    parser.add_argument("--duration", type=int, help="seconds per run (default 5)")
    parser.add_argument("--threads", help="waitress threads, comma-separated (default: esauth's default)")
    parser.add_argument("--connections", default="16,64", help="wrk connections, comma-separated (default 16,64)")
    parser.add_argument("--stores", default="sqlite,elasticsearch", help="sqlite,elasticsearch")
    parser.add_argument("--scenarios", default="test,login,unknown,signup",
                        help="any of test,login,unknown,signup (default all)")
    parser.add_argument("--growth", action=argparse.BooleanOptionalAction, default=None,
                        help="also run GET /v1/test and login with 100,000 users (default on, off with --quick)")
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
    parser.add_argument("--json", help="also write every run's raw figures here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp dir with server logs")
    args = parser.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    args.duration = args.duration or (2 if args.quick else 5)
    if args.growth is None:
        args.growth = not args.quick
    if args.diagnostics is None:
        args.diagnostics = not args.quick
    if args.output is None and not args.quick:
        args.output = str(REPO / "BENCHMARKS.md")
    args.connections_list = [int(c) for c in args.connections.split(",") if c.strip()]
    args.stores_list = [s.strip() for s in args.stores.split(",") if s.strip()]
    args.scenarios_set = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    bad = set(args.stores_list) - {"sqlite", "elasticsearch"}
    if bad:
        parser.error(f"--stores: unknown {', '.join(sorted(bad))}")
    bad = args.scenarios_set - {"test", "login", "unknown", "signup"}
    if bad:
        parser.error(f"--scenarios: unknown {', '.join(sorted(bad))}")
    if min(args.connections_list) < args.wrk_threads:
        parser.error("--connections: each must be at least --wrk-threads")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    procs = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="esauth-bench-"))
    started = time.monotonic()
    try:
        commit = git_describe()  # before the run: what was measured, even if the tree moves meanwhile
        wrk, wrk_how = find_wrk(args.wrk, not args.no_install)
        print(f"bench: wrk {wrk} ({wrk_how}); work dir {workdir}", flush=True)
        default_threads = esauth_default_threads()
        if args.threads:
            threads_list: list[int | None] = [int(t) for t in args.threads.split(",") if t.strip()]
        else:
            threads_list = [None]  # esauth serve without --threads: its own default
        bench = Bench(args, workdir, procs, wrk)
        for threads in threads_list:
            n = threads or default_threads
            print(f"\n== waitress threads={n}{' (esauth default)' if threads is None else ''}: "
                  f"{args.runs} run(s) × {args.duration} s per figure", flush=True)
            if args.baselines:
                bench.argon2_baseline(n)
                bench.results.argon2_params = bench.argon2_params
                bench.bare_baseline(n, args.connections_list)
            for store in args.stores_list:
                bench.esauth_store(store, threads, n, args.connections_list, args.scenarios_set, args.growth,
                                   args.diagnostics)
            if args.baselines:
                bench.remeasure_disturbed_baselines(n)
        evaluate(bench.results)
        flag_disturbed(bench.results, args.max_other_load)
        info = machine_info(wrk, wrk_how, commit)
        params = getattr(bench, "argon2_params", None)
        settings_line = (
            f"- Settings: `esauth serve` with waitress threads {', '.join(str(t or default_threads) for t in threads_list)}"
            f" (esauth default {default_threads}); wrk {args.wrk_threads} threads, keep-alive; "
            f"{args.runs} run(s) × {args.duration} s per figure after a {WARMUP_S} s warm-up, medians shown"
            + (f"; argon2id t={params['time_cost']}, m={params['memory_cost_kib'] // 1024} MiB, p={params['parallelism']}"
               if params else "")
        )
        report = "\n".join([
            *info, settings_line, "", main_table(bench.results), "",
            "Diagnostics: CPU per request of the server process (for raw argon2: per call) and the cores it "
            "kept busy, CPU per request of osmem-server (from /proc/PID/stat over each run), lines the server logged per request, waitress's \"Task queue depth\" warnings "
            "per run, the cores other jobs on the machine used during each kept run (runs disturbed by more "
            "than --max-other-load are measured again), and every kept run's figure (medians elsewhere).", "",
            diagnostics_table(bench.results),
        ])
        print("\n" + report)
        print(f"\nbench: finished in {(time.monotonic() - started) / 60:.1f} min", flush=True)
        if args.output:
            write_report(Path(args.output), report, args)
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


def write_report(path: Path, report: str, args: argparse.Namespace) -> None:
    """Replace the generated block of the report, keeping any hand-written notes around it."""
    begin, end = "<!-- bench:begin (generated by bench/run.py) -->", "<!-- bench:end -->"
    block = f"{begin}\n{report}\n{end}"
    if path.exists():
        text = path.read_text()
        if begin in text and end in text:
            before, rest = text.split(begin, 1)
            after = rest.split(end, 1)[1]
            path.write_text(before + block + after)
            return
    path.write_text(
        "# Benchmarks\n\n"
        "Run with `make bench` (or `.venv/bin/python bench/run.py`; see bench/run.py for options).\n\n"
        + block + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
