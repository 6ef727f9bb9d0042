"""The composition root: settings -> adapters -> domain -> app. The only place that picks adapters."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import falcon

from domain.access_tokens import AccessTokens
from domain.accounts import AccountService
from domain.admin import AdminService
from domain.auth import AuthService
from domain.email_addresses import EmailAddresses
from domain.mail_cooldown import MailCooldown
from domain.devices import DevicePolicy
from domain.passkeys import Passkeys
from domain.errors import StoreUnavailable
from domain.second_factor import TOTP_DIGITS, TOTP_INTERVAL_S, TotpService
from domain.session import SessionPolicy
from domain.session_view import LOOKS_PER_BOUND, SessionView
from domain.throttle import FailureCounter, ThrottlePolicy
from domain.user import MIN_PASSWORD_LENGTH
from domain.users import Users
from entrypoints.http.app import create_app
from entrypoints.http.audit import AuditLog
from entrypoints.config import ConfigError, Settings
from entrypoints.http.metrics_resource import MetricsResource
from entrypoints.http.rate_limit import ClientLimiter, TokenBucketLimiter
from entrypoints.server.shared_buckets import SharedTokenBuckets
from entrypoints.http.pending_login import PendingLoginCookies
from entrypoints.http.session import VERIFIED_COOKIES_KEPT, SessionCookies
from infrastructure.hashing.argon2_hasher import Argon2Hasher, Argon2Parameters, weaker_than_floor
from infrastructure.background import BackgroundWorker
from infrastructure.clock import utc_now
from infrastructure.second_factor.fernet_box import FernetSecretBox
from infrastructure.second_factor.pyotp_codes import PyotpCodes
from infrastructure.hashing.pool import PooledHasher, cores_available, threads_for_worker
from infrastructure.itsdangerous_tokens import ItsdangerousTokenSigner
from infrastructure.mail.outbox import OutboxNotifier
from infrastructure.passwords.common_list import shipped_list
from infrastructure.passwords.pwned_range import PwnedPasswordsRange
from infrastructure.prometheus_metrics import CONTENT_TYPE, PrometheusMetrics
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.login_failures import SqliteLoginFailureRepository
from infrastructure.sqlite.user_repository import SqliteUserRepository
from infrastructure.store_watch import ObservedStore, OutageLog
from infrastructure.hashing.upgrading_hasher import UpgradingHasher
from ports.clock import Clock
from ports.login_failures import LoginFailureRepository
from ports.metrics import NO_METRICS, Metrics
from ports.notifier import Notifier
from ports.repository import UserRepository

if TYPE_CHECKING:
    from infrastructure.search_engine.client import SearchClient
    from infrastructure.search_engine.connection import AccessProblem, ClusterAccess

log = logging.getLogger("esauth")

SECRET_KEY_FILE = "secret_key"
SQLITE_FILE = "esauth.sqlite3"
OUTBOX_DIR = "outbox"
READY_QUEUE_PER_WORKER = 4
"""/health/ready fails once this many hashes per worker wait: a new login would wait four hash
times (about 140 ms at the default argon2 cost) before its own even starts."""


@dataclass(frozen=True)
class Stores:
    users: UserRepository
    login_failures: LoginFailureRepository


def build_stores(settings: Settings, report: Callable[[str], None] = log.info, *, upgrade: bool = False) -> Stores:
    """A search engine when a URL or cloud id is configured, else the SQLite file; `report` is told
    what was created and what was already there. Serving makes a missing index and adds new fields;
    `upgrade` (esauth init) also reindexes what serving refuses (search_engine.indices). A cluster
    that refuses the TLS or credential settings stops here, with a ConfigError naming the setting."""
    if settings.uses_search_engine:
        # Imported here: the clients cost ~10 MiB per process that an embedded run never uses.
        from infrastructure.search_engine.login_failures import SearchEngineLoginFailureRepository
        from infrastructure.search_engine.user_repository import SearchEngineUserRepository

        client = connect_checked(settings)
        users = SearchEngineUserRepository(client, settings.es_index)
        failures = SearchEngineLoginFailureRepository(client, f"{settings.es_index}-login-failures")
        for repository in (users, users.id_links, users.tombstones, failures):
            outcome = repository.upgrade_index() if upgrade else repository.ensure_index()
            report(f"{client.engine} index {repository.index}: {outcome}")
        return Stores(users, failures)
    path = data_dir(settings) / SQLITE_FILE
    existed = path.exists()
    database = SqliteDatabase(path)
    report(f"SQLite database {path}: {'exists' if existed else 'created'}")
    return Stores(SqliteUserRepository(database), SqliteLoginFailureRepository(database))


def connect_checked(settings: Settings) -> "SearchClient":
    """The cluster's client, after the start-up check: a certificate or credential the cluster
    refuses is a ConfigError naming the setting; an outage stays StoreUnavailable."""
    from infrastructure.search_engine.client import connect
    from infrastructure.search_engine.connection import AccessProblem, check_access

    access = cluster_access(settings)
    # A cloud id is Elastic Cloud: nothing to detect.
    engine = "elasticsearch" if settings.es_cloud_id and settings.es_engine == "auto" else settings.es_engine
    try:
        # With engine=auto the detection probe is the first request; else GET / below is.
        client = check_access(
            lambda: connect(settings.elasticsearch_url, engine=engine, options=client_options(access)), access
        )
        try:
            check_access(client.root, access)
        except BaseException:
            client.close()
            raise
    except AccessProblem as problem:
        raise access_error(problem) from None
    return client


ACCESS_SETTINGS = {
    "url": "ESAUTH_ELASTICSEARCH_URL",
    "cloud_id": "ESAUTH_ES_CLOUD_ID",
    "ca_certs": "ESAUTH_ES_CA_CERTS",
    "ssl_fingerprint": "ESAUTH_ES_SSL_FINGERPRINT",
    "username": "ESAUTH_ES_USERNAME/ESAUTH_ES_PASSWORD",
    "api_key": "ESAUTH_ES_API_KEY",
    "credential": "ESAUTH_ES_API_KEY or ESAUTH_ES_USERNAME/ESAUTH_ES_PASSWORD",
}
ACCESS_HINTS = {
    "ca_certs": "; give the cluster's CA in ESAUTH_ES_CA_CERTS or its node certificate's SHA-256 in ESAUTH_ES_SSL_FINGERPRINT",
    "ssl_fingerprint": "; it must be the SHA-256 of the node's own certificate",
}
FORBIDDEN_HINT = "; README 'Running against your cluster' lists the role esauth needs"


def cluster_access(settings: Settings) -> "ClusterAccess":
    from infrastructure.search_engine.connection import ClusterAccess, quiet_unverified_requests

    if not settings.es_verify_certs:
        log.warning(
            "ESAUTH_ES_VERIFY_CERTS is off: anyone on the path to the cluster can read and change the users "
            "(said once here, not at every request)."
        )
        quiet_unverified_requests()
    return ClusterAccess(
        url=settings.elasticsearch_url,
        cloud_id=settings.es_cloud_id,
        ca_certs=settings.es_ca_certs,
        verify_certs=settings.es_verify_certs,
        ssl_fingerprint=settings.es_ssl_fingerprint,
        username=settings.es_username,
        password=settings.es_password,
        api_key=settings.es_api_key,
    )


def access_error(problem: "AccessProblem") -> ConfigError:
    """A refusal by the cluster as a one-line configuration error naming the setting to fix."""
    hint = FORBIDDEN_HINT if problem.status == 403 else ACCESS_HINTS.get(problem.setting, "")
    return ConfigError(f"{ACCESS_SETTINGS[problem.setting]}: {problem.reason}{hint}")


def client_options(access: "ClusterAccess") -> Callable[[str], dict]:
    """The TLS and credential keywords of each engine's client library."""
    from infrastructure.search_engine.connection import elasticsearch_options, opensearch_options

    return lambda engine: elasticsearch_options(access) if engine == "elasticsearch" else opensearch_options(access)


