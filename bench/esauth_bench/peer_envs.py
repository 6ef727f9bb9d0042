"""The peers' virtual environments: one per stack, built by the bench with pip from PyPI.

Each peer (bench/peers/*.py) runs in a venv of its own, so its dependencies never meet esauth's
or each other's. A venv is built once and kept under ~/.cache/esauth-bench/peers/ (or
$ESAUTH_BENCH_CACHE), named by a digest of its requirements and the Python version: changing a
requirement builds a new one, and a half-built venv (no marker file) is built again. pip's own
download cache (~/.cache/pip) makes a rebuild quick.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .common import BENCH_DIR, BenchError

PEERS_DIR = BENCH_DIR / "peers"
PIP_TIMEOUT_S = 900
MARKER = ".esauth-bench-complete"


@dataclass(frozen=True)
class PeerStack:
    name: str
    """As --peers names it."""
    label: str
    """As the report's Scenario column shows it."""
    module: str
    """The app's file in bench/peers/, without .py."""
    requirements: tuple[str, ...]
    """What its docs tell you to pip install (servers included)."""
    versions_of: tuple[str, ...]
    """The distributions whose versions the report names."""
    deployments: Callable[[Path, int, int], list["Deployment"]]
    """Its deployments, given the venv's bin dir, the port and the cores: one process first, then
    the best one for all the cores."""
    login_path: str = "/v1/auth/login"
    login_form: str | None = None
    """The form field of the email when its login takes a form (bench/wrk/login.lua's form=)."""
    login_status: int = 200


@dataclass(frozen=True)
class Deployment:
    label: str
    """As the report shows it, e.g. `gunicorn -w 2`."""
    argv: list[str]
    threads: int
    """Request threads per process (1: an event loop)."""
    processes: int


GTHREADS = 4
"""gunicorn's threaded worker (keep-alive, as wrk's connections and every other stack here use;
its default sync worker closes each connection, which would price a TCP handshake per request)."""


GRACE_S = 3
"""gunicorn's drain on SIGTERM: inside Processes.stop's 5 s, so the master stops its own workers."""


def gunicorn(bin_dir: Path, port: int, workers: int, app: str) -> Deployment:
    return Deployment(f"gunicorn -w {workers} -k gthread --threads {GTHREADS}",
                      [str(bin_dir / "gunicorn"), "-w", str(workers), "-k", "gthread", "--threads", str(GTHREADS),
                       "-b", f"127.0.0.1:{port}", "--graceful-timeout", str(GRACE_S), "--no-control-socket", app],
                      GTHREADS, workers)


def flask_deployments(bin_dir: Path, port: int, cores: int) -> list[Deployment]:
    waitress = Deployment("waitress, 1 process", [str(bin_dir / "waitress-serve"), "--threads=8",
                                                  f"--listen=127.0.0.1:{port}", "flask_login_app:app"], 8, 1)
    return [waitress, gunicorn(bin_dir, port, cores, "flask_login_app:app")]


def fastapi_deployments(bin_dir: Path, port: int, cores: int) -> list[Deployment]:
    def uvicorn(workers: int) -> Deployment:
        return Deployment(f"uvicorn --workers {workers}",
                          [str(bin_dir / "uvicorn"), "--host", "127.0.0.1", "--port", str(port), "--workers",
                           str(workers), "--no-access-log", "--log-level", "warning", "fastapi_users_app:app"],
                          1, workers)
    return [uvicorn(1), uvicorn(cores)]


def django_deployments(bin_dir: Path, port: int, cores: int) -> list[Deployment]:
    return [gunicorn(bin_dir, port, workers, "django_auth_app:application") for workers in (1, cores)]




STACKS: dict[str, PeerStack] = {stack.name: stack for stack in (
    PeerStack("flask-login", "Flask-Login", "flask_login_app",
              ("flask>=3", "flask-login>=0.6", "flask-sqlalchemy>=3.1", "waitress>=3", "gunicorn>=27"),
              ("flask", "flask-login", "flask-sqlalchemy", "sqlalchemy", "werkzeug", "waitress", "gunicorn"),
              flask_deployments),
    PeerStack("fastapi-users", "fastapi-users", "fastapi_users_app",
              ("fastapi>=0.110", "fastapi-users[sqlalchemy]>=13", "aiosqlite>=0.20", "uvicorn[standard]>=0.29"),
              ("fastapi", "fastapi-users", "fastapi-users-db-sqlalchemy", "sqlalchemy", "pwdlib", "uvicorn"),
              fastapi_deployments, "/auth/cookie/login", "username", 204),
    PeerStack("django", "Django auth", "django_auth_app",
              ("django>=5", "gunicorn>=27"),
              ("django", "gunicorn"), django_deployments),
)}


def cache_root() -> Path:
    return Path(os.environ.get("ESAUTH_BENCH_CACHE") or Path.home() / ".cache" / "esauth-bench") / "peers"


def venv_dir(stack: PeerStack) -> Path:
    key = json.dumps([sys.version_info[:2], sorted(stack.requirements)]).encode()
    return cache_root() / f"{stack.name}-{hashlib.sha256(key).hexdigest()[:12]}"


def ensure_venv(stack: PeerStack) -> Path:
    """The stack's venv's python, building the venv first when it is not cached."""
    directory = venv_dir(stack)
    python = directory / "bin" / "python"
    if (directory / MARKER).exists() and python.exists():
        return python
    print(f"  ({stack.name}: building its venv in {directory}: pip install {' '.join(stack.requirements)})",
          flush=True)
    started = time.monotonic()
    shutil.rmtree(directory, ignore_errors=True)
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True, capture_output=True,
                       timeout=120)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        *stack.requirements], check=True, capture_output=True, timeout=PIP_TIMEOUT_S)
    except subprocess.CalledProcessError as error:
        output = (error.stdout or b"").decode(errors="replace") + (error.stderr or b"").decode(errors="replace")
        raise BenchError(f"building the {stack.name} venv failed: {output.strip()[-2000:]}") from None
    except subprocess.TimeoutExpired:
        raise BenchError(f"building the {stack.name} venv took over {PIP_TIMEOUT_S} s") from None
    (directory / MARKER).write_text("")
    print(f"  ({stack.name}: venv built in {time.monotonic() - started:.0f} s)", flush=True)
    return python


def versions(python: Path, stack: PeerStack) -> str:
    """`name version, ...` of the stack's main distributions, as installed in its venv."""
    code = ("import importlib.metadata as m, sys\n"
            "for n in sys.argv[1:]:\n"
            "    try: print(n, m.version(n))\n"
            "    except m.PackageNotFoundError: print(n, 'not installed')\n")
    result = subprocess.run([str(python), "-c", code, *stack.versions_of], capture_output=True, text=True,
                            timeout=60)
    return ", ".join(result.stdout.split("\n")[:-1]) if result.returncode == 0 else "unknown"
