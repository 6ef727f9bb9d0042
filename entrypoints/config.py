"""Settings read from the environment, once, by the composition root."""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from entrypoints.http.origins import normalize_origin

MIN_SECRET_KEY_LENGTH = 32
MAX_DELAY_S = 3600
"""A throttle delay longer than an hour would be a lockout in all but name."""
MAX_DEVICE_COOKIE_DAYS = 730
"""Two years: past that a device cookie names a browser nobody remembers signing in on."""
MAX_DEVICE_LOCKOUT_S = 24 * 60 * 60
"""A device's failures are purged with every other count after a day (domain.throttle)."""
MAX_WORKERS = 64
"""More server processes than this is a typo, not a machine."""
MIN_IDLE_TIMEOUT_S = 60
MIN_SUDO_MAX_AGE_S = 60
MAX_SUDO_MAX_AGE_S = 24 * 60 * 60
MAX_MFA_PENDING_TTL_S = 30 * 60
"""An active session is re-issued every quarter of the idle timeout (at most once a minute), so
the idle clock stays accurate; below a minute, one slow page would end it."""
PREFIX = "ESAUTH_"
HOSTED_RESET_PATH = "/ui/reset/confirm"
"""ESAUTH_RESET_URL's default under ESAUTH_PUBLIC_URL: the hosted page (entrypoints/ui)."""
HOSTED_VERIFY_PATH = "/ui/verify-email"
"""ESAUTH_VERIFY_URL's default under ESAUTH_PUBLIC_URL: the hosted confirmation page."""
EMAIL_VERIFICATION_MODES = ("off", "optional", "required")
MAX_EMAIL_COOLDOWN_S = 24 * 60 * 60
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
USER_VERIFICATION = ("required", "preferred")
"""`required` (the default): a passkey stands in for a password only with the authenticator's
PIN or biometric, two factors in one; `preferred` also takes a bare security key's touch."""
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    elasticsearch_url: str | None = field(default=None, repr=False)
    """May carry the cluster's user:password, so it stays out of the repr like the other secrets."""
    es_index: str = "esauth-users"
    es_cloud_id: str | None = None
    """Elastic Cloud's deployment id, in place of the URL."""
    es_ca_certs: Path | None = None
    es_verify_certs: bool = True
    es_ssl_fingerprint: str | None = None
    """SHA-256, lowercase hex without colons."""
    es_username: str | None = None
    es_password: str | None = field(default=None, repr=False)
    es_api_key: str | None = field(default=None, repr=False)
    """The encoded form (base64 of id:key), whichever form was configured."""
    es_engine: str = "auto"
    """Which client speaks to the cluster: auto (from its root answer), elasticsearch, opensearch."""
    data_dir: Path = Path("var")
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    cookie_secure: bool = True
    cookie_domain: str | None = None
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    argon2_parallelism: int = 1
    hash_workers: int = 0
    """Threads that run argon2 for the whole server, divided among its workers (at least one
    each; infrastructure.hashing.pool); 0 means one per available core."""
    workers: int = 0
    """Processes `esauth serve` runs on one socket; 0 means one per available core, 1 serves
    in-process with no supervisor."""
    session_idle_timeout_s: int = 30 * 60
    session_absolute_lifetime_s: int = 12 * 60 * 60
    session_check_cache_ms: int = 1000
    """The bound on a change made on another process reaching this one's session check
    (domain.session_view); 0 turns the view off and reads the store on every check."""
    session_view_entries: int = 50_000
    """Users each process keeps for the session check (its memory bound, not the store's size)."""
    login_free_failures: int = 5
    login_base_delay_s: int = 1
    login_max_delay_s: int = 15 * 60
    device_cookie_days: int = 365
    device_failures: int = 10
    device_lockout_s: int = 60 * 60
    client_requests_per_minute: int = 30
    trusted_proxies: int = 0
    allowed_origins: tuple[str, ...] = ()
    reset_url: str | None = None
    """Explicit, or the hosted reset page under public_url when that is known."""
    verify_url: str | None = None
    """Explicit, or the hosted confirmation page under public_url when that is known."""
    email_verification: str = "optional"
    """off, optional or required (domain.email_addresses): optional by default, so no account,
    old or new, is locked out by an upgrade or by mail that does not arrive."""
    email_cooldown_s: int = 60
    """Seconds between two messages to one address (reset, verification, change), every process."""
    public_url: str | None = None
    """The origin browsers reach esauth at (https://auth.example.com), for links in messages."""
    pwned_passwords_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str = "esauth@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = True
    smtp_timeout_s: int = 10
    log_level: str | None = None
    """None: the command's own default (INFO for serve, WARNING for the others)."""
    log_format: str = "text"
    access_log: bool = False
    """Off by default: one logging line per request cut the cookie check from 0.99 to 0.63 of bare
    Falcon under wrk (a proxy in front usually logs each request already)."""
    metrics_allow: tuple[Network, ...] = LOOPBACK
    """Client networks that may read /metrics; empty turns metrics off (nothing is counted)."""
    ready_hash_queue: int = 0
    """Hashes waiting in the pool at which /health/ready says 503; 0 means 4 per hashing worker."""
    webauthn_rp_id: str | None = None
    """The passkeys' relying party: ESAUTH_WEBAUTHN_RP_ID, else ESAUTH_PUBLIC_URL's host name;
    None turns passkeys off (no routes, nothing on the pages)."""
    webauthn_origins: tuple[str, ...] = ()
    """Where a passkey ceremony may run: ESAUTH_PUBLIC_URL and the ESAUTH_ALLOWED_ORIGINS on the
    relying party's domain, else https://<rp id>."""
    webauthn_timeout_s: int = 120
    webauthn_user_verification: str = "required"
    sudo_max_age_s: int = 15 * 60
    """How long after proving a credential a session may change credentials (sudo mode)."""
    mfa_pending_ttl_s: int = 5 * 60
    """How long a proven password waits for its second factor."""
    totp_keys: tuple[str, ...] = field(default=(), repr=False)
    """Keys that seal TOTP secrets at rest, the first seals; empty: the signing keys."""
    totp_issuer: str = "esauth"
    """The name authenticator apps show beside the account."""

    def __post_init__(self) -> None:
        if self.login_base_delay_s > self.login_max_delay_s:
            raise ConfigError("ESAUTH_LOGIN_BASE_DELAY must not exceed ESAUTH_LOGIN_MAX_DELAY")
        if self.session_idle_timeout_s > self.session_absolute_lifetime_s:
            raise ConfigError(
                "ESAUTH_SESSION_IDLE_TIMEOUT must not exceed ESAUTH_SESSION_ABSOLUTE_LIFETIME "
                "(the absolute lifetime would end every session first)"
            )

    @property
    def uses_search_engine(self) -> bool:
        """Users live in the cluster named by a URL or a cloud id; else in SQLite."""
        return bool(self.elasticsearch_url or self.es_cloud_id)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        """Read ESAUTH_* variables; unset ones keep their defaults, unknown ones are refused.

        Every variable is read here, through `environ` (wrapped so it notes each name asked
        for): the names read are the names known, so a setting added here is known at once and
        an ESAUTH_* variable that nothing reads (a typo) stops start-up instead of being ignored.
        """
        environ = _NotedReads(environ)
        settings = cls._read(environ)
        environ.refuse_unread()
        return settings

    @classmethod
    def _read(cls, environ: Mapping[str, str]) -> "Settings":
        defaults = cls()
        keys = _keys(environ, "ESAUTH_SECRET_KEY")
        public_url = _public_url(environ.get("ESAUTH_PUBLIC_URL") or None)
        allowed_origins = _origins(environ.get("ESAUTH_ALLOWED_ORIGINS", ""))
        rp_id = _rp_id(environ.get("ESAUTH_WEBAUTHN_RP_ID") or None, public_url)
        elasticsearch_url = _node_urls(environ.get("ESAUTH_ELASTICSEARCH_URL") or "", "ESAUTH_ELASTICSEARCH_URL")
        return cls(
            elasticsearch_url=elasticsearch_url,
            es_index=environ.get("ESAUTH_ES_INDEX") or defaults.es_index,
            es_engine=_choice(environ, "ESAUTH_ES_ENGINE", ENGINES) or defaults.es_engine,
            **_cluster_access(environ, elasticsearch_url),
            data_dir=Path(environ.get("ESAUTH_DATA_DIR") or defaults.data_dir),
            secret_keys=keys,
            cookie_secure=_bool(environ, "ESAUTH_COOKIE_SECURE", defaults.cookie_secure),
            cookie_domain=_cookie_domain(environ.get("ESAUTH_COOKIE_DOMAIN") or None),
            argon2_time_cost=_int(environ, "ESAUTH_ARGON2_TIME_COST", defaults.argon2_time_cost),
            argon2_memory_kib=_int(environ, "ESAUTH_ARGON2_MEMORY_KIB", defaults.argon2_memory_kib),
            argon2_parallelism=_int(environ, "ESAUTH_ARGON2_PARALLELISM", defaults.argon2_parallelism),
            hash_workers=_int(environ, "ESAUTH_HASH_WORKERS", defaults.hash_workers, minimum=0, maximum=64),
            workers=_int(environ, "ESAUTH_WORKERS", defaults.workers, minimum=0, maximum=MAX_WORKERS),
            session_idle_timeout_s=_int(
                environ, "ESAUTH_SESSION_IDLE_TIMEOUT", defaults.session_idle_timeout_s, minimum=MIN_IDLE_TIMEOUT_S
            ),
            session_absolute_lifetime_s=_int(
                environ, "ESAUTH_SESSION_ABSOLUTE_LIFETIME", defaults.session_absolute_lifetime_s
            ),
            session_check_cache_ms=_int(
                environ, "ESAUTH_SESSION_CHECK_CACHE_MS", defaults.session_check_cache_ms, minimum=0, maximum=2000
            ),
            session_view_entries=_int(
                environ, "ESAUTH_SESSION_VIEW_ENTRIES", defaults.session_view_entries, minimum=0, maximum=10_000_000
            ),
            login_free_failures=_int(environ, "ESAUTH_LOGIN_FREE_FAILURES", defaults.login_free_failures, maximum=100),
            login_base_delay_s=_int(environ, "ESAUTH_LOGIN_BASE_DELAY", defaults.login_base_delay_s, maximum=MAX_DELAY_S),
            login_max_delay_s=_int(environ, "ESAUTH_LOGIN_MAX_DELAY", defaults.login_max_delay_s, maximum=MAX_DELAY_S),
            device_cookie_days=_int(environ, "ESAUTH_DEVICE_COOKIE_DAYS", defaults.device_cookie_days, maximum=MAX_DEVICE_COOKIE_DAYS),
            device_failures=_int(environ, "ESAUTH_DEVICE_FAILURES", defaults.device_failures, maximum=100),
            device_lockout_s=_int(
                environ, "ESAUTH_DEVICE_LOCKOUT", defaults.device_lockout_s, minimum=60, maximum=MAX_DEVICE_LOCKOUT_S
            ),
            client_requests_per_minute=_int(
                environ, "ESAUTH_CLIENT_REQUESTS_PER_MINUTE", defaults.client_requests_per_minute
            ),
            trusted_proxies=_int(environ, "ESAUTH_TRUSTED_PROXIES", defaults.trusted_proxies, minimum=0),
            allowed_origins=allowed_origins,
            reset_url=http_url(environ.get("ESAUTH_RESET_URL") or None, "ESAUTH_RESET_URL")
            or (public_url and public_url + HOSTED_RESET_PATH),
            verify_url=http_url(environ.get("ESAUTH_VERIFY_URL") or None, "ESAUTH_VERIFY_URL")
            or (public_url and public_url + HOSTED_VERIFY_PATH),
            email_verification=_choice(
                environ, "ESAUTH_EMAIL_VERIFICATION", EMAIL_VERIFICATION_MODES, defaults.email_verification
            ),
            email_cooldown_s=_int(
                environ, "ESAUTH_EMAIL_COOLDOWN", defaults.email_cooldown_s, minimum=0, maximum=MAX_EMAIL_COOLDOWN_S
            ),
            public_url=public_url,
            pwned_passwords_url=http_url(environ.get("ESAUTH_PWNED_PASSWORDS_URL") or None, "ESAUTH_PWNED_PASSWORDS_URL"),
            smtp_host=environ.get("ESAUTH_SMTP_HOST") or None,
            smtp_port=_int(environ, "ESAUTH_SMTP_PORT", defaults.smtp_port, maximum=65535),
            smtp_from=environ.get("ESAUTH_SMTP_FROM") or defaults.smtp_from,
            smtp_username=environ.get("ESAUTH_SMTP_USERNAME") or None,
            smtp_password=environ.get("ESAUTH_SMTP_PASSWORD") or None,
            smtp_starttls=_bool(environ, "ESAUTH_SMTP_STARTTLS", defaults.smtp_starttls),
            smtp_timeout_s=_int(environ, "ESAUTH_SMTP_TIMEOUT", defaults.smtp_timeout_s),
            log_level=_choice(environ, "ESAUTH_LOG_LEVEL", LOG_LEVELS),
            log_format=_choice(environ, "ESAUTH_LOG_FORMAT", LOG_FORMATS, defaults.log_format),
            access_log=_bool(environ, "ESAUTH_ACCESS_LOG", defaults.access_log),
            metrics_allow=_networks(environ, "ESAUTH_METRICS_ALLOW", defaults.metrics_allow),
            ready_hash_queue=_int(environ, "ESAUTH_READY_HASH_QUEUE", defaults.ready_hash_queue, minimum=0),
            webauthn_rp_id=rp_id,
            webauthn_origins=_webauthn_origins(rp_id, public_url, allowed_origins),
            webauthn_timeout_s=_int(environ, "ESAUTH_WEBAUTHN_TIMEOUT", defaults.webauthn_timeout_s, minimum=30, maximum=600),
            webauthn_user_verification=_choice(
                environ, "ESAUTH_WEBAUTHN_USER_VERIFICATION", USER_VERIFICATION, defaults.webauthn_user_verification
            ),
            sudo_max_age_s=_int(
                environ, "ESAUTH_SUDO_MAX_AGE", defaults.sudo_max_age_s, minimum=MIN_SUDO_MAX_AGE_S, maximum=MAX_SUDO_MAX_AGE_S
            ),
            mfa_pending_ttl_s=_int(
                environ, "ESAUTH_MFA_PENDING_TTL", defaults.mfa_pending_ttl_s, minimum=30, maximum=MAX_MFA_PENDING_TTL_S
            ),
            totp_keys=_keys(environ, "ESAUTH_TOTP_KEYS"),
            totp_issuer=_totp_issuer(environ.get("ESAUTH_TOTP_ISSUER") or defaults.totp_issuer),
        )


