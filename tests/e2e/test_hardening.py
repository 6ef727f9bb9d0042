"""`esauth serve` exposed as it is: held connections, two-way framed requests, waitress's own errors."""

from __future__ import annotations

import json
import socket
import time
from contextlib import ExitStack
from email.parser import BytesParser

import pytest

from tests.e2e.harness import HOST, StartServer

BIG_HEADER = b"GET /health HTTP/1.1\r\nHost: esauth\r\nX-Big: "
HELD = 300
ANSWER_WITHIN_S = 1.0


def exchange(port: int, data: bytes, timeout_s: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes the connection (or the timeout, which fails)."""
    with socket.create_connection((HOST, port), timeout=timeout_s) as sock:
        sock.sendall(data)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk


def responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The responses in a byte stream (each has a Content-Length, as waitress and falcon send)."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status_line, _, header_text = head.partition(b"\r\n")
        headers = {k.lower(): v for k, v in BytesParser().parsebytes(header_text + b"\r\n\r\n").items()}
        length = int(headers.get("content-length", "0"))
        found.append((int(status_line.split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return found


def timed_health(port: int) -> float:
    """Seconds until a fresh client's GET /health is answered 200 (fails past 3 s)."""
    started = time.monotonic()
    with socket.create_connection((HOST, port), timeout=3) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: esauth\r\nConnection: close\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.1 200"), "no answer"
    return time.monotonic() - started


def hold(stack: ExitStack, port: int, count: int) -> list[socket.socket]:
    held = []
    for _ in range(count):
        sock = stack.enter_context(socket.create_connection((HOST, port), timeout=5))
        held.append(sock)
    return held


def test_300_idle_and_trickling_connections_leave_room_for_a_normal_client(start_server: StartServer) -> None:
    server = start_server()
    with ExitStack() as stack:
        idle = hold(stack, server.port, HELD // 2)
        trickling = hold(stack, server.port, HELD // 2)
        for sock in trickling:  # a request line and the start of a header, never finished
            sock.sendall(b"GET /health HTTP/1.1\r\nX-Slow: ")
        waits = []
        for _ in range(5):
            for sock in trickling:
                sock.sendall(b"a")
            waits.append(timed_health(server.port))
        assert max(waits) < ANSWER_WITHIN_S, waits
        assert len(idle) == HELD // 2
    assert server.alive()


def test_at_waitress_default_limit_100_idle_connections_shut_a_client_out(start_server: StartServer) -> None:
    """The risk the limits above remove (and proof the test above can fail)."""
    limited = start_server(serve_args=("--connection-limit", "100"))
    with ExitStack() as stack:
        hold(stack, limited.port, 100)
        time.sleep(0.2)  # let waitress accept them all
        with socket.create_connection((HOST, limited.port), timeout=ANSWER_WITHIN_S) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: esauth\r\n\r\n")
            with pytest.raises(socket.timeout):  # queued by the kernel, never served
                sock.recv(64)


def test_content_length_with_transfer_encoding_is_400_and_nothing_after_it_is_run(start_server: StartServer) -> None:
    server = start_server()
    for version in ("1.1", "1.0"):
        check_two_way_framing_refused(server.port, version)


def check_two_way_framing_refused(port: int, version: str) -> None:
    smuggled = b"GET /v1/test HTTP/1.1\r\nHost: esauth\r\n\r\n"
    request = (
        f"POST /v1/auth/login HTTP/{version}\r\nHost: esauth\r\nContent-Type: application/json\r\n"
        f"Content-Length: {5 + len(smuggled)}\r\nTransfer-Encoding: chunked\r\nX-Request-ID: smuggle-1\r\n\r\n"
    ).encode() + b"0\r\n\r\n" + smuggled

    answers = responses(exchange(port, request))

    assert len(answers) == 1, answers  # and the connection was closed: exchange() read to its end
    status, headers, body = answers[0]
    assert status == 400
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert (headers["cache-control"], headers["x-content-type-options"], headers["x-request-id"]) == ("no-store", "nosniff", "smuggle-1")
    assert json.loads(body) == {"error": "400: Bad Request", "message": "The request could not be understood.", "success": False}


REFUSED_BY_WAITRESS = [
    # Exactly 32 KiB and unfinished: the answer comes once all of it is read (none left to reset on).
    (BIG_HEADER + b"a" * (32 * 1024 - len(BIG_HEADER)), 431),
    (b"GET /health HTTP/1.1\r\nHost: esauth\r\nbad header line\r\n\r\n", 400),
    (b"POST /v1/auth/login HTTP/1.1\r\nHost: esauth\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST /v1/auth/login HTTP/1.1\r\nHost: esauth\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{}", 413),
    (b"POST /v1/auth/login HTTP/1.1\r\nHost: esauth\r\nContent-Length: 12abc\r\n\r\n", 400),
]


def test_waitress_own_refusals_are_json_with_esauth_headers_and_close(start_server: StartServer) -> None:
    server = start_server()
    for request_bytes, status in REFUSED_BY_WAITRESS:
        check_refusal(server.port, request_bytes, status)


def check_refusal(port: int, request_bytes: bytes, status: int) -> None:
    (got, headers, body), = responses(exchange(port, request_bytes))
    assert got == status
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert headers["cache-control"] == "no-store" and len(headers["x-request-id"]) == 32
    parsed = json.loads(body)
    assert parsed["success"] is False and parsed["error"].startswith(f"{status}: ")
    assert "waitress" not in body.decode() and "generated by" not in body.decode()


def test_behind_a_trusted_proxy_the_client_is_read_from_x_forwarded_for(start_server: StartServer) -> None:
    """waitress strips X-Forwarded-* unless told otherwise; with ESAUTH_TRUSTED_PROXIES they reach esauth."""
    server = start_server(ESAUTH_TRUSTED_PROXIES="1", ESAUTH_LOG_LEVEL="INFO")
    login = json.dumps({"email_address": "nobody@example.com", "password": "wrong password"}).encode()
    request = (
        b"POST /v1/auth/login HTTP/1.1\r\nHost: esauth\r\nContent-Type: application/json\r\nConnection: close\r\n"
        b"X-Forwarded-For: 198.51.100.7, 203.0.113.9\r\nContent-Length: " + str(len(login)).encode() + b"\r\n\r\n" + login
    )
    (status, _, _), = responses(exchange(server.port, request))
    assert status == 400
    deadline = time.monotonic() + 5
    while '"login_failed"' not in server.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    (line,) = [line for line in server.stderr().splitlines() if '"login_failed"' in line]
    assert json.loads(line.split(" esauth.audit ", 1)[1])["client"] == "203.0.113.9"


# What the README (Serving) says still comes from waitress alone, each seen on a running server.

def test_an_expected_continue_gets_waitress_interim_100_then_esauths_answer(start_server: StartServer) -> None:
    server = start_server()
    body = json.dumps({"email_address": "nobody@example.com", "password": "wrong password"}).encode()
    with socket.create_connection((HOST, server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/auth/login HTTP/1.1\r\nHost: esauth\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        assert sock.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    (status, headers, answer), = responses(received)
    assert status == 400 and json.loads(answer)["message"] == "Unknown email_address or bad password"
    # waitress's own headers on an answer of the app: Server (its ident, set to esauth), Date, Connection.
    assert (headers["server"], headers["connection"]) == ("esauth", "close") and headers["date"].endswith(" GMT")


def test_a_silent_connection_is_closed_after_the_channel_timeout_without_an_answer(start_server: StartServer) -> None:
    server = start_server(serve_args=("--channel-timeout", "1"))
    with socket.create_connection((HOST, server.port), timeout=10) as sock:
        started = time.monotonic()
        assert sock.recv(64) == b""  # closed, with nothing said: there was no request to answer
        waited = time.monotonic() - started
    assert waited < 1 + 5 + 2, waited  # the timeout, the cleanup interval that finds it, slack


def test_waitress_answer_for_an_app_that_failed_is_json_too() -> None:
    """The 500 waitress writes when the WSGI app raises: esauth's app never lets an error out
    (its handlers answer 500 themselves), so this runs esauth's waitress server on an app that
    does, over a real socket."""
    import threading

    from entrypoints.server.serving import build_server, serve_until

    def failing_app(environ, start_response):
        raise RuntimeError("the app failed")

    stop = threading.Event()
    server = build_server(failing_app, threads=1, host=HOST, port=0)
    thread = threading.Thread(target=serve_until, args=(server, stop.is_set), daemon=True)
    thread.start()
    try:
        raw = exchange(server.effective_port, b"GET /health HTTP/1.1\r\nHost: esauth\r\nX-Request-ID: app-failed-1\r\n\r\n")
    finally:
        stop.set()
        thread.join(10)
    (status, headers, body), = responses(raw)
    assert status == 500 and headers["content-type"] == "application/json" and headers["connection"] == "close"
    # A new request id: waitress answers it on a fresh request object that kept no header of the caller's.
    assert headers["cache-control"] == "no-store" and len(headers["x-request-id"]) == 32
    assert json.loads(body)["error"] == "500: Internal Server Error" and b"the app failed" not in body
