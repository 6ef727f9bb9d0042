"""The ready signal a worker sends goes to its parent only, never to whoever has its pid now."""

import subprocess
import sys

from entrypoints.server.supervisor import tell_parent_ready


def test_a_worker_whose_parent_is_gone_signals_nobody() -> None:
    """A parent that died before its worker was ready may see its pid given to another process;
    SIGUSR1's default action ends that process (as root: any process), so the worker must first
    check that the pid is still its parent's."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        tell_parent_ready(stranger.pid)  # our parent is pytest's, not the stranger
        assert stranger.poll() is None
        try:
            stranger.wait(timeout=0.3)
        except subprocess.TimeoutExpired:
            pass
        assert stranger.returncode is None, f"the stranger was ended by signal {-stranger.returncode}"
    finally:
        stranger.kill()
        stranger.wait()
