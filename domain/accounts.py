"""What a user does to their own account: profile, password change, password reset."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from domain.auth import new_session_id
from domain.errors import InvalidToken, LoginThrottled, SessionInvalid, UserNotFound, ValidationError, VersionConflict
from domain.mail_cooldown import MailCooldown
from domain.passwords import PasswordRules
from domain.session import Session
from domain.throttle import FailureCounter
from domain.user import User, check_name, check_text, email_spellings
from domain.users import Users
from ports.breached_passwords import BreachedPasswords
from ports.clock import Clock
from ports.hasher import PasswordHasher
from ports.notifier import Notifier
from ports.password_screen import PasswordScreen
from ports.tasks import Defer, run_now
from ports.tokens import TokenSigner

RESET_TOKEN_LIFETIME = timedelta(hours=1)
PROFILE_FIELDS = ("first_name", "last_name")


def reset_fingerprint(user: User) -> str:
    """Binds a reset token to the password it may replace and to the security stamp: once either
    changes (the token is used, the password changes, the account is deactivated), the
    fingerprint no longer matches and the token is dead, even if the account is reactivated."""
    return hashlib.sha256(f"{user.password_hash}|{user.security_stamp}".encode()).hexdigest()[:32]


def new_stamp() -> str:
    return secrets.token_urlsafe(12)


class AccountService:
    def __init__(
        self,
        users: Users,
        hasher: PasswordHasher,
        clock: Clock,
        failures: FailureCounter,
        tokens: TokenSigner,
        notifier: Notifier,
        new_session_id: Callable[[], str] = new_session_id,
        defer: Defer = run_now,
        *,
        screen: PasswordScreen,
        breached: BreachedPasswords | None = None,
        cooldown: MailCooldown | None = None,
    ) -> None:
        """`defer` runs the lookup and sending of a reset off the request path, so how long the
        answer takes does not depend on whether the account exists."""
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._failures = failures
        self._tokens = tokens
        self._notifier = notifier
        self._new_session_id = new_session_id
        self._defer = defer
        self._passwords = PasswordRules(screen, breached)
        self._cooldown = cooldown

    def update_profile(self, email_address: str, changes: dict[str, object]) -> User:
        """Change the names given in `changes` (validated as at sign-up)."""
        names = {name: check_name(value, name) for name, value in changes.items() if name in PROFILE_FIELDS}

        def change(current: User) -> User:
            # The session check may have reused a user read just before a deactivation.
            if not current.is_active:
                raise SessionInvalid("the account is deactivated")
            return replace(current, **names)

        try:
            return self._users.modify(email_address, change)
        except UserNotFound:
            raise SessionInvalid("the account is gone") from None

    def change_password(self, session: Session, current_password: object, new_password: object) -> tuple[User, Session]:
        """Replace the password after checking the current one (a wrong one counts as a failed
        login). Every other session ends; the caller's continues under a new session id."""
        current_password = check_text(current_password, "current_password")
        email = session.email_address
        new_password = self._passwords.check(new_password, "new_password", email)
        verified = self.confirm_password(email, current_password).password_hash
        new_hash = self._hasher.hash(new_password)
        # The current password was proven just now: the renewed session counts as re-authenticated.
        kept = replace(session, session_id=self._new_session_id(), authenticated_at=self._clock())

        def change(current: User) -> User:
            if current.password_hash != verified:
                raise ValidationError("current_password", "was changed meanwhile; log in again")
            records = tuple(
                replace(record, session_id=kept.session_id) for record in current.sessions
                if record.session_id == session.session_id
            )
            return replace(
                current, password_hash=new_hash, security_stamp=new_stamp(), session_ids=(kept.session_id,), sessions=records
            )

        return self._users.modify(email, change), kept

    def confirm_password(self, email_address: str, current_password: object) -> User:
        """The account, once `current_password` is proved right, for acts a stolen session alone
        must not do (changing the password, making a token). Checked through the login throttle:
        a wrong one is a failed login for the account (ValidationError naming the field), and
        a throttled account gets LoginThrottled whether or not it is right."""
        current_password = check_text(current_password, "current_password")
        user = self._users.get(email_address)
        if user is None or not user.is_active:
            raise SessionInvalid("the account is gone or deactivated")
        stored = self._failures.check(email_address)
        self._failures.check_user(user, stored)
        right = self._hasher.verify(user.password_hash, current_password)
        verified = user.password_hash

        def settle(current: User) -> User:
            # The outcome is written before anything else is done (hashing a new password, say),
            # so a withheld right guess answers as fast as a wrong one.
            self._failures.check_user(current, stored)  # others' failures got there first: withhold
            if current.password_hash != verified:
                raise ValidationError("current_password", "was changed meanwhile; log in again")
            return self._failures.cleared(current) if right else self._failures.failed(current, stored)

        try:
            settled = self._users.modify(email_address, settle, read=user)
        except VersionConflict:
            raise LoginThrottled(1) from None
        if not right:
            raise ValidationError("current_password", "is not correct")
        if stored is not None:
            self._failures.forget(email_address)
        return settled

    def request_password_reset(self, email_address: object) -> None:
        """Send a reset token if the account exists and is active; do nothing visible otherwise."""
        spellings = email_spellings(email_address)
        self._defer(lambda: self._send_reset(spellings))

    def _send_reset(self, spellings: tuple[str, ...]) -> None:
        user = self._users.find(spellings)
        if user is None or not user.is_active:
            return
        email = user.email_address  # the mailbox as stored, never the spelling typed here
        if self._cooldown is not None and not self._cooldown.claim(email):
            return  # one message per address per cooldown, whichever kind
        expires = self._clock() + RESET_TOKEN_LIFETIME
        token = self._tokens.sign(
            {"u": email, "h": reset_fingerprint(user), "e": int(expires.timestamp())}
        )
        self._notifier.send_password_reset(email, token)

    def confirm_password_reset(self, token: object, new_password: object) -> User:
        """Set a new password with a reset token; every session of the user ends."""
        token = check_text(token, "token")
        new_password = self._passwords.check_here(new_password, "new_password", None)
        payload = self._tokens.unsign(token)
        try:
            email, fingerprint = str(payload["u"]), str(payload["h"])
            expires = datetime.fromtimestamp(int(payload["e"]), timezone.utc)
        except (KeyError, TypeError, ValueError, OverflowError):
            raise InvalidToken("This reset token is not valid.") from None
        if self._clock() > expires:
            raise InvalidToken("This reset token has expired; ask for a new one.")
        # Only a valid token names the address (its holder already knows it), and only a valid
        # token may make the server ask the breach service: no outside call for a forged one.
        self._passwords.check_personal(new_password, "new_password", email)
        self._passwords.check_breached(new_password, "new_password")
        new_hash = self._hasher.hash(new_password)

        def reset(current: User) -> User:
            if reset_fingerprint(current) != fingerprint:
                raise InvalidToken("This reset token was already used, or the password changed or the account was deactivated since.")
            if not current.is_active:
                raise InvalidToken("This account is deactivated.")
            # The mailbox owner is back in control: the login throttle is lifted too.
            cleared = self._failures.cleared(current)
            # A reset is account recovery: whoever had the account may have made tokens, so they
            # end with the sessions (a password change, made knowing the password, keeps them).
            # The token came to the mailbox: that proves the address as a verification link does.
            verified = current.email_verified_at or self._clock()
            return replace(
                cleared, password_hash=new_hash, security_stamp=new_stamp(), session_ids=(), access_tokens=(), sessions=(),
                email_verified_at=verified,
            )

        try:
            user = self._users.modify(email, reset)
        except UserNotFound:
            raise InvalidToken("This reset token is not valid.") from None
        self._failures.forget(email)  # a count the failure store holds for the address, too
        return user
