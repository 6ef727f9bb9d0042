"""POST /v1/auth/login: the right password of registered users, and never-registered addresses.

Both cost one argon2 verify, two store reads and one write (README, "Login throttling"); the
unknown email's p50 is compared with the right password's, so the two are measured in turns at
each connection count.
"""

from __future__ import annotations

from ..common import PASSWORD
from ..runner import Spec
from ..seeding import emails_file
from .target import Target, growth_label, growth_prefix


def logins(t: Target, right: bool, unknown: bool, login_users: list[int], grown: int = 0) -> None:
    prefix, growth = growth_prefix(grown), growth_label(grown)
    bench = t.bench
    emails = emails_file(bench.workdir, login_users) if right else None
    rights = [Spec(f"{prefix}login-{t.store}-t{t.threads}-c{conns}", f"login, right password{growth}", t.store,
                   t.threads, t.server, "/v1/auth/login", "login.lua", conns,
                   lambda: ["mode=ok", f"emails={emails}", f"password={PASSWORD}"], 200)
              for conns in t.conns_list] if right else []
    unknowns = [Spec(f"unknown-{t.store}-t{t.threads}-c{conns}", "login, unknown email", t.store, t.threads,
                     t.server, "/v1/auth/login", "login.lua", conns,
                     lambda: ["mode=unknown", f"password={PASSWORD}", f"nonce={bench.new_nonce()}"], 400)
                for conns in t.conns_list] if unknown else []
    if rights and unknowns:  # the pair the unknown-email target compares: measured in turns
        for pair in zip(rights, unknowns):
            bench.interleaved(list(pair))
    else:
        for spec in rights + unknowns:
            bench.scenario(**vars(spec))
