"""Users and sessions for the scenarios: signed up over HTTP, or written straight into the store.

Over HTTP (the 100 seed users, their cookies) goes through every rule a client meets. Straight
into the store (the 100,000-user growth) writes pre-hashed users through the repository esauth's
own composition root builds, with one shared argon2 hash, because hashing 100,000 passwords would
take an hour of this machine.
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from .common import EMAIL, PASSWORD, BenchError
from .loopback import http_call
from .servers import Server


def seed_over_http(server: Server, first: int, count: int) -> None:
    def sign_up(i: int) -> None:
        status, _, body = http_call(server.port, "POST", "/v1/users",
                                    {"email_address": EMAIL.format(i), "password": PASSWORD})
        if status not in (201, 409):
            raise BenchError(f"seeding {EMAIL.format(i)}: HTTP {status} {body[:200]!r}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(sign_up, range(first, first + count)))


def cookies_for(server: Server, workdir: Path, user_numbers: list[int]) -> Path:
    """A file of `session=...` lines, one fresh login of each user, each checked on GET /v1/test."""
    lines = []
    for i in user_numbers:
        status, headers, body = http_call(server.port, "POST", "/v1/auth/login",
                                          {"email_address": EMAIL.format(i), "password": PASSWORD})
        if status != 200:
            raise BenchError(f"logging in {EMAIL.format(i)}: HTTP {status} {body[:200]!r}")
        cookie = next((h.split(";", 1)[0] for h in headers.get_all("Set-Cookie") or [] if h.startswith("session=")),
                      None)
        if not cookie:
            raise BenchError(f"logging in {EMAIL.format(i)}: no session cookie in the answer")
        status, _, _ = http_call(server.port, "GET", "/v1/test", cookie=cookie)
        if status != 200:
            raise BenchError(f"GET /v1/test with a fresh cookie answered {status}")
        lines.append(cookie)
    path = workdir / f"cookies-{secrets.token_hex(4)}.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def emails_file(workdir: Path, user_numbers: list[int]) -> Path:
    path = workdir / f"emails-{secrets.token_hex(4)}.txt"
    path.write_text("".join(EMAIL.format(i) + "\n" for i in user_numbers))
    return path


def seed_directly(env: dict[str, str], first: int, count: int) -> float:
    """Write pre-hashed users (one argon2 hash, made with esauth's parameters, shared by all)
    through the store esauth's own composition root builds for these settings."""
    from domain.user import User
    from entrypoints.bootstrap import build_hasher, build_stores
    from entrypoints.config import Settings

    started = time.monotonic()
    settings = Settings.from_env(env)
    password_hash = build_hasher(settings).hash(PASSWORD)
    now = datetime.now(timezone.utc)

    def user(i: int) -> User:
        return User(email_address=EMAIL.format(i), password_hash=password_hash, created_at=now,
                    first_name="Bench", last_name="User")

    repository = build_stores(settings, report=lambda message: None).users
    repository.add(user(first))
    if settings.elasticsearch_url:
        # The repository's add is one HTTP request per user, ~450/s on osmem (4 minutes for
        # 100,000). So the first user goes through the repository, and the rest are bulk
        # copies of the very document it stored, with only the address changed.
        from elasticsearch import helpers

        from infrastructure.elasticsearch_client import connect

        client = connect(settings.elasticsearch_url, request_timeout_s=120)
        stored = client.get(index=settings.es_index, id=EMAIL.format(first))["_source"]
        if stored.get("email_address") != EMAIL.format(first):
            raise BenchError("the stored user document has no email_address field to vary")
        actions = ({"_op_type": "create", "_index": settings.es_index, "_id": EMAIL.format(i),
                    "_source": {**stored, "email_address": EMAIL.format(i)}}
                   for i in range(first + 1, first + count))
        written, failed = helpers.bulk(client, actions, chunk_size=5000, raise_on_error=False)
        if failed:
            raise BenchError(f"bulk seeding wrote {written} users, {len(failed)} failed: {failed[:2]}")
        client.indices.refresh(index=settings.es_index)
        client.close()
    else:
        for i in range(first + 1, first + count):
            repository.add(user(i))
    for i in (first, first + count // 2, first + count - 1):
        found = repository.get(EMAIL.format(i))
        if found is None or found.password_hash != password_hash or found.email_address != EMAIL.format(i):
            raise BenchError(f"seeded user {EMAIL.format(i)} does not read back through the repository")
    return time.monotonic() - started
