"""What the session check keeps per distinct user, in-process: the session view's entry (the
user as the store returns it), the verified-cookie entry (the Cookie header and its Session) and
the probe's JSON of the user (what GET /v1/test and /v1/auth/verify answer with).

Issue 14 asks for the view's memory to be bounded and printed. The bound is entries
(ESAUTH_SESSION_VIEW_ENTRIES, VIEW_ENTRIES by default; the cookies and the JSON are kept for as
many users), so this prints bytes per entry for users
shaped as the bench seeds them (one live session, names, one argon2 hash) and what the default
bound would hold at most. tracemalloc counts Python's allocations only, not the allocator's slack,
so the figure is a floor for RSS; the bench's peak-RSS column is the ceiling.

    .venv/bin/python bench/session_memory.py [--users 10000]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.auth import new_session_id  # noqa: E402
from domain.session import Session, SessionPolicy  # noqa: E402
from domain.session_view import VIEW_ENTRIES, SessionView  # noqa: E402
from domain.user import User, new_user_id  # noqa: E402
from entrypoints.http.representations import PublicUserJson  # noqa: E402
from entrypoints.http.session import SessionCookies  # noqa: E402
from infrastructure.user_document import from_document, to_document  # noqa: E402

HASH = "$argon2id$v=19$m=19456,t=2,p=1$" + "A" * 22 + "$" + "B" * 43
"""The length of the argon2 hash every stored user carries."""


class NoChanges:
    """The one store call a SessionView makes on its own: nothing changed."""

    class Answer:
        complete, versions, mark = True, {}, "mark"

    def changes_since(self, mark):
        return self.Answer()


class FakeRequest:
    """What SessionCookies.from_request reads of a Falcon request."""

    def __init__(self, cookie_name: str, value: str) -> None:
        self._header = f"{cookie_name}={value}"
        self._value = value

    def get_header(self, name: str) -> str:
        return self._header

    def get_cookie_values(self, name: str) -> list[str]:
        return [self._value]


def measure(users: int) -> tuple[float, float, float]:
    """Bytes per entry: (session view, verified-cookie cache, the probe's JSON)."""
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)
    # Kept as JSON text and parsed while traced, as a store's answer is: each user's strings are
    # its own, none shared with the others, and counted.
    stored = [json.dumps(to_document(User(email_address=f"bench-{i}@example.com", password_hash=HASH,
                                          created_at=now, first_name="Bench", last_name="User",
                                          session_ids=(new_session_id(),), user_id=new_user_id())), default=str)
              for i in range(users)]
    cookies = SessionCookies(["k" * 32], SessionPolicy(), secure=False, kept=users)
    user_json = PublicUserJson(kept=users)
    values = []
    for text in stored:
        doc = json.loads(text)
        values.append(cookies.encode(Session(doc["email_address"], doc["session_ids"][0], now, now)))
    view = SessionView(NoChanges(), lambda: now, timedelta(seconds=1), entries=users)
    kept: list[User | None] = [None] * users  # the view's users, for the JSON (made before tracing)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i, text in enumerate(stored):
        doc = json.loads(text)
        kept[i] = from_document(doc, f"v{i}")
        view.remember(doc["email_address"], kept[i], i)
    del doc
    gc.collect()
    after_view = tracemalloc.get_traced_memory()[0]
    for value in values:
        cookies.from_request(FakeRequest(cookies.name, value))
    gc.collect()
    after_cookies = tracemalloc.get_traced_memory()[0]
    for user in kept:
        user_json(user)
    gc.collect()
    after_json = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert view.size == users
    return (after_view - before) / users, (after_cookies - after_view) / users, (after_json - after_cookies) / users


def summary(users: int) -> str:
    """One line for BENCHMARKS.md's header (the bench calls it) and for this script's output."""
    view, cookie, text = measure(users)
    each = view + cookie + text
    return (f"per user kept: session view {view:,.0f} B, verified cookie {cookie:,.0f} B, the probe's JSON "
            f"{text:,.0f} B; {each:,.0f} B in all ({each * users / 2**20:.1f} MiB for {users:,}; at the default bound "
            f"of {VIEW_ENTRIES:,} users at most {each * VIEW_ENTRIES / 2**20:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    print(summary(parser.parse_args().users))


if __name__ == "__main__":
    main()
