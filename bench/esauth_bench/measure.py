"""/proc readings: RSS and CPU of a process, and how busy the rest of the (shared) machine is."""

from __future__ import annotations

import os
import resource
import threading
import time
from typing import Any


def proc_status_kib(pid: int, field_name: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def proc_meminfo_kib(name: str) -> int:
    try:
        for line in open("/proc/meminfo"):
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
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


def process_tree(pid: int) -> list[int]:
    """The process and every descendant (a server's workers), from /proc/PID/task/*/children."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo += [int(child) for child in children.read().split()]
            except OSError:
                pass
    return found


class RssSampler:
    """Polls VmRSS every 20 ms while a run lasts; the peak is that of the largest process (one
    worker of several: memory limits are per process), max(polled, VmHWM after reset)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._hwm_reset: list[int] = []

    def __enter__(self) -> "RssSampler":
        self._hwm_reset = [pid for pid in self.pids if reset_peak_rss(pid)]
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_kib = max([self.peak_kib, *(proc_status_kib(pid, "VmRSS") for pid in self.pids)])

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max([self.peak_kib, *(proc_status_kib(pid, "VmHWM") for pid in self._hwm_reset)])


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


def wait_idle(name: str, pids: list[int], timeout_s: float = 60.0) -> None:
    """Wait until a server (and its store) has finished the previous run's requests.

    waitress keeps serving requests whose client has gone: after a run at 64 connections
    against a ~60 logins/s server, a second of orphaned argon2 work would count against the
    next run. Idle = under 5% of one core for two 0.2 s intervals in a row.
    """
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(0.2)
        quiet = quiet + 1 if sum(cpu_seconds(pid) for pid in pids) - before < 0.01 else 0
    if quiet < 2:
        print(f"(bench: {name} still busy after {timeout_s:.0f} s; measuring anyway)", end=" ", flush=True)
