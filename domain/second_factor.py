"""The second factor: TOTP (RFC 6238) and single-use recovery codes, and the pending sign-in.

The two-step sign-in is factor-agnostic on purpose: AuthService.finish_login takes a
`SecondFactorCheck` (a function of the current user), so another factor (passkeys) plugs in
by writing its own check; TOTP's is `TotpService.check(code)`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable

from domain.errors import InvalidSecondFactor, LoginThrottled, SecondFactorState, SessionInvalid, UserNotFound, VersionConflict
from domain.throttle import FailureCounter
from domain.user import User
from domain.users import Users
from ports.clock import Clock
from ports.one_time_codes import OneTimeCodes
from ports.secret_box import SecretBox

SecondFactorCheck = Callable[[User], "User | None"]
"""Given the user as stored now, the user with this proof's use recorded (a TOTP time step, a
recovery code spent, a passkey's counter) or None when the proof is wrong. Called inside a
guarded update, maybe more than once if a concurrent write forces a retry, so it must depend on
the user and the proof only."""

TOTP_DIGITS = 6
"""Digits of a code; the codes port (infrastructure.second_factor.pyotp_codes) makes them this long."""
TOTP_INTERVAL_S = 30
TOTP_DRIFT_STEPS = 1
"""Codes of the step before and after now are accepted too (RFC 6238 5.2: clock drift and the
time it takes to type)."""
RECOVERY_CODES = 10
RECOVERY_CODE_CHARS = 10
"""50 random bits each: ten are at most 2**-46.7 of the space, far beyond any throttled guessing,
so they are kept as SHA-256 digests (as tokens are), not slow hashes."""
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def credential_fingerprint(user: User) -> str:
    """What a pending sign-in is bound to: once the password changes or is reset (or the account
    is deactivated, which changes the stamp), a pending sign-in of the old password is dead."""
    return hashlib.sha256(f"pending|{user.password_hash}|{user.security_stamp}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PendingLogin:
    """A password proven, a second factor still owed. It opens nothing by itself: only
    AuthService.finish_login turns it into a session."""

    email_address: str
    started_at: datetime
    fingerprint: str
    methods: tuple[str, ...] = field(default=(), compare=False)
    """What may finish it (`second_factor_methods`), for the answer; not carried in the cookie."""


def second_factor_methods(user: User) -> tuple[str, ...]:
    """The second factors an account can sign in with; a factor added later adds its name here."""
    if not user.totp_enabled:
        return ()
    return ("totp", "recovery_code", "passkey") if user.passkeys else ("totp", "recovery_code")


@dataclass(frozen=True)
class Enrolment:
    """What the person needs to set up their authenticator app: shown once, at enrolment."""

    secret: str
    uri: str


def recovery_digest(code: str) -> str:
    return hashlib.sha256(f"esauth-recovery|{code}".encode()).hexdigest()


def _normalize(code: object) -> str | None:
    """A code as typed (spaces and dashes ignored, any case), or None when it is not text."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    return "".join(code.split()).replace("-", "").lower()


def recovery_codes_left(user: User) -> int:
    return len(user.recovery_codes) if user.totp_enabled else 0


def new_recovery_codes() -> tuple[str, ...]:
    """Ten codes written `xxxxx-xxxxx`, as the person is shown them."""
    codes = ("".join(secrets.choice(_BASE32) for _ in range(RECOVERY_CODE_CHARS)) for _ in range(RECOVERY_CODES))
    return tuple(f"{code[:5]}-{code[5:]}" for code in codes)


