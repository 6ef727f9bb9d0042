"""Debian's nginx, run by a test in the foreground from a config the test writes, and always stopped.

Usage (as a context manager, or inside a pytest fixture that yields from it)::

    from tests.tools.nginx import run_nginx
    from tests.tools.ports import free_port

    port = free_port()
    http_block = f'''
        server {{
            listen 127.0.0.1:{port} ssl;
            ssl_certificate     {certs.server_chain};
            ssl_certificate_key {certs.server_key};
            location / {{ proxy_pass http://127.0.0.1:{upstream_port}; }}
        }}
    '''
    with run_nginx(http_block, ports=[port], workdir=tmp_path / "nginx") as nginx:
        ...  # nginx listens on every port in `ports`; nginx.error_log() for its complaints

`http_block` is the inside of nginx's `http { }` block (servers, maps, upstreams). run_nginx wraps
it in a complete nginx.conf whose pid file, logs and temp directories all live in `workdir`
(a fresh temp dir when None); nothing under /etc/nginx is read but mime.types when it exists.
It starts `nginx -g 'daemon off;'` as a child, waits until every port accepts connections (or
fails with the error log), and on the way out stops it with SIGTERM (nginx's fast shutdown: a
test waits for no lingering keep-alive client), then kills its process group if it lingers.

render_deploy_template(values) is deploy/nginx/esauth.conf.template with its placeholders filled, as
`envsubst` with the names listed would (the e2e deployment test and `make bench` both serve it).

nginx_binary() finds nginx, installing Debian's package with apt-get when it is missing (as
root, like `make bench` does for wrk), so a fresh machine or CI needs no manual step.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from tests.tools.ports import LOOPBACK

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
APT_TIMEOUT_S = 600
MIME_TYPES = Path("/etc/nginx/mime.types")
SEARCH_PATH = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
DEPLOY_TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "esauth.conf.template"


class NginxError(RuntimeError):
    """nginx is missing and cannot be installed, or it did not start; the message says why."""


@dataclass
class Nginx:
    """A running nginx: its ports, its files, and its error log."""

    process: subprocess.Popen
    ports: tuple[int, ...]
    workdir: Path
    config_path: Path
    error_log_path: Path

    def error_log(self) -> str:
        try:
            return self.error_log_path.read_text(errors="replace")
        except OSError:
            return ""


def render_deploy_template(values: dict[str, str]) -> str:
    """deploy/nginx's template with its placeholders filled, as `envsubst` with the names listed would."""
    text = DEPLOY_TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    left = [line for line in text.splitlines() if "${ESAUTH_" in line.split("#", 1)[0]]
    if left:
        raise NginxError(f"placeholders left in {DEPLOY_TEMPLATE.name}: {left}")
    return text


def nginx_binary() -> str:
    """The nginx executable: on PATH or in sbin, else installed now with apt-get."""
    found = _find()
    if found:
        return found
    how = "install Debian's nginx (apt-get install nginx-light) or put nginx on PATH"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise NginxError(f"nginx is not installed and this run cannot install it (needs root and apt-get): {how}")
    # Debian 12's nginx-light is the nginx package plus one module; older releases ship the
    # binary in nginx-light itself. The lock timeout waits out a concurrent apt run.
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=300", "-qq"]
    try:
        subprocess.run([*apt, "update"], env=env, check=True, timeout=APT_TIMEOUT_S, capture_output=True)
        subprocess.run([*apt, "install", "-y", "--no-install-recommends", "nginx-light"], env=env, check=True,
                       timeout=APT_TIMEOUT_S, capture_output=True)
    except subprocess.CalledProcessError as error:
        output = (error.stdout or b"").decode(errors="replace") + (error.stderr or b"").decode(errors="replace")
        raise NginxError(f"apt-get install nginx-light failed ({error.returncode}): {output.strip()[-2000:]}") from None
    except subprocess.TimeoutExpired:
        raise NginxError(f"apt-get did not finish within {APT_TIMEOUT_S} s: {how}") from None
    found = _find()
    if not found:
        raise NginxError(f"apt-get install nginx-light did not install an nginx binary: {how}")
    return found


def _find() -> str | None:
    on_path = shutil.which("nginx")
    if on_path:
        return on_path
    return next((path for path in SEARCH_PATH if os.access(path, os.X_OK)), None)


def nginx_config(http_block: str, workdir: Path, worker_connections: int = 256) -> str:
    """A complete nginx.conf around `http_block` that writes only inside `workdir`."""
    temp = workdir / "temp"
    mime = f"include {MIME_TYPES};" if MIME_TYPES.exists() else ""
    # As root, workers would drop to `nobody`, who cannot enter pytest's 0700 temp dirs where the
    # temp paths live; a test's workers run as the test's own user instead.
    user = "user root root;" if os.geteuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} info;
events {{ worker_connections {worker_connections}; }}
http {{
    {mime}
    default_type application/octet-stream;
    access_log {workdir / "access.log"};
    client_body_temp_path {temp / "client_body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
{http_block}
}}
"""


@contextmanager
def run_nginx(
    http_block: str,
    ports: Sequence[int],
    workdir: Path | None = None,
    timeout_s: float = START_TIMEOUT_S,
    worker_connections: int = 256,
) -> Iterator[Nginx]:
    """nginx serving `http_block`, listening on `ports` (loopback), until the block ends.

    `worker_connections` bounds the connections nginx holds at once, clients and upstreams
    together: a test that holds hundreds of client connections raises it."""
    binary = nginx_binary()
    with ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="esauth-nginx-")))
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "temp").mkdir(exist_ok=True)
        config_path = workdir / "nginx.conf"
        config_path.write_text(nginx_config(http_block, workdir, worker_connections))
        error_log = workdir / "error.log"
        checked = subprocess.run(
            [binary, "-t", "-q", "-p", str(workdir), "-e", str(error_log), "-c", str(config_path)],
            capture_output=True, text=True, timeout=timeout_s,
        )
        if checked.returncode != 0:
            raise NginxError(f"nginx refused the config {config_path}:\n{checked.stderr.strip()}")
        output = stack.enter_context(open(workdir / "nginx.out", "wb"))
        process = subprocess.Popen(
            [binary, "-p", str(workdir), "-e", str(error_log), "-c", str(config_path), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
        nginx = Nginx(process, tuple(ports), workdir, config_path, error_log)
        stack.callback(_stop, process)
        _wait_listening(nginx, timeout_s)
        yield nginx


def _wait_listening(nginx: Nginx, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    waiting = list(nginx.ports)
    while waiting:
        if nginx.process.poll() is not None:
            raise NginxError(f"nginx exited with code {nginx.process.returncode}:\n{nginx.error_log()}")
        if time.monotonic() > deadline:
            raise NginxError(f"nginx did not listen on {waiting} within {timeout_s} s:\n{nginx.error_log()}")
        try:
            with socket.create_connection((LOOPBACK, waiting[0]), timeout=0.5):
                waiting.pop(0)
        except OSError:
            time.sleep(0.02)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the master, which stops its workers; SIGKILL to the whole group if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
