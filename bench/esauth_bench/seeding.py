"""Users and sessions for the scenarios: signed up over HTTP, or written straight into the store.

Over HTTP (the 100 seed users, the 16 logins behind the hot sessions) goes through every rule a
client meets. Straight into the store (the distinct-session users, the 100,000-user growth)
writes pre-hashed users through the stores esauth's own composition root builds, with one shared
argon2 hash, because hashing 100,000 passwords would take an hour of this machine, in bulk (the
search engines' bulk API, one SQLite transaction per chunk) so a million users take minutes. Cookies are
minted with the server's own key by esauth's own SessionCookies, for session ids the store holds
(written on the distinct-session users, or opened by a login): 10,000 logins over HTTP would cost
10,000 argon2 verifies (about 3 minutes a store), and minting lets a cookie file be renewed
before the server would re-issue it (LiveSessions).
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .common import EMAIL, PASSWORD, BenchError
from .loopback import http_call
from .servers import Server

if TYPE_CHECKING:
    from entrypoints.http.session import SessionCookies

class SeedingTooLong(BenchError):
    """Direct seeding ran past its deadline; what was written stays written."""


class SeedBudget:
    """--seed-minutes of one store: spent only while seeding it, however long the scenarios run
    between its seedings (the distinct-session users, then the growth to each of --users)."""

    def __init__(self, minutes: float) -> None:
        self.left_s = minutes * 60

    def deadline(self) -> float:
        return time.monotonic() + self.left_s

    def spend(self, seconds: float) -> None:
        self.left_s -= seconds


BULK_CHUNK = 5000
"""Users per bulk request (search engines) or per transaction (SQLite)."""


def seed_over_http(server: Server, first: int, count: int) -> None:
    def sign_up(i: int) -> None:
        status, _, body = http_call(server.port, "POST", "/v1/users",
                                    {"email_address": EMAIL.format(i), "password": PASSWORD})
        if status not in (201, 409):
            raise BenchError(f"seeding {EMAIL.format(i)}: HTTP {status} {body[:200]!r}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(sign_up, range(first, first + count)))


def log_in(server: Server, workdir: Path, user_numbers: list[int]) -> "LiveSessions":
    """Each user logged in over HTTP once (the cookie checked on GET /v1/test): their sessions,
    whose cookies are then minted afresh as they age (LiveSessions)."""
    codec = session_cookies(server.env)
    sessions = {}
    for i in user_numbers:
        status, headers, body = http_call(server.port, "POST", "/v1/auth/login",
                                          {"email_address": EMAIL.format(i), "password": PASSWORD})
        if status != 200:
            raise BenchError(f"logging in {EMAIL.format(i)}: HTTP {status} {body[:200]!r}")
        prefix = codec.name + "="
        cookie = next((h.split(";", 1)[0] for h in headers.get_all("Set-Cookie") or [] if h.startswith(prefix)),
                      None)
        if not cookie:
            raise BenchError(f"logging in {EMAIL.format(i)}: no session cookie in the answer")
        status, _, _ = http_call(server.port, "GET", "/v1/test", cookie=cookie)
        if status != 200:
            raise BenchError(f"GET /v1/test with a fresh cookie answered {status}")
        sessions[i] = codec.decode(cookie[len(prefix):])[0].session_id
    return LiveSessions(server.env, workdir, sessions)


def emails_file(workdir: Path, user_numbers: list[int]) -> Path:
    path = workdir / f"emails-{secrets.token_hex(4)}.txt"
    path.write_text("".join(EMAIL.format(i) + "\n" for i in user_numbers))
    return path


_hashes: dict[tuple, str] = {}


def shared_hash(settings) -> str:
    """One argon2 hash of PASSWORD with esauth's parameters, made once per run and reused by
    every user seeded directly: hashing a million passwords would take days of this machine."""
    from entrypoints.bootstrap import build_hasher

    key = tuple(sorted((name, value) for name, value in vars(settings).items() if name.startswith("argon2")))
    if key not in _hashes:
        _hashes[key] = build_hasher(settings).hash(PASSWORD)
    return _hashes[key]


def seed_directly(env: dict[str, str], first: int, count: int,
                  session_ids: Callable[[int], tuple[str, ...]] = lambda i: (),
                  deadline: float | None = None) -> float:
    """Write pre-hashed users (shared_hash) through the store esauth's own composition root
    builds for these settings; user i holds the live sessions `session_ids(i)` and an id of its own,
    as every user this release signs up has (one without would be given one by a write at its
    first read, as a store of an earlier release's users is once). Bulk writes: the
    search engines' bulk API, one transaction per chunk on SQLite (the adapter's add_many). Past
    `deadline` (time.monotonic()) the seeding stops the run, saying how far it got."""
    from domain.user import User, new_user_id
    from entrypoints.bootstrap import build_stores
    from entrypoints.config import Settings
    from infrastructure.user_document import to_document

    started = time.monotonic()
    settings = Settings.from_env(env)
    password_hash = shared_hash(settings)
    now = datetime.now(timezone.utc)

    def chunks(numbers: range):
        for start in range(0, len(numbers), BULK_CHUNK):
            if deadline is not None and time.monotonic() > deadline:
                raise SeedingTooLong(f"seeding stopped after {start:,} of {len(numbers):,} users, over the "
                                     f"--seed-minutes a store may take ({time.monotonic() - started:.0f} s so far)")
            yield numbers[start:start + BULK_CHUNK]

    def user(i: int) -> User:
        return User(email_address=EMAIL.format(i), password_hash=password_hash, created_at=now,
                    first_name="Bench", last_name="User", session_ids=session_ids(i), user_id=new_user_id())

    repository = build_stores(settings, report=lambda message: None).users
    repository.add(user(first))
    if settings.elasticsearch_url:
        # The repository's add is one HTTP request per user, ~450/s on osmem (4 minutes for
        # 100,000). So the first user goes through the repository, and the rest are bulk
        # copies of the very document it stored (with whatever fields the repository adds),
        # with the user's own fields laid over it, through esauth's own client for the engine.
        from entrypoints.bootstrap import client_options, cluster_access
        from infrastructure.search_engine.client import connect

        client = connect(settings.elasticsearch_url, engine=settings.es_engine, request_timeout_s=120,
                         options=client_options(cluster_access(settings)))
        try:
            stored = client.get(settings.es_index, EMAIL.format(first))["_source"]
            if stored.get("email_address") != EMAIL.format(first):
                raise BenchError("the stored user document has no email_address field to vary")
            for chunk in chunks(range(first + 1, first + count)):
                answer = client.bulk_create(settings.es_index, {
                    EMAIL.format(i): {**stored, **to_document(user(i))} for i in chunk})
                if answer.get("errors"):
                    failed = [item for item in answer["items"] if item["create"].get("error")]
                    raise BenchError(f"bulk seeding: {len(failed)} users failed: {failed[:2]}")
        finally:
            client.close()
    else:
        for chunk in chunks(range(first + 1, first + count)):
            repository.add_many(user(i) for i in chunk)
    for i in (first, first + count // 2, first + count - 1):
        found = repository.get(EMAIL.format(i))
        if (found is None or found.password_hash != password_hash or found.email_address != EMAIL.format(i)
                or found.session_ids != session_ids(i)):
            raise BenchError(f"seeded user {EMAIL.format(i)} does not read back through the repository")
    return time.monotonic() - started


def session_cookies(env: dict[str, str]) -> "SessionCookies":
    """esauth's own cookie code with the server's keys, as its composition root builds it."""
    from domain.session import SessionPolicy
    from entrypoints.bootstrap import secret_keys
    from entrypoints.config import Settings
    from entrypoints.http.session import SessionCookies

    settings = Settings.from_env(env)
    # The policy only matters for Set-Cookie's max-age, which minting does not write.
    return SessionCookies(secret_keys(settings), SessionPolicy(), secure=settings.cookie_secure)


class LiveSessions:
    """A file of Cookie lines for live sessions (user number -> session id), signed with the
    server's first key by esauth's own SessionCookies and issued at the time of minting.

    The server re-issues a cookie once it is a minute old, and wrk never keeps the new one, so a
    file minted once would turn into issue 14's stale-cookie client after its first minute.
    `file()` mints anew whenever the file is REMINT_AFTER_S old: a run shorter than a minute
    minus that never meets a re-issue (the Set-Cookie/req diagnostic shows it if one does).
    `stale()` is that client on purpose, for its own row.
    """

    REMINT_AFTER_S = 30.0
    STALE_BY = timedelta(minutes=2)
    """How old `stale()`'s cookies look: past the minute after which an answer re-issues one,
    well inside the idle timeout."""

    def __init__(self, env: dict[str, str], workdir: Path, sessions: dict[int, str],
                 age: timedelta = timedelta(0)) -> None:
        self.count = len(sessions)
        self._env = env
        self._codec = session_cookies(env)
        self._sessions = sessions
        self._age = age
        self._path = workdir / f"cookies-{secrets.token_hex(4)}.txt"
        self._minted_at: float | None = None

    def stale(self) -> "LiveSessions":
        """The same sessions as a client replays them that never stores a re-issued cookie:
        each cookie last seen STALE_BY ago, so every answer weighs a re-issue (issue 14)."""
        return LiveSessions(self._env, self._path.parent, self._sessions, self.STALE_BY)

    def file(self) -> Path:
        if self._minted_at is None or time.monotonic() - self._minted_at >= self.REMINT_AFTER_S:
            from domain.session import Session

            now = datetime.now(timezone.utc) - self._age
            name = self._codec.name
            self._path.write_text("".join(
                f"{name}={self._codec.encode(Session(EMAIL.format(i), sid, now, now))}\n"
                for i, sid in self._sessions.items()))
            self._minted_at = time.monotonic()
        return self._path
