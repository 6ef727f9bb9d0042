"""Per-client token buckets for the endpoints worth guessing at (login, sign-up), per server."""

from __future__ import annotations

import math
import threading
from typing import Any, Protocol

import falcon

from entrypoints.http.audit import AuditLog
from entrypoints.http.client_address import client_address, rate_key
from ports.clock import Clock

MAX_TRACKED_CLIENTS = 100_000
"""Beyond this many buckets the full ones are forgotten first (a full bucket is a fresh client)."""


class ClientLimiter(Protocol):
    """What the middleware asks of a limiter; one per process (TokenBucketLimiter) or shared by
    every worker of a server (entrypoints.server.shared_buckets)."""

    def take(self, client: str) -> float:
        """0 if the request may go ahead (a token is spent), else the seconds until one is free."""
        ...

    def wait(self, client: str) -> float:
        """The seconds until `take` would succeed for this client (0: now), spending nothing:
        a bearer check refuses a client that guessed too much without spending its allowance."""
        ...


def refilled(tokens: float, at: float, now: float, capacity: float, refill_per_s: float) -> float:
    """The tokens a bucket holds at `now`; a clock that went back refills nothing."""
    return min(capacity, tokens + max(0.0, now - at) * refill_per_s)


def waiting(tokens: float, refill_per_s: float) -> float:
    """Seconds until a bucket holding `tokens` has a whole one."""
    return 0.0 if tokens >= 1.0 else (1.0 - tokens) / refill_per_s


def spend(tokens: float, at: float, now: float, capacity: float, refill_per_s: float) -> tuple[float, float]:
    """A bucket holding `tokens` at `at`, asked for one at `now`: (tokens left, seconds to wait).
    A wait of 0 means the token was spent."""
    tokens = refilled(tokens, at, now, capacity, refill_per_s)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, waiting(tokens, refill_per_s)


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
            tokens, wait = spend(tokens, at, now, self.capacity, self.refill_per_s)
            self._store(client, tokens, now)
            return wait

    def wait(self, client: str) -> float:
        now = self._clock().timestamp()
        tokens, at = self._buckets.get(client, (self.capacity, now))
        return waiting(refilled(tokens, at, now, self.capacity, self.refill_per_s), self.refill_per_s)

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

    def __init__(self, limiter: ClientLimiter, audit: AuditLog, trusted_proxies: int = 0) -> None:
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