class TotpService:
    """Enrolment, confirmation and removal of TOTP, and the check both sign-in steps use.

    The secret is sealed with `box` before it is stored and never answered again after
    enrolment; an account's codes are accepted once each (the step is kept on the user and
    written by the same guarded update that accepts the code).
    """

    def __init__(
        self, users: Users, failures: FailureCounter, box: SecretBox, clock: Clock, codes: OneTimeCodes, issuer: str = "esauth"
    ) -> None:
        self._users = users
        self._codes = codes
        self._failures = failures
        self._box = box
        self._clock = clock
        self._issuer = issuer

    def begin(self, email_address: str) -> Enrolment:
        """Start (or restart) enrolment: a new secret, not yet in force until confirmed."""
        secret = self._codes.new_secret()

        def start(current: User) -> User:
            if current.totp_enabled:
                raise SecondFactorState("TOTP is already enabled; disable it first.")
            return replace(current, totp_secret=self._box.seal(secret), totp_last_step=0, recovery_codes=())

        self._modify(email_address, start)
        uri = self._codes.uri(secret, email_address, self._issuer)
        return Enrolment(secret, uri)

    def confirm(self, email_address: str, code: object) -> tuple[str, ...]:
        """Put the enrolment in force once a code from it is right; the recovery codes, shown
        only now (only their digests are kept)."""
        codes = new_recovery_codes()

        def confirm(current: User) -> User:
            if current.totp_enabled or not current.totp_secret:
                raise SecondFactorState("There is no TOTP enrolment to confirm; start one first.")
            used = self._totp_step(current, code)
            if used is None:
                raise InvalidSecondFactor()
            return replace(used, totp_enabled=True, recovery_codes=tuple(recovery_digest(_normalize(c) or "") for c in codes))

        self._modify(email_address, confirm)
        return codes

    def disable(self, email_address: str, code: object) -> User:
        """Remove TOTP and the recovery codes, given a code of either (throttled like a password)."""
        user = self._users.get(email_address)
        if user is None:
            raise SessionInvalid("the account is gone")
        if not user.totp_enabled:
            raise SecondFactorState("TOTP is not enabled.")
        return prove(self._users, self._failures, user, self.check(code), then=_without_totp)

    def check(self, code: object) -> SecondFactorCheck:
        """The check of a TOTP code or a recovery code against an account with TOTP enabled."""
        return lambda user: self.verify(user, code)

    @staticmethod
    def kind(code: object) -> str:
        """Which factor a code is, as audit lines name it (never the code)."""
        typed = _normalize(code)
        return "totp" if typed is not None and len(typed) == TOTP_DIGITS and typed.isdigit() else "recovery_code"

    def verify(self, user: User, code: object) -> User | None:
        if not user.totp_enabled:
            return None
        typed = _normalize(code)
        if typed is None:
            return None
        if len(typed) == TOTP_DIGITS and typed.isdigit():
            return self._totp_step(user, typed)
        digest = recovery_digest(typed)
        if not any(hmac.compare_digest(digest, kept) for kept in user.recovery_codes):
            return None
        return replace(user, recovery_codes=tuple(kept for kept in user.recovery_codes if kept != digest))

    def _totp_step(self, user: User, code: object) -> User | None:
        """The user with the matching step recorded, or None: a wrong code, or one of a step
        already used (a replay) or before it."""
        typed = _normalize(code)
        secret = self._box.open(user.totp_secret) if user.totp_secret else None
        if typed is None or secret is None or len(typed) != TOTP_DIGITS or not typed.isdigit():
            return None
        now = self._codes.step(self._clock())
        for step in range(now - TOTP_DRIFT_STEPS, now + TOTP_DRIFT_STEPS + 1):
            if step > user.totp_last_step and hmac.compare_digest(self._codes.code(secret, step), typed):
                sealed = user.totp_secret if self._box.is_current(user.totp_secret) else self._box.seal(secret)
                return replace(user, totp_last_step=step, totp_secret=sealed)
        return None

    def _modify(self, email_address: str, change: Callable[[User], User]) -> User:
        try:
            return self._users.modify(email_address, change)
        except UserNotFound:
            raise SessionInvalid("the account is gone") from None


def _without_totp(user: User) -> User:
    return replace(user, totp_secret="", totp_enabled=False, totp_last_step=0, recovery_codes=())


def prove(
    users: Users, failures: FailureCounter, user: User, check: SecondFactorCheck, then: Callable[[User], User] = lambda u: u
) -> User:
    """Check a factor for a signed-in user, throttled like a password: a wrong proof is a failed
    login for the account, a right one clears the count and is written with `then` applied.
    The count is checked again over the user the outcome is written on, as at login."""
    failures.check_user(user)
    proven = False

    def settle(current: User) -> User:
        nonlocal proven
        failures.check_user(current)
        used = check(current)
        proven = used is not None
        return then(failures.cleared(used)) if used is not None else failures.failed(current)

    try:
        written = users.modify(user.email_address, settle, read=user)
    except UserNotFound:
        raise SessionInvalid("the account is gone") from None
    except VersionConflict:
        raise LoginThrottled(1) from None
    if not proven:
        raise InvalidSecondFactor()
    return written
