"""GET /metrics, for the networks allowed to read it."""

from __future__ import annotations

import ipaddress
from typing import Callable, Iterable

import falcon

from entrypoints.http.client_address import client_address
from entrypoints.config import Network


class MetricsResource:
    """Prometheus text, only for clients in `allowed` (loopback by default).

    The client is the one entrypoints.http.client_address names, so behind trusted proxies it is the
    address they vouch for, not the proxy's own: a proxy on loopback does not open /metrics to
    the world. Others get 403 (the figures tell an attacker how the throttle is doing).
    """

    def __init__(
        self, exposition: Callable[[], bytes], content_type: str, allowed: Iterable[Network], trusted_proxies: int = 0
    ) -> None:
        self._exposition = exposition
        self._content_type = content_type
        self._allowed = tuple(allowed)
        self._trusted_proxies = trusted_proxies

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self.allows(client_address(req, self._trusted_proxies)):
            raise falcon.HTTPForbidden(description="Metrics are not served to this address.")
        resp.content_type = self._content_type
        resp.data = self._exposition()

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._allowed)
