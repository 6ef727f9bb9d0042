"""Per request: the access log line, the request figures, and 503s counted into a store outage."""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable

import falcon
from falcon.routing import CompiledRouter

from entrypoints.http.client_address import client_address
from entrypoints.http.context import KNOWN_METHODS
from entrypoints.logs import Fields
from ports.metrics import Metrics

log = logging.getLogger("esauth.access")

UNMATCHED = "unmatched"
"""The route label of paths no route matches: labels stay bounded whatever paths are tried."""
CONVERTER = re.compile(r"{(\w+):[^}]*}")
"""Falcon's `{email:path}` is `{email}`, as in the OpenAPI document."""


class AccessLine(Fields):
    """One request, as `GET /v1/test 200 0.41ms client=127.0.0.1 request_id=...` in a text log."""

    def __str__(self) -> str:
        return (
            f"{self['method']} {self['route']} {self['status']} {self['duration_ms']}ms "
            f"client={self['client']} request_id={self['request_id']}"
        )


class RequestObserver:
    """First middleware, so its process_response runs last and sees the status that leaves.

    Routes are named by template (/v1/users/{email}), never by raw path: no address, token or
    query string reaches the log or a metric label.
    """

    def __init__(
        self,
        router: CompiledRouter,
        metrics: Metrics,
        *,
        access_log: bool,
        trusted_proxies: int = 0,
        on_unavailable: Callable[[], None] = lambda: None,
    ) -> None:
        self._router = router
        self._metrics = metrics
        self._access_log = access_log
        self._trusted_proxies = trusted_proxies
        self._on_unavailable = on_unavailable
        self._routes: dict[str, str] = {}  # Falcon's template -> the name it goes by

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        seconds = time.perf_counter() - req.context.get("started", time.perf_counter())
        route = self._name(req.uri_template or self._route_of(req.path))
        method = req.method if req.method in KNOWN_METHODS else "OTHER"
        status = resp.status_code
        self._metrics.request(route, method, status, seconds)
        if status == 429:
            self._metrics.throttled(req.context.get("throttled_by", "login"))
        elif status == 503:
            self._on_unavailable()
        if self._access_log:
            log.info(
                AccessLine(
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(seconds * 1000, 3),
                    request_id=req.context.get("request_id"),
                    client=client_address(req, self._trusted_proxies),
                )
            )

    def _name(self, template: str) -> str:
        name = self._routes.get(template)
        if name is None:
            name = self._routes[template] = CONVERTER.sub(r"{\1}", template)
        return name

    def _route_of(self, path: str) -> str:
        """The template of a request refused before routing (a 413, say), else UNMATCHED."""
        found = self._router.find(path)
        return found[3] if found is not None else UNMATCHED
