"""Origins compared as browsers mean them: scheme, host and port, default ports left out."""

from __future__ import annotations

from urllib.parse import urlsplit

import falcon

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(origin: str) -> str | None:
    """`scheme://host[:port]` in lower case without a default port, or None if it is no origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/") or parts.query or parts.username:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def request_origin(req: falcon.Request, trusted_proxies: int = 0) -> str | None:
    """The origin the browser used for this request. Behind trusted proxies it is what they
    forward (X-Forwarded-Proto/-Host), since TLS and the public host name end at them."""
    if trusted_proxies > 0:
        return normalize_origin(f"{req.forwarded_scheme}://{req.forwarded_host}")
    return normalize_origin(f"{req.scheme}://{req.netloc}")
