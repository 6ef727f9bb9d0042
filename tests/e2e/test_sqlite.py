"""The seed's session and restart persistence against a real server on the embedded SQLite store."""

from __future__ import annotations

import stat
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
