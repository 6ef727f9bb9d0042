"""Probes for orchestrators: /health/live (the process answers) and /health/ready (it can serve
logins: the store reads and writes, the hashing pool keeps up). /health itself is resources.py's."""

from __future__ import annotations

from typing import Callable

import falcon

from domain.auth import AuthService
from domain.errors import StoreUnavailable
from entrypoints.http.resources import HealthResource


class LiveResource:
    """Asks nothing of the store: a restart would not cure a store outage, so liveness must not
    fail with it."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


class ReadyResource:
    """/health's own check first (so both say the same of the store's reads), then a write probe,
    then the hashing pool's queue: `pool_saturated()` tells whether a new login would wait too
    long behind the hashes already queued."""

    def __init__(self, health: HealthResource, auth: AuthService, pool_saturated: Callable[[], bool]) -> None:
        self._health = health
        self._auth = auth
        self._pool_saturated = pool_saturated

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._health.on_get(req, resp)
        try:
            self._auth.check_store_writes()
        except StoreUnavailable:
            raise falcon.HTTPServiceUnavailable(
                description=f"The {self._auth.store_kind} store does not take writes.", retry_after=1
            ) from None
        if self._pool_saturated():
            raise falcon.HTTPServiceUnavailable(
                description="The password hashing pool is saturated.", retry_after=1
            )
        resp.media = {"status": "ok", "store": self._auth.store_kind}
