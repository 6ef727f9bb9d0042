"""Idle and absolute session limits, from the timestamps a session carries."""

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import SessionExpired
from domain.session import Session, SessionPolicy

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
POLICY = SessionPolicy(idle_timeout=timedelta(minutes=30), absolute_lifetime=timedelta(hours=12), refresh_after=timedelta(minutes=1))


def session(issued=T0, seen=T0):
    return Session("a@example.com", "sid", issued_at=issued, last_seen=seen)


def test_a_session_within_both_limits_passes():
    POLICY.check(session(), T0 + timedelta(minutes=30))


def test_idle_timeout_expires_an_unused_session():
    with pytest.raises(SessionExpired, match="inactivity"):
        POLICY.check(session(), T0 + timedelta(minutes=30, seconds=1))


def test_absolute_lifetime_expires_even_an_active_session():
    active = session(seen=T0 + timedelta(hours=12))
    POLICY.check(active, T0 + timedelta(hours=12))
    with pytest.raises(SessionExpired, match="maximum lifetime"):
        POLICY.check(active, T0 + timedelta(hours=12, seconds=1))


def test_touch_restarts_the_idle_clock_but_never_the_absolute_one():
    assert POLICY.touch(session(), T0 + timedelta(seconds=59)) is None
    later = T0 + timedelta(minutes=5)
    touched = POLICY.touch(session(), later)
    assert touched is not None
    assert touched.last_seen == later
    assert touched.issued_at == T0


def test_cookie_max_age_is_the_idle_window_capped_by_the_absolute_end():
    assert POLICY.max_age(session(), T0) == 30 * 60
    near_end = T0 + timedelta(hours=11, minutes=50)
    assert POLICY.max_age(session(seen=near_end), near_end) == 10 * 60
    assert POLICY.max_age(session(), T0 + timedelta(hours=13)) == 0


def test_session_cookies_are_plain_itsdangerous_tokens_readable_by_either_side():
    """The fast path must not change the format: a stock itsdangerous serializer with the same
    key and salt reads our cookies, and we read its."""
    from itsdangerous import URLSafeSerializer

    from entrypoints.http.session import SALT, SessionCookies

    cookies = SessionCookies(["k" * 40], POLICY)
    stock = URLSafeSerializer("k" * 40, salt=SALT)
    value = cookies.encode(session())
    assert stock.loads(value)["u"] == "a@example.com"
    decoded, old_key = cookies.decode(stock.dumps({"u": "b@example.com", "s": "sid", "i": 1, "l": 2}))
    assert (decoded.email_address, old_key) == ("b@example.com", False)


def cookie_request(header: str):
    import falcon.testing

    return falcon.testing.create_req(headers={"Cookie": header})


def test_a_verified_cookie_header_is_remembered_and_a_forged_one_never_is():
    from entrypoints.http.session import SessionCookies
    from domain.errors import SessionInvalid

    cookies = SessionCookies(["k" * 40], POLICY)
    header = f"theme=dark; {cookies.name}={cookies.encode(session())}"
    first = cookies.from_request(cookie_request(header))
    assert first is not None and first[0].email_address == "a@example.com"
    assert cookies.from_request(cookie_request(header)) is first  # the second answer is the kept one
    value = cookies.encode(session())
    forged = f"{cookies.name}=" + value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    for _ in range(2):
        with pytest.raises(SessionInvalid):
            cookies.from_request(cookie_request(forged))
    assert forged not in cookies._verified


def test_users_taking_turns_within_the_bound_are_each_verified_once(monkeypatch):
    """Users past the default bound (VERIFIED_COOKIES_KEPT) taking turns, on a bound that holds
    them: only the first round verifies signatures. The kept cookies are emptied when full, so a
    bound one short would verify every cookie of every round."""
    from entrypoints.http.session import VERIFIED_COOKIES_KEPT, SessionCookies

    users = VERIFIED_COOKIES_KEPT + 32
    headers = []
    for kept in (users, users - 1):
        cookies = SessionCookies(["k" * 40], POLICY, kept=kept)
        headers = headers or [f"{cookies.name}={cookies.encode(Session(f'u{n}@example.com', f'sid{n}', T0, T0))}"
                              for n in range(users)]
        verified = []
        decode = cookies.decode
        monkeypatch.setattr(cookies, "decode", lambda value: verified.append(value) or decode(value))
        requests = [cookie_request(header) for header in headers]
        for _ in range(3):
            for request in requests:
                cookies.from_request(request)
        assert len(verified) == (users if kept == users else 3 * users), kept
        assert len(cookies._verified) <= kept


def test_a_padded_cookie_header_is_kept_under_the_session_cookie_alone(monkeypatch):
    """Other cookies beside the session's make the header the key only within HEADER_SLACK: past
    it, one entry per session cookie however the padding varies, none larger than the cookie."""
    from entrypoints.http.session import HEADER_SLACK, SessionCookies

    cookies = SessionCookies(["k" * 40], POLICY)
    value = cookies.encode(session())
    verified = []
    decode = cookies.decode
    monkeypatch.setattr(cookies, "decode", lambda v: verified.append(v) or decode(v))
    for n in range(50):
        found = cookies.from_request(cookie_request(f"pad{n}={'x' * HEADER_SLACK}; {cookies.name}={value}"))
        assert found is not None and found[0].email_address == "a@example.com"
    assert len(verified) == 1
    assert list(cookies._verified) == [f"{cookies.name}={value}"]
    short = f"theme=dark; {cookies.name}={value}"
    for _ in range(2):
        cookies.from_request(cookie_request(short))
    assert short in cookies._verified and len(verified) == 2  # a short header is its own key: verified once


def test_no_cookie_is_kept_on_a_bound_of_zero():
    from entrypoints.http.session import SessionCookies

    cookies = SessionCookies(["k" * 40], POLICY, kept=0)
    found = cookies.from_request(cookie_request(f"{cookies.name}={cookies.encode(session())}"))
    assert found is not None and found[0].email_address == "a@example.com"
    assert cookies._verified == {}


def test_a_cookie_header_without_the_session_cookie_yields_no_session():
    from entrypoints.http.session import SessionCookies

    cookies = SessionCookies(["k" * 40], POLICY)
    assert cookies.from_request(cookie_request("theme=dark")) is None
    assert cookies.from_request(falcon_request_without_cookies()) is None
    assert cookies._verified == {}


def falcon_request_without_cookies():
    import falcon.testing

    return falcon.testing.create_req()


@pytest.mark.parametrize("idle_s", [60, 90, 300, 1800])
def test_a_session_used_every_three_quarters_of_the_idle_timeout_never_ends(idle_s):
    """Re-issued every quarter of the idle timeout (at most once a minute): with a fixed minute,
    a 60 s timeout ended sessions whose user was active every 59 s."""
    policy = SessionPolicy(idle_timeout=timedelta(seconds=idle_s), absolute_lifetime=timedelta(days=30))
    current, now = session(), T0
    for _ in range(40):
        now += timedelta(seconds=idle_s * 3 // 4)
        policy.check(current, now)
        current = policy.touch(current, now) or current
    with pytest.raises(SessionExpired, match="inactivity"):
        policy.check(current, now + timedelta(seconds=idle_s + 1))


def test_a_long_idle_timeout_still_re_issues_at_most_once_a_minute():
    assert POLICY.touch(session(), T0 + timedelta(seconds=59)) is None
    assert POLICY.touch(session(), T0 + timedelta(seconds=60)) is not None
