"""The `esauth` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from domain.errors import StoreUnavailable
from entrypoints.config import ConfigError, Settings

WAITRESS_MAX_BODY_BYTES = 1024 * 1024
"""Above the app's own 64 KiB limit, so the app answers most oversized bodies with JSON 413,
while waitress never buffers more than this for anyone."""
WAITRESS_MAX_HEADER_BYTES = 32 * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="esauth", description="esauth authentication API")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API with waitress")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=os.environ.get("ESAUTH_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    if args.command == "serve":
        return _serve(args.host, args.port, args.threads)
    return 2


def _serve(host: str, port: int, threads: int) -> int:
    import waitress

    from entrypoints.bootstrap import build_app

    try:
        app = build_app(Settings.from_env(os.environ))
    except ConfigError as error:
        print(f"esauth: configuration error: {error}", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        print(f"esauth: the user store is not reachable at start-up: {error}", file=sys.stderr)
        return 1
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="esauth",
        max_request_body_size=WAITRESS_MAX_BODY_BYTES,
        max_request_header_size=WAITRESS_MAX_HEADER_BYTES,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
