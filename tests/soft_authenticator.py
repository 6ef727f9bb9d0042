"""A software WebAuthn authenticator (and the browser's half of a ceremony), for the server-side
tests: real P-256 keys and signatures, "none" attestation, every field a test may want to get
wrong (origin, relying party, counter, user handle, challenge) under its control.

The browser tests use Chromium's own virtual authenticator instead (tests/browser).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


class SoftAuthenticator:
    """Holds discoverable credentials, as a platform authenticator with a screen lock would."""

    def __init__(self, origin: str, counter_step: int = 1) -> None:
        self.origin = origin
        self.counter_step = counter_step
        self.credentials: list[Credential] = []

    def create(self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None, verified: bool = True) -> dict[str, Any]:
        """The JSON answer of `navigator.credentials.create()` to `options` (the server's publicKey)."""
        rp = rp_id or options["rp"]["id"]
        credential = Credential(os.urandom(16), ec.generate_private_key(ec.SECP256R1()), rp, unb64url(options["user"]["id"]))
        self.credentials.append(credential)
        numbers = credential.key.public_key().public_numbers()
        cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        attested = bytes(16) + struct.pack(">H", len(credential.credential_id)) + credential.credential_id + cose_key
        auth_data = self._auth_data(rp, UP | AT | (UV if verified else 0), 0) + attested
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation), "transports": ["internal"]},
            "clientExtensionResults": {},
        }

    def get(
        self,
        options: dict[str, Any],
        credential: Credential | None = None,
        *,
        origin: str | None = None,
        sign_count: int | None = None,
        user_handle: bytes | None = None,
        verified: bool = True,
    ) -> dict[str, Any]:
        """The JSON answer of `navigator.credentials.get()`: signed by `credential` (the last made)."""
        credential = credential or self.credentials[-1]
        if sign_count is None:
            credential.sign_count += self.counter_step
            sign_count = credential.sign_count
        auth_data = self._auth_data(credential.rp_id, UP | (UV if verified else 0), sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(credential.user_handle if user_handle is None else user_handle),
            },
            "clientExtensionResults": {},
        }

    @staticmethod
    def _auth_data(rp_id: str, flags: int, sign_count: int) -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}).encode()
