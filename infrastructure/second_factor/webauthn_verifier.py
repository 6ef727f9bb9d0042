"""The PasskeyVerifier port in py_webauthn (PyPI `webauthn`): CBOR, COSE keys, attestation
formats and signature checks are the library's; which relying party, origins and user
verification apply is ours."""

from __future__ import annotations

import json
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from domain.errors import PasskeyRefused
from ports.passkey_verifier import Assertion, NewCredential

UNREADABLE = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)
"""What malformed client data can make the library raise (a CBOR or base64 error is a
ValueError): every one is a refusal, never a 500."""


class WebauthnVerifier:
    def __init__(
        self, rp_id: str, rp_name: str, origins: tuple[str, ...], timeout_s: int, user_verification: str = "required"
    ) -> None:
        self.rp_id = rp_id
        self._rp_name = rp_name
        self._origins = list(origins)
        self._timeout_ms = timeout_s * 1000
        self._uv = UserVerificationRequirement(user_verification)
        self._require_uv = self._uv is UserVerificationRequirement.REQUIRED
        self.decoy_public_key = _decoy_key()

    def registration_options(
        self, user_id: str, user_name: str, display_name: str, challenge: bytes, exclude: tuple[str, ...]
    ) -> dict[str, Any]:
        options = generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self._rp_name,
            user_id=user_id.encode("ascii"),
            user_name=user_name,
            user_display_name=display_name,
            challenge=challenge,
            timeout=self._timeout_ms,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED, require_resident_key=True, user_verification=self._uv
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(known)) for known in exclude],
        )
        return json.loads(options_to_json(options))

    def verify_registration(self, credential: object, challenge: bytes) -> NewCredential:
        try:
            parsed = parse_registration_credential_json(_json_object(credential))
            verified = verify_registration_response(
                credential=parsed,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self._origins,
                require_user_verification=self._require_uv,
            )
        except UNREADABLE as error:
            raise PasskeyRefused(f"registration: {error}") from None
        return NewCredential(
            credential_id=bytes_to_base64url(verified.credential_id),
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            transports=tuple(transport.value for transport in parsed.response.transports or ()),
        )

    def authentication_options(self, challenge: bytes, allow: tuple[str, ...] = ()) -> dict[str, Any]:
        options = generate_authentication_options(
            rp_id=self.rp_id, challenge=challenge, timeout=self._timeout_ms, user_verification=self._uv,
            allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(known)) for known in allow],
        )
        return json.loads(options_to_json(options))

    def read_assertion(self, credential: object) -> Assertion:
        try:
            parsed = parse_authentication_credential_json(_json_object(credential))
            user_handle = (parsed.response.user_handle or b"").decode("ascii")
        except UNREADABLE as error:
            raise PasskeyRefused(f"assertion: {error}") from None
        return Assertion(bytes_to_base64url(parsed.raw_id), user_handle)

    def verify_assertion(self, credential: object, challenge: bytes, public_key: str, sign_count: int) -> tuple[int, bool]:
        try:
            verified = verify_authentication_response(
                credential=parse_authentication_credential_json(_json_object(credential)),
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self._origins,
                credential_public_key=base64url_to_bytes(public_key),
                credential_current_sign_count=sign_count,
                require_user_verification=self._require_uv,
            )
        except UNREADABLE as error:
            raise PasskeyRefused(f"assertion: {error}") from None
        return verified.new_sign_count, verified.user_verified


def _decoy_key() -> str:
    """A P-256 COSE key nobody holds the private half of (it is dropped at once)."""
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    return bytes_to_base64url(cbor2.dumps(cose))


def _json_object(credential: object) -> str:
    """The credential as the JSON text the library parses; anything but an object is refused."""
    if not isinstance(credential, dict):
        raise PasskeyRefused("the credential must be a JSON object")
    return json.dumps(credential)
