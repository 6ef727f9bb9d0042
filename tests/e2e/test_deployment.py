"""deploy/nginx as shipped, for real: nginx + `esauth serve` + an app that echoes who it was told
is asking, over HTTPS with a test CA, on loopback."""

from __future__ import annotations

import json
import socket
import time
from contextlib import ExitStack
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from domain.session import SessionPolicy
from entrypoints.http.session import SessionCookies

from tests.e2e.deployment import APP_CACHE_CONTROL, LOGIN_PATH, Https, run_deployment
from tests.e2e.harness import HOST, EsauthServer, StartServer

EMAIL, PASSWORD = "ada@example.com", "correct horse battery"
HELD = 300


@pytest.fixture
def deployment(tmp_path: Path, start_server: StartServer) -> Iterator[tuple[Https, EsauthServer]]:
    with run_deployment(start_server, tmp_path) as running:
        yield running.https, running.esauth


def session_cookie(headers: dict[str, str], name: str = "__Host-session") -> str:
    (line,) = [line for line in headers["set-cookie"].split("\n") if line.startswith(name + "=")]
    assert "Secure" in line and "HttpOnly" in line
    return line.split(";", 1)[0]


def seen_by_app(https: Https, **headers: str) -> dict:
    status, _, body = https("GET", "/app/page", Accept="application/json", **headers)
    assert status == 200, body
    return json.loads(body)["headers"]


