"""Does login time tell whether an account exists? Prints median times and their ratio.

Unknown email vs wrong password, through the whole app (composition root, SQLite, argon2 with the
configured defaults), requests interleaved so machine noise hits both alike. Each attempt uses its
own account, so per-account throttling never kicks in. Both are measured without a device cookie
and with one (a valid cookie of another account, as an attacker holds for their own account: it
makes the attempt untrusted, and its count is read either way).

    .venv/bin/python bench/login_timing.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from falcon.testing import TestClient

from entrypoints.bootstrap import build_app
from entrypoints.config import Settings

PASSWORD = "correct horse battery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    rounds = parser.parse_args().rounds

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir), secret_keys=("k" * 48,), client_requests_per_minute=1_000_000
        )
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


if __name__ == "__main__":
    main()
