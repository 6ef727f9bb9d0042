"""The composition root: settings -> adapters -> domain -> app. The only place that picks adapters."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

import falcon

from domain.auth import AuthService
from domain.session import SessionPolicy
from entrypoints.app import create_app
from entrypoints.config import ConfigError, Settings
from entrypoints.session import SessionCookies
from infrastructure.argon2_hasher import Argon2Hasher, Argon2Parameters, weaker_than_floor
from infrastructure.clock import utc_now
from infrastructure.elasticsearch_repository import ElasticsearchUserRepository, connect
from infrastructure.sqlite_repository import SqliteUserRepository
from ports.clock import Clock
from ports.repository import UserRepository

log = logging.getLogger("esauth")

SECRET_KEY_FILE = "secret_key"
SQLITE_FILE = "esauth.sqlite3"


def build_repository(settings: Settings) -> UserRepository:
    if settings.elasticsearch_url:
        repository = ElasticsearchUserRepository(connect(settings.elasticsearch_url), settings.es_index)
        if repository.ensure_index():
            log.info("created Elasticsearch index %s", settings.es_index)
        return repository
    return SqliteUserRepository(settings.data_dir / SQLITE_FILE)


def build_hasher(settings: Settings) -> Argon2Hasher:
    params = Argon2Parameters(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    problems = weaker_than_floor(params)
    if problems:
        raise ConfigError(
            "argon2 settings are weaker than OWASP's floor (m=19 MiB, t=2, p=1): " + "; ".join(problems)
        )
    return Argon2Hasher(params)


def secret_keys(settings: Settings) -> tuple[str, ...]:
    """The configured keys, or one generated once and kept owner-only in the data directory."""
    if settings.secret_keys:
        return settings.secret_keys
    path = settings.data_dir / SECRET_KEY_FILE
    key = _load_or_create_key(path)
    log.warning(
        "ESAUTH_SECRET_KEY is not set: using the generated key in %s. Several servers behind one "
        "address must share one key: set ESAUTH_SECRET_KEY on all of them.",
        path,
    )
    return (key,)


def _load_or_create_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 32:
            raise ConfigError(f"{path}: the stored secret key is too short; delete the file to make a new one")
        if path.stat().st_mode & 0o077:
            log.warning("%s is readable by other users; it should be mode 0600", path)
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


def build_app(settings: Settings, clock: Clock = utc_now) -> falcon.App:
    """Everything the server needs, from settings alone."""
    hasher = build_hasher(settings)
    repository = build_repository(settings)
    policy = SessionPolicy(
        idle_timeout=timedelta(seconds=settings.session_idle_timeout_s),
        absolute_lifetime=timedelta(seconds=settings.session_absolute_lifetime_s),
    )
    if not settings.cookie_secure:
        log.warning("ESAUTH_COOKIE_SECURE is off: session cookies will travel over plain http. Local use only.")
    cookies = SessionCookies(secret_keys(settings), policy, secure=settings.cookie_secure)
    auth = AuthService(repository, hasher, clock)
    log.info("users are kept in %s", repository.kind)
    return create_app(auth, cookies, clock)
