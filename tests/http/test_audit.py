"""One structured line per security event, and nothing in it that must stay secret."""

from __future__ import annotations

import pytest

from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, PASSWORD, MakeApi


def test_each_security_event_is_one_line_with_who_when_where(make_api: MakeApi, clock: FakeClock, audit_lines, caplog) -> None:
    api = make_api(per_minute=12)
    api.signup(EMAIL, PASSWORD)
    for _ in range(5):
        api.login(EMAIL, "wrong password!")
    api.login(EMAIL, PASSWORD)  # throttled
    clock.advance(seconds=1)
    cookie = api.login_cookie()
    second = api.login_cookie()
    api.client.simulate_post("/v1/auth/logout", cookies=api.with_cookie(cookie), headers={"X-Request-ID": "req-1"})
    api.get_test(cookie)  # revoked
    clock.advance(minutes=31)
    api.get_test(second)  # expired
    third = api.login_cookie()
    api.client.simulate_post("/v1/auth/logout-all", cookies=api.with_cookie(third))
    for n in range(13):  # the bucket refilled while the clock moved: spend it all
        if api.signup(f"x{n}@abc.com", PASSWORD).status_code == 429:
            break

    lines = audit_lines()
    events = [line["event"] for line in lines]
    assert events[-1] == "rate_limited"
    assert set(events[14:-1]) == {"signup"}
    assert events[:14] == [
        "signup",
        *["login_failed"] * 5,
        "login_throttled",
        "login_ok",
        "login_ok",
        "logout",
        "session_revoked",
        "session_expired",
        "login_ok",
        "logout_all",
    ]
    assert len({line["user"] for line in lines[:14]}) == 1  # one stable pseudonym for test@abc.com
    assert lines[-1]["user"] is None
    for line in lines:
        assert set(line) >= {"time", "event", "user", "client", "request_id"}
        assert line["client"] == "127.0.0.1"
        assert line["time"].endswith("Z")
    assert next(line for line in lines if line["event"] == "logout")["request_id"] == "req-1"
    assert next(line for line in lines if line["event"] == "login_throttled")["retry_after_s"] == 1

    text = caplog.text
    for secret in (EMAIL, "x0@abc.com", PASSWORD, "wrong password!", cookie, second, third, "$argon2"):
        assert secret not in text
