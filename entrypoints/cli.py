"""The `esauth` command: serve the API, and the operator's tasks on the same store."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from domain.errors import (
    AuthError,
    StoreAccessDenied,
    StoreNeedsInit,
    StoreUnavailable,
    UserAlreadyExists,
    UserNotFound,
    ValidationError,
)
from domain.user import User, canonical_email, normalize_email
from entrypoints import logs
from entrypoints.config import MAX_WORKERS, ConfigError, Settings, http_url
from entrypoints.server.waitress_server import CHANNEL_TIMEOUT_S, CONNECTION_LIMIT

if TYPE_CHECKING:
    from entrypoints.http.rate_limit import ClientLimiter

log = logging.getLogger("esauth")

USAGE_ERROR = 2
FAILURE = 1
INTERRUPTED = 130
"""128 + SIGINT, what shells report for a command ended by Ctrl-C."""


class CommandError(Exception):
    """Ends a command with a message on stderr and an exit code."""

    def __init__(self, message: str, code: int = FAILURE) -> None:
        super().__init__(message)
        self.code = code


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as error:
        return _fail(f"configuration error: {error}", USAGE_ERROR)
    level = settings.log_level or ("INFO" if args.command == "serve" else "WARNING")
    logs.configure(level, settings.log_format)
    quiet_noisy_loggers()
    return _exit_status(lambda: COMMANDS[args.command](settings, args), _failures(settings))


def _exit_status(command: Callable[[], int], fail: Callable[[str, int], int]) -> int:
    """Run a command (or a worker); what went wrong becomes one line on stderr and an exit code."""
    try:
        return command()
    except ConfigError as error:
        return fail(f"configuration error: {error}", USAGE_ERROR)
    except ValidationError as error:
        return fail(str(error), USAGE_ERROR)
    except StoreAccessDenied as error:
        return fail(f"the user store refused esauth: {error}", USAGE_ERROR)
    except StoreNeedsInit as error:
        return fail(f"the user store needs `esauth init`: {error}", FAILURE)
    except StoreUnavailable as error:
        return fail(f"the user store is not reachable: {error}", FAILURE)
    except CommandError as error:
        return fail(str(error), error.code)
    except AuthError as error:
        return fail(f"{type(error).__name__}: {error}", FAILURE)
    except KeyboardInterrupt:
        return fail("interrupted", INTERRUPTED)


def quiet_noisy_loggers() -> None:
    """Libraries that log per request or per failed call; what they say is either normal or said
    once by esauth itself (a store outage: infrastructure.store_watch)."""
    # waitress logs a warning for every request that waits for a free thread: under load that is
    # normal backpressure, not news, and it wrote megabytes of log per benchmark run.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # The Elasticsearch client logs every HTTP call at INFO, and a warning with a traceback for
    # every retry and every failed node during an outage (1,692 tracebacks in 7 s).
    for name in ("elastic_transport.transport", "elastic_transport.node_pool", "opensearch"):
        logging.getLogger(name).setLevel(logging.ERROR)


def installed_version() -> str:
    """The version pip installed (pyproject.toml's), so it cannot drift from a constant in the code."""
    try:
        return metadata.version("esauth")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="esauth", description="esauth authentication API")
    top.add_argument("--version", action="version", version=f"esauth {installed_version()}")
    commands = top.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API with waitress")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=8, help="request threads per worker")
    serve.add_argument(
        "--workers",
        type=_worker_count,
        help="processes serving one socket (default ESAUTH_WORKERS, else one per core; 1: no supervisor)",
    )
    serve.add_argument("--connection-limit", type=int, default=CONNECTION_LIMIT,
                       help="open connections accepted at once, per worker (see README, Serving)")
    serve.add_argument("--channel-timeout", type=int, default=CHANNEL_TIMEOUT_S,
                       help="seconds of silence after which a connection is closed")

    commands.add_parser(
        "init",
        help="create the search engine's indices or the SQLite schema, upgrade or repair what an earlier "
        "release or a lost index left (reindex + alias swap), and report what exists",
    )

    create = commands.add_parser("create-user", help="create a user (the password is asked for, not echoed)")
    create.add_argument("email")
    create.add_argument("--admin", action="store_true", help="make the user an administrator")
    create.add_argument("--first-name")
    create.add_argument("--last-name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

    active = commands.add_parser("set-active", help="activate or deactivate a user (deactivating ends their sessions)")
    active.add_argument("email")
    active.add_argument("active", choices=["true", "false"])

    admin = commands.add_parser("set-admin", help="grant or remove administrator rights (recovery when no admin is left)")
    admin.add_argument("email")
    admin.add_argument("admin", choices=["true", "false"])

    seed = commands.add_parser("import-seed", help="import users from a seed-era Elasticsearch or OpenSearch index")
    seed.add_argument("--from-url", required=True, help="the cluster that holds the seed index (any ES 1.x-9.x or OpenSearch)")
    seed.add_argument("--index", default="example")
    return top


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.bootstrap import worker_count

    _allow_descriptors(args.connection_limit + 100)
    workers = args.workers or worker_count(settings)
    if workers == 1:
        return _serve_in_process(settings, args)
    return _serve_with_workers(settings, args, workers)


def _serve_in_process(settings: Settings, args: argparse.Namespace) -> int:
    """One process, as before there were workers: it binds, serves, and drains on SIGTERM."""
    from entrypoints.bootstrap import build_app, build_services
    from entrypoints.server.serving import build_server, serve_until

    services = build_services(settings)
    stop = _stop_on_signals()
    try:
        server = build_server(build_app(settings, services), args.threads, _limits(settings, args), host=args.host, port=args.port)
        serve_until(server, stop.is_set)
    finally:
        services.close()
    return 0


def _limits(settings: Settings, args: argparse.Namespace) -> dict[str, int]:
    """waitress's limits for this server (entrypoints.server.serving.waitress_options)."""
    return {
        "connection_limit": args.connection_limit,
        "channel_timeout_s": args.channel_timeout,
        "trusted_proxies": settings.trusted_proxies,
    }


def _allow_descriptors(needed: int) -> None:
    """Raise the soft open-files limit toward `needed` (up to the hard limit): each connection is
    a descriptor, and many systems start processes at a soft limit of 1024."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < needed:
            logging.getLogger("esauth").warning(
                "only %d open files allowed (hard limit): fewer connections than --connection-limit fit", target
            )


def _serve_with_workers(settings: Settings, args: argparse.Namespace, workers: int) -> int:
    """The parent binds the socket and makes the shared rate limit, then forks `workers`
    processes that each build their own app and serve that socket (entrypoints.server.supervisor)."""
    from entrypoints.bootstrap import build_shared_limiter, settings_for_workers
    from entrypoints.server.serving import listening_socket
    from entrypoints.server.supervisor import Supervisor

    settings = settings_for_workers(settings)
    limiter = build_shared_limiter(settings)
    # Where the workers leave their figures for each other, so /metrics sums them all.
    metrics_dir = Path(tempfile.mkdtemp(prefix="esauth-metrics-"))
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as error:
        limiter.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {error}") from None
    log.info("serving on http://%s:%s with %d workers", args.host, sock.getsockname()[1], workers)

    def run_worker(number: int, parent_pid: int) -> int:
        return _exit_status(
            lambda: _worker(settings, args, workers, limiter, sock, number, parent_pid, metrics_dir), _failures(settings)
        )

    try:
        return Supervisor(workers, run_worker).run()
    finally:
        sock.close()
        limiter.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _worker(
    settings: Settings,
    args: argparse.Namespace,
    workers: int,
    limiter: ClientLimiter,
    sock: socket.socket,
    number: int,
    parent_pid: int,
    metrics_dir: Path,
) -> int:
    """Worker `number`, in the forked child: builds its own services and app, tells the parent
    it is ready, serves the inherited socket until SIGTERM or until the parent is gone."""
    from entrypoints.bootstrap import build_app, build_services, settings_of_worker
    from entrypoints.server.serving import build_server, serve_until
    from entrypoints.server.supervisor import tell_parent_ready

    stop = _stop_on_signals()
    own = settings_of_worker(settings, workers, number)
    services = build_services(own, metrics_dir=metrics_dir)
    try:
        server = build_server(build_app(own, services, limiter=limiter), args.threads, _limits(own, args), sockets=[sock])
        log.info("worker %d: %d request thread(s), %d hashing thread(s)", number, args.threads, services.hasher.workers)
        tell_parent_ready(parent_pid)
        serve_until(server, lambda: stop.is_set() or os.getppid() != parent_pid)
    finally:
        services.close()
    return 0


def _stop_on_signals() -> threading.Event:
    """An event SIGTERM and SIGINT set, for the serving loop to drain on."""
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    return stop


def _worker_count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
    if not 0 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_WORKERS}, got {value}")
    return value


def _init(settings: Settings, args: argparse.Namespace) -> int:
    from domain.users import Users
    from entrypoints.bootstrap import build_stores
    from infrastructure.clock import utc_now

    from domain.address_report import address_report, report_lines

    stores = build_stores(settings, report=print, upgrade=True)
    backfill = getattr(stores.users, "backfill_search_fields", None)
    if backfill is not None:
        print(f"users rewritten for name search (stored by an earlier release): {backfill()}")
    print(f"users given an id (stored by an earlier release): {Users(stores.users, utc_now).assign_missing_ids()}")
    for line in report_lines(address_report(stores.users)):
        print(line)
    return 0


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.bootstrap import build_services

    email = normalize_email(args.email)  # refused before the password is asked for
    password = _read_password(args.password_stdin)
    services = build_services(settings)
    try:
        # As typed: register also checks the spelling an earlier release would have stored.
        user = services.auth.register(args.email, password, args.first_name, args.last_name, is_admin=args.admin)
    except UserAlreadyExists:
        raise CommandError(f"'{email}' already exists.") from None
    finally:
        services.close()
    print(f"created '{user.email_address}'{' (administrator)' if user.is_admin else ''}")
    return 0


def _set_active(settings: Settings, args: argparse.Namespace) -> int:
    user = _set_flag(settings, args.email, "is_active", args.active == "true")
    print(f"'{user.email_address}' is now {'active' if user.is_active else 'inactive; its sessions have ended'}")
    return 0


def _set_admin(settings: Settings, args: argparse.Namespace) -> int:
    user = _set_flag(settings, args.email, "is_admin", args.admin == "true")
    print(f"'{user.email_address}' is {'now' if user.is_admin else 'no longer'} an administrator")
    return 0


def _set_flag(settings: Settings, raw_email: str, flag: str, value: bool) -> User:
    """One flag of one user, through the same rules as the API (deactivating ends sessions)."""
    from entrypoints.bootstrap import build_services

    services = build_services(settings)
    try:
        return services.admin.apply(services.admin.find(raw_email).email_address, {flag: value})
    except UserNotFound:
        raise CommandError(f"'{canonical_email(raw_email)}' does not exist.") from None
    finally:
        services.close()


def _import_seed(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.bootstrap import build_stores
    from infrastructure.clock import utc_now
    from infrastructure.search_engine.seed_source import SeedSource
    from infrastructure.seed_import import SeedIndexNotFound, import_seed_users

    from_url = http_url(args.from_url, "--from-url")
    stores = build_stores(settings, report=lambda line: None)
    source = SeedSource(from_url)
    try:
        report = import_seed_users(source, args.index, stores.users, utc_now)
    except SeedIndexNotFound:
        raise CommandError(f"there is no index '{args.index}' at the seed's Elasticsearch") from None
    except StoreUnavailable as error:
        raise CommandError(f"the import stopped (re-running it skips what was imported): {error}") from None
    finally:
        source.close()
    print(f"imported {report.imported}, skipped {report.skipped_duplicate} duplicate and {report.skipped_invalid} invalid")
    for reason, count in sorted(report.reasons.items()):
        print(f"  {reason}: {count}")
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise CommandError("--password-stdin: nothing on stdin", USAGE_ERROR)
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password on; pass --password-stdin", USAGE_ERROR)
    try:
        first = getpass.getpass("Password: ")
        again = getpass.getpass("Again: ")
    except (EOFError, KeyboardInterrupt) as stopped:
        print(file=sys.stderr)  # end the prompt's line, which the keystroke left open
        if isinstance(stopped, EOFError):
            raise CommandError("no password given (end of input); nothing was created") from None
        raise CommandError("interrupted; nothing was created", INTERRUPTED) from None
    if again != first:
        raise CommandError("the passwords differ", USAGE_ERROR)
    return first


def _fail(message: str, code: int) -> int:
    print(f"esauth: {message}", file=sys.stderr)
    return code


def _failures(settings: Settings) -> Callable[[str, int], int]:
    """How a failure is told: a JSON line when the logs are JSON (a pipeline gets objects only)."""
    return _fail_as_json if settings.log_format == "json" else _fail


def _fail_as_json(message: str, code: int) -> int:
    print(logs.json_line(logging.ERROR, "esauth", f"esauth: {message}"), file=sys.stderr)
    return code


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "serve": _serve,
    "init": _init,
    "create-user": _create_user,
    "set-active": _set_active,
    "set-admin": _set_admin,
    "import-seed": _import_seed,
}

if __name__ == "__main__":
    sys.exit(main())
