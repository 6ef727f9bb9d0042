"""POST /v1/users: a new address on every request, so each costs one argon2 hash and one create."""

from __future__ import annotations

from ..common import PASSWORD
from .target import Target


def signups(t: Target) -> None:
    for conns in t.conns_list:
        t.bench.scenario(f"signup-{t.store}-t{t.threads}-c{conns}", "POST /v1/users (sign-up)", t.store, t.threads,
                         t.server, "/v1/users", "signup.lua", conns,
                         lambda: [f"password={PASSWORD}", f"nonce={t.bench.new_nonce()}"], 201)
