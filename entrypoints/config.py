"""Settings read from the environment, once, by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

MIN_SECRET_KEY_LENGTH = 32


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    elasticsearch_url: str | None = None
    es_index: str = "esauth-users"
    data_dir: Path = Path("var")
    secret_keys: tuple[str, ...] = ()
    cookie_secure: bool = True
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    argon2_parallelism: int = 1
    session_idle_timeout_s: int = 30 * 60
    session_absolute_lifetime_s: int = 12 * 60 * 60

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Read ESAUTH_* variables; unset ones keep their defaults."""
        defaults = cls()
        keys = tuple(key.strip() for key in environ.get("ESAUTH_SECRET_KEY", "").split(",") if key.strip())
        for key in keys:
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise ConfigError(
                    f"ESAUTH_SECRET_KEY: every key must be at least {MIN_SECRET_KEY_LENGTH} characters "
                    "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
        return cls(
            elasticsearch_url=environ.get("ESAUTH_ELASTICSEARCH_URL") or None,
            es_index=environ.get("ESAUTH_ES_INDEX") or defaults.es_index,
            data_dir=Path(environ.get("ESAUTH_DATA_DIR") or defaults.data_dir),
            secret_keys=keys,
            cookie_secure=_bool(environ, "ESAUTH_COOKIE_SECURE", defaults.cookie_secure),
            argon2_time_cost=_int(environ, "ESAUTH_ARGON2_TIME_COST", defaults.argon2_time_cost),
            argon2_memory_kib=_int(environ, "ESAUTH_ARGON2_MEMORY_KIB", defaults.argon2_memory_kib),
            argon2_parallelism=_int(environ, "ESAUTH_ARGON2_PARALLELISM", defaults.argon2_parallelism),
            session_idle_timeout_s=_int(environ, "ESAUTH_SESSION_IDLE_TIMEOUT", defaults.session_idle_timeout_s),
            session_absolute_lifetime_s=_int(
                environ, "ESAUTH_SESSION_ABSOLUTE_LIFETIME", defaults.session_absolute_lifetime_s
            ),
        )


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be positive, got {value}")
    return value
