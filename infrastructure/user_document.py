"""The stored form of a User, shared by every store so they cannot drift apart."""

from __future__ import annotations

from typing import Any

from domain.timestamps import format_time, parse_time
from domain.session import SessionRecord
from domain.user import AccessToken, Passkey, SpentChallenge, User


def to_document(user: User) -> dict[str, Any]:
    return {
        "email_address": user.email_address,
        "password_hash": user.password_hash,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_admin": user.is_admin,
        "created_at": format_time(user.created_at),
        "last_login_at": format_time(user.last_login_at) if user.last_login_at else None,
        "login_count": user.login_count,
        "security_stamp": user.security_stamp,
        "session_ids": list(user.session_ids),
        "sessions": [_session_record(record) for record in user.sessions],
        "failed_logins": user.failed_logins,
        "last_failed_login_at": format_time(user.last_failed_login_at) if user.last_failed_login_at else None,
        "user_id": user.user_id,
        "email_verified_at": format_time(user.email_verified_at) if user.email_verified_at else None,
        "pending_email": user.pending_email,
        "access_tokens": [_token_document(token) for token in user.access_tokens],
        "passkeys": [_passkey_document(passkey) for passkey in user.passkeys],
        "spent_challenges": [
            {"digest": spent.digest, "expires_at": format_time(spent.expires_at)} for spent in user.spent_challenges
        ],
        "totp_secret": user.totp_secret,
        "totp_enabled": user.totp_enabled,
        "totp_last_step": user.totp_last_step,
        "recovery_codes": list(user.recovery_codes),
    }


def _passkey_document(passkey: Passkey) -> dict[str, Any]:
    return {
        "passkey_id": passkey.passkey_id,
        "credential_id": passkey.credential_id,
        "public_key": passkey.public_key,
        "sign_count": passkey.sign_count,
        "name": passkey.name,
        "created_at": format_time(passkey.created_at),
        "last_used_at": format_time(passkey.last_used_at) if passkey.last_used_at else None,
        "transports": list(passkey.transports),
    }


def _passkey(document: dict[str, Any]) -> Passkey:
    return Passkey(
        passkey_id=document["passkey_id"],
        credential_id=document["credential_id"],
        public_key=document["public_key"],
        sign_count=document["sign_count"],
        name=document["name"],
        created_at=parse_time(document["created_at"]),
        last_used_at=parse_time(document["last_used_at"]) if document.get("last_used_at") else None,
        transports=tuple(document.get("transports") or ()),
    )


def _token_document(token: AccessToken) -> dict[str, Any]:
    return {
        "token_id": token.token_id,
        "name": token.name,
        "digest": token.digest,
        "created_at": format_time(token.created_at),
        "expires_at": format_time(token.expires_at),
        "last_used_at": format_time(token.last_used_at) if token.last_used_at else None,
    }


def _token(document: dict[str, Any]) -> AccessToken:
    return AccessToken(
        token_id=document["token_id"],
        name=document["name"],
        digest=document["digest"],
        created_at=parse_time(document["created_at"]),
        expires_at=parse_time(document["expires_at"]),
        last_used_at=parse_time(document["last_used_at"]) if document.get("last_used_at") else None,
    )


def from_document(document: dict[str, Any], version: str) -> User:
    """Fields added in later releases read with defaults, so older documents still load."""
    return User(
        email_address=document["email_address"],
        password_hash=document["password_hash"],
        created_at=parse_time(document["created_at"]),
        first_name=document.get("first_name"),
        last_name=document.get("last_name"),
        is_active=document.get("is_active", True),
        is_admin=document.get("is_admin", False),
        last_login_at=parse_time(document["last_login_at"]) if document.get("last_login_at") else None,
        login_count=document.get("login_count", 0),
        security_stamp=document.get("security_stamp") or "",
        session_ids=tuple(document.get("session_ids") or ()),
        sessions=tuple(_read_session_record(record) for record in document.get("sessions") or ()),
        failed_logins=document.get("failed_logins", 0),
        last_failed_login_at=parse_time(document["last_failed_login_at"]) if document.get("last_failed_login_at") else None,
        user_id=document.get("user_id") or "",
        email_verified_at=parse_time(document["email_verified_at"]) if document.get("email_verified_at") else None,
        pending_email=document.get("pending_email") or None,
        access_tokens=tuple(_token(token) for token in document.get("access_tokens") or ()),
        passkeys=tuple(_passkey(passkey) for passkey in document.get("passkeys") or ()),
        spent_challenges=tuple(
            SpentChallenge(spent["digest"], parse_time(spent["expires_at"])) for spent in document.get("spent_challenges") or ()
        ),
        totp_secret=document.get("totp_secret") or "",
        totp_enabled=document.get("totp_enabled", False),
        totp_last_step=document.get("totp_last_step") or 0,
        recovery_codes=tuple(document.get("recovery_codes") or ()),
        version=version,
    )


def _session_record(record: SessionRecord) -> dict[str, Any]:
    return {
        "id": record.session_id,
        "created_at": format_time(record.created_at) if record.created_at else None,
        "last_seen_at": format_time(record.last_seen_at) if record.last_seen_at else None,
        "device": record.device,
        "client": record.client,
    }


def _read_session_record(stored: dict[str, Any]) -> SessionRecord:
    return SessionRecord(
        session_id=stored["id"],
        created_at=parse_time(stored["created_at"]) if stored.get("created_at") else None,
        last_seen_at=parse_time(stored["last_seen_at"]) if stored.get("last_seen_at") else None,
        device=stored.get("device") or "",
        client=stored.get("client") or "",
    )
