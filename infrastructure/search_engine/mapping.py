"""The strict mappings of esauth's four indices, shared by every engine."""

from __future__ import annotations

from typing import Any

_NAME_FIELD: dict[str, Any] = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}

USERS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "email_address": {"type": "keyword"},
        "password_hash": {"type": "keyword", "index": False, "doc_values": False},
        "first_name": _NAME_FIELD,
        "last_name": _NAME_FIELD,
        # The names' words as the search matches them (domain.search.name_words): computed here,
        # not by a custom analyzer, because an analyzer cannot be added to an existing index
        # while a field can; so older indices upgrade in place.
        "name_words": {"type": "keyword"},
        "is_active": {"type": "boolean"},
        "is_admin": {"type": "boolean"},
        "created_at": {"type": "date"},
        "last_login_at": {"type": "date"},
        "login_count": {"type": "integer"},
        "security_stamp": {"type": "keyword", "index": False, "doc_values": False},
        "session_ids": {"type": "keyword", "index": False, "doc_values": False},
        # What a person is shown of each live session: kept, never searched.
        "sessions": {"type": "object", "enabled": False},
        "failed_logins": {"type": "integer"},
        "last_failed_login_at": {"type": "date"},
        # The stable id (domain.user); which email an id names is read from ID_LINKS.
        "user_id": {"type": "keyword"},
        # Email verification and change (domain.email_addresses).
        "email_verified_at": {"type": "date"},
        "pending_email": {"type": "keyword", "index": False, "doc_values": False},
        # A move to a new address under way (search_engine.user_repository): on the document
        # being left, where it goes; on the claim of the new address, where it comes from; both
        # with the move's random id, which pairs them, and the instant it began.
        "moving_to": {"type": "keyword", "index": False, "doc_values": False},
        "moved_from": {"type": "keyword"},
        "moving_since": {"type": "date"},
        "move_id": {"type": "keyword", "index": False, "doc_values": False},
        # Kept, never searched: stored as given, with no mapping of its own (so no field limits).
        "access_tokens": {"type": "object", "enabled": False},
        # Passkeys (public keys and counters) and the WebAuthn challenges already answered: kept
        # with the user so one guarded write settles a sign-in, never searched.
        "passkeys": {"type": "object", "enabled": False},
        "spent_challenges": {"type": "object", "enabled": False},
        # The second factor (domain.second_factor): kept, never searched; the secret is sealed.
        "totp_secret": {"type": "keyword", "index": False, "doc_values": False},
        "totp_enabled": {"type": "boolean"},
        "totp_last_step": {"type": "long"},
        "recovery_codes": {"type": "keyword", "index": False, "doc_values": False},
        # When the document was last written (epoch ms, the writer's clock): the session views'
        # change feed searches it by range (search_engine.user_repository.changes_since).
        "changed_at": {"type": "long"},
        # Each write's random id: a 409 read back with this write's id was this write, landed
        # (search_engine.user_repository._put). Kept, never searched.
        "write_id": {"type": "keyword", "index": False, "doc_values": False},
    },
}

ID_LINKS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {"email_address": {"type": "keyword", "index": False, "doc_values": False}},
}
"""`<alias>-ids` (search_engine.id_links): one document per user id, read by realtime GET."""

TOMBSTONES: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {"changed_at": {"type": "long"}},
}
"""`<alias>-gone` (search_engine.tombstones): one document per deleted email, searched by range."""

LOGIN_FAILURES: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "failures": {"type": "integer"},
        "last_failure_at": {"type": "date"},
    },
}
