"""GET /v1/users/me/sessions and DELETE /v1/users/me/sessions/{id}, and the account page's list."""

from __future__ import annotations

import pytest

from domain.auth import MAX_LIVE_SESSIONS
from tests.fakes import FakeClock
from tests.http.helpers import EMAIL, PASSWORD, Api, assert_error
from tests.http.ui_browser import PageClient, page_text

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def sessions(api: Api, cookie: str) -> list[dict]:
    result = api.client.simulate_get("/v1/users/me/sessions", cookies=api.with_cookie(cookie))
    assert result.status_code == 200, result.text
    return result.json["data"]["sessions"]


def login(api: Api, user_agent: str = "curl/8.5.0") -> str:
    result = api.login(EMAIL, PASSWORD, **{"User-Agent": user_agent})
    assert result.status_code == 200, result.text
    return result.cookies[api.cookie_name].value


def test_the_list_shows_each_live_session_and_which_is_the_callers(api: Api, clock: FakeClock) -> None:
    api.signup()
    first = login(api, FIREFOX)
    clock.advance(minutes=2, seconds=30)
    second = login(api)
    listed = sessions(api, second)
    assert [entry["device"] for entry in listed] == ["curl/8.5.0", "Firefox on Linux"]
    assert [entry["current"] for entry in listed] == [True, False]
    assert listed[0]["created_at"] == "2026-01-01T12:02:30.000Z"
    assert listed[0]["last_seen_at"] == "2026-01-01T12:02:00.000Z"  # to the minute
    assert {entry["client"] for entry in listed} == {"127.0.0.1"}
    assert set(listed[0]) == {"id", "created_at", "last_seen_at", "device", "client", "current"}
    assert [entry["current"] for entry in sessions(api, first)] == [False, True]


def test_last_seen_moves_when_the_session_is_re_issued(api: Api, clock: FakeClock) -> None:
    api.signup()
    cookie = login(api)
    clock.advance(minutes=10)
    renewed = api.get_test(cookie)
    assert api.cookie_name in renewed.cookies  # re-issued, so noted as seen
    [entry] = sessions(api, renewed.cookies[api.cookie_name].value)
    assert (entry["created_at"], entry["last_seen_at"]) == ("2026-01-01T12:00:00.000Z", "2026-01-01T12:10:00.000Z")


def test_deleting_another_session_ends_it_and_keeps_yours(api: Api) -> None:
    api.signup()
    other = login(api)
    mine = login(api)
    [_, target] = sessions(api, mine)
    result = api.client.simulate_delete(f"/v1/users/me/sessions/{target['id']}", cookies=api.with_cookie(mine))
    assert result.status_code == 200 and result.json == {"message": "Session ended.", "success": True}
    assert api.get_test(other).status_code == 401
    assert api.get_test(mine).status_code == 200


def test_deleting_your_own_session_signs_you_out(api: Api) -> None:
    api.signup()
    mine = login(api)
    [entry] = sessions(api, mine)
    result = api.client.simulate_delete(f"/v1/users/me/sessions/{entry['id']}", cookies=api.with_cookie(mine))
    assert result.status_code == 200
    assert result.cookies[api.cookie_name].value == ""
    assert result.headers["clear-site-data"] == '"cache"'
    assert api.get_test(mine).status_code == 401


def test_an_unknown_or_someone_elses_session_is_not_found(api: Api) -> None:
    api.signup()
    api.signup("eve@abc.com")
    eve = api.login_cookie("eve@abc.com")
    [eves] = sessions(api, eve)
    mine = login(api)
    for session_id in (eves["id"], "no-such-session"):
        result = api.client.simulate_delete(f"/v1/users/me/sessions/{session_id}", cookies=api.with_cookie(mine))
        assert_error(result, 404, "No such session.")
    assert api.get_test(eve).status_code == 200


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_login_is_required(api: Api, method: str) -> None:
    path = "/v1/users/me/sessions" if method == "GET" else "/v1/users/me/sessions/x"
    assert_error(api.client.simulate_request(method, path), 401)


def test_a_password_change_keeps_the_callers_record_and_ends_the_rest(api: Api) -> None:
    api.signup()
    login(api)
    mine = login(api, FIREFOX)
    changed = api.change_password(mine, PASSWORD, "a-brand-new-passphrase")
    assert changed.status_code == 200
    [entry] = sessions(api, changed.cookies[api.cookie_name].value)
    assert (entry["device"], entry["current"]) == ("Firefox on Linux", True)


def test_the_account_page_lists_sessions_with_a_button_each(api: Api) -> None:
    api.signup()
    other = login(api, FIREFOX)
    pages = PageClient(api.app)
    pages.get("/ui/login")
    pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD})
    page = pages.get("/ui/account")
    text = page_text(page)
    assert "Firefox on Linux" in text and "(this browser)" in text
    assert "signed in 1 Jan 2026, 12:00 UTC, last seen 1 Jan 2026, 12:00 UTC" in text
    [mine, theirs] = sessions(api, pages.jar[api.cookie_name])
    assert f'action="/ui/account/sessions/{theirs["id"]}"' in page.text
    assert f'action="/ui/account/sessions/{mine["id"]}"' in page.text
    ended = pages.post(f"/ui/account/sessions/{theirs['id']}", {})
    assert ended.status_code == 303 and ended.headers["location"] == "/ui/account?done=session-ended"
    assert api.get_test(other).status_code == 401
    assert "Session ended." in page_text(pages.get("/ui/account?done=session-ended"))
    own = pages.post(f"/ui/account/sessions/{mine['id']}", {})
    assert own.headers["location"] == "/ui/login?done=signed-out"
    assert api.cookie_name not in pages.jar


def test_the_cap_on_sessions_is_said_when_it_ends_the_oldest(api: Api) -> None:
    api.signup()
    oldest = login(api)
    for _ in range(MAX_LIVE_SESSIONS - 1):
        login(api)
    pages = PageClient(api.app)
    pages.get("/ui/login")
    result = pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD})
    assert result.headers["location"] == "/ui/account?done=evicted"
    assert "your oldest one was signed out" in page_text(pages.get(result.headers["location"]))
    assert api.get_test(oldest).status_code == 401


def test_the_cap_notice_comes_before_the_page_the_sign_in_was_going_to(api: Api) -> None:
    api.signup()
    for _ in range(MAX_LIVE_SESSIONS):
        login(api)
    pages = PageClient(api.app)
    pages.get("/ui/login?next=/app/reports%3Fq%3D1")
    result = pages.post("/ui/login", {"email_address": EMAIL, "password": PASSWORD, "next": "/app/reports?q=1"})
    assert result.headers["location"] == "/ui/account?done=evicted&next=%2Fapp%2Freports%3Fq%3D1"
    page = pages.get(result.headers["location"])
    assert "your oldest one was signed out" in page_text(page)
    assert '<a id="onward" href="/app/reports?q=1">' in page.text
    hostile = pages.get("/ui/account?done=evicted&next=//evil.example/")
    assert hostile.status_code == 200 and 'id="onward"' not in hostile.text  # next is checked here too
