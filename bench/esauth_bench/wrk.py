"""The load generator: finding (or installing) wrk, and running one script against one URL.

The Lua scripts live in bench/wrk/; common.lua makes each of them print one `BENCHJSON {...}`
line (requests, latency percentiles, socket errors, response statuses) that `run` returns.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from .common import WRK_SCRIPTS, BenchError


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


def run(wrk: str, wrk_threads: int, url: str, script: str, conns: int, duration_s: int,
        script_args: list[str]) -> tuple[list[str], subprocess.CompletedProcess]:
    """One wrk run. Every script gets `threads=` (wrk's thread count) before its own arguments."""
    argv = [
        wrk, f"-t{wrk_threads}", f"-c{conns}", f"-d{duration_s}s", "--timeout", "10s",
        "-s", str(WRK_SCRIPTS / script), url, "--",
        f"threads={wrk_threads}", *script_args,
    ]
    try:
        return argv, subprocess.run(argv, capture_output=True, text=True, timeout=duration_s + 60)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {duration_s + 60} s: {' '.join(argv)}") from None


def figures(argv: list[str], result: subprocess.CompletedProcess) -> dict:
    """The run's BENCHJSON line, parsed; a failed run stops the bench with wrk's output."""
    line = next((l for l in result.stdout.splitlines() if l.startswith("BENCHJSON ")), None)
    if result.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({result.returncode}): {' '.join(argv)}\n{result.stdout}\n{result.stderr}")
    return json.loads(line[len("BENCHJSON "):])
