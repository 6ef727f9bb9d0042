"""The HTTP servers under load: `esauth serve` on a store, and the bare-Falcon baseline.

Both are started through esauth's own `serve` command (bench/bare_app.py swaps only the app), so
waitress runs with exactly esauth's settings, on a free loopback port, and answers /health before
any run starts.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .common import BENCH_DIR, RATE_LIMIT_LIFTED, SERVER_START_TIMEOUT_S, BenchError
from .loopback import free_port, http_call
from .measure import process_tree
from .processes import Processes, tail


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    log_path: Path
    env: dict[str, str]
    store_pid: int | None = None
    store_reads: Callable[[], int] | None = None
    """The store's count of document reads (stores.Store.reads), where it keeps one."""
    counts_sessions: bool = True
    """Whether its /metrics counts session-view hits; false once a scrape found none."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_pids(self) -> list[int]:
        """The server process and its workers (`esauth serve --workers N` forks them)."""
        return process_tree(self.proc.pid)

    @property
    def pids(self) -> list[int]:
        """The server's and its store's: what the load meter counts as the bench's own."""
        return self.server_pids + ([self.store_pid] if self.store_pid else [])


def esauth_env(data_dir: Path, workers: int, store_env: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus its ESAUTH_* store/secret settings, plus the bench's.

    ESAUTH_ARGON2_* and ESAUTH_SESSION_* pass through, so the server and the argon2
    baseline both use whatever parameters esauth is configured with. ESAUTH_WORKERS is the
    bench's --workers (an esauth from before workers reads no such setting and is one process).
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
        ESAUTH_WORKERS=str(workers),
        PYTHONUNBUFFERED="1",
    )
    env.update(store_env or {})
    return env


def start_server(procs: Processes, workdir: Path, name: str, argv_tail: list[str], env: dict[str, str],
                 threads: int | None, store_pid: int | None = None,
                 store_reads: Callable[[], int] | None = None) -> Server:
    """`esauth serve`'s command line (or one that takes its flags) on a free port."""
    port = free_port()
    argv = [*argv_tail, "--host", "127.0.0.1", "--port", str(port)]
    if threads is not None:
        argv += ["--threads", str(threads)]
    return start_listening(procs, workdir, name, argv, env, port, store_pid, store_reads)


def start_listening(procs: Processes, workdir: Path, name: str, argv: list[str], env: dict[str, str], port: int,
                    store_pid: int | None = None, store_reads: Callable[[], int] | None = None) -> Server:
    """Any server told to listen on 127.0.0.1:`port` by `argv`, once it answers GET /health."""
    log_path = workdir / f"{name}-{port}.log"
    proc = procs.start(name, argv, env, log_path)
    server = Server(name, proc, port, log_path, env, store_pid, store_reads)
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


def start_esauth(procs: Processes, workdir: Path, store: str, env: dict[str, str], threads: int | None,
                 store_pid: int | None = None, store_reads: Callable[[], int] | None = None) -> Server:
    esauth = Path(sys.executable).with_name("esauth")
    if not esauth.exists():
        raise BenchError(f"{esauth} not found: install esauth into this venv (make test does)")
    return start_server(procs, workdir, f"esauth-{store}", [str(esauth), "serve"], env, threads, store_pid,
                        store_reads)


def start_bare_falcon(procs: Processes, workdir: Path, env: dict[str, str], threads: int | None) -> Server:
    return start_server(procs, workdir, "bare-falcon", [sys.executable, str(BENCH_DIR / "bare_app.py")], env,
                        threads)


def esauth_default_threads() -> int:
    """The thread count `esauth serve` uses when --threads is not given, read from its own parser."""
    from entrypoints import cli

    return cli.parser().parse_args(["serve"]).threads


def esauth_has_workers() -> bool:
    """Whether this esauth's `serve` can run several worker processes (--workers)."""
    from entrypoints import cli

    return hasattr(cli.parser().parse_args(["serve"]), "workers")
