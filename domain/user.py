"""The User entity and the rules on its fields (email identity, password policy, names)."""

from __future__ import annotations

import base64
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from email_validator import EmailNotValidError, validate_email

from domain.errors import ValidationError
from domain.session import SessionRecord

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_NAME_LENGTH = 100
ADDRESS_SPECIALS = frozenset(',;:<>()[]\\"')


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A personal access token as its user's document keeps it: never the token, only its digest."""

    token_id: str
    name: str
    digest: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    """Rounded down to the hour (domain.access_tokens): when it was last used, not a usage trail."""


@dataclass(frozen=True, slots=True)
class Passkey:
    """A WebAuthn credential as its user's document keeps it: the public key only (the private
    key never leaves the authenticator), and the signature counter last seen."""

    passkey_id: str
    """Ours, short and URL-safe, for the API's paths; the credential id can be 1023 bytes."""
    credential_id: str
    """base64url, as authenticators name it in every assertion."""
    public_key: str
    """The COSE key, base64url."""
    sign_count: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None
    transports: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SpentChallenge:
    """A WebAuthn challenge this user's credential already answered, kept until it would have
    expired anyway: the guarded write that uses a challenge records it, so it works once."""

    digest: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    """A user as the store holds it.

    `version` is the store's opaque concurrency token: an update carrying a stale one is
    refused, so two writers can never silently overwrite each other.
    """

    email_address: str
    password_hash: str = field(repr=False)
    """Secrets and what stands for them are left out of the repr (repr=False here and below): a
    user put into a log line or a test's failure message shows no hash, session id or digest."""
    created_at: datetime
    first_name: str | None = None
    last_name: str | None = None
    is_active: bool = True
    is_admin: bool = False
    last_login_at: datetime | None = None
    login_count: int = 0
    security_stamp: str = field(default="", repr=False)
    """Changes whenever outstanding reset tokens must die: password change or reset, deactivation."""
    session_ids: tuple[str, ...] = field(default=(), repr=False)
    """The live sessions, oldest first: the authority on revocation."""
    sessions: tuple[SessionRecord, ...] = field(default=(), repr=False)
    """What is shown of them; a record whose id is no longer live is stale and ignored."""
    failed_logins: int = 0
    """Consecutive wrong passwords (at login or password change): this account's throttle count."""
    last_failed_login_at: datetime | None = None
    access_tokens: tuple[AccessToken, ...] = field(default=(), repr=False)
    email_verified_at: datetime | None = None
    """When the owner of `email_address` proved they read its mail (a verification link, or a
    password reset, which proves the same); None for an address never proved, as for every
    account stored before verification existed."""
    pending_email: str | None = None
    """A new address asked for (domain.email_addresses) and not yet proved: it takes effect, in
    place of `email_address`, only when its verification link is followed."""
    passkeys: tuple[Passkey, ...] = ()
    spent_challenges: tuple[SpentChallenge, ...] = field(default=(), repr=False)
    user_id: str = ""
    """Opaque, immutable, URL-safe: what downstream services key on (an email can be re-used
    by a new account after a deletion, an id never is). Empty only for users stored before ids
    existed, until `Users` gives them one."""
    totp_secret: str = field(default="", repr=False)
    """The TOTP secret, sealed (ports.secret_box): never stored, logged or answered in the clear
    after enrolment. Set with `totp_enabled` False while an enrolment waits for its first code."""
    totp_enabled: bool = False
    totp_last_step: int = 0
    """The RFC 6238 time step of the last code accepted: a code of that step or an earlier one is
    refused, so a code cannot be replayed within its window. Written by the guarded update that
    accepts the code, so two requests racing with one code cannot both win."""
    recovery_codes: tuple[str, ...] = field(default=(), repr=False)
    """SHA-256 digests of the unused recovery codes (each spent once, then removed)."""
    version: str | None = field(default=None, compare=False)

    @property
    def has_second_factor(self) -> bool:
        """Whether signing in takes a second step after the password (domain.second_factor)."""
        return self.totp_enabled


