"""One structured log line per security event. Never passwords, hashes, cookies, keys or raw emails."""

from __future__ import annotations

import hashlib
import hmac
import logging

import falcon

from domain.timestamps import format_time
from domain.user import canonical_email
from entrypoints.http.client_address import client_address
from entrypoints.logs import Fields
from ports.clock import Clock
from ports.metrics import NO_METRICS, Metrics

log = logging.getLogger("esauth.audit")

LOGIN_OUTCOMES = {"login_ok": "ok", "login_failed": "failed", "login_throttled": "throttled", "login_refused_inactive": "inactive",
                  "login_refused_unverified": "unverified"}


class AuditLog:
    """Writes one record per event to the `esauth.audit` logger: a JSON line in a text log, the
    line's own fields in a JSON log (entrypoints.logs.Fields).

    Users appear as a keyed digest of their email: stable, so one account's events can be
    followed, but not reversible by whoever reads the logs without the key.
    """

    def __init__(self, pseudonym_key: str, clock: Clock, trusted_proxies: int = 0, metrics: Metrics = NO_METRICS) -> None:
        self._key = hashlib.sha256(b"esauth.audit:" + pseudonym_key.encode()).digest()
        self._clock = clock
        self._trusted_proxies = trusted_proxies
        self._metrics = metrics

    def user_ref(self, email_address: str) -> str:
        digest = hmac.new(self._key, canonical_email(email_address).encode("utf-8", "surrogatepass"), hashlib.sha256)
        return digest.hexdigest()[:20]

    def client(self, req: falcon.Request) -> str:
        """The client's address as every event names it."""
        return client_address(req, self._trusted_proxies)

    def record(self, req: falcon.Request, event: str, email_address: str | None = None, **details: object) -> None:
        entry = Fields({
            "time": format_time(self._clock()),
            "event": event,
            "user": self.user_ref(email_address) if isinstance(email_address, str) else None,
            "client": self.client(req),
            "request_id": req.context.get("request_id"),
        })
        target = req.context.get("audit_target")
        if target is not None:
            entry["target"] = target  # what a proxy asked /v1/auth/verify about: method and path
        entry.update(details)
        log.info(entry)
        outcome = LOGIN_OUTCOMES.get(event)
        if outcome is not None:
            self._metrics.login(outcome)  # every answered login is audited: one place counts them
