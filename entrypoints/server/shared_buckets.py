"""The per-client token buckets in memory every worker process of one server maps, so N workers
give a client the allowance of one server, not N times it."""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import secrets
import struct
import threading

from entrypoints.http.rate_limit import refilled, spend, waiting
from ports.clock import Clock

SLOT = struct.Struct("<Qdd")
"""One bucket: the client's keyed digest (0: empty), its tokens, and when they were counted."""
WAYS = 8
"""Buckets a client can live in: its group's. A new client takes the fullest one (an empty or
full bucket is a fresh client, so forgetting it changes nothing)."""
GROUPS = 16_384
"""131,072 buckets, 3 MiB shared by the whole server, however many clients come."""


class SharedTokenBuckets:
    """A ClientLimiter over a fixed-size table in a shared memory file (memfd), made once by the
    parent before it forks its workers, which all inherit the mapping.

    Why a table and not a dict: a dict lives in one process. Why fixed size: the memory bound
    (the in-process limiter forgets full buckets past 100,000 clients; here a group of WAYS
    buckets gives up its fullest). A client maps to a group by a digest keyed with a secret
    made at start, so nobody can aim their addresses at another client's group.

    Locking: each group is locked with a POSIX record lock on its bytes of the file, which the
    kernel releases if a worker dies holding it (a worker killed in the middle cannot wedge the
    others), plus a thread lock, since record locks exclude processes but not the threads of one.
    """

    def __init__(self, per_minute: int, clock: Clock, groups: int = GROUPS) -> None:
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / 60.0
        self._clock = clock
        self._groups = groups
        self._group_bytes = WAYS * SLOT.size
        self._fd = os.memfd_create("esauth-rate-limit", os.MFD_CLOEXEC)
        try:
            os.ftruncate(self._fd, groups * self._group_bytes)
            self._table = mmap.mmap(self._fd, groups * self._group_bytes)  # MAP_SHARED: forks share it
        except BaseException:
            os.close(self._fd)
            raise
        self._key = secrets.token_bytes(16)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        return self._in_group(client, spending=True)

    def wait(self, client: str) -> float:
        return self._in_group(client, spending=False)

    def _in_group(self, client: str, spending: bool) -> float:
        digest = int.from_bytes(hashlib.blake2b(client.encode(), key=self._key, digest_size=8).digest(), "little") | 1
        start = (digest % self._groups) * self._group_bytes
        now = self._clock().timestamp()
        with self._lock:
            fcntl.lockf(self._fd, fcntl.LOCK_EX, self._group_bytes, start)
            try:
                offset, tokens, at = self._find(digest, start, now)
                if not spending:
                    return waiting(refilled(tokens, at, now, self.capacity, self.refill_per_s), self.refill_per_s)
                tokens, wait = spend(tokens, at, now, self.capacity, self.refill_per_s)
                SLOT.pack_into(self._table, offset, digest, tokens, now)
                return wait
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, self._group_bytes, start)

    def _find(self, digest: int, start: int, now: float) -> tuple[int, float, float]:
        """The client's bucket in its group, else the fullest one, as a full bucket for it."""
        fullest, fullest_tokens = start, -1.0
        for offset in range(start, start + self._group_bytes, SLOT.size):
            held_by, tokens, at = SLOT.unpack_from(self._table, offset)
            if held_by == digest:
                return offset, tokens, at
            level = self.capacity if held_by == 0 else refilled(tokens, at, now, self.capacity, self.refill_per_s)
            if level > fullest_tokens:
                fullest, fullest_tokens = offset, level
        return fullest, self.capacity, now

    def close(self) -> None:
        self._table.close()
        os.close(self._fd)
