"""Every child the bench starts is tracked, and stopped in `finally`, by its own pid."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from .common import REPO

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


def raise_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(f"bench: stopped by signal {signum}")


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
