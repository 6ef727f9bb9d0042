"""Does login time tell whether an account exists? Does a refused bearer token's time tell whether
its ids are known? Prints median times and their ratios.

Logins: unknown email vs wrong password, through the whole app (composition root, SQLite, argon2 with the
configured defaults), requests interleaved so machine noise hits both alike. Each attempt uses its
own account, so per-account throttling never kicks in. Both are measured without a device cookie
and with one (a valid cookie of another account, as an attacker holds for their own account: it
makes the attempt untrusted, and its count is read either way).

Tokens: `GET /v1/auth/verify` with a bearer token whose user id is unknown, vs one with a real
user's id and a token id that user has (or has not) but a wrong secret; every attempt a new token,
interleaved. Measured with the session check's view of the user in use (the default 1 s) and with
it off (ESAUTH_SESSION_CHECK_CACHE_MS=0, a store read whenever the user is wanted).

    .venv/bin/python bench/login_timing.py [--rounds N] [--token-rounds N]
"""

from __future__ import annotations

import argparse
import base64
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

from falcon.testing import TestClient

from entrypoints.bootstrap import build_app
from entrypoints.config import Settings

PASSWORD = "correct horse battery"
BENCH_KEY = "k" * 48


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--token-rounds", type=int, default=2000)
    args = parser.parse_args()
    login_timing(args.rounds)
    for cache_ms in (1000, 0):
        token_timing(args.token_rounds, cache_ms)


def login_timing(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), secret_keys=(BENCH_KEY,), client_requests_per_minute=1_000_000)
        client = TestClient(build_app(settings))
        for n in range(rounds):
            assert client.simulate_post(
                "/v1/users", json={"email_address": f"user{n}@example.com", "password": PASSWORD}
            ).status_code == 201

        assert client.simulate_post("/v1/users", json={"email_address": "mallory@example.com", "password": PASSWORD}).status_code == 201
        own = client.simulate_post("/v1/auth/login", json={"email_address": "mallory@example.com", "password": PASSWORD})
        device = {"__Host-device": own.cookies["__Host-device"].value}

        def timed(email: str, password: str, cookies: dict[str, str] | None) -> float:
            start = time.perf_counter()
            result = client.simulate_post("/v1/auth/login", json={"email_address": email, "password": password}, cookies=cookies)
            elapsed = time.perf_counter() - start
            assert result.status_code == 400, result.text
            return elapsed

        cases = {"no device cookie": None, "another account's device cookie": device}
        times: dict[str, tuple[list[float], list[float]]] = {case: ([], []) for case in cases}
        for n in range(rounds):
            for case, cookies in cases.items():
                unknown, wrong = times[case]
                unknown.append(timed(f"nobody{n}@example.com", PASSWORD, cookies))
                wrong.append(timed(f"user{n}@example.com", PASSWORD + "!", cookies))

    print(f"argon2 t={settings.argon2_time_cost} m={settings.argon2_memory_kib} KiB p={settings.argon2_parallelism}, {rounds} rounds each")
    for case, (unknown, wrong) in times.items():
        u, w = statistics.median(unknown), statistics.median(wrong)
        print(f"{case}:")
        print(f"  median unknown email:  {u * 1000:7.2f} ms")
        print(f"  median wrong password: {w * 1000:7.2f} ms")
        print(f"  ratio unknown/wrong:   {u / w:7.3f}  (target: within 0.80-1.20)")


def _base32(n: int) -> str:
    return base64.b32encode(secrets.token_bytes(n)).decode().rstrip("=").lower()


def token_timing(rounds: int, cache_ms: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir), secret_keys=(BENCH_KEY,), client_requests_per_minute=1_000_000,
            cookie_secure=False, session_check_cache_ms=cache_ms,
        )
        client = TestClient(build_app(settings))
        login = {"email_address": "owner@example.com", "password": PASSWORD}
        assert client.simulate_post("/v1/users", json=login).status_code == 201
        cookie = client.simulate_post("/v1/auth/login", json=login).cookies["session"].value
        made = client.simulate_post(
            "/v1/users/me/tokens", cookies={"session": cookie}, json={"name": "bench", "current_password": PASSWORD}
        )
        assert made.status_code == 201, made.text
        _, user_id, token_id, _ = made.json["data"]["token"].rsplit("_", 3)

        def timed(make: Callable[[], str]) -> float:
            token = make()
            start = time.perf_counter()
            result = client.simulate_get("/v1/auth/verify", headers={"Authorization": f"Bearer {token}"})
            elapsed = time.perf_counter() - start
            assert result.status_code == 401, result.text
            return elapsed

        kinds: dict[str, Callable[[], str]] = {
            "unknown user id": lambda: f"esauth_pat_{_base32(16)}_{_base32(8)}_{_base32(32)}",
            "known user, unknown token id": lambda: f"esauth_pat_{user_id}_{_base32(8)}_{_base32(32)}",
            "known token id, wrong secret": lambda: f"esauth_pat_{user_id}_{token_id}_{_base32(32)}",
        }
        times: dict[str, list[float]] = {name: [] for name in kinds}
        for name, make in kinds.items():  # warm-up: each kind once, outside the figures
            timed(make)
        for _ in range(rounds):
            for name, make in kinds.items():
                times[name].append(timed(make))

    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["unknown user id"]
    view = f"the session check's view on ({cache_ms} ms)" if cache_ms else "the view off (ESAUTH_SESSION_CHECK_CACHE_MS=0)"
    print(f"refused bearer tokens at GET /v1/auth/verify, {view}, {rounds} rounds each")
    for name, value in medians.items():
        print(f"median {name + ':':30} {value * 1e6:7.1f} us  (ratio to unknown user id {value / base:5.3f}; target 0.80-1.20)")


if __name__ == "__main__":
    main()
