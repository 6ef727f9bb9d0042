"""The seed's session and restart persistence against a real server on the embedded SQLite store."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

from tests.e2e.harness import StartServer
from tests.e2e.seed_session import EMAIL, cookie_header, log_in, run_seed_session, sign_up


def test_seed_curl_session_on_sqlite(start_server: StartServer) -> None:
    server = start_server()
    run_seed_session(server, store="sqlite")
    assert server.alive()


def test_restart_keeps_users_sessions_and_the_generated_key(start_server: StartServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir=data_dir, secret_key=False)
    key_file = data_dir / "secret_key"
    assert key_file.is_file(), sorted(p.name for p in data_dir.iterdir())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600, oct(key_file.stat().st_mode)
    key = key_file.read_text().strip()
    assert len(key) >= 32
    assert "ESAUTH_SECRET_KEY is not set" in first.stderr(), first.stderr()
    assert key not in first.stderr(), "the generated key is written to the log"

    client = first.client()
    assert sign_up(client).status == 200
    _, cookie = log_in(client)
    assert client.get("/v1/test").status == 200
    first.stop()
    assert not first.alive()

    second = start_server(data_dir=data_dir, secret_key=False)
    assert key_file.read_text().strip() == key, "the key file was replaced on restart"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    fresh = second.client()  # a new client: nothing but the old cookie carries over
    kept = fresh.get("/v1/test", cookie=cookie_header(cookie))
    assert kept.status == 200, kept
    assert kept.json["data"]["user"]["email_address"] == EMAIL

    # The user is still there: a duplicate sign-up is refused, and logging in works.
    assert sign_up(fresh).status == 409
    _, new_cookie = log_in(fresh)
    assert new_cookie != cookie
    assert fresh.get("/v1/test").status == 200


def bound_by_file_modes() -> tuple[str, ...]:
    """A command prefix under which file modes bind the server even when the tests run as root
    (as CI does): setpriv (util-linux) drops every capability, CAP_DAC_OVERRIDE included."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:  # util-linux is essential on Debian, but a slim image may lack it
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "util-linux"], env=env, check=True, timeout=600)
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (Debian's util-linux) is needed to run a server that file modes bind"
    return (setpriv, "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all")


def set_store_mode(data_dir: Path, mode: int) -> list[str]:
    files = sorted(data_dir.glob("esauth.sqlite3*"))
    for file in files:
        file.chmod(mode)
    return [file.name for file in files]


def test_a_store_that_cannot_be_written_is_503_on_health_and_recovers_by_itself(start_server: StartServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_server(data_dir=data_dir)
    assert sign_up(first.client()).status == 200
    first.stop()
    assert "esauth.sqlite3" in set_store_mode(data_dir, 0o400)

    server = start_server(data_dir=data_dir, wait=False, prefix=bound_by_file_modes())
    health = server.wait_healthy(status=503)
    assert health.json["message"] == "The sqlite store is not answering.", health
    client = server.client()
    refused = client.post("/v1/users/new", {"email_address": "late@abc.com", "password": "correct horse"})
    assert refused.status == 503 and refused.headers["Retry-After"] == "1", refused

    assert "esauth.sqlite3" in set_store_mode(data_dir, 0o600)  # what an operator's chmod -R u+w does
    server.wait_healthy(timeout_s=5)  # no restart
    assert server.raw("GET", "/health").json == {"status": "ok", "store": "sqlite"}
    added = client.post("/v1/users/new", {"email_address": "late@abc.com", "password": "correct horse"})
    assert added.status == 200, added
    assert server.alive()
