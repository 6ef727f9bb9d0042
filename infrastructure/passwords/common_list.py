"""PasswordScreen over the shipped list of the 100,000 most common passwords (README.md beside it).

Held as a frozenset of the entries the length rule lets through: about 4.4 MiB per process
and a 0.1 us lookup. bench/password_screen.py measured a sorted blob searched with bisect at
3.1 MiB but 13-26 us a lookup and more code; 4.4 MiB fits the per-worker budget (a built app
went from 52 to 57 MiB), so the simple structure wins. Read once per process, at start-up by
the composition root (0.1-0.3 s on the shared 2-core machine) rather than lazily: no sign-up
waits for it, and a missing or broken file stops start-up instead of failing a request.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

LIST_FILE = Path(__file__).with_name("common-passwords.txt.gz")


class CommonPasswordList:
    """Entries are stored in the domain's matching form (tools/build_common_passwords.py)."""

    def __init__(self, entries: frozenset[str]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, min_length: int = 1, path: Path = LIST_FILE) -> "CommonPasswordList":
        """The list's entries of at least `min_length` characters: shorter ones can never be
        asked about when the length rule runs first, and leaving them out halves the memory."""
        # Line by line, not read whole: the 96,518 strings never live at once, which keeps the
        # process 4 MiB smaller after loading for a few tens of ms more.
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as lines:
            entries = (line.rstrip("\n") for line in lines)
            return cls(frozenset(entry for entry in entries if len(entry) >= max(min_length, 1)))

    def __len__(self) -> int:
        return len(self._entries)

    def is_listed(self, password: str) -> bool:
        return password in self._entries


@functools.cache
def shipped_list(min_length: int) -> CommonPasswordList:
    """The shipped list, read once per process however many apps the process builds (tests,
    commands): it is immutable, so sharing it is safe."""
    return CommonPasswordList.load(min_length)
