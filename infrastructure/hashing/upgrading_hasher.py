"""A PasswordHasher that still verifies the seed's werkzeug hashes, so imported users are upgraded.

New hashes are always argon2. A legacy hash verifies with werkzeug's rules and always needs a
rehash, so the domain replaces it with argon2 on the user's first successful login.
"""

from __future__ import annotations

import secrets

from infrastructure.hashing.argon2_hasher import Argon2Hasher, Argon2Parameters
from infrastructure.hashing.legacy_hashes import is_werkzeug_pbkdf2, verify_werkzeug_pbkdf2


class UpgradingHasher:
    """PasswordHasher over argon2 that also accepts (and retires) werkzeug pbkdf2 hashes."""

    def __init__(self, current: Argon2Hasher) -> None:
        self._current = current
        # The seed's pbkdf2:sha1:1000 costs well under a millisecond, an argon2 verify tens of
        # them: a wrong password for a not-yet-upgraded account would answer much faster than
        # one for an unknown email (which costs an argon2 verify), telling an attacker which
        # accounts exist. So every legacy verification also pays one argon2 verify.
        self._padding_hash = current.hash(secrets.token_urlsafe(16))

    @property
    def params(self) -> Argon2Parameters:
        """The argon2 parameters new hashes are made with."""
        return self._current.params

    def hash(self, password: str) -> str:
        return self._current.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        if is_werkzeug_pbkdf2(password_hash):
            matches = verify_werkzeug_pbkdf2(password_hash, password)
            self._current.verify(self._padding_hash, password)
            return matches
        return self._current.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        if is_werkzeug_pbkdf2(password_hash):
            return True
        return self._current.needs_rehash(password_hash)