def new_user_id() -> str:
    """128 random bits in lower-case base32 without padding: 26 characters of [a-z2-7], safe in
    URLs, headers and file names, and not guessable from anything about the user."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


def canonical_email(value: str) -> str:
    """The one spelling of an address everything keys on (identity, throttling, audit pseudonyms),
    so they can never drift apart: the identity form of a valid address, and for anything else
    the same folding, so that spellings of one malformed string are counted as one too."""
    try:
        return normalize_email(value)
    except ValidationError:
        return _fold_local(unicodedata.normalize("NFKC", value.strip()))


def normalize_email(value: object, field_name: str = "email_address") -> str:
    """Return the identity form of an address or raise ValidationError.

    One identity per mailbox whatever the spelling the user types: trimmed; the part before '@'
    in NFKC and lower case (`Test`, `ｔｅｓｔ` and `test`, NFC and NFD `é`, `ﬀ` and `ff` are
    one), and the domain in its one IDNA form, Unicode labels (`EXÄMPLE.com`,
    `xn--exmple-cua.com` and `exämple.com` are one). The project's own checks come first, with
    their messages; email-validator (no DNS) then applies the rest of RFC 5321/5322/6531 and
    IDNA 2008 (dots, label lengths, characters a host name may hold).
    """
    if not isinstance(value, str):
        raise ValidationError(field_name, "must be a string")
    email = unicodedata.normalize("NFKC", value.strip())
    local, _, domain = _check_shape(email, field_name)
    try:
        # Pure syntax: with check_deliverability off it makes no DNS query (no I/O at all).
        checked = validate_email(f"{_fold_local(local)}@{domain}", check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(field_name, f"is not a valid address ({error})") from None
    return f"{checked.local_part}@{checked.domain}"


def _check_shape(email: str, field_name: str) -> tuple[str, str, str]:
    """The project's own address rules (every release had them), split at the '@'."""
    if not email:
        raise ValidationError(field_name, "is required")
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValidationError(field_name, f"must be at most {MAX_EMAIL_LENGTH} characters")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in email):
        raise ValidationError(field_name, "must not contain spaces or control characters")
    if any(ch in ADDRESS_SPECIALS for ch in email):
        # Legal only quoted or in comments; mail tools would read them as other mailboxes.
        raise ValidationError(field_name, "must not contain any of , ; : < > ( ) [ ] \\ \"")
    local, at, domain = email.partition("@")
    if not at or "@" in domain or not local:
        raise ValidationError(field_name, "must be an email address like name@example.com")
    if len(local) > MAX_LOCAL_PART_LENGTH:
        raise ValidationError(field_name, f"must have at most {MAX_LOCAL_PART_LENGTH} characters before '@'")
    labels = domain.split(".")
    if len(labels) < 2 or any(not label or label.startswith("-") or label.endswith("-") for label in labels):
        raise ValidationError(field_name, "must have a dotted domain like example.com")
    return local, at, domain


def email_spellings(value: object, field_name: str = "email_address") -> tuple[str, ...]:
    """Every spelling the account of this address may be stored under, the identity form last.

    Earlier releases stored addresses only trimmed and lower-cased (and let through some that
    the rule now refuses), so an account made then is still found under the spelling its owner
    types. That spelling comes first: where both it and the identity form are stored (`esauth
    init` reports such pairs), the account made from this very spelling is the one meant, and
    each of the pair stays reachable. Raises ValidationError if no release would have accepted
    the address.
    """
    legacy = value.strip().lower() if isinstance(value, str) else None
    try:
        email = normalize_email(value, field_name)
    except ValidationError:
        if legacy is None:
            raise
        _check_shape(legacy, field_name)
        return (legacy,)
    return (email,) if legacy in (email, None) else (legacy, email)


def _fold_local(text: str) -> str:
    """Lower-case the part before '@', then NFKC again (lower-casing can denormalise).

    Lower-casing, not full case folding (str.casefold): folding makes `ß` into `ss`, another
    letter and another mailbox, and the account's reset mail would go there. IDNA 2008 keeps
    `faß.de` and `fass.de` apart for the same reason. The domain is left to IDNA's own mapping."""
    local, at, domain = text.partition("@")
    return unicodedata.normalize("NFKC", local.lower()) + at + domain


def check_text(value: object, field_name: str) -> str:
    """A string that can be hashed: JSON can carry lone surrogates, which no encoder accepts."""
    if not isinstance(value, str):
        raise ValidationError(field_name, "must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(field_name, "must be valid Unicode text") from None
    return value


def check_password(value: object, field_name: str = "password") -> str:
    """Enforce the password policy (NIST 800-63B: length, not composition rules)."""
    value = check_text(value, field_name)
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValidationError(field_name, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise ValidationError(field_name, f"must be at most {MAX_PASSWORD_LENGTH} characters")
    return value


def check_name(value: object, field_name: str) -> str | None:
    """Names are optional free text, bounded so a user document stays small."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(field_name, "must be a string or null")
    name = value.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(field_name, f"must be at most {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValidationError(field_name, "must not contain control characters")
    return name or None
