"""Sessions a person can see and end (issue 11 part 3), with in-memory fakes."""

from __future__ import annotations

import pytest

from domain.auth import MAX_LIVE_SESSIONS
from domain.errors import SessionInvalid, SessionNotFound
from domain.session import SessionRecord
from entrypoints.http.user_agent import summarize
from tests.fakes import FakeHasher, InMemoryUserRepository
from tests.unit.test_auth import PASSWORD, make_auth

EMAIL = "ada@example.com"


@pytest.fixture
def users() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def auth(users, clock):
    return make_auth(users, FakeHasher(), clock)


def test_a_login_records_when_where_and_what_from(auth, clock) -> None:
    auth.register(EMAIL, PASSWORD)
    user, session = auth.login(EMAIL, PASSWORD, "Firefox on Linux", "192.0.2.7")
    assert auth.live_sessions(user) == (SessionRecord(session.session_id, clock.now, clock.now, "Firefox on Linux", "192.0.2.7"),)
    assert session.evicted == ()


def test_the_list_is_newest_first_and_the_cap_says_what_it_ended(auth, users, clock) -> None:
    auth.register(EMAIL, PASSWORD)
    opened = []
    for _ in range(MAX_LIVE_SESSIONS):
        opened.append(auth.login(EMAIL, PASSWORD)[1])
        clock.advance(minutes=1)
    user, newest = auth.login(EMAIL, PASSWORD)
    assert newest.evicted == (opened[0].session_id,)
    listed = [record.session_id for record in auth.live_sessions(user)]
    assert listed == [newest.session_id, *(s.session_id for s in reversed(opened[1:]))]
    assert len(users.get(EMAIL).sessions) == MAX_LIVE_SESSIONS  # no stale records pile up


def test_ending_one_session_ends_that_one_only(auth) -> None:
    auth.register(EMAIL, PASSWORD)
    _, first = auth.login(EMAIL, PASSWORD)
    _, second = auth.login(EMAIL, PASSWORD)
    auth.end_session(second, first.session_id)
    with pytest.raises(SessionInvalid):
        auth.session_user(first, fresh=True)
    user = auth.session_user(second, fresh=True)
    assert [record.session_id for record in auth.live_sessions(user)] == [second.session_id]


def test_an_id_that_is_not_one_of_yours_is_not_found(auth) -> None:
    auth.register(EMAIL, PASSWORD)
    auth.register("eve@example.com", PASSWORD)
    _, ada = auth.login(EMAIL, PASSWORD)
    _, eve = auth.login("eve@example.com", PASSWORD)
    for other in (eve.session_id, "no-such-id"):
        with pytest.raises(SessionNotFound):
            auth.end_session(ada, other)
    auth.session_user(eve, fresh=True)  # still live


def test_seen_moves_last_seen_and_nothing_else(auth, clock) -> None:
    auth.register(EMAIL, PASSWORD)
    _, session = auth.login(EMAIL, PASSWORD)
    opened_at = clock.now
    clock.advance(minutes=9)
    auth.seen(session, clock.now)
    [record] = auth.live_sessions(auth.session_user(session, fresh=True))
    assert (record.created_at, record.last_seen_at) == (opened_at, clock.now)


def test_a_session_from_an_earlier_release_is_listed_without_a_record(auth, users) -> None:
    from dataclasses import replace

    auth.register(EMAIL, PASSWORD)
    user, session = auth.login(EMAIL, PASSWORD)
    users.update(replace(users.get(EMAIL), sessions=()))
    assert auth.live_sessions(users.get(EMAIL)) == (SessionRecord(session.session_id, None, None),)


@pytest.mark.parametrize(
    "header, summary",
    [
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "Chrome on Linux"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0", "Edge on Windows"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari/604.1", "Safari on iOS"),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox on macOS"),
        ("curl/8.5.0", "curl/8.5.0"),
        ("x" * 200, "x" * 60),
        ("evil\x00<b>", "evil<b>"),
        (None, ""),
    ],
)
def test_user_agents_are_summarized_short(header, summary) -> None:
    assert summarize(header) == summary
