"""Do the second factor's paths tell anything by their timing? Prints median times and ratios.

As bench/login_timing.py does (the whole app from the composition root, SQLite, argon2 with the
configured defaults, requests interleaved so machine noise hits each kind alike, one account
per attempt so no throttle kicks in), for the paths the second factor adds:
- the password step: an unknown email vs a wrong password for an account with TOTP (both 400);
- the code step (POST /v1/auth/login/mfa, after a right password): a wrong TOTP code vs a wrong
  recovery code vs a right code (a right one also opens a session);
- re-authentication: a wrong password vs the right one.

    .venv/bin/python bench/second_factor_timing.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import pyotp
from falcon.testing import Result, TestClient

from entrypoints.bootstrap import build_app
from entrypoints.config import Settings

PASSWORD = "correct horse battery"
PENDING = "__Host-esauth-pending"
SESSION = "__Host-session"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    rounds = parser.parse_args().rounds

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), secret_keys=("k" * 48,), client_requests_per_minute=1_000_000)
        client = TestClient(build_app(settings))

        def enrolled(email: str) -> tuple[pyotp.TOTP, str]:
            """A new account with TOTP on; its authenticator and a session cookie."""
            assert client.simulate_post("/v1/users", json={"email_address": email, "password": PASSWORD}).status_code == 201
            cookie = {SESSION: client.simulate_post("/v1/auth/login", json={"email_address": email, "password": PASSWORD}).cookies[SESSION].value}
            authenticator = pyotp.parse_uri(client.simulate_post("/v1/users/me/totp", cookies=cookie).json["data"]["otpauth_uri"])
            done = client.simulate_post("/v1/users/me/totp/confirm", json={"code": authenticator.now()}, cookies=cookie)
            assert done.status_code == 200, done.text
            return authenticator, cookie[SESSION]

        def pending(email: str) -> str:
            result = client.simulate_post("/v1/auth/login", json={"email_address": email, "password": PASSWORD})
            assert result.status_code == 202, result.text
            return result.cookies[PENDING].value

        def timed(call: Callable[[], Result], status: int) -> float:
            start = time.perf_counter()
            result = call()
            elapsed = time.perf_counter() - start
            assert result.status_code == status, result.text
            return elapsed

        accounts = [(f"user{n}@example.com", *enrolled(f"user{n}@example.com")) for n in range(rounds)]
        times: dict[str, list[float]] = {name: [] for name in (
            "unknown email", "wrong password (TOTP on)", "wrong TOTP code", "wrong recovery code", "right TOTP code",
            "reauth wrong password", "reauth right password",
        )}
        for n, (email, authenticator, session) in enumerate(accounts):
            login = lambda address, password: lambda: client.simulate_post(  # noqa: E731
                "/v1/auth/login", json={"email_address": address, "password": password})
            times["unknown email"].append(timed(login(f"nobody{n}@example.com", PASSWORD), 400))
            times["wrong password (TOTP on)"].append(timed(login(email, PASSWORD + "!"), 400))
            for name, code, status in (
                ("wrong TOTP code", "000000" if authenticator.now() != "000000" else "111111", 400),
                ("wrong recovery code", "abcde-fghij", 400),
                ("right TOTP code", authenticator.at(time.time() + 30), 200),  # the confirming step is spent
            ):
                cookie = {PENDING: pending(email)}
                times[name].append(timed(lambda: client.simulate_post("/v1/auth/login/mfa", json={"code": code}, cookies=cookie), status))
            for name, password, status in (("reauth wrong password", PASSWORD + "!", 400), ("reauth right password", PASSWORD, 200)):
                times[name].append(timed(lambda: client.simulate_post(
                    "/v1/auth/reauthenticate", json={"password": password}, cookies={SESSION: session}), status))

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"argon2 t={settings.argon2_time_cost} m={settings.argon2_memory_kib} KiB p={settings.argon2_parallelism}, {rounds} rounds each")
    for name, median in medians.items():
        print(f"median {name + ':':28} {median * 1000:8.2f} ms")
    for a, b in (("unknown email", "wrong password (TOTP on)"), ("wrong TOTP code", "right TOTP code"),
                 ("wrong recovery code", "wrong TOTP code"), ("reauth wrong password", "reauth right password")):
        print(f"ratio {a} / {b}: {medians[a] / medians[b]:.3f}  (target: within 0.80-1.20)")


if __name__ == "__main__":
    main()
