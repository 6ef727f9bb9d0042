"""The peers, measured in the same run as esauth: Flask-Login, fastapi-users and Django's auth.

Each stack runs in its own venv (peer_envs), from one small app file in bench/peers/, on SQLite
as its docs set it up, in two deployments: one process, and the best one for every core of the
machine (peer_envs.STACKS). For each: the cookie check with --sessions (10,000) distinct live
sessions taking turns, as esauth's `sessions` rows (each session made by the stack's own code
when it is seeded: a Flask-Login login, a fastapi-users JWT, a Django session row), and login
with the right password, read against the stack's own raw verify (its own hasher with its own
defaults, on one thread per core) as esauth's login is against raw argon2. Logins run at the
lowest --connections only: Django's PBKDF2 takes about 0.3 s of CPU per verify, so 64 waiting
logins would outlast wrk's 10 s timeout.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
from pathlib import Path

from .. import peer_envs
from ..common import COOKIE_USERS, PASSWORD, SEED_USERS, BenchError
from ..loopback import free_port, http_call
from ..measure import LoadMeter
from ..results import Row, Run
from ..runner import Bench
from ..seeding import emails_file
from ..servers import Server, start_listening

SEED_TIMEOUT_S = 600


def cores() -> int:
    return len(os.sched_getaffinity(0))


def peer_env(bench: Bench, stack: peer_envs.PeerStack) -> dict[str, str]:
    data = bench.workdir / f"peer-{stack.name}"
    data.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PEER_DB=str(data / "peer.sqlite3"), PEER_SECRET=secrets.token_urlsafe(48),
               PYTHONPATH=str(peer_envs.PEERS_DIR), PYTHONUNBUFFERED="1")
    return env


def run_app(python: Path, stack: peer_envs.PeerStack, env: dict[str, str], args: list[str], timeout_s: float) -> dict:
    """One command of the peer's app file (peer_common: seed, raw-verify), its JSON answer."""
    argv = [str(python), str(peer_envs.PEERS_DIR / f"{stack.module}.py"), *args]
    try:
        result = subprocess.run(argv, env=env, cwd=peer_envs.PEERS_DIR, capture_output=True, text=True,
                                timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{stack.name}: {' '.join(args)} took over {timeout_s:.0f} s") from None
    if result.returncode != 0:
        raise BenchError(f"{stack.name}: {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def peers(bench: Bench, names: list[str], conns_list: list[int], sessions: int) -> None:
    for name in names:
        stack = peer_envs.STACKS[name]
        python = peer_envs.ensure_venv(stack)
        versions = bench.results.peer_versions[stack.label] = peer_envs.versions(python, stack)
        print(f"\n== peer {stack.label}: {versions}", flush=True)
        env = peer_env(bench, stack)
        cookies = bench.workdir / f"peer-{stack.name}" / "cookies.txt"
        users = max(sessions, SEED_USERS)
        seeded = run_app(python, stack, env, ["seed", "--users", str(users), "--sessions", str(sessions),
                                              "--cookies", str(cookies)], SEED_TIMEOUT_S)
        print(f"  ({stack.name}: wrote {users:,} users and {sessions:,} live sessions in {seeded['seconds']:.1f} s)",
              flush=True)
        verify_key = raw_verify(bench, python, stack, env)
        emails = emails_file(bench.workdir, list(range(COOKIE_USERS, SEED_USERS)))
        for number in range(len(stack.deployments(python.parent, 0, cores()))):
            # A port of its own: the last deployment's workers may still be finishing a login.
            port = free_port()
            deployment = stack.deployments(python.parent, port, cores())[number]
            server = start_listening(bench.procs, bench.workdir, f"{stack.name}-{number}", deployment.argv, env,
                                     port)
            try:
                check_cookies(server.port, cookies, stack)
                suffix = f"{stack.name}.{number}"
                for conns in conns_list:
                    row = bench.scenario(f"peersessions-{suffix}-t{deployment.threads}-c{conns}",
                                         f"{stack.label} GET /v1/test, {sessions:,} sessions ({deployment.label})",
                                         "sqlite", deployment.threads, server, "/v1/test", "get.lua", conns,
                                         lambda: [f"cookies={cookies}"], 200)
                    row.sessions, row.workers = sessions, deployment.processes
                login_args = ["mode=ok", f"emails={emails}", f"password={PASSWORD}",
                              *([f"form={stack.login_form}"] if stack.login_form else [])]
                conns = min(conns_list)
                row = bench.scenario(f"peerlogin-{suffix}-t{deployment.threads}-c{conns}",
                                     f"{stack.label} login, right password ({deployment.label})", "sqlite",
                                     deployment.threads, server, stack.login_path, "login.lua", conns,
                                     lambda: login_args, stack.login_status)
                row.workers, row.baseline_key = deployment.processes, verify_key
            finally:
                stop_tree(bench, server)


def stop_tree(bench: Bench, server: Server) -> None:
    """Stop the server (its master drains and stops its workers), then kill, by pid, any of its
    workers left: a master killed after its grace period leaves them orphaned, still serving."""
    workers = server.server_pids[1:]
    bench.procs.stop(server.proc)
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def check_cookies(port: int, cookies: Path, stack: peer_envs.PeerStack) -> None:
    """The first, middle and last seeded session are let in, and no cookie is not: the rows
    price a real check."""
    lines = cookies.read_text().splitlines()
    for line in (lines[0], lines[len(lines) // 2], lines[-1]):
        status, _, body = http_call(port, "GET", "/v1/test", cookie=line)
        if status != 200:
            raise BenchError(f"{stack.name}: GET /v1/test with a seeded session answered {status} {body[:200]!r}")
    status, _, _ = http_call(port, "GET", "/v1/test")
    if status != 401:
        raise BenchError(f"{stack.name}: GET /v1/test without a session answered {status}, not 401")


def raw_verify(bench: Bench, python: Path, stack: peer_envs.PeerStack, env: dict[str, str]) -> str:
    """The stack's own verify on one thread per core (as the process pools of its best deployment
    run it), --runs times: the row its logins are read against."""
    threads = cores()
    print(f"  {stack.label + ' raw verify':<34} {'in-process':<13} t={threads:<3} ", end="", flush=True)
    runs, hasher = [], ""

    def measure() -> Run:
        nonlocal hasher
        with LoadMeter([]) as load:
            data = run_app(python, stack, env, ["raw-verify", "--threads", str(threads), "--duration",
                                                str(bench.args.duration)], bench.args.duration + 120)
        hasher = data["hasher"]
        return Run(data["ops_per_s"], data["p50_ms"], data["p99_ms"], 0, data["peak_rss_kib"] / 1024,
                   cpu_ms_per_req=data["cpu_ms_per_op"], cores=data["cores"], other_load=load.other_cores)

    for _ in range(bench.args.runs):
        runs.append(bench.least_disturbed(measure))
        print(f"{runs[-1].rps:,.1f} ", end="", flush=True)
    key = f"peerverify-{stack.name}-t{threads}"
    row = bench.results.add(Row(key, f"{stack.label} raw verify: {hasher}", "in-process", threads, None, runs))
    print(f"-> {row.median('rps'):,.1f} ops/s p50 {row.median('p50_ms'):.1f} ms", flush=True)
    return key
