"""Verification of the seed's werkzeug `pbkdf2` password hashes, with the standard library only.

werkzeug's `generate_password_hash` stores `pbkdf2:<hash>:<iterations>$<salt>$<hexdigest>` where
the digest is `hashlib.pbkdf2_hmac(hash, password.encode("utf-8"), salt.encode("utf-8"),
iterations).hex()` at the hash's own digest length. esauth only ever *verifies* these, so that
users imported from the seed can log in once and be upgraded to argon2; it never creates them.

When the iteration count is absent (`pbkdf2:sha1$salt$hex`), werkzeug's check_password_hash used
its own default, which grew between releases (1000 in the 0.9 series, 260000 by 2.0, 600000 and
more since). The seed ran Werkzeug 0.9.6 (its responses say so), whose default was 1000 for
every hash, sha256 included, so that is what we use: it is how the seed itself verified such a
hash (checked against werkzeug 0.9.6). generate_password_hash always wrote the count, so only
hand-made hashes lack it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import NamedTuple

MAX_ITERATIONS = 1_000_000
"""werkzeug's highest default to date (the seed's 0.9.6 wrote 1000); a crafted hash with more is
refused rather than allowed to burn seconds of CPU on every login attempt."""

MAX_HASH_LENGTH = 512
MAX_SALT_LENGTH = 256

SEED_DEFAULT_ITERATIONS = 1000
"""werkzeug 0.9's DEFAULT_PBKDF2_ITERATIONS, used when a hash names no count; see above."""

DIGEST_HEX_LENGTH = {"sha1": 40, "sha256": 64}

_METHOD = re.compile(r"pbkdf2:(sha1|sha256)(?::([0-9]{1,8}))?")
_HEX = re.compile(r"[0-9a-f]+")


class _Pbkdf2(NamedTuple):
    hash_name: str
    iterations: int
    salt: str
    digest_hex: str


def _parse(stored: object) -> _Pbkdf2 | None:
    """The parts of a well-formed, supported hash, or None."""
    if not isinstance(stored, str) or len(stored) > MAX_HASH_LENGTH:
        return None
    parts = stored.split("$")
    if len(parts) != 3:
        return None
    method, salt, digest_hex = parts
    match = _METHOD.fullmatch(method)
    if match is None:
        return None
    hash_name, count = match.group(1), match.group(2)
    iterations = SEED_DEFAULT_ITERATIONS if count is None else int(count)
    if not 1 <= iterations <= MAX_ITERATIONS:
        return None
    if len(salt) > MAX_SALT_LENGTH or any(not ch.isprintable() for ch in salt):
        return None
    if len(digest_hex) != DIGEST_HEX_LENGTH[hash_name] or not _HEX.fullmatch(digest_hex):
        return None
    return _Pbkdf2(hash_name, iterations, salt, digest_hex)


def is_werkzeug_pbkdf2(stored: object) -> bool:
    """True for a well-formed werkzeug pbkdf2 hash this module can verify."""
    return _parse(stored) is not None


def verify_werkzeug_pbkdf2(stored: object, password: object) -> bool:
    """True if the password matches the stored werkzeug pbkdf2 hash.

    False for a mismatch and for anything malformed or unsupported; never raises.
    """
    parsed = _parse(stored)
    if parsed is None or not isinstance(password, str):
        return False
    try:
        password_bytes = password.encode("utf-8")
        salt_bytes = parsed.salt.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: no such password could have been hashed
        return False
    computed = hashlib.pbkdf2_hmac(parsed.hash_name, password_bytes, salt_bytes, parsed.iterations).hex()
    return hmac.compare_digest(computed, parsed.digest_hex)