CLUSTER_SETTINGS = (
    "ESAUTH_ES_CLOUD_ID",
    "ESAUTH_ES_CA_CERTS",
    "ESAUTH_ES_VERIFY_CERTS",
    "ESAUTH_ES_SSL_FINGERPRINT",
    "ESAUTH_ES_USERNAME",
    "ESAUTH_ES_PASSWORD",
    "ESAUTH_ES_API_KEY",
)
FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def _cluster_access(environ: Mapping[str, str], url: str | None) -> dict[str, Any]:
    """How to reach and log in to the cluster; combinations that cannot work are refused here,
    at start-up, rather than found at the first request."""
    given = {name: environ[name] for name in CLUSTER_SETTINGS if environ.get(name)}
    cloud_id = _cloud_id(given.get("ESAUTH_ES_CLOUD_ID"))
    if cloud_id and url:
        raise ConfigError("ESAUTH_ES_CLOUD_ID: set it or ESAUTH_ELASTICSEARCH_URL, not both (the cloud id names the URL)")
    if given and not (url or cloud_id):
        raise ConfigError(
            f"{next(iter(given))} is set but neither ESAUTH_ELASTICSEARCH_URL nor ESAUTH_ES_CLOUD_ID is, "
            "so users would be kept in SQLite"
        )
    username, password = given.get("ESAUTH_ES_USERNAME"), given.get("ESAUTH_ES_PASSWORD")
    if bool(username) != bool(password):
        missing = "ESAUTH_ES_PASSWORD" if username else "ESAUTH_ES_USERNAME"
        raise ConfigError(f"{missing}: must be set with {'ESAUTH_ES_USERNAME' if username else 'ESAUTH_ES_PASSWORD'}")
    api_key = _api_key(given.get("ESAUTH_ES_API_KEY"))
    if api_key and username:
        raise ConfigError("ESAUTH_ES_API_KEY: set it or ESAUTH_ES_USERNAME/ESAUTH_ES_PASSWORD, not both")
    ca_certs = _ca_file(given.get("ESAUTH_ES_CA_CERTS"))
    fingerprint = _fingerprint(given.get("ESAUTH_ES_SSL_FINGERPRINT"))
    verify = _bool(environ, "ESAUTH_ES_VERIFY_CERTS", True)
    pins = [name for name, value in (("ESAUTH_ES_CA_CERTS", ca_certs), ("ESAUTH_ES_SSL_FINGERPRINT", fingerprint)) if value]
    if len(pins) == 2:
        raise ConfigError("ESAUTH_ES_SSL_FINGERPRINT: set it or ESAUTH_ES_CA_CERTS, not both (a fingerprint replaces the CA)")
    if pins and not verify:
        raise ConfigError(f"ESAUTH_ES_VERIFY_CERTS: false contradicts {pins[0]}, which is there to verify the server")
    if pins and url and not all(node.lower().startswith("https:") for node in url.split(",")):
        raise ConfigError(f"{pins[0]}: applies to https, but ESAUTH_ELASTICSEARCH_URL is {_without_credentials(url)!r}")
    return dict(
        es_cloud_id=cloud_id,
        es_ca_certs=ca_certs,
        es_verify_certs=verify,
        es_ssl_fingerprint=fingerprint,
        es_username=username,
        es_password=password,
        es_api_key=api_key,
    )


