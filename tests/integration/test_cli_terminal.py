"""`esauth create-user` at a real terminal: a pseudo-terminal (stdlib pty) that is the command's
controlling terminal, so Ctrl-D and Ctrl-C reach it as they do from a person's keyboard (the
line discipline turns ^D into end of input and ^C into SIGINT)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from entrypoints.bootstrap import SQLITE_FILE
from tests.e2e.harness import esauth_command
from tests.http.helpers import stored_emails

TIMEOUT_S = 20.0
CTRL_C, CTRL_D = b"\x03", b"\x04"
TAKE_TERMINAL = (
    "import os, signal, sys; os.close(os.open(os.ttyname(0), os.O_RDWR)); "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
)
"""Run after setsid (start_new_session): opening the tty makes it the controlling terminal, and
SIGINT gets its default action, as an interactive shell gives its foreground jobs. An ignored
SIGINT survives exec (and Python then keeps ignoring it), so without this a suite started with
SIGINT ignored (`make test &`, nohup, some CI runners) would wait forever for Ctrl-C to work."""


class Terminal:
    """One command on a pseudo-terminal; `expect` reads until some text, `send` types keys."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", TAKE_TERMINAL, *argv],
                stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
            )
        finally:
            os.close(slave)
        self.output = b""

    def expect(self, text: bytes) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while text not in self.output:
            assert self._read(deadline - time.monotonic()), f"no {text!r} in {self.output!r}"

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def finish(self) -> tuple[int, str]:
        deadline = time.monotonic() + TIMEOUT_S
        while self._read(deadline - time.monotonic()):
            pass
        code = self.process.wait(timeout=TIMEOUT_S)
        return code, self.output.decode(errors="replace")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=TIMEOUT_S)
        os.close(self.master)

    def _read(self, timeout_s: float) -> bool:
        """More output, or False at its end (Linux says EIO once the other side is closed)."""
        if timeout_s <= 0 or not select.select([self.master], [], [], timeout_s)[0]:
            return False
        try:
            chunk = os.read(self.master, 4096)
        except OSError:
            return False
        self.output += chunk
        return bool(chunk)


@pytest.fixture
def terminal(tmp_path: Path):
    env = {name: value for name, value in os.environ.items() if not name.startswith("ESAUTH_")}
    env.update(ESAUTH_DATA_DIR=str(tmp_path / "data"), ESAUTH_SECRET_KEY="terminal-tests-key-0123456789abcdef")
    opened: list[Terminal] = []

    def start() -> Terminal:
        opened.append(Terminal([*esauth_command(), "create-user", "ada@abc.com"], env))
        return opened[-1]

    yield start
    for each in opened:
        each.close()


def assert_nothing_created(tmp_path: Path) -> None:
    database = tmp_path / "data" / SQLITE_FILE
    assert not database.exists() or stored_emails(database) == []


@pytest.mark.parametrize(
    "typed_first, key, code, message",
    [
        (b"", CTRL_D, 1, "esauth: no password given (end of input); nothing was created"),
        (b"", CTRL_C, 130, "esauth: interrupted; nothing was created"),
        (b"correct horse battery\r", CTRL_D, 1, "esauth: no password given (end of input); nothing was created"),
    ],
    ids=["ctrl-d-at-password", "ctrl-c-at-password", "ctrl-d-at-again"],
)
def test_ctrl_d_or_ctrl_c_at_the_prompt_ends_with_one_line_and_creates_nothing(
    terminal, tmp_path: Path, typed_first: bytes, key: bytes, code: int, message: str
) -> None:
    session = terminal()
    session.expect(b"Password: ")
    if typed_first:
        session.send(typed_first)
        session.expect(b"Again: ")
    session.send(key)

    exit_code, output = session.finish()

    assert exit_code == code, output
    assert "Traceback" not in output
    lines = [line for line in output.replace("\r", "").split("\n") if line.strip()]
    assert lines[-1] == message, output
    assert "correct horse" not in output  # no echo, as ever
    assert_nothing_created(tmp_path)


def test_the_password_typed_twice_at_the_terminal_creates_the_user(terminal, tmp_path: Path) -> None:
    session = terminal()
    session.expect(b"Password: ")
    session.send(b"correct horse battery\r")
    session.expect(b"Again: ")
    session.send(b"correct horse battery\r")

    exit_code, output = session.finish()

    assert exit_code == 0, output
    assert "created 'ada@abc.com'" in output and "correct horse" not in output
    assert stored_emails(tmp_path / "data" / SQLITE_FILE) == ["ada@abc.com"]
