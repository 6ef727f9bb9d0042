"""Proving an address (verification) and moving an account to a new one (email change)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from domain.accounts import AccountService, new_stamp
from domain.errors import InvalidToken, SessionInvalid, UserNotFound, ValidationError
from domain.mail_cooldown import MailCooldown
from domain.session import Session
from domain.user import User, check_text, email_spellings, normalize_email
from domain.users import Users
from ports.clock import Clock
from ports.notifier import Notifier
from ports.tasks import Defer, run_now
from ports.tokens import TokenSigner

VERIFICATION_MODES = ("off", "optional", "required")
"""off: no message at sign-up and nothing asked; optional: a message at sign-up, and the address
shown as verified once its link is followed; required: as optional, and no login until then."""
TOKEN_LIFETIME = timedelta(hours=24)
VERIFY, CHANGE = "v", "c"


def change_fingerprint(user: User) -> str:
    """Binds a change token to the request it answers and to the account's credentials: a newer
    request, a password change or reset, or a deactivation (each changes one of these) kills it."""
    text = f"{user.pending_email}|{user.security_stamp}|{user.password_hash}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class EmailAddresses:
    """The rules of an account's address past sign-up.

    Every message goes out through `defer`, like password resets, so an answer never waits for
    (or tells, by its time) what was found or sent; and each claims the address's MailCooldown
    first, the one resets claim too, so no mix of requests mails an address more than once per
    period.
    """

    def __init__(
        self,
        users: Users,
        accounts: AccountService,
        clock: Clock,
        tokens: TokenSigner,
        notifier: Notifier,
        cooldown: MailCooldown,
        mode: str = "optional",
        defer: Defer = run_now,
    ) -> None:
        if mode not in VERIFICATION_MODES:
            raise ValueError(f"unknown email verification mode {mode!r}")
        self._users = users
        self._accounts = accounts
        self._clock = clock
        self._tokens = tokens
        self._notifier = notifier
        self._cooldown = cooldown
        self.mode = mode
        self._defer = defer

    @property
    def required(self) -> bool:
        return self.mode == "required"

    # -- verification -----------------------------------------------------------------------

    def welcome(self, user: User) -> None:
        """After sign-up: send the new address its link (unless verification is off)."""
        if self.mode != "off":
            self._defer(lambda: self._send_verification((user.email_address,)))

    def resend(self, email_address: object) -> None:
        """Send a new link if the address has an active, unverified account; nothing visible
        otherwise (the same answer, in the same time, for every address)."""
        spellings = email_spellings(email_address)
        if self.mode != "off":
            self._defer(lambda: self._send_verification(spellings))

    def _send_verification(self, spellings: tuple[str, ...]) -> None:
        user = self._users.find(spellings)
        if user is None or not user.is_active or user.email_verified_at is not None:
            return
        email = user.email_address
        if not self._cooldown.claim(email):
            return
        self._notifier.send_email_verification(email, self._sign(VERIFY, user, email))

    def verify(self, token: object) -> tuple[str, User]:
        """Follow a link: ("verified", user) for a sign-up's or a re-sent one, ("changed",
        user) for an email change, which then takes effect. InvalidToken for a tampered,
        expired, used or superseded one; UserAlreadyExists if the new address was taken since
        the change was asked for (only the holder of that mailbox's token learns it)."""
        token = check_text(token, "token")
        payload = self._tokens.unsign(token)
        try:
            kind, user_id, email = str(payload["k"]), str(payload["i"]), str(payload["a"])
            expires = datetime.fromtimestamp(int(payload["x"]), timezone.utc)
            new_email = str(payload["n"]) if kind == CHANGE else None
            fingerprint = str(payload.get("h", ""))
        except (KeyError, TypeError, ValueError, OverflowError):
            raise InvalidToken("This confirmation token is not valid.") from None
        if kind not in (VERIFY, CHANGE):
            raise InvalidToken("This confirmation token is not valid.")
        if self._clock() > expires:
            raise InvalidToken("This confirmation token has expired; ask for a new one.")
        if new_email is None:
            return "verified", self._mark_verified(user_id, email)
        return "changed", self._change(user_id, email, new_email, fingerprint)

    def _mark_verified(self, user_id: str, email: str) -> User:
        now = self._clock()

        def mark(current: User) -> User:
            if current.user_id != user_id:
                raise InvalidToken("This confirmation token is not valid.")  # another account since
            return current if current.email_verified_at else replace(current, email_verified_at=now)

        try:
            return self._users.modify(email, mark)
        except UserNotFound:
            raise InvalidToken("This confirmation token is not valid.") from None

    # -- change -----------------------------------------------------------------------------

    def request_change(self, session: Session, current_password: object, new_email_address: object) -> User:
        """Ask to move the account to a new address, proving the password again (a wrong one
        counts as a failed login). Nothing changes but the pending request until the link
        sent to the new address is followed; a taken address gets no message, and the answer
        does not say so."""
        new_email = normalize_email(new_email_address, "new_email_address")
        check_text(current_password, "current_password")
        email = session.email_address
        if new_email == email:
            raise ValidationError("new_email_address", "is already your address")
        self._accounts.confirm_password(email, current_password)

        def ask(current: User) -> User:
            if not current.is_active:
                raise SessionInvalid("the account is deactivated")
            return replace(current, pending_email=new_email)

        try:
            user = self._users.modify(email, ask)
        except UserNotFound:
            raise SessionInvalid("the account is gone") from None
        self._defer(lambda: self._send_change(email, new_email))
        return user

    def _send_change(self, email: str, new_email: str) -> None:
        user = self._users.get(email)
        if user is None or user.pending_email != new_email:
            return  # a newer request replaced it
        if self._users.get(new_email) is not None:
            return  # taken: the move would be refused; nothing to prove
        if not self._cooldown.claim(new_email):
            return
        self._notifier.send_email_verification(new_email, self._sign(CHANGE, user, email, new_email), change=True)

    def _change(self, user_id: str, email: str, new_email: str, fingerprint: str) -> User:
        now = self._clock()

        def move(current: User) -> User:
            if current.user_id != user_id or current.pending_email != new_email or change_fingerprint(current) != fingerprint:
                raise InvalidToken("This confirmation token was already used, or replaced by a newer request, or the password changed since.")
            if not current.is_active:
                raise InvalidToken("This account is deactivated.")
            # Sessions name the address, so they end; a new login uses the new one. Reset
            # tokens for the old address die with the stamp. Access tokens name the id: they stay.
            return replace(
                current, pending_email=None, email_verified_at=now, session_ids=(), sessions=(), security_stamp=new_stamp()
            )

        try:
            user = self._users.move(email, new_email, move)
        except UserNotFound:
            raise InvalidToken("This confirmation token is not valid.") from None
        self._defer(lambda: self._notifier.send_email_changed(email, new_email))
        return user

    def _sign(self, kind: str, user: User, email: str, new_email: str | None = None) -> str:
        payload: dict[str, object] = {
            "k": kind, "i": user.user_id, "a": email, "x": int((self._clock() + TOKEN_LIFETIME).timestamp()),
        }
        if new_email is not None:
            payload.update(n=new_email, h=change_fingerprint(user))
        return self._tokens.sign(payload)