def _cloud_id(raw: str | None) -> str | None:
    """`name:base64(host$es-uuid$kibana-uuid)`, as the Elastic Cloud console shows it."""
    if raw is None:
        return None
    raw = raw.strip()
    _, _, encoded = raw.rpartition(":")
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if "$" not in decoded:
        raise ConfigError("ESAUTH_ES_CLOUD_ID: expected the cloud id from the Elastic Cloud console (name:base64...)")
    return raw


def _api_key(raw: str | None) -> str | None:
    """Either `id:api_key` or its base64 form (the `encoded` field Elasticsearch returns); the
    encoded form is kept. The key itself never appears in a message."""
    if raw is None:
        return None
    raw = raw.strip()
    if ":" in raw:
        plain, encoded = raw, base64.b64encode(raw.encode()).decode()
    else:
        encoded = raw
        try:
            plain = base64.b64decode(raw, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            plain = ""
    key_id, _, key = plain.partition(":")
    if not key_id or not key:
        raise ConfigError("ESAUTH_ES_API_KEY: expected id:api_key or its base64 form (the `encoded` value of the key)")
    return encoded


def _ca_file(raw: str | None) -> Path | None:
    if raw is None:
        return None
    path = Path(raw.strip())
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        raise ConfigError(f"ESAUTH_ES_CA_CERTS: cannot read {str(path)!r}: {error.strerror}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(f"ESAUTH_ES_CA_CERTS: {str(path)!r} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    return path


def _fingerprint(raw: str | None) -> str | None:
    """As Elasticsearch prints it (64 hex digits) or as openssl does (pairs joined by colons)."""
    if raw is None:
        return None
    value = raw.strip().replace(":", "").lower()
    if not FINGERPRINT.fullmatch(value):
        raise ConfigError("ESAUTH_ES_SSL_FINGERPRINT: expected a SHA-256 fingerprint, 64 hex digits (colons allowed)")
    return value


ENGINES = ("auto", "elasticsearch", "opensearch")


def _node_urls(raw: str, name: str) -> str | None:
    """One URL, or several (comma-separated) for the nodes of one cluster, each with its port."""
    urls = [with_port(http_url(part, name), name) for part in raw.split(",") if part.strip()]
    return ",".join(url for url in urls if url) or None


def with_port(url: str | None, name: str) -> str | None:
    """The URL with its port spelled out: the scheme's default (80, 443) when it has none, as
    for any http URL; the clients need one. A port that is not a number is a ConfigError."""
    if url is None:
        return None
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{name}: the port of {_without_credentials(url)!r} is not a number between 0 and 65535") from None
    if port is not None:
        return url
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@" if userinfo else ""
    default = 443 if parts.scheme == "https" else 80
    return parts._replace(netloc=f"{netloc}{host}:{default}").geturl()


class _NotedReads(Mapping[str, str]):
    """The environment, noting every ESAUTH_* name that is asked for."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self._environ[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self.asked.add(name)
        return name in self._environ

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)

    def refuse_unread(self) -> None:
        for name in sorted(self._environ):
            if name.startswith(PREFIX) and name not in self.asked:
                # Compared without the prefix every name shares, which would make any two alike.
                known = {known[len(PREFIX):]: known for known in self.asked if known.startswith(PREFIX)}
                close = difflib.get_close_matches(name[len(PREFIX):], sorted(known), n=1)
                hint = f"did you mean {known[close[0]]}?" if close else "see Configuration in README.md"
                raise ConfigError(f"{name}: esauth has no such setting; {hint}")


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    """One of `choices`, matched regardless of case and returned as `choices` spell it."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = {choice.lower(): choice for choice in choices}.get(raw.strip().lower())
    if value is None:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {raw!r}")
    return value


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


def _networks(environ: Mapping[str, str], name: str, default: tuple[Network, ...]) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks; `none` for nobody."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    if raw.strip().lower() == "none":
        return ()
    networks = []
    for part in (part.strip() for part in raw.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {part!r} is not an address or network like 10.0.0.0/8 or ::1") from None
    return tuple(networks)


def _keys(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in environ.get(name, "").split(",") if key.strip())
    for key in keys:
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"{name}: every key must be at least {MIN_SECRET_KEY_LENGTH} characters "
                "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    return keys


def _totp_issuer(value: str) -> str:
    """Shown by authenticator apps and carried in the otpauth:// URI, where `:` separates it
    from the account (Key Uri Format)."""
    value = value.strip()
    if not 1 <= len(value) <= 64 or ":" in value or any(not ch.isprintable() for ch in value):
        raise ConfigError("ESAUTH_TOTP_ISSUER: must be 1-64 printable characters without ':'")
    return value


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ConfigError(f"{name}: must be {bound}, got {value}")
    return value


def _origins(raw: str) -> tuple[str, ...]:
    """Origins as browsers send them: scheme://host[:port], no path; default ports dropped."""
    origins = []
    for origin in (part.strip() for part in raw.split(",")):
        if not origin:
            continue
        normalized = normalize_origin(origin)
        if normalized is None:
            raise ConfigError(f"ESAUTH_ALLOWED_ORIGINS: {origin!r} is not an origin like https://app.example.com")
        origins.append(normalized)
    return tuple(origins)


_DOMAIN_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def _cookie_domain(raw: str | None) -> str | None:
    """A host name (`example.com`), lower case, without a leading dot, that is not a public
    suffix: `co.uk` or `github.io` would share the session with every site registered under
    it (browsers refuse such a cookie, so nobody could log in, but the setting says the
    operator meant to trust them all). Judged by the Public Suffix List that browsers use,
    ICANN and private sections alike, as bundled by publicsuffixlist (no network at start-up)."""
    if raw is None:
        return None
    domain = raw.strip().lower().removeprefix(".")
    labels = domain.split(".")
    if not domain or len(domain) > 253 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise ConfigError(f"ESAUTH_COOKIE_DOMAIN: expected a domain like example.com, got {raw!r}")
    if PublicSuffixList().is_public(domain):
        raise ConfigError(
            f"ESAUTH_COOKIE_DOMAIN: {domain!r} is a public suffix (Public Suffix List): a cookie for it would reach "
            f"every site registered under it and browsers refuse one; give your own domain, such as example.{domain}"
        )
    return domain


def _rp_id(raw: str | None, public_url: str | None) -> str | None:
    """A host name the public URL's host is (or is under); `off` for no passkeys. Unset, the
    public URL's host, unless it is an address (browsers refuse those as relying parties)."""
    public_host = urlsplit(public_url).hostname if public_url else None
    if raw is None:
        if public_host is None or _is_address(public_host):
            return None
        return public_host
    rp_id = raw.strip().lower()
    if rp_id == "off":
        return None
    labels = rp_id.split(".")
    if _is_address(rp_id) or len(rp_id) > 253 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise ConfigError(f"ESAUTH_WEBAUTHN_RP_ID: expected a host name like example.com or localhost (not an address), got {raw!r}")
    if public_host is not None and not _under(public_host, rp_id):
        raise ConfigError(f"ESAUTH_WEBAUTHN_RP_ID: {rp_id} must be ESAUTH_PUBLIC_URL's host {public_host} or a domain it is under")
    return rp_id


def _webauthn_origins(rp_id: str | None, public_url: str | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if rp_id is None:
        return ()
    candidates = (*([public_url] if public_url else []), *allowed)
    origins = tuple(dict.fromkeys(o for o in candidates if _under(urlsplit(o).hostname or "", rp_id)))
    return origins or (f"https://{rp_id}",)


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _public_url(raw: str | None) -> str | None:
    """An origin: a server has no way to learn its public name from a request it can trust."""
    if raw is None:
        return None
    origin = normalize_origin(raw)
    if origin is None:
        raise ConfigError(f"ESAUTH_PUBLIC_URL: expected an origin like https://auth.example.com (no path), got {raw!r}")
    return origin


def http_url(raw: str | None, name: str) -> str | None:
    """An http(s) URL with a host, or ConfigError naming the setting."""
    if raw is None:
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: expected an http(s) URL like https://host:port, got {_without_credentials(raw)!r}")
    return raw.strip()


def _without_credentials(raw: str) -> str:
    """A URL as an error may quote it: whatever precedes its last '@' (user:password, which the
    operator may not have percent-encoded, so it can hold anything) is hidden. The message goes
    to a terminal or a service journal, where no secret may land."""
    if "@" not in raw:
        return raw
    head, _, host = raw.rpartition("@")
    scheme = head.partition("://")[0] + "://" if "://" in head else "//" if head.startswith("//") else ""
    return f"{scheme}***@{host}"
