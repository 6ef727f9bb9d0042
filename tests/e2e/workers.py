"""Seeing which worker process serves what, from the outside: the log lines that name each
worker, and the kernel's own account of which process holds each accepted connection (/proc),
so the server needs no header or endpoint that would tell clients about its processes."""

from __future__ import annotations

import http.client
import json
import os
import re
import time
from contextlib import contextmanager
from typing import Any, Iterator

import pytest

from tests.e2e.harness import HOST, REQUEST_TIMEOUT_S, START_TIMEOUT_S, EsauthServer, Response

SERVING_LINE = re.compile(r"worker=(\d+) pid=(\d+) serving on ")


def children(pid: int) -> set[int]:
    """The live child processes of `pid` (zombies count as gone)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for_workers(server: EsauthServer, count: int, timeout_s: float = START_TIMEOUT_S) -> dict[int, int]:
    """{worker number: pid} once `count` live children of the server each logged that they serve."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        serving = {int(number): int(pid) for number, pid in SERVING_LINE.findall(server.stderr())}
        live = children(server.process.pid)
        current = {number: pid for number, pid in serving.items() if pid in live}
        if len(current) == count and set(current.values()) == live:
            return current
        assert server.alive(), f"the server exited: {server.stderr()}"
        time.sleep(0.05)
    pytest.fail(f"{count} workers did not start serving within {timeout_s} s:\n{server.stderr()}", pytrace=False)


def owner(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """Which of `pids` holds the server side of the loopback connection from `client_port`."""
    inode = None
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
                inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in descriptors:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


class Connection:
    """One keep-alive connection to the server, and the worker that accepted it."""

    def __init__(self, server: EsauthServer) -> None:
        self.http = http.client.HTTPConnection(HOST, server.port, timeout=REQUEST_TIMEOUT_S)
        self.worker: int | None = None

    def request(
        self, method: str, path: str, payload: Any = None, cookie: str | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        headers = {"Accept": "application/json", **(headers or {})}
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        if cookie is not None:
            headers["Cookie"] = cookie
        self.http.request(method, path, body=body, headers=headers)
        with self.http.getresponse() as answer:
            return Response(answer.status, answer.headers, answer.read())

    def close(self) -> None:
        self.http.close()


@contextmanager
def one_connection_per_worker(server: EsauthServer, pids: set[int], attempts: int = 200) -> Iterator[dict[int, Connection]]:
    """{pid: a connection accepted by that worker}, all closed on the way out.

    Which worker accepts a connection is the kernel's choice, so this opens connections until
    each worker holds one (each answered a request first, so it has surely been accepted)."""
    pinned: dict[int, Connection] = {}
    spare: list[Connection] = []
    try:
        for _ in range(attempts):
            if len(pinned) == len(pids):
                break
            connection = Connection(server)
            spare.append(connection)
            assert connection.request("GET", "/health").status == 200
            connection.worker = owner(server.port, connection.http.sock.getsockname()[1], pids)
            if connection.worker is not None and connection.worker not in pinned:
                pinned[connection.worker] = spare.pop()
            else:
                spare.pop().close()
        assert len(pinned) == len(pids), f"{attempts} connections reached only workers {sorted(pinned)} of {sorted(pids)}"
        yield pinned
    finally:
        for connection in [*pinned.values(), *spare]:
            connection.close()
