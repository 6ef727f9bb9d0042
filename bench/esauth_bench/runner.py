"""How one figure is measured: a warm-up, --runs runs of wrk, each re-measured while other jobs
disturbed it, and a row of medians. Bench also holds what every scenario shares (arguments,
work dir, processes, results)."""

from __future__ import annotations

import argparse
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from contextlib import nullcontext
from typing import Callable, ContextManager

from . import prometheus
from . import wrk as wrk_driver
from .common import WARMUP_S, BenchError
from .measure import LoadMeter, RssSampler, cpu_seconds, wait_idle, wait_quiet
from .processes import Processes, count_in_log, tail
from .results import Results, Row, Run, print_summary
from .servers import Server


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
    alongside: Callable[[], ContextManager] | None = None
    """Something to run during each measured run (a /metrics scraper)."""


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

    def wrk_once(self, server: Server, path: str, script: str, conns: int, duration_s: int,
                 script_args: list[str], expected: int, alongside: Callable[[], ContextManager] | None = None) -> Run:
        serving = server.server_pids
        pids = server.pids
        wait_idle(server.name, pids)
        if duration_s > WARMUP_S and time.monotonic() < self.retry_deadline:
            wait_quiet(pids, self.args.max_other_load, self.args.quiet_wait)
        log_offset = server.log_path.stat().st_size
        cpu0 = sum(cpu_seconds(pid) for pid in serving)
        store_cpu0 = cpu_seconds(server.store_pid) if server.store_pid else None
        reads0 = server.store_reads() if server.store_reads else None
        cache0 = self._session_cache(server)
        with RssSampler(serving) as rss, LoadMeter(pids) as load, (alongside or nullcontext)():
            argv, result = wrk_driver.run(self.wrk, self.wrk_threads, server.url + path, script, conns, duration_s,
                                          script_args)
        cpu = sum(cpu_seconds(pid) for pid in serving) - cpu0
        store_cpu = cpu_seconds(server.store_pid) - store_cpu0 if server.store_pid else None
        reads = server.store_reads() - reads0 if server.store_reads else None
        cache1 = self._session_cache(server) if cache0 else None
        checks = (cache1[0] - cache0[0]) + (cache1[1] - cache0[1]) if cache0 and cache1 else 0
        calls = cache1[2] - cache0[2] if cache0 and cache1 and cache0[2] is not None and cache1[2] is not None else None
        if server.proc.poll() is not None:
            raise BenchError(f"{server.name} died during the run:\n{tail(server.log_path)}")
        data = wrk_driver.figures(argv, result)
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
            store_reads_per_req=reads / requests if (requests and reads is not None) else None,
            queue_warnings=queue_warnings,
            log_lines_per_req=log_lines / requests if requests else None,
            other_load=load.other_cores,
            view_hit_ratio=(cache1[0] - cache0[0]) / checks if checks else None,
            store_calls_per_req=calls / requests if (requests and calls is not None) else None,
            set_cookie_per_req=data["set_cookie"] / requests if requests else None,
            statuses=data["statuses"],
        )

    @staticmethod
    def _session_cache(server: Server) -> tuple[float, float, float | None] | None:
        """The server's session-view (hits, misses) and store calls so far, if its /metrics
        counts them."""
        if not server.counts_sessions:
            return None
        samples = prometheus.scrape(server.port)
        counts = prometheus.session_cache(samples)
        if counts is None:
            server.counts_sessions = False
            return None
        return (*counts, prometheus.store_calls(samples))

    def scenario(self, key: str, label: str, store: str, threads: int, server: Server, path: str,
                 script: str, conns: int, script_args: Callable[[], list[str]], expected: int,
                 merge: bool = False, alongside: Callable[[], ContextManager] | None = None) -> Row:
        print(f"  {label:<34} {store:<13} c={conns:<3} ", end="", flush=True)
        self.wrk_once(server, path, script, conns, WARMUP_S, script_args(), expected, alongside)
        runs = []
        for _ in range(self.args.runs):
            runs.append(self.least_disturbed(
                lambda: self.wrk_once(server, path, script, conns, self.args.duration, script_args(), expected,
                                      alongside)))
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
                             spec.expected, spec.alongside)

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
