"""The composition root: which adapters settings pick, the generated key, refusals at start-up."""

import logging
import stat
import subprocess
import sys
from dataclasses import replace

import pytest

from tests.engines import drop_indices

from entrypoints.bootstrap import (
    SECRET_KEY_FILE,
    build_hasher,
    build_services,
    describe_view,
    build_stores,
    secret_keys,
    settings_for_workers,
    settings_of_worker,
    worker_count,
)
from entrypoints.config import ConfigError, Settings
from entrypoints.bootstrap import SQLITE_FILE
from infrastructure.second_factor.fernet_box import FernetSecretBox
from infrastructure.hashing.pool import cores_available
from infrastructure.search_engine.login_failures import SearchEngineLoginFailureRepository
from infrastructure.search_engine.user_repository import SearchEngineUserRepository
from infrastructure.sqlite.login_failures import SqliteLoginFailureRepository
from infrastructure.sqlite.user_repository import SqliteUserRepository


def test_without_elasticsearch_users_live_in_sqlite_in_the_data_dir(tmp_path):
    stores = build_stores(Settings(data_dir=tmp_path / "data"))
    assert isinstance(stores.users, SqliteUserRepository)
    assert isinstance(stores.login_failures, SqliteLoginFailureRepository)
    assert (tmp_path / "data" / SQLITE_FILE).exists()


@pytest.mark.elasticsearch
def test_with_a_search_engine_both_indices_are_created_with_strict_mappings(search_engine, es_index):
    stores = build_stores(Settings(elasticsearch_url=search_engine.url, es_engine=search_engine.client, es_index=es_index))
    assert isinstance(stores.users, SearchEngineUserRepository)
    assert isinstance(stores.login_failures, SearchEngineLoginFailureRepository)
    client = stores.users._client
    assert client.engine == stores.users.kind == ("elasticsearch" if search_engine.name == "osmem" else "opensearch")
    for alias, field in ((es_index, "email_address"), (f"{es_index}-login-failures", "failures")):
        index = f"{alias}-000001"
        mapping = client.mapping(alias)[index]["mappings"]
        assert mapping["dynamic"] == "strict"
        assert field in mapping["properties"]
        client.delete_index(index)
    client.close()


@pytest.mark.elasticsearch
def test_the_engine_is_detected_from_the_root_answer(search_engine, es_index):
    stores = build_stores(Settings(elasticsearch_url=search_engine.url, es_index=es_index))  # ESAUTH_ES_ENGINE=auto
    client = stores.users._client
    # osmem's root answer says OpenSearch (it only sends Elasticsearch's product header)
    assert client.engine == "opensearch"
    drop_indices(client, es_index, f"{es_index}-login-failures")
    client.close()


def test_a_generated_key_is_kept_owner_only_and_reused(tmp_path, caplog):
    settings = Settings(data_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="esauth"):
        (first,) = secret_keys(settings)
    path = tmp_path / SECRET_KEY_FILE
    assert len(first) >= 48
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "must share one key" in caplog.text
    assert first not in caplog.text
    assert secret_keys(settings) == (first,)


def test_configured_keys_are_used_and_no_file_is_written(tmp_path):
    keys = ("k" * 32, "o" * 32)
    assert secret_keys(Settings(data_dir=tmp_path, secret_keys=keys)) == keys
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def test_a_truncated_key_file_is_refused(tmp_path):
    (tmp_path / SECRET_KEY_FILE).write_text("short\n")
    with pytest.raises(ConfigError, match="too short"):
        secret_keys(Settings(data_dir=tmp_path))


@pytest.mark.parametrize(
    "change, named",
    [
        ({"argon2_time_cost": 1}, "time_cost"),
        ({"argon2_memory_kib": 19 * 1024 - 1}, "memory_cost"),
    ],
)
def test_argon2_weaker_than_the_owasp_floor_is_refused(change, named):
    with pytest.raises(ConfigError, match=named):
        build_hasher(replace(Settings(), **change))


def test_argon2_defaults_are_the_configured_parameters():
    hasher = build_hasher(Settings())
    assert not hasher.needs_rehash(hasher.hash("a password!"))
    assert "m=19456,t=2,p=1" in hasher.hash("a password!")


@pytest.mark.parametrize("configured, expected", [(0, cores_available()), (3, 3)])
def test_argon2_runs_on_one_worker_per_core_unless_configured(tmp_path, configured, expected):
    services = build_services(Settings(data_dir=tmp_path, hash_workers=configured, argon2_time_cost=2, secret_keys=("k" * 40,)))
    try:
        assert services.hasher.workers == expected
        assert services.auth.register("pool@example.com", "a long password").email_address == "pool@example.com"
    finally:
        services.close()
    with pytest.raises(RuntimeError):
        services.hasher.hash("after close")


def test_the_parent_resolves_a_generated_key_once_for_all_workers(tmp_path):
    prepared = settings_for_workers(Settings(data_dir=tmp_path))
    assert prepared.secret_keys == ((tmp_path / SECRET_KEY_FILE).read_text().strip(),)
    assert settings_for_workers(prepared) == prepared  # a worker's own build finds it configured
    with pytest.raises(ConfigError, match="argon2"):
        settings_for_workers(Settings(data_dir=tmp_path, argon2_time_cost=1))


