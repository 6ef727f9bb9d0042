"""How WebAuthn ceremonies are prepared and their answers checked (the relying party's half)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class NewCredential:
    """What a verified registration yields, base64url-encoded as the user's document keeps it."""

    credential_id: str
    public_key: str
    sign_count: int
    transports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assertion:
    """Who an assertion claims to be, read before anything is verified: the credential and the
    user handle (our user id, which discoverable credentials return)."""

    credential_id: str
    user_handle: str


class PasskeyVerifier(Protocol):
    """Bound to one relying party (its id, the origins it accepts, whether user verification is
    required). Every check failure raises `PasskeyRefused` (domain.errors), never anything else."""

    decoy_public_key: str
    """A key no authenticator holds: an answer naming no known credential is checked against
    it, so that refusal costs the signature check a known credential's does."""

    def registration_options(
        self, user_id: str, user_name: str, display_name: str, challenge: bytes, exclude: tuple[str, ...]
    ) -> dict[str, Any]:
        """`PublicKeyCredentialCreationOptions` as JSON (base64url binary fields), asking for a
        discoverable credential; `exclude` are the credential ids the user already has."""

    def verify_registration(self, credential: object, challenge: bytes) -> NewCredential:
        """Check the answer of `navigator.credentials.create()` (its JSON form)."""

    def authentication_options(self, challenge: bytes, allow: tuple[str, ...] = ()) -> dict[str, Any]:
        """`PublicKeyCredentialRequestOptions` as JSON. Naming no credential (`allow` empty) they
        are the same for everyone, so they tell nothing about which accounts exist; a second
        step, whose caller has proven the password, may name the account's own."""

    def read_assertion(self, credential: object) -> Assertion:
        """The credential id and user handle of the answer of `navigator.credentials.get()`."""

    def verify_assertion(self, credential: object, challenge: bytes, public_key: str, sign_count: int) -> tuple[int, bool]:
        """Check the assertion against the stored key; returns the authenticator's new counter and
        whether it verified the user (PIN, biometric). A counter that does not grow (when either
        side is past 0) is refused: a cloned key."""
