"""End-to-end fixtures: a real `esauth serve` process on a free loopback port, and a stdlib HTTP client.

Everything here is closed on the way out (processes, pipes, log files, sockets), because the
suite runs with `filterwarnings = error` and a ResourceWarning would fail the test.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.tools.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT_S = 20.0
STOP_GRACE_S = 5.0
REQUEST_TIMEOUT_S = 10.0


def esauth_command() -> list[str]:
    """The `esauth` console script of this interpreter's environment, else the module."""
    script = Path(sys.executable).with_name("esauth")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "entrypoints.cli"]


def random_secret_key() -> str:
    return secrets.token_urlsafe(36)  # 48 characters


# --------------------------------------------------------------------------------------------
# HTTP


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    @property
    def json(self) -> Any:
        assert self.headers.get_content_type() == "application/json", (
            f"expected a JSON response, got Content-Type {self.headers.get('Content-Type')!r}: {self.body[:300]!r}"
        )
        return json.loads(self.body)

    def set_cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []

    def __repr__(self) -> str:  # what a failed assertion shows
        return f"<Response {self.status} {self.body[:500]!r}>"


def raw_request(
    base_port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    encode_chunked: bool = False,
) -> Response:
    """One request on its own connection with http.client: full control over the bytes sent."""
    connection = http.client.HTTPConnection(HOST, base_port, timeout=REQUEST_TIMEOUT_S)
    try:
        if encode_chunked:
            connection.request(method, path, body=body, headers=headers or {}, encode_chunked=True)
        else:
            connection.request(method, path, body=body, headers=headers or {})
        with connection.getresponse() as answer:
            return Response(answer.status, answer.headers, answer.read())
    finally:
        connection.close()


class Client:
    """A curl-like client: urllib with a cookie jar, so cookies go back as a real client sends them.

    `cookie=` sends an explicit Cookie header instead (to replay an old cookie).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self._with_jar = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self._without_jar = urllib.request.build_opener()

    def request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        headers: dict[str, str] | None = None,
        cookie: str | None = None,
    ) -> Response:
        all_headers = {"Accept": "application/json"}
        data = None
        if payload is not None:
            data = json.dumps(payload).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        opener = self._with_jar
        if cookie is not None:
            all_headers["Cookie"] = cookie
            opener = self._without_jar
        req = urllib.request.Request(self.base_url + path, data=data, headers=all_headers, method=method)
        try:
            with opener.open(req, timeout=REQUEST_TIMEOUT_S) as answer:
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, error.headers, error.read())

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, payload: Any = None, **kwargs: Any) -> Response:
        return self.request("POST", path, payload, **kwargs)

    def cookie_values(self, name: str) -> list[str]:
        return [cookie.value for cookie in self.jar if cookie.name == name and cookie.value is not None]


# --------------------------------------------------------------------------------------------
# The server process


@dataclass
class EsauthServer:
    """One `esauth serve` child process; its stdout and stderr go to files in tmp_path."""

    process: subprocess.Popen
    port: int
    env: dict[str, str]
    stdout_path: Path
    stderr_path: Path
    _files: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def client(self) -> Client:
        return Client(self.url)

    def raw(self, method: str, path: str, **kwargs: Any) -> Response:
        return raw_request(self.port, method, path, **kwargs)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_healthy(self, timeout_s: float = START_TIMEOUT_S, status: int = 200) -> Response:
        """Poll GET /health until it answers `status`, the process dies, or the time is up."""
        deadline = time.monotonic() + timeout_s
        last: str = "no answer yet"
        while time.monotonic() < deadline:
            if not self.alive():
                pytest.fail(
                    f"esauth exited with code {self.process.returncode} before answering /health.\n"
                    f"stderr:\n{self.stderr()}",
                    pytrace=False,
                )
            try:
                answer = raw_request(self.port, "GET", "/health")
            except OSError as error:  # refused while it binds, reset, timeout
                last = f"{type(error).__name__}: {error}"
            else:
                if answer.status == status:
                    return answer
                last = repr(answer)
            time.sleep(0.05)
        pytest.fail(
            f"esauth on port {self.port} did not answer {status} on /health within {timeout_s} s "
            f"(last: {last}).\nstderr:\n{self.stderr()}",
            pytrace=False,
        )

    def stop(self) -> None:
        """terminate, wait, then kill; idempotent; closes the log files."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=STOP_GRACE_S)
        finally:
            while self._files:
                self._files.pop().close()


StartServer = Callable[..., EsauthServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """A factory: `start_server(data_dir=..., secret_key=True|False|str, workers=1, prefix=[...], port=...,
    **ESAUTH_vars)`.

    `port` is for a caller that must name the URL in the settings (ESAUTH_PUBLIC_URL); else a free one.

    `prefix` goes before the command (such as a setpriv that drops capabilities).

    One worker unless asked: most tests replay a revoked cookie at once and expect a 401, which
    holds on the process that served the logout, and on other workers only within the revocation
    bound (tests/e2e/test_workers.py tests that).
    Every server it started is stopped at teardown, whatever the test's outcome.
    """
    servers: list[EsauthServer] = []
    counter = iter(range(1, 1000))

    def start(
        data_dir: Path | None = None,
        secret_key: bool | str = True,
        wait: bool = True,
        workers: int = 1,
        prefix: tuple[str, ...] = (),
        port: int | None = None,
        **variables: str,
    ) -> EsauthServer:
        number = next(counter)
        env = {name: value for name, value in os.environ.items() if not name.startswith("ESAUTH_")}
        env["ESAUTH_DATA_DIR"] = str(data_dir or tmp_path / "data")
        env["ESAUTH_COOKIE_SECURE"] = "false"  # plain http: a client would drop a Secure cookie
        if secret_key is True:
            env["ESAUTH_SECRET_KEY"] = random_secret_key()
        elif secret_key:
            env["ESAUTH_SECRET_KEY"] = secret_key
        env.update(variables)
        env["PYTHONUNBUFFERED"] = "1"
        port = port or free_port()
        stdout_path = tmp_path / f"esauth-{number}.stdout"
        stderr_path = tmp_path / f"esauth-{number}.stderr"
        stdout = stdout_path.open("wb")
        stderr = stderr_path.open("wb")
        try:
            process = subprocess.Popen(
                [*prefix, *esauth_command(), "serve", "--host", HOST, "--port", str(port), "--threads", "4", "--workers", str(workers)],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )
        except BaseException:
            stdout.close()
            stderr.close()
            raise
        server = EsauthServer(process, port, env, stdout_path, stderr_path, [stdout, stderr])
        servers.append(server)
        if wait:
            server.wait_healthy()
        return server

    try:
        yield start
    finally:
        errors = []
        for server in servers:
            try:
                server.stop()
            except Exception as error:  # stop the others anyway
                errors.append(error)
        if errors:
            raise errors[0]
