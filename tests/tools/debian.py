"""Debian packages a test needs, installed with apt-get when missing (as root), so a fresh machine
or CI needs no manual step. nginx has its own finder (tests/tools/nginx.py: several paths, two
package names); this is for the plain case of one file from one package."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

APT_TIMEOUT_S = 900


def ensure_installed(path: str, package: str) -> str:
    """`path` (an executable), after `apt-get install package` if it is missing; fails the test
    with the reason when it cannot be had."""
    if Path(path).exists():
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(f"{path} is missing and this run cannot install {package} (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=300", "-qq"]  # waits out a concurrent apt run
    subprocess.run([*apt, "update"], env=env, check=True, timeout=APT_TIMEOUT_S)
    subprocess.run([*apt, "install", "-y", package], env=env, check=True,
                   timeout=APT_TIMEOUT_S)
    if not Path(path).exists():
        pytest.fail(f"apt-get install {package} did not provide {path}")
    return path
