"""Client mistakes over real HTTP (through waitress) get 4xx JSON, never 5xx, never HTML."""

from __future__ import annotations

import json

from tests.e2e.harness import StartServer
from tests.e2e.seed_session import assert_error

LIMIT = 64 * 1024


def big_json(size: int) -> bytes:
    """A syntactically valid JSON object of at least `size` bytes."""
    body = json.dumps({"email_address": "big@abc.com", "password": "x" * size}).encode()
    assert len(body) > size
    return body


def test_client_mistakes_are_json_4xx(start_server: StartServer) -> None:
    server = start_server()
    json_headers = {"Content-Type": "application/json", "Accept": "application/json"}

    # Over 64 KiB with a Content-Length
    too_big = server.raw("POST", "/v1/users/new", body=big_json(LIMIT), headers=json_headers)
    assert_error(too_big, 413)

    # Just at the limit is read (and then refused for its content, not its size)
    at_limit = b'{"email_address": "x@abc.com", "password": "' + b"y" * (LIMIT - 60) + b'"}'
    at_limit += b" " * (LIMIT - len(at_limit))
    assert len(at_limit) == LIMIT
    assert_error(server.raw("POST", "/v1/users/new", body=at_limit, headers=json_headers), 400)

    # Not JSON
    assert_error(server.raw("POST", "/v1/users/new", body=b"email_address=a@b.co", headers=json_headers), 400)
    assert_error(server.raw("POST", "/v1/auth/login", body=b"{not json", headers=json_headers), 400)
    # JSON, but not an object
    assert_error(server.raw("POST", "/v1/auth/login", body=b"[1, 2]", headers=json_headers), 400)
    # Not application/json
    assert_error(
        server.raw("POST", "/v1/users/new", body=b"a=b", headers={"Content-Type": "application/x-www-form-urlencoded"}),
        415,
    )

    # Over 64 KiB, chunked: no Content-Length to refuse it by
    def chunks():
        payload = big_json(LIMIT)
        for start in range(0, len(payload), 8192):
            yield payload[start : start + 8192]

    chunked = server.raw(
        "POST",
        "/v1/users/new",
        body=chunks(),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    assert_error(chunked, 413)

    # A small chunked body is read as usual
    small = json.dumps({"email_address": "chunked@abc.com", "password": "long enough pw"}).encode()
    ok = server.raw(
        "POST",
        "/v1/users/new",
        body=iter([small[:10], small[10:]]),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    assert ok.status == 200, ok
    assert ok.json["message"] == "'chunked@abc.com' added successfully!"

    # A browser-ish Accept still gets JSON errors
    html = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
    not_found = server.raw("GET", "/no/such/page", headers=html)
    assert_error(not_found, 404)
    assert not_found.headers.get_content_type() == "application/json"
    assert_error(server.raw("GET", "/v1/users/new", headers=html), 405)
    assert_error(server.raw("GET", "/v1/test", headers={"Accept": "application/xml"}), 401)

    assert server.alive()
