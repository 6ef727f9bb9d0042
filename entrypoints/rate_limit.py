"""Per-client token buckets for the endpoints worth guessing at (login, sign-up), per process."""

from __future__ import annotations

import math
import threading
from typing import Any

import falcon

from entrypoints.audit import AuditLog
from entrypoints.client_address import client_address, rate_key
from ports.clock import Clock

MAX_TRACKED_CLIENTS = 100_000
"""Beyond this many buckets the full ones are forgotten first (a full bucket is a fresh client)."""


class TokenBucketLimiter:
    """`per_minute` requests a minute per client, in bursts of up to `per_minute`."""

    def __init__(self, per_minute: int, clock: Clock) -> None:
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at epoch seconds)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 if the request may go ahead (a token is spent), else the seconds until one is free."""
        now = self._clock().timestamp()
        with self._lock:
            tokens, at = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + max(0.0, now - at) * self.refill_per_s)
            if tokens >= 1.0:
                self._store(client, tokens - 1.0, now)
                return 0.0
            self._store(client, tokens, now)
            return (1.0 - tokens) / self.refill_per_s

    def _store(self, client: str, tokens: float, now: float) -> None:
        if client not in self._buckets and len(self._buckets) >= MAX_TRACKED_CLIENTS:
            self._forget_full(now)
        self._buckets[client] = (tokens, now)

    def _forget_full(self, now: float) -> None:
        full_after = self.capacity / self.refill_per_s
        for client, (_, at) in list(self._buckets.items()):
            if now - at >= full_after:
                del self._buckets[client]
        if len(self._buckets) >= MAX_TRACKED_CLIENTS:
            self._buckets.clear()


class RateLimitMiddleware:
    """Spends a token for resources that declare `rate_limited = True` (POST only)."""

    def __init__(self, limiter: TokenBucketLimiter, audit: AuditLog, trusted_proxies: int = 0) -> None:
        self._limiter = limiter
        self._audit = audit
        self._trusted_proxies = trusted_proxies

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict) -> None:
        if req.method != "POST" or not getattr(resource, "rate_limited", False):
            return
        wait = self._limiter.take(rate_key(client_address(req, self._trusted_proxies)))
        if wait > 0:
            req.context.throttled_by = "client"  # told apart from the login throttle's 429 in the metrics
            self._audit.record(req, "rate_limited", path=req.path)
            raise falcon.HTTPTooManyRequests(
                description="Too many requests from this address. Try again later.",
                retry_after=max(1, math.ceil(wait)),
            )
