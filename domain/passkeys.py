"""Passkeys (WebAuthn): register several per user, name and remove them, sign in with one.

Sign-in is usernameless: the options name no account and no credential, so they are the same
for every caller and cannot tell which addresses have accounts (an email-first flow would have
to invent credential lists for unknown addresses). The authenticator returns the user handle
we gave it at registration, our user id, and the user is found by a realtime read by id, as a
bearer token finds its user.

A challenge works once: the guarded write that settles a ceremony records its digest on the
user and refuses one already there, so two answers to one challenge cannot both win, on any
store. Only verified answers add a digest, so nobody but the passkey's owner can grow the list.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Callable

from domain.access_tokens import check_token_name
from domain.auth import AuthService
from domain.errors import PasskeyNotFound, PasskeyRefused, SessionInvalid, TooManyPasskeys, UserNotFound
from domain.second_factor import SecondFactorCheck
from domain.session import Session
from domain.user import Passkey, SpentChallenge, User
from domain.users import Users
from ports.clock import Clock
from ports.passkey_verifier import PasskeyVerifier

MAX_PASSKEYS_PER_USER = 20
"""A user document stays small, and a stolen session cannot add an unbounded number."""
CHALLENGE_BYTES = 32
SPENT_CHALLENGES_KEPT = 100
"""Per user; each needs a verified answer by one of the user's own passkeys within the
challenge lifetime, so the rightful user alone could ever reach this."""
_USER_ID = re.compile(r"[a-z2-7]{26}")


def new_passkey_id() -> str:
    return base64.b32encode(secrets.token_bytes(8)).decode("ascii").rstrip("=").lower()


def challenge_digest(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


class Passkeys:
    """The passkey rules; the WebAuthn checks themselves are the verifier's (a port)."""

    def __init__(
        self,
        users: Users,
        auth: AuthService,
        verifier: PasskeyVerifier,
        clock: Clock,
        challenge_lifetime: timedelta,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._users = users
        self._auth = auth
        self._verifier = verifier
        self._clock = clock
        self.challenge_lifetime = challenge_lifetime
        self._random = random_bytes

    def registration_options(self, email_address: str) -> tuple[dict[str, Any], bytes]:
        """The options for `navigator.credentials.create()` and the challenge in them."""
        user = self._live_user(email_address)
        if len(user.passkeys) >= MAX_PASSKEYS_PER_USER:
            raise TooManyPasskeys(MAX_PASSKEYS_PER_USER)
        challenge = self._random(CHALLENGE_BYTES)
        names = " ".join(filter(None, (user.first_name, user.last_name))) or user.email_address
        exclude = tuple(passkey.credential_id for passkey in user.passkeys)
        return self._verifier.registration_options(user.user_id, user.email_address, names, challenge, exclude), challenge

    def register(self, email_address: str, name: object, credential: object, challenge: bytes) -> Passkey:
        """Verify the new credential against `challenge` and keep its public key."""
        name = check_token_name(name)
        user = self._live_user(email_address)
        new = self._verifier.verify_registration(credential, challenge)
        self._users.link_id(user)  # before the passkey exists, so its first sign-in finds the user
        now = self._clock()
        entry = Passkey(
            passkey_id=new_passkey_id(), credential_id=new.credential_id, public_key=new.public_key,
            sign_count=new.sign_count, name=name, created_at=now, transports=new.transports,
        )

        def add(current: User) -> User:
            current = self._spend(current, challenge, now)
            if any(passkey.credential_id == new.credential_id for passkey in current.passkeys):
                raise PasskeyRefused("this credential is already registered")
            if len(current.passkeys) >= MAX_PASSKEYS_PER_USER:
                raise TooManyPasskeys(MAX_PASSKEYS_PER_USER)
            return replace(current, passkeys=(*current.passkeys, entry))

        self._users.modify(email_address, add, read=user)
        return entry

    def authentication_options(self) -> tuple[dict[str, Any], bytes]:
        """The options for `navigator.credentials.get()`: the same for everyone but the challenge."""
        challenge = self._random(CHALLENGE_BYTES)
        return self._verifier.authentication_options(challenge), challenge

    def authenticate(self, credential: object, challenge: bytes, device: str = "", client: str = "") -> tuple[User, Session, Passkey]:
        """Check an assertion and open a session. Every refusal is PasskeyRefused (its reason
        goes to the audit log); a deactivated account is InactiveUser, as for a password,
        and only after its passkey verified."""
        assertion = self._verifier.read_assertion(credential)
        handle = assertion.user_handle
        email = self._users.email_for_id(handle) if _USER_ID.fullmatch(handle) else None
        user = self._users.get(email) if email is not None else None
        if email is not None and (user is None or user.user_id != handle):
            # The address this process kept for the id may be one the user left on another
            # process since: asked again, once (as the bearer tokens' check does).
            email = self._users.email_for_id(handle, fresh=True)
            user = self._users.get(email) if email is not None else None
        passkey = None
        if user is not None and user.user_id == handle:  # an address signed up again has another id
            passkey = next((p for p in user.passkeys if p.credential_id == assertion.credential_id), None)
        if user is None or passkey is None:
            self._verifier.verify_assertion(credential, challenge, self._verifier.decoy_public_key, 0)  # refuses
            raise PasskeyRefused("no such credential for this user handle")
        count, user_verified = self._verifier.verify_assertion(credential, challenge, passkey.public_key, passkey.sign_count)
        if user.has_second_factor and not user_verified:
            # Only a passkey that verified its user is two factors in one, as an account with a
            # second factor needs (ESAUTH_WEBAUTHN_USER_VERIFICATION=preferred lets others through).
            raise PasskeyRefused("no user verification, and the account has a second factor")
        now = self._clock()

        def use(current: User) -> User:
            return self._used(current, passkey, count, challenge, now)

        try:
            written, session = self._auth.open_verified_session(user.email_address, use, device, client, read=user)
        except UserNotFound:
            raise PasskeyRefused("the account was deleted") from None
        return written, session, passkey

    def second_factor_options(self, email_address: str) -> tuple[dict[str, Any], bytes]:
        """Options for the second step of a sign-in whose password is proven: they may name the
        account's own credentials, since whoever asks has shown they know the account."""
        user = self._users.get(email_address)
        if user is None or not user.passkeys:
            raise PasskeyRefused("no passkey to sign in with")
        challenge = self._random(CHALLENGE_BYTES)
        allow = tuple(passkey.credential_id for passkey in user.passkeys)
        return self._verifier.authentication_options(challenge, allow), challenge

    def second_factor_check(self, email_address: str, credential: object, challenge: bytes) -> SecondFactorCheck:
        """Verify an assertion for a pending sign-in (PasskeyRefused if it does not verify) and
        return the check AuthService.finish_login runs in its guarded write: the challenge spent
        and the counter moved, or None when another answer got there first."""
        assertion = self._verifier.read_assertion(credential)
        user = self._users.get(email_address)
        passkey = next((p for p in user.passkeys if p.credential_id == assertion.credential_id), None) if user else None
        if passkey is None:
            self._verifier.verify_assertion(credential, challenge, self._verifier.decoy_public_key, 0)  # refuses
            raise PasskeyRefused("not one of this account's passkeys")
        count, _ = self._verifier.verify_assertion(credential, challenge, passkey.public_key, passkey.sign_count)
        now = self._clock()

        def check(current: User) -> User | None:
            try:
                return self._used(current, passkey, count, challenge, now)
            except PasskeyRefused:
                return None

        return check

    def _used(self, current: User, passkey: Passkey, count: int, challenge: bytes, now: datetime) -> User:
        """`current` with the challenge spent and the passkey's new counter; PasskeyRefused if
        the challenge was spent, the passkey removed or the counter moved meanwhile."""
        current = self._spend(current, challenge, now)
        stored = next((p for p in current.passkeys if p.passkey_id == passkey.passkey_id), None)
        if stored is None:
            raise PasskeyRefused("the passkey was removed")
        if (count or stored.sign_count) and count <= stored.sign_count:
            raise PasskeyRefused("the signature counter did not grow")  # another use got there first
        used = replace(stored, sign_count=count, last_used_at=now)
        return replace(current, passkeys=tuple(used if p is stored else p for p in current.passkeys))

    def of(self, email_address: str) -> tuple[Passkey, ...]:
        user = self._users.get(email_address)
        if user is None:
            raise SessionInvalid("the account is gone")
        return user.passkeys

    def rename(self, email_address: str, passkey_id: str, name: object) -> Passkey:
        name = check_token_name(name)
        renamed: list[Passkey] = []

        def change(current: User) -> User:
            stored = _own(current, passkey_id)
            renamed.append(replace(stored, name=name))
            return replace(current, passkeys=tuple(renamed[-1] if p is stored else p for p in current.passkeys))

        self._modify(email_address, change)
        return renamed[-1]

    def remove(self, email_address: str, passkey_id: str) -> Passkey:
        removed: list[Passkey] = []

        def change(current: User) -> User:
            removed.append(_own(current, passkey_id))
            return replace(current, passkeys=tuple(p for p in current.passkeys if p.passkey_id != passkey_id))

        self._modify(email_address, change)
        return removed[-1]

    def _modify(self, email_address: str, change: Callable[[User], User]) -> None:
        try:
            self._users.modify(email_address, change)
        except UserNotFound:
            raise SessionInvalid("the account is gone") from None

    def _live_user(self, email_address: str) -> User:
        user = self._users.get(email_address)
        if user is None or not user.is_active:
            raise SessionInvalid("the account is gone or deactivated")
        return user

    def _spend(self, user: User, challenge: bytes, now: datetime) -> User:
        """The user with `challenge` recorded as used; PasskeyRefused if it already was."""
        digest = challenge_digest(challenge)
        live = tuple(spent for spent in user.spent_challenges if spent.expires_at > now)
        if any(spent.digest == digest for spent in live):
            raise PasskeyRefused("the challenge was already used")
        kept = (*live, SpentChallenge(digest, now + self.challenge_lifetime))[-SPENT_CHALLENGES_KEPT:]
        return replace(user, spent_challenges=kept)


def _own(user: User, passkey_id: str) -> Passkey:
    stored = next((p for p in user.passkeys if p.passkey_id == passkey_id), None)
    if stored is None:
        raise PasskeyNotFound(passkey_id)
    return stored