def build_hasher(settings: Settings) -> Argon2Hasher:
    params = Argon2Parameters(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    problems = weaker_than_floor(params)
    if problems:
        raise ConfigError(
            "argon2 settings are weaker than OWASP's floor (m=19 MiB, t=2, p=1): " + "; ".join(problems)
        )
    return Argon2Hasher(params)


def data_dir(settings: Settings) -> Path:
    """ESAUTH_DATA_DIR, made owner-only (0700) if missing: it holds the store and the key. One
    that cannot be made is a configuration error, said in one line rather than a traceback."""
    try:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"ESAUTH_DATA_DIR: cannot create {settings.data_dir}: {error.strerror}") from None
    return settings.data_dir


def secret_keys(settings: Settings) -> tuple[str, ...]:
    """The configured keys, or one generated once and kept owner-only in the data directory."""
    if settings.secret_keys:
        return settings.secret_keys
    path = data_dir(settings) / SECRET_KEY_FILE
    key = _load_or_create_key(path)
    log.warning(
        "ESAUTH_SECRET_KEY is not set: using the generated key in %s. Several servers behind one "
        "address must share one key: set ESAUTH_SECRET_KEY on all of them.",
        path,
    )
    return (key,)


def _load_or_create_key(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 32:
            raise ConfigError(f"{path}: the stored secret key is too short; delete the file to make a new one") from None
        if path.stat().st_mode & 0o077:
            log.warning("%s is readable by other users; it should be mode 0600", path)
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


@dataclass(frozen=True)
class Services:
    """The domain services wired to real adapters: what the server and the CLI both run on."""

    stores: Stores
    users: Users
    auth: AuthService
    accounts: AccountService
    emails: EmailAddresses
    admin: AdminService
    tokens: AccessTokens
    passkeys: Passkeys | None
    """None when no relying party is configured (ESAUTH_WEBAUTHN_RP_ID, ESAUTH_PUBLIC_URL)."""
    totp: TotpService
    notifier: Notifier
    background: BackgroundWorker
    keys: tuple[str, ...]
    hasher: PooledHasher
    metrics: Metrics
    outages: OutageLog

    def close(self) -> None:
        """Let queued work and notifications go out before the process ends."""
        self.background.close()
        close = getattr(self.notifier, "close", None)
        if close is not None:
            close()
        self.hasher.close()
        close_metrics = getattr(self.metrics, "close", None)
        if close_metrics is not None:
            close_metrics()


def build_notifier(settings: Settings, clock: Clock) -> Notifier:
    """SMTP when a host is configured; else messages land in ESAUTH_DATA_DIR/outbox for a developer."""
    if settings.smtp_host:
        from infrastructure.mail.smtp import SmtpNotifier

        return SmtpNotifier(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout_s=settings.smtp_timeout_s,
            reset_url=settings.reset_url,
            verify_url=settings.verify_url,
            clock=clock,
        )
    outbox = settings.data_dir / OUTBOX_DIR
    log.info("no ESAUTH_SMTP_HOST: reset and verification messages are written to %s", outbox)
    return OutboxNotifier(outbox, settings.reset_url, clock, verify_url=settings.verify_url)


def build_metrics(settings: Settings, shared_dir: Path | None = None) -> Metrics:
    """Prometheus figures unless nobody may read them (ESAUTH_METRICS_ALLOW=none): then nothing
    is counted at all. Workers of one server share their figures through `shared_dir`."""
    if not settings.metrics_allow:
        return NO_METRICS
    return PrometheusMetrics(shared_dir=shared_dir)


def observed(stores: Stores, metrics: Metrics, clock: Clock) -> tuple[Stores, OutageLog]:
    """The stores with every call timed, and outages logged once for both (they share a backend)."""
    outages = OutageLog(stores.users.kind, clock=lambda: clock().timestamp())
    return Stores(ObservedStore(stores.users, metrics, outages), ObservedStore(stores.login_failures, metrics, outages)), outages


def build_services(settings: Settings, clock: Clock = utc_now, metrics_dir: Path | None = None) -> Services:
    metrics = build_metrics(settings, metrics_dir)
    hasher = PooledHasher(UpgradingHasher(build_hasher(settings)), settings.hash_workers or cores_available(), metrics)
    stores, outages = observed(build_stores(settings), metrics, clock)
    keys = secret_keys(settings)
    users = Users(
        stores.users, clock, timedelta(milliseconds=settings.session_check_cache_ms), metrics, settings.session_view_entries
    )
    throttle = ThrottlePolicy(
        free_failures=settings.login_free_failures,
        base_delay=timedelta(seconds=settings.login_base_delay_s),
        max_delay=timedelta(seconds=settings.login_max_delay_s),
    )
    devices = DevicePolicy(failures=settings.device_failures, window=timedelta(seconds=settings.device_lockout_s))
    failures = FailureCounter(stores.login_failures, clock, throttle, devices)
    tokens = ItsdangerousTokenSigner(keys, salt="esauth.password-reset.v1")
    notifier = build_notifier(settings, clock)
    background = BackgroundWorker("esauth-password-reset")
    # Loaded here, once, rather than at the first sign-up: no request waits for it.
    screen = shipped_list(MIN_PASSWORD_LENGTH)
    breached = PwnedPasswordsRange(settings.pwned_passwords_url) if settings.pwned_passwords_url else None
    cooldown = MailCooldown(stores.login_failures, clock, timedelta(seconds=settings.email_cooldown_s))
    accounts = AccountService(
        users, hasher, clock, failures, tokens, notifier, defer=background.submit, screen=screen, breached=breached, cooldown=cooldown
    )
    auth = AuthService(
        users, hasher, clock, failures, screen=screen, breached=breached,
        require_verified_email=settings.email_verification == "required",
        pending_lifetime=timedelta(seconds=settings.mfa_pending_ttl_s),
    )
    return Services(
        stores=stores,
        users=users,
        auth=auth,
        accounts=accounts,
        emails=EmailAddresses(
            users, accounts, clock, ItsdangerousTokenSigner(keys, salt="esauth.email-verification.v1"), notifier, cooldown,
            settings.email_verification, defer=background.submit,
        ),
        admin=AdminService(users),
        tokens=AccessTokens(users, clock),
        # Sealed with their own keys when given, else the signing keys (FernetSecretBox derives
        # a key of its own from each, so a TOTP key never equals a signing key).
        totp=TotpService(
            users, failures, FernetSecretBox(settings.totp_keys or keys), clock, PyotpCodes(TOTP_DIGITS, TOTP_INTERVAL_S),
            settings.totp_issuer,
        ),
        passkeys=build_passkeys(settings, users, auth, clock),
        notifier=notifier,
        background=background,
        keys=keys,
        hasher=hasher,
        metrics=metrics,
        outages=outages,
    )


def build_passkeys(settings: Settings, users: Users, auth: AuthService, clock: Clock) -> Passkeys | None:
    if settings.webauthn_rp_id is None:
        log.info("passkeys are off: set ESAUTH_WEBAUTHN_RP_ID or an ESAUTH_PUBLIC_URL with a host name")
        return None
    from infrastructure.second_factor.webauthn_verifier import WebauthnVerifier  # its CBOR and crypto load only when used

    verifier = WebauthnVerifier(
        settings.webauthn_rp_id, "esauth", settings.webauthn_origins, settings.webauthn_timeout_s,
        settings.webauthn_user_verification,
    )
    log.info("passkeys: relying party %s, origins %s", settings.webauthn_rp_id, ", ".join(settings.webauthn_origins))
    return Passkeys(users, auth, verifier, clock, timedelta(seconds=settings.webauthn_timeout_s))


def describe_view(view: SessionView) -> str:
    """The session view's bounds, as the start-up log states them."""
    if not view.entries:
        return "session view off: every session check reads the store"
    bound_ms = view.bound // timedelta(milliseconds=1)
    return (
        f"session view: up to {view.entries:,} users, a change elsewhere seen within {bound_ms} ms "
        f"(the store is asked what changed every {bound_ms // LOOKS_PER_BOUND} ms)"
    )


def worker_count(settings: Settings) -> int:
    """Server processes for `esauth serve`: as configured, else one per core it may use."""
    return settings.workers or cores_available()


def settings_for_workers(settings: Settings) -> Settings:
    """Settings every worker can build from on its own, checked once in the parent so that a
    mistake stops the server as it stops a single process: the argon2 floor, the data directory
    (made here, owner-only), the cluster's certificate and credentials (the start-up check), and
    the signing keys (a generated key is made once here, not raced for by N workers)."""
    build_hasher(settings)
    data_dir(settings)
    if settings.uses_search_engine:  # a cluster refusing the settings would fail every worker alike
        try:
            connect_checked(settings).close()
        except StoreUnavailable:
            pass  # an outage, not a setting: the workers meet it and report it themselves
    return replace(settings, secret_keys=secret_keys(settings))


def settings_of_worker(settings: Settings, workers: int, worker: int) -> Settings:
    """Worker `worker`'s settings: its share of the server's hashing threads."""
    total = settings.hash_workers or cores_available()
    return replace(settings, hash_workers=threads_for_worker(total, workers, worker))


def build_shared_limiter(settings: Settings, clock: Clock = utc_now) -> SharedTokenBuckets:
    """The per-client buckets of a server with several workers: made before they are forked."""
    return SharedTokenBuckets(settings.client_requests_per_minute, clock)


def build_app(
    settings: Settings,
    services: Services | None = None,
    clock: Clock = utc_now,
    limiter: ClientLimiter | None = None,
) -> falcon.App:
    """Everything the server needs, from settings (and the services and the rate limiter
    shared by several workers, if already built)."""
    services = services or build_services(settings, clock)
    policy = SessionPolicy(
        idle_timeout=timedelta(seconds=settings.session_idle_timeout_s),
        absolute_lifetime=timedelta(seconds=settings.session_absolute_lifetime_s),
        sudo_max_age=timedelta(seconds=settings.sudo_max_age_s),
    )
    if not settings.cookie_secure:
        log.warning("ESAUTH_COOKIE_SECURE is off: session cookies will travel over plain http. Local use only.")
    log.info("users are kept in %s", services.users.kind)
    log.info("%s", describe_view(services.users.view))
    metrics = services.metrics
    metrics_resource = None
    if isinstance(metrics, PrometheusMetrics) and settings.metrics_allow:
        metrics.watch_hash_queue(lambda: services.hasher.queue_depth)
        metrics_resource = MetricsResource(metrics.exposition, CONTENT_TYPE, settings.metrics_allow, settings.trusted_proxies)
    ready_queue = settings.ready_hash_queue or READY_QUEUE_PER_WORKER * services.hasher.workers
    return create_app(
        services.auth,
        SessionCookies(
            services.keys,
            policy,
            secure=settings.cookie_secure,
            domain=settings.cookie_domain,
            # One live cookie per user the view keeps; with the view's entries at 0, the default.
            kept=settings.session_view_entries or VERIFIED_COOKIES_KEPT,
        ),
        AuditLog(services.keys[0], clock, settings.trusted_proxies, metrics),
        limiter or TokenBucketLimiter(settings.client_requests_per_minute, clock),
        clock,
        accounts=services.accounts,
        emails=services.emails,
        admin=services.admin,
        tokens=services.tokens,
        passkeys=services.passkeys,
        totp=services.totp,
        pending=PendingLoginCookies(
            services.keys, timedelta(seconds=settings.mfa_pending_ttl_s), secure=settings.cookie_secure, domain=settings.cookie_domain
        ),
        allowed_origins=settings.allowed_origins,
        trusted_proxies=settings.trusted_proxies,
        public_url=settings.public_url,
        metrics=metrics,
        metrics_resource=metrics_resource,
        access_log=settings.access_log,
        pool_saturated=lambda: services.hasher.saturated(ready_queue),
        on_unavailable=services.outages.request_failed,
        device_cookie_max_age=timedelta(days=settings.device_cookie_days),
    )