def test_an_app_behind_nginx_sees_only_identities_esauth_vouched_for(deployment) -> None:
    https, esauth = deployment

    # No session: an API call gets 401 JSON, a browser navigation the login page with a safe next.
    status, headers, body = https("GET", "/app/page?x=1", Accept="application/json")
    assert (status, json.loads(body)["message"]) == (401, "Login required.")
    status, headers, _ = https("GET", "/app/page?x=1", Accept="text/html", **{"Sec-Fetch-Mode": "navigate"})
    assert (status, headers["location"]) == (302, f"https://localhost:{https.port}{LOGIN_PATH}?next=/app/page")
    for hostile in ("/\\evil.example/", "/a/'\"><script>"):
        status, headers, _ = https("GET", hostile, Accept="text/html")
        assert (status, headers["location"]) == (302, f"https://localhost:{https.port}{LOGIN_PATH}?next=/"), hostile
    assert https("GET", "//evil.example/", Accept="text/html")[0] == 403  # esauth refuses the target itself
    assert https("GET", LOGIN_PATH, Accept="text/html")[0] == 200  # the login page is open
    spoofed = {"X-Auth-Request-User": "admin", "X-Auth-Request-Email": "boss@example.com", "X-Auth-Request-Admin": "true"}
    assert https("GET", "/app/page", Accept="application/json", **spoofed)[0] == 401

    # Logged in: the app sees the right id and email, whatever the client claims.
    status, _, body = https("POST", "/v1/users/new", {"email_address": EMAIL, "password": PASSWORD})
    assert status == 200, body
    user_id = json.loads(body)["data"]["id"]
    status, headers, body = https("POST", "/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD})
    assert status == 200, body
    cookie = session_cookie(headers)
    identity = {"x-auth-request-user": [user_id], "x-auth-request-email": [EMAIL], "x-auth-request-admin": ["false"],
                "x-forwarded-for": [HOST]}
    assert seen_by_app(https, Cookie=cookie) == {**identity, "authorization": None, "cookie": None}
    assert seen_by_app(https, Cookie=cookie, **spoofed, **{"X-Forwarded-For": "203.0.113.9"}) == {
        **identity, "authorization": None, "cookie": None}

    # A session in use for over a minute is re-issued by the check, and nginx hands that on.
    signer = SessionCookies([esauth.env["ESAUTH_SECRET_KEY"]], SessionPolicy(), secure=True)
    session, _ = signer.decode(cookie.split("=", 1)[1])
    aged = f"{signer.name}={signer.encode(replace(session, last_seen=session.last_seen - timedelta(minutes=2)))}"
    status, headers, _ = https("GET", "/app/page", Accept="application/json", Cookie=aged)
    assert status == 200 and session_cookie(headers) != aged
    assert headers["cache-control"] == "private, no-store"  # no shared cache keeps someone's cookie
    status, headers, _ = https("GET", "/app/page", Accept="application/json", Cookie=cookie)
    assert (status, headers["cache-control"]) == (200, APP_CACHE_CONTROL)  # nothing re-issued: the app's own

    # A bearer token: the same identity, and the token itself stays with esauth.
    status, _, body = https("POST", "/v1/users/me/tokens", {"name": "ci", "current_password": PASSWORD}, Cookie=cookie)
    assert status == 201, body
    made = json.loads(body)["data"]
    bearer = {"Authorization": f"Bearer {made['token']}"}
    assert seen_by_app(https, **bearer, **spoofed) == {**identity, "authorization": None, "cookie": None}

    # Logout and revocation block again.
    assert https("POST", "/v1/auth/logout", Cookie=cookie)[0] == 200
    assert https("GET", "/app/page", Accept="application/json", Cookie=cookie)[0] == 401
    assert seen_by_app(https, **bearer)["x-auth-request-user"] == [user_id]
    status, _, body = https("POST", "/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD})
    fresh = session_cookie(_)
    assert https("DELETE", f"/v1/users/me/tokens/{made['id']}", Cookie=fresh)[0] == 200
    assert https("GET", "/app/page", Accept="application/json", **bearer)[0] == 401

    # esauth saw the address nginx saw, not the one the client claimed (its throttle counts by it).
    https("GET", "/app/page", Accept="application/json", Authorization="Bearer esauth_pat_guess", **{"X-Forwarded-For": "203.0.113.9"})
    refused = [json.loads(line.split(" esauth.audit ", 1)[1]) for line in esauth.stderr().splitlines() if '"token_refused"' in line]
    assert refused and {entry["client"] for entry in refused} == {HOST}
    assert refused[-1]["target"] == "GET /app/page"


def test_the_app_never_sees_esauths_cookies_and_keeps_its_own(deployment) -> None:
    https, _ = deployment
    assert https("POST", "/v1/users/new", {"email_address": EMAIL, "password": PASSWORD})[0] == 200
    status, headers, _ = https("POST", "/v1/auth/login", {"email_address": EMAIL, "password": PASSWORD})
    assert (status, headers["cache-control"]) == (200, "no-store")  # esauth's own answer with a cookie
    cookie = session_cookie(headers)
    device = session_cookie(headers, "__Host-device")  # what lets a login skip the account's lockout
    value = cookie.split("=", 1)[1]
    others = f"__Host-csrf=c; {device}; __Host-esauth-pending=p; __Host-webauthn=w"
    every = f"{cookie}; __Secure-session={value}; __Secure-esauth-pending=q; {others}"  # seven: all a browser can hold
    for sent, kept in [
        (f"theme=dark; {cookie}; {others}; lang=en", ["theme=dark", "lang=en"]),
        (every, None),
        (f"csrf=mine; device=mine; {every}; webauthn=mine", ["csrf=mine", "device=mine", "webauthn=mine"]),
        (f"theme=dark; {cookie}; lang=en", ["theme=dark", "lang=en"]),
        (f"{cookie};theme=dark", ["theme=dark"]),
        (f"theme=dark; {cookie}", ["theme=dark"]),
        (f"{cookie}; a=1; __Secure-session={value}; b=2; {cookie}", ["a=1", "b=2"]),
        (f"not__Host-session=1; {cookie}", ["not__Host-session=1"]),  # another cookie's name is left alone
        (cookie, None),  # nothing left: no Cookie header at all
    ]:
        seen = seen_by_app(https, Cookie=sent)
        pairs = None if seen["cookie"] is None else [p.strip() for line in seen["cookie"] for p in line.split(";") if p.strip()]
        assert pairs == kept, sent
        assert value not in json.dumps(seen) and device.split("=", 1)[1] not in json.dumps(seen)
    assert https("GET", "/app/page", Accept="application/json", Cookie=f"{every}; {cookie}")[0] == 400  # eight


def test_nginx_refuses_two_way_framing(deployment) -> None:
    deployment, _ = deployment
    with socket.create_connection((HOST, deployment.port), timeout=10) as raw:
        with deployment.context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(
                b"POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            )
            assert tls.recv(64).startswith(b"HTTP/1.1 400")


def test_300_idle_connections_held_leave_normal_requests_answered_within_a_second(deployment) -> None:
    deployment, _ = deployment
    with ExitStack() as stack:
        for _ in range(HELD):
            stack.enter_context(socket.create_connection((HOST, deployment.port), timeout=10))
        waits = []
        for _ in range(5):
            started = time.monotonic()
            status, _, _ = deployment("GET", "/health")
            waits.append(time.monotonic() - started)
            assert status == 200
        assert max(waits) < 1.0, waits


def test_the_hosted_pages_pass_through_and_only_their_password_posts_get_the_credentials_rate(deployment) -> None:
    https, _ = deployment
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    shown = [https("GET", LOGIN_PATH, Accept="text/html")[0] for _ in range(30)]
    assert shown == [200] * 30  # esauth's page, however often it is shown
    posted = [https("POST", LOGIN_PATH, **form)[0] for _ in range(30)]  # no CSRF token: esauth says 403
    assert set(posted) == {403, 429} and posted[:10] == [403] * 10  # a burst of 10, then 2 a second
    assert https("GET", "/ui/static/esauth.css")[0] == 200
