"""The parent of `esauth serve --workers N`: forks N workers, replaces the ones that die, and
stops them all on SIGTERM or SIGINT. It serves nothing itself and starts no thread, so forking
is safe: each worker builds its own app, store connections and hashing threads after the fork."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

from entrypoints.server.serving import DRAIN_TIMEOUT_S

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
READY = signal.SIGUSR1
"""What a worker sends its parent once its app is built and it is about to serve."""
WATCHED = {signal.SIGCHLD, READY, *STOP_SIGNALS}
STABLE_AFTER_S = 10.0
"""A worker that lived this long is replaced at once; one that died sooner is replaced after a
back-off that doubles with each quick death, so a crash loop does not spin."""
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
KILL_AFTER_S = DRAIN_TIMEOUT_S + 5.0
"""Workers still running this long after SIGTERM are killed."""
PR_SET_PDEATHSIG = 1
FAILED = 1

log = logging.getLogger("esauth")


@dataclass
class Slot:
    """One of the N places a worker runs in; its number survives replacements."""

    number: int
    pid: int = 0
    started_at: float = 0.0
    quick_deaths: int = 0
    start_at: float = 0.0  # when a replacement is due (monotonic)


class Supervisor:
    """`run_worker(number, parent_pid)` runs in the forked child and returns its exit status.

    Until a first worker says it is ready, a worker that exits ends the server with that
    worker's status (else 1), as a single process that cannot reach its store ends: a server that never served has nothing
    to keep alive, and its operator (or systemd) sees the error at once. Once the server has
    served, dead workers are replaced, so it recovers by itself when, say, the store returns.
    """

    def __init__(self, workers: int, run_worker: Callable[[int, int], int]) -> None:
        self._slots = [Slot(number) for number in range(1, workers + 1)]
        self._run_worker = run_worker
        self._pid = os.getpid()
        self._served = False

    def run(self) -> int:
        signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
        try:
            for slot in self._slots:
                self._start(slot)
            while True:
                now = time.monotonic()
                for slot in self._slots:
                    if not slot.pid and slot.start_at <= now:
                        self._start(slot)
                due = [slot.start_at - now for slot in self._slots if not slot.pid]
                received = signal.sigtimedwait(WATCHED, max(0.01, min(due, default=1.0)))
                if received is not None and received.si_signo == READY:
                    self._served = True
                failed = self._reap(replace=self._served)
                if failed is not None:
                    log.error("a worker exited before the server ever served: stopping")
                    self._stop()
                    return failed or FAILED
                if received is not None and received.si_signo in STOP_SIGNALS:
                    log.info("%s: stopping %d worker(s)", signal.Signals(received.si_signo).name, self._running())
                    return self._stop()
        finally:
            while signal.sigtimedwait({READY, *STOP_SIGNALS}, 0) is not None:
                pass  # a late READY or a second Ctrl-C must not kill the parent once it unblocks
            signal.pthread_sigmask(signal.SIG_UNBLOCK, WATCHED)

    def _start(self, slot: Slot) -> None:
        if threading.active_count() != 1:
            raise RuntimeError("the supervisor must not fork while it runs threads")
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                become_worker(slot.number, self._pid)
                status = self._run_worker(slot.number, self._pid)
            except BaseException:
                log.exception("worker %d failed", slot.number)
            finally:
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)  # never return into the parent's stack, nor run its exit handlers
        slot.pid, slot.started_at = pid, time.monotonic()
        log.info("worker %d started (pid %d)", slot.number, pid)

    def _reap(self, replace: bool) -> int | None:
        """Collect exited workers and schedule their replacements; with `replace` off, the exit
        status of one that exited (a signal counts as 0), else None."""
        failed = None
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return failed
            if pid == 0:
                return failed
            slot = next((slot for slot in self._slots if slot.pid == pid), None)
            if slot is None:
                continue
            lived = time.monotonic() - slot.started_at
            slot.pid = 0
            how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {os.WEXITSTATUS(status)}"
            if not replace:
                log.info("worker %d (pid %d) exited with %s", slot.number, pid, how)
                failed = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 0
                continue
            slot.quick_deaths = slot.quick_deaths + 1 if lived < STABLE_AFTER_S else 0
            delay = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (slot.quick_deaths - 1)) if slot.quick_deaths else 0.0
            slot.start_at = time.monotonic() + delay
            log.warning(
                "worker %d (pid %d) exited with %s after %.1f s; replacing it in %.1f s",
                slot.number, pid, how, lived, delay,
            )

    def _stop(self) -> int:
        for slot in self._slots:
            if slot.pid:
                os.kill(slot.pid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_AFTER_S
        while self._running() and time.monotonic() < deadline:
            signal.sigtimedwait({signal.SIGCHLD}, 0.1)
            self._reap(replace=False)
        for slot in self._slots:
            if slot.pid:
                log.warning("worker %d (pid %d) did not stop in %.0f s: killing it", slot.number, slot.pid, KILL_AFTER_S)
                os.kill(slot.pid, signal.SIGKILL)
                os.waitpid(slot.pid, 0)
                slot.pid = 0
        log.info("all workers stopped")
        return 0

    def _running(self) -> int:
        return sum(1 for slot in self._slots if slot.pid)


def become_worker(number: int, parent_pid: int) -> None:
    """In the forked child: its log lines tagged, the signals a worker handles itself, and no
    life after the parent.

    PR_SET_PDEATHSIG sends SIGTERM (so the worker drains) when the parent dies; the parent pid
    check covers a parent that died before the request was made, and serving loops also watch it.
    """
    tag = WorkerLogTag(number)
    for handler in logging.getLogger().handlers:
        handler.addFilter(tag)
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d; relying on the parent pid watch", ctypes.get_errno())
    if os.getppid() != parent_pid:
        os._exit(0)


class WorkerLogTag(logging.Filter):
    """Puts `worker=<n> pid=<pid>` in front of every message a worker logs (or into it, for a
    message that is a mapping of fields), whatever the handler's format: the worker that wrote a
    line is what an operator needs first when N processes share one log."""

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.pid = os.getpid()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "esauth_worker", None) is None:  # once, however many handlers see it
            record.esauth_worker = self.number
            if isinstance(record.msg, Mapping):
                record.msg = type(record.msg)({"worker": self.number, "pid": self.pid, **record.msg})
            else:
                record.msg = f"worker={self.number} pid={self.pid} {record.msg}"
        return True


def tell_parent_ready(parent_pid: int) -> None:
    """From a worker: its app is built and it serves next (see Supervisor).

    Only while that pid is still our parent: once the parent is gone its pid may belong to any
    process, which SIGUSR1 would end. An orphaned worker is reparented, so the check sees it;
    its serving loop then stops at once on the same check."""
    if os.getppid() == parent_pid:
        os.kill(parent_pid, READY)
