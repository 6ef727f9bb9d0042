"""Does a passkey sign-in's time tell anything about accounts? Prints median times and ratios.

The sign-in options ask for no address and are the same for everyone, so only the answer's check
can differ: an unknown user handle, a known one with a credential it does not have, and a known
credential with a bad signature, against a right answer. Measured as bench/login_timing.py does:
through the whole app (composition root, SQLite), requests interleaved so machine noise hits every
kind alike, each attempt with its own account and a fresh challenge.

    .venv/bin/python bench/passkey_timing.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from falcon.testing import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the software authenticator of the tests

from entrypoints.bootstrap import build_app  # noqa: E402
from entrypoints.config import Settings  # noqa: E402
from tests.soft_authenticator import SoftAuthenticator  # noqa: E402

PASSWORD = "correct horse battery"
ORIGIN = "http://localhost:8000"
CEREMONY = "__Host-webauthn"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    rounds = parser.parse_args().rounds

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir), secret_keys=("k" * 48,), client_requests_per_minute=1_000_000,
            public_url=ORIGIN, webauthn_rp_id="localhost", webauthn_origins=(ORIGIN,),
        )
        client = TestClient(build_app(settings))
        devices = [register(client, n) for n in range(rounds)]
        stranger = SoftAuthenticator(ORIGIN)  # a credential no account has
        stranger.create({"rp": {"id": "localhost"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})

        def timed(answer: Callable[[dict], dict], status: int) -> float:
            options = client.simulate_post("/v1/auth/passkey/options")
            ceremony = options.cookies[CEREMONY].value
            credential = answer(options.json["data"]["publicKey"])
            start = time.perf_counter()
            result = client.simulate_post("/v1/auth/passkey/login", json={"credential": credential}, cookies={CEREMONY: ceremony})
            elapsed = time.perf_counter() - start
            assert result.status_code == status, result.text
            return elapsed

        kinds: dict[str, list[float]] = {"unknown user handle": [], "unknown credential": [], "bad signature": [], "right answer": []}
        for n, device in enumerate(devices):
            handle = device.credentials[0].user_handle
            kinds["unknown user handle"].append(timed(lambda o: device.get(o, user_handle=b"a" * 26), 400))
            kinds["unknown credential"].append(timed(lambda o: stranger.get(o, user_handle=handle), 400))
            kinds["bad signature"].append(timed(lambda o: forged(device.get(o), stranger.get(o)), 400))
            kinds["right answer"].append(timed(lambda o: device.get(o), 200))

    medians = {kind: statistics.median(times) for kind, times in kinds.items()}
    print(f"{rounds} rounds each, SQLite")
    for kind, median in medians.items():
        print(f"median {kind + ':':22} {median * 1000:7.2f} ms")
    base = medians["bad signature"]
    for kind in ("unknown user handle", "unknown credential"):
        print(f"ratio {kind}/bad signature: {medians[kind] / base:6.3f}  (target: within 0.80-1.20)")


def forged(answer: dict, other: dict) -> dict:
    """`answer` with another key's signature over the same data: only the signature check fails."""
    answer["response"]["signature"] = other["response"]["signature"]
    return answer


def register(client: TestClient, n: int) -> SoftAuthenticator:
    email = f"user{n}@example.com"
    assert client.simulate_post("/v1/users", json={"email_address": email, "password": PASSWORD}).status_code == 201
    login = client.simulate_post("/v1/auth/login", json={"email_address": email, "password": PASSWORD})
    session = {name: cookie.value for name, cookie in login.cookies.items()}
    options = client.simulate_post("/v1/users/me/passkeys/options", cookies=session)
    device = SoftAuthenticator(ORIGIN)
    answer = device.create(options.json["data"]["publicKey"])
    added = client.simulate_post(
        "/v1/users/me/passkeys", json={"name": "bench", "credential": answer},
        cookies={**session, CEREMONY: options.cookies[CEREMONY].value},
    )
    assert added.status_code == 201, added.text
    return device


if __name__ == "__main__":
    main()