@pytest.mark.parametrize("configured, workers, expected", [(0, 1, [cores_available()]), (5, 2, [3, 2]), (1, 3, [1, 1, 1])])
def test_each_worker_gets_its_share_of_the_servers_hashing_threads(configured, workers, expected):
    settings = Settings(hash_workers=configured)
    assert [settings_of_worker(settings, workers, worker).hash_workers for worker in range(1, workers + 1)] == expected
    assert worker_count(Settings(workers=3)) == 3 and worker_count(Settings()) == cores_available()


def test_totp_secrets_are_sealed_with_their_own_keys_when_given_else_the_signing_keys(tmp_path):
    signing, own = "s" * 40, "t" * 40
    for settings, opens_with in (
        (Settings(data_dir=tmp_path / "a", secret_keys=(signing,)), signing),
        (Settings(data_dir=tmp_path / "b", secret_keys=(signing,), totp_keys=(own,)), own),
    ):
        services = build_services(settings)
        try:
            services.auth.register("ada@example.com", "correct horse battery")
            services.totp.begin("ada@example.com")
            sealed = services.users.get("ada@example.com").totp_secret
            assert FernetSecretBox((opens_with,)).open(sealed) is not None
            other = own if opens_with == signing else signing
            assert FernetSecretBox((other,)).open(sealed) is None
        finally:
            services.close()


@pytest.mark.parametrize(
    "environ, line",
    [
        ({}, "session view: up to 50,000 users, a change elsewhere seen within 1000 ms (the store is asked what changed every 250 ms)"),
        ({"ESAUTH_SESSION_VIEW_ENTRIES": "1000", "ESAUTH_SESSION_CHECK_CACHE_MS": "2000"},
         "session view: up to 1,000 users, a change elsewhere seen within 2000 ms (the store is asked what changed every 500 ms)"),
        ({"ESAUTH_SESSION_CHECK_CACHE_MS": "0"}, "session view off: every session check reads the store"),
    ],
)
def test_the_session_views_bounds_are_what_the_settings_say_and_are_logged(tmp_path, environ, line):
    settings = replace(Settings.from_env(environ), data_dir=tmp_path)
    services = build_services(settings)
    try:
        assert describe_view(services.users.view) == line
    finally:
        services.close()


@pytest.mark.parametrize("entries, verified_per_round", [(4, 0), (3, 4)])
def test_the_session_views_bound_also_bounds_the_cookies_kept_verified(tmp_path, monkeypatch, entries, verified_per_round):
    """One verified cookie and one JSON per user the view keeps: four users taking turns are
    verified and formatted once on a bound of four, and on every request on a bound of three (the
    kept ones are emptied when full)."""
    import falcon.testing

    from domain.session import SessionPolicy
    from entrypoints.bootstrap import build_app
    from entrypoints.http import representations
    from entrypoints.http.session import SessionCookies

    settings = replace(Settings.from_env({"ESAUTH_SESSION_VIEW_ENTRIES": str(entries), "ESAUTH_COOKIE_SECURE": "false"}),
                       data_dir=tmp_path)
    services = build_services(settings)
    try:
        client = falcon.testing.TestClient(build_app(settings, services))
        minting = SessionCookies(services.keys, SessionPolicy(), secure=False)
        cookies = []
        for n in range(4):
            services.auth.register(f"u{n}@example.com", "correct horse battery")
            _, session = services.auth.login(f"u{n}@example.com", "correct horse battery")
            cookies.append(minting.encode(session))
        verified, formatted = [], []
        decode, public_user = SessionCookies.decode, representations.public_user
        monkeypatch.setattr(SessionCookies, "decode", lambda self, value: verified.append(value) or decode(self, value))
        monkeypatch.setattr(representations, "public_user", lambda user: formatted.append(user) or public_user(user))
        for cookie in cookies:
            assert client.simulate_get("/v1/test", cookies={"session": cookie}).status_code == 200
        del verified[:], formatted[:]
        for _ in range(2):
            for cookie in cookies:
                assert client.simulate_get("/v1/test", cookies={"session": cookie}).status_code == 200
                assert client.simulate_get("/v1/auth/verify", cookies={"session": cookie}).status_code == 200
        # the probe and the proxies' check share one JSON per user, kept for as many users
        assert (len(verified), len(formatted)) == (2 * verified_per_round, 2 * verified_per_round)
    finally:
        services.close()


def test_a_built_server_has_not_loaded_cryptography_until_a_totp_secret_is_sealed(tmp_path):
    """Its OpenSSL bindings are 6.6 MiB of each worker's RSS (infrastructure/second_factor/fernet_box.py).
    In a fresh interpreter, as a worker starts: this test session has long imported it."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from entrypoints.bootstrap import build_app, build_services\n"
        "from entrypoints.config import Settings\n"
        f"settings = Settings(data_dir=Path({str(tmp_path)!r}), secret_keys=('s' * 40,))\n"
        "services = build_services(settings)\n"
        "build_app(settings, services)\n"
        "assert not [m for m in sys.modules if m.startswith(('cryptography.fernet', 'cryptography.hazmat'))], 'loaded'\n"
        "services.auth.register('ada@example.com', 'correct horse battery')\n"
        "services.totp.begin('ada@example.com')\n"
        "assert 'cryptography.fernet' in sys.modules\n"
        "assert services.users.get('ada@example.com').totp_secret\n"
        "services.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
