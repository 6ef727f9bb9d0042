"""The bare-Falcon baseline: one route that answers a small JSON body, nothing else.

Served through esauth's own `serve` command with only the application swapped, so waitress
runs with exactly esauth's settings (threads, ident, body and header limits, log levels):

    python bench/bare_app.py --host 127.0.0.1 --port 8001 --threads 8

It reads the same ESAUTH_* environment as esauth (the services are built, then unused).
"""

from __future__ import annotations

import sys
from typing import Any

import falcon

import entrypoints.bootstrap
from entrypoints import cli


class SmallJson:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Test", "success": True}


def bare_app(*args: Any, **kwargs: Any) -> falcon.App:
    app = falcon.App(media_type=falcon.MEDIA_JSON)
    app.add_route("/v1/test", SmallJson())
    app.add_route("/health", SmallJson())
    app.add_route("/app", SmallJson())  # the app nginx protects with auth_request (scenarios/behind_nginx.py)
    return app


if __name__ == "__main__":
    # esauth's serve command looks build_app up in entrypoints.bootstrap when it runs.
    entrypoints.bootstrap.build_app = bare_app
    sys.exit(cli.main(["serve", *sys.argv[1:]]))
