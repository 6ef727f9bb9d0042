"""argon2id password hashing with argon2-cffi."""

from __future__ import annotations

from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class Argon2Parameters:
    """Cost parameters; memory in KiB as argon2 counts it."""

    time_cost: int
    memory_cost_kib: int
    parallelism: int


OWASP_FLOOR = Argon2Parameters(time_cost=2, memory_cost_kib=19 * 1024, parallelism=1)
"""The weakest setting OWASP's Password Storage Cheat Sheet accepts for argon2id."""

DEFAULT_PARAMETERS = OWASP_FLOOR
"""Measured on the 2-core reference machine, see README: ~20 ms and 19 MiB per hash, and it
scales across threads, where argon2-cffi's own default (64 MiB, p=4) costs ~110 ms and
~1.65 cores per verify, so a handful of concurrent logins would saturate the machine."""


def weaker_than_floor(params: Argon2Parameters) -> list[str]:
    """Names of the parameters below OWASP's floor; empty when the setting is acceptable."""
    floor = OWASP_FLOOR
    problems = []
    if params.time_cost < floor.time_cost:
        problems.append(f"time_cost {params.time_cost} < {floor.time_cost}")
    if params.memory_cost_kib < floor.memory_cost_kib:
        problems.append(f"memory_cost {params.memory_cost_kib} KiB < {floor.memory_cost_kib} KiB")
    if params.parallelism < floor.parallelism:
        problems.append(f"parallelism {params.parallelism} < {floor.parallelism}")
    return problems


class Argon2Hasher:
    """PasswordHasher over argon2id. Accepts any parameters: the start-up check enforces the floor."""

    def __init__(self, params: Argon2Parameters = DEFAULT_PARAMETERS) -> None:
        self.params = params
        self._hasher = argon2.PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost_kib,
            parallelism=params.parallelism,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
