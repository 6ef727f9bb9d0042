"""Who is asking: the peer address, or the client a known number of proxies vouch for."""

from __future__ import annotations

import functools
import ipaddress

import falcon


def client_address(req: falcon.Request, trusted_proxies: int) -> str:
    """With N trusted proxies in front, the client is the N-th address from the right of
    X-Forwarded-For (each proxy appends the peer it saw). Anything left of that is the client's
    own claim and is ignored; with no proxies configured the header is not read at all."""
    if trusted_proxies <= 0:
        return req.remote_addr or "unknown"
    forwarded = [part.strip() for part in (req.get_header("X-Forwarded-For") or "").split(",") if part.strip()]
    if len(forwarded) >= trusted_proxies:
        return forwarded[-trusted_proxies]
    return req.remote_addr or "unknown"


@functools.lru_cache(maxsize=4096)  # pure, and parsing an address is most of a bearer check's CPU
def rate_key(address: str) -> str:
    """The unit a client is rate-limited as: its IPv4 address, or its IPv6 /64 (one host
    usually owns a whole /64, so counting single IPv6 addresses would be no limit at all)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
