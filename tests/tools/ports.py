"""Free loopback ports, for servers that cannot be told to pick their own."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on right now (the kernel's choice, released at once).

    Another process could take it before the caller binds it; on loopback in a test run that
    race is rare enough, and a server that loses it fails to start loudly rather than silently.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
