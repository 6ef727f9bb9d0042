"""BreachedPasswords over a Have-I-Been-Pwned-style range API, with k-anonymity.

Only the first 5 hex characters of the password's SHA-1 leave the server (`GET <url>/<prefix>`);
the service answers every suffix it knows under that prefix (`SUFFIX:COUNT` lines) and the match
is made here. `Add-Padding: true` asks it to pad the answer with fake suffixes of count 0, so its
size does not tell the prefix either; those are ignored. A failure or a time-out (bounded by
`timeout_s`) answers "not breached", and is logged once until the service answers again, not
once per sign-up.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import urllib.error
import urllib.request

log = logging.getLogger("esauth")

MAX_ANSWER_BYTES = 4 * 1024 * 1024
"""A real range answer is about 30 KiB (padded, up to ~1,000 lines); anything far larger is refused."""


class PwnedPasswordsRange:
    def __init__(self, url: str, timeout_s: float = 1.5) -> None:
        self._url = url.rstrip("/")
        self._timeout_s = timeout_s
        self._failing = False
        self._lock = threading.Lock()

    def is_breached(self, password: str) -> bool:
        digest = hashlib.sha1(password.encode("utf-8")).hexdigest().upper()
        prefix, suffix = digest[:5], digest[5:]
        request = urllib.request.Request(f"{self._url}/{prefix}", headers={"Add-Padding": "true", "User-Agent": "esauth"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as answer:
                body = answer.read(MAX_ANSWER_BYTES + 1)
            if len(body) > MAX_ANSWER_BYTES:
                raise ValueError("the answer is too large")
            lines = body.decode("ascii").splitlines()
        except (OSError, ValueError) as error:  # URLError, HTTPError and time-outs are OSErrors
            if isinstance(error, urllib.error.HTTPError):
                error.close()  # it holds the answer's connection
            self._note(failed=True, error=error)
            return False
        self._note(failed=False)
        for line in lines:
            known, _, count = line.strip().partition(":")
            if known.upper() == suffix:
                return count.strip() not in ("", "0")  # padding lines have count 0
        return False

    def _note(self, failed: bool, error: Exception | None = None) -> None:
        with self._lock:
            changed, self._failing = self._failing != failed, failed
        if changed and failed:
            log.warning("the breached-passwords service does not answer (%s); passwords are checked against the shipped list only until it does",
                        type(error).__name__)
        elif changed:
            log.info("the breached-passwords service answers again")
