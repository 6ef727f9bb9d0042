"""The seed's curl session, replayed over real HTTP; shared by the SQLite and Elasticsearch runs."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie
from typing import Callable

from tests.e2e.harness import Client, EsauthServer, Response

EMAIL = "test@abc.com"
PASSWORD = "correct horse battery"  # the seed's "test" is below today's 8-character floor
PUBLIC_USER_FIELDS = {"email_address", "first_name", "last_name", "is_active", "created_at"}


def assert_error(response: Response, status: int, message: str | None = None) -> dict:
    """The seed's error shape, as JSON, whatever else is true."""
    assert response.status == status, response
    body = response.json
    assert set(body) == {"error", "message", "success"}, body
    assert body["success"] is False, body
    assert body["error"].startswith(f"{status}: "), body
    assert isinstance(body["message"], str) and body["message"], body
    if message is not None:
        assert body["message"] == message, body
    return body


def refused_within(ask: Callable[[], Response], revoked_at: float, bound_s: float, where: str) -> float:
    """Repeat `ask` (a request with a revoked session) until it is refused with 401; fail if it
    is still accepted `bound_s` after `revoked_at` (time.monotonic()). Returns how long it took."""
    while True:
        answer = ask()
        elapsed = time.monotonic() - revoked_at
        if answer.status == 401:
            assert_error(answer, 401)
            return elapsed
        assert answer.status == 200, answer
        assert elapsed < bound_s, f"still accepted {elapsed:.2f} s after logout on {where}"
        time.sleep(0.05)


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    """(name, value, {lower-case attribute: value}) of one Set-Cookie header."""
    parts = [part.strip() for part in header.split(";")]
    name, _, value = parts[0].partition("=")
    attributes = {}
    for part in parts[1:]:
        key, _, attr_value = part.partition("=")
        attributes[key.strip().lower()] = attr_value.strip()
    return name, value, attributes


def session_cookie(response: Response) -> tuple[str, dict[str, str]]:
    """The one `session` cookie a response sets: its value and attributes."""
    found = [parse_set_cookie(header) for header in response.set_cookies()]
    sessions = [(value, attrs) for name, value, attrs in found if name == "session"]
    assert len(sessions) == 1, f"expected one session cookie, got {response.set_cookies()}"
    return sessions[0]


def sign_up(client: Client, email: str = EMAIL, password: str = PASSWORD) -> Response:
    return client.post(
        "/v1/users/new",
        {"email_address": email, "password": password, "first_name": "Test", "last_name": "User"},
    )


def log_in(client: Client, email: str = EMAIL, password: str = PASSWORD) -> tuple[Response, str]:
    """Log in, check the cookie the seed's session relies on, return it."""
    response = client.post("/v1/auth/login", {"email_address": email, "password": password})
    assert response.status == 200, response
    body = response.json
    assert body["success"] is True, body
    assert body["message"] == f"'{email}' successfully logged in!", body
    assert body["data"]["email_address"] == email, body
    value, attributes = session_cookie(response)
    assert value, response.set_cookies()
    assert "httponly" in attributes, response.set_cookies()
    assert attributes.get("samesite", "").lower() == "lax", response.set_cookies()
    assert attributes.get("path") == "/", response.set_cookies()
    assert int(attributes["max-age"]) > 0, response.set_cookies()
    assert "secure" not in attributes, "ESAUTH_COOKIE_SECURE=false, yet the cookie is Secure"
    assert "domain" not in attributes, response.set_cookies()
    # The jar took it, as curl -c would.
    assert client.cookie_values("session") == [value], list(client.jar)
    return response, value


def cookie_header(value: str) -> str:
    jar: SimpleCookie = SimpleCookie()
    jar["session"] = value
    return jar.output(header="", attrs=[]).strip()


def run_seed_session(server: EsauthServer, store: str) -> None:
    client = server.client()

    health = client.get("/health")
    assert health.status == 200, health
    assert health.json == {"status": "ok", "store": store}

    # Sign-up
    created = sign_up(client)
    assert created.status == 200, created
    body = created.json
    assert body["message"] == f"'{EMAIL}' added successfully!", body
    assert body["success"] is True, body
    assert set(body["data"]) == PUBLIC_USER_FIELDS, body
    assert body["data"]["email_address"] == EMAIL
    assert body["data"]["is_active"] is True
    assert body["data"]["created_at"].endswith(("Z", "+00:00")), body
    assert b"argon2" not in created.body and b"password" not in created.body, created

    # Duplicate, also under another spelling of the same address
    assert_error(sign_up(client), 409, f"'{EMAIL}' already exists.")
    assert_error(sign_up(client, email=" Test@ABC.com "), 409, f"'{EMAIL}' already exists.")

    # Login required
    assert_error(client.get("/v1/test"), 401)

    # Wrong password, unknown user: same answer
    wrong = client.post("/v1/auth/login", {"email_address": EMAIL, "password": "not the password"})
    assert_error(wrong, 400, "Unknown email_address or bad password")
    assert not wrong.set_cookies()
    unknown = client.post("/v1/auth/login", {"email_address": "nobody@abc.com", "password": PASSWORD})
    assert_error(unknown, 400, "Unknown email_address or bad password")

    # Login, then the protected resource with the cookie (sent by the jar, as curl -b)
    _, cookie = log_in(client)
    test = client.get("/v1/test")
    assert test.status == 200, test
    body = test.json
    assert body["message"] == "Test" and body["success"] is True, body
    assert body["data"]["user"]["email_address"] == EMAIL, body
    assert set(body["data"]["user"]) == PUBLIC_USER_FIELDS, body
    assert cookie.encode() not in test.body, "the body echoes the HttpOnly cookie"

    # The same cookie sent by hand works too (it is what we replay below)
    assert client.get("/v1/test", cookie=cookie_header(cookie)).status == 200

    # Logout clears the cookie in the client and revokes the session on the server
    out = client.post("/v1/auth/logout")
    assert out.status == 200, out
    assert out.json["success"] is True, out
    cleared, attributes = session_cookie(out)
    assert cleared in ("", '""'), out.set_cookies()
    assert attributes.get("max-age") == "0" or "1970" in attributes.get("expires", ""), out.set_cookies()
    assert client.cookie_values("session") == [], "the client still holds the session cookie after logout"
    assert_error(client.get("/v1/test"), 401)

    # Replaying the pre-logout cookie: revoked
    replay = client.get("/v1/test", cookie=cookie_header(cookie))
    assert_error(replay, 401)
    assert_error(client.post("/v1/auth/logout", cookie=cookie_header(cookie)), 401)

    # Logging in again gives a new session, different from the revoked one
    _, again = log_in(client)
    assert again != cookie
    assert client.get("/v1/test").status == 200
