"""How one esauth process runs waitress: its options, built in one place, and a loop that stops
gracefully, finishing the requests under way before it returns."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any, Callable

from waitress import wasyncore
from waitress.adjustments import Adjustments

from entrypoints.server.waitress_server import CHANNEL_TIMEOUT_S, CLEANUP_INTERVAL_S, CONNECTION_LIMIT, EsauthServer

WAITRESS_MAX_BODY_BYTES = 1024 * 1024
"""Above the app's own 64 KiB limit, so the app answers most oversized bodies with JSON 413,
while waitress never buffers more than this for anyone."""
WAITRESS_MAX_HEADER_BYTES = 32 * 1024

DRAIN_TIMEOUT_S = 30.0
"""How long a stopping process waits for requests under way (a login waits for a hashing
thread, so a burst can queue for seconds) before it closes what is left."""
LOOP_TIMEOUT_S = 0.25
"""How often the serving loop looks whether it should stop, when nothing else wakes it."""

log = logging.getLogger("esauth")


def waitress_options(
    threads: int,
    connection_limit: int = CONNECTION_LIMIT,
    channel_timeout_s: int = CHANNEL_TIMEOUT_S,
    trusted_proxies: int = 0,
) -> dict[str, Any]:
    """Every waitress setting esauth uses, whether it binds the socket itself or is handed one
    (the limits are explained in entrypoints.server.waitress_server and the README, Serving)."""
    return {
        "threads": threads,
        "ident": "esauth",
        "max_request_body_size": WAITRESS_MAX_BODY_BYTES,
        "max_request_header_size": WAITRESS_MAX_HEADER_BYTES,
        "connection_limit": connection_limit,
        "channel_timeout": channel_timeout_s,
        "cleanup_interval": CLEANUP_INTERVAL_S,
        # poll(), not select(): select cannot watch a descriptor numbered 1024 or more, and a
        # thousand connections get there.
        "asyncore_use_poll": True,
        # waitress drops X-Forwarded-* from every peer unless told which proxy to trust;
        # ESAUTH_TRUSTED_PROXIES (how many proxies append to X-Forwarded-For) is esauth's own
        # reading of them, so with proxies configured the app must see the headers.
        "clear_untrusted_proxy_headers": trusted_proxies == 0,
    }


def build_server(app: Any, threads: int, limits: dict[str, Any] | None = None, **where: Any) -> EsauthServer:
    """esauth's waitress server for `app` (strict framing, JSON errors: entrypoints.server.waitress_server),
    listening `where`: host= and port=, or sockets=[one socket] that a parent bound for its
    workers. `limits` are waitress_options' keywords. Not yet serving: see serve_until."""
    adjustments = Adjustments(**waitress_options(threads, **(limits or {})), **where)
    if not adjustments.sockets:
        return EsauthServer(app, adj=adjustments)
    (sock,) = adjustments.sockets
    sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
    return EsauthServer(app, _sock=sock, adj=adjustments, bind_socket=False, sockinfo=sockinfo)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket, as waitress would make it, to hand to worker processes."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except BaseException:
        sock.close()
        raise
    return sock


def serve_until(server: Any, should_stop: Callable[[], bool]) -> None:
    """Serve until `should_stop()` says so, then drain: stop accepting, close idle connections,
    let every request already received be answered (up to DRAIN_TIMEOUT_S), and return once all
    connections are closed and waitress's threads have ended.

    waitress.serve() cannot do this: it runs until interrupted and has no drain of its own, so
    this runs waitress's own event loop in small steps instead, on the server's socket map.
    """
    socket_map = server._map  # wasyncore's: the listening socket, the connections, the trigger
    log.info("serving on http://%s:%s", server.effective_host, server.effective_port)
    try:
        while not should_stop():
            wasyncore.loop(timeout=LOOP_TIMEOUT_S, map=socket_map, use_poll=True, count=1)
        log.info("stopping: finishing the requests under way")
        server.accepting = False  # the listening socket is no longer polled; others may still accept
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            for channel in list(server.active_channels.values()):
                if not (channel.requests or channel.request is not None or channel.total_outbufs_len):
                    channel.handle_close()  # idle keep-alive: nothing is lost by closing it
            if not server.active_channels:
                break
            wasyncore.loop(timeout=0.05, map=socket_map, use_poll=True, count=1)
        else:
            busy = len(server.active_channels)
            log.warning("stopped with %d connection(s) still busy after %.0f s", busy, DRAIN_TIMEOUT_S)
    finally:
        server.task_dispatcher.shutdown()
        wasyncore.close_all(socket_map)
