"""The auth rules: register, log in, log out, and resolve a session to its user."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable

from domain.errors import (
    EmailNotVerified,
    InactiveUser,
    InvalidCredentials,
    InvalidSecondFactor,
    PendingLoginInvalid,
    SecondFactorRequired,
    LoginThrottled,
    SessionInvalid,
    SessionNotFound,
    StoreUnavailable,
    UserAlreadyExists,
    UserNotFound,
    ValidationError,
    VersionConflict,
)
from domain.devices import DeviceCookie, issue_device_cookie
from domain.passwords import PasswordRules
from domain.second_factor import PendingLogin, SecondFactorCheck, credential_fingerprint, prove, second_factor_methods
from domain.session import Session, SessionRecord
from domain.throttle import FailureCounter, TrustedDevice
from domain.user import User, check_name, check_text, email_spellings, normalize_email
from domain.users import Users
from ports.breached_passwords import BreachedPasswords
from ports.clock import Clock
from ports.hasher import PasswordHasher
from ports.login_failures import FailureRecord
from ports.password_screen import PasswordScreen

MAX_LIVE_SESSIONS = 10
"""Live sessions kept per user; logging in an eleventh time ends the oldest."""
PENDING_LOGIN_LIFETIME = timedelta(minutes=5)
"""How long a proven password waits for its second factor."""


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


class AuthService:
    """Holds the rules and calls the ports; knows nothing of HTTP or of any store."""

    def __init__(
        self,
        users: Users,
        hasher: PasswordHasher,
        clock: Clock,
        failures: FailureCounter,
        new_session_id: Callable[[], str] = new_session_id,
        *,
        screen: PasswordScreen,
        breached: BreachedPasswords | None = None,
        require_verified_email: bool = False,
        pending_lifetime: timedelta = PENDING_LOGIN_LIFETIME,
    ) -> None:
        """`require_verified_email` (ESAUTH_EMAIL_VERIFICATION=required) opens no session for an
        account whose address is not proved yet: EmailNotVerified, once the password is right."""
        self._require_verified = require_verified_email
        self._users = users
        self._pending_lifetime = pending_lifetime
        self._passwords = PasswordRules(screen, breached)
        self._hasher = hasher
        self._clock = clock
        self._failures = failures
        self._new_session_id = new_session_id
        # Verified against when the email is unknown, so that answering "no such user"
        # costs the same hash as "wrong password" and timing does not reveal accounts.
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    @property
    def store_kind(self) -> str:
        return self._users.kind

    def check_store(self) -> None:
        self._users.check()

    def check_store_writes(self) -> None:
        """Raise StoreUnavailable unless the store takes a write (readiness: a store that only
        reads cannot log anyone in, since every login is a write)."""
        self._failures.probe_write()

    def register(
        self,
        email_address: object,
        password: object,
        first_name: object = None,
        last_name: object = None,
        is_admin: bool = False,
    ) -> User:
        """Create a user. The store's atomic create decides a race: the loser gets UserAlreadyExists."""
        user = User(
            email_address=normalize_email(email_address),
            password_hash="",
            created_at=self._clock(),
            first_name=check_name(first_name, "first_name"),
            last_name=check_name(last_name, "last_name"),
            is_admin=is_admin,
        )
        # Before any account is read: a refused password is refused alike for a taken address,
        # as a too-short one always was, so this answer tells nothing about accounts.
        password = self._passwords.check(password, "password", user.email_address)
        for earlier in email_spellings(email_address)[:-1]:
            # An account an earlier release stored under this spelling is this address's account.
            # No race: no release stores that spelling any more, so it can only disappear.
            if self._users.get(earlier) is not None:
                raise UserAlreadyExists(user.email_address)
        return self._users.add(replace(user, password_hash=self._hasher.hash(password)))

    def login(
        self,
        email_address: object,
        password: object,
        device: str = "",
        client: str = "",
        device_cookie: DeviceCookie | None = None,
    ) -> tuple[User, Session]:
        """Check the credentials and open a new session (a new id each time: no fixation), which
        carries a new device cookie for the client to keep.

        Unknown emails cost the same reads, hash and write and are throttled the same way as
        known ones, so neither the answer, its timing nor the throttling tells whether an
        account exists. A registered account's outcome (a failure counted, or the count cleared
        and a session opened) is one guarded write of the user; see FailureCounter for why
        answers cannot outrun the count.

        With the account's own `device_cookie` (signature already checked by the caller) the
        attempt counts in that device's bucket instead (see FailureCounter): the account's
        count for untrusted clients neither holds it back nor is cleared by it, and a failure
        is one guarded write of the device's count.

        An account with a second factor gets no session for its password: SecondFactorRequired
        carries the PendingLogin that `finish_login` completes. Its count is left as it was (not
        cleared), so knowing the password never resets the throttle on guessing codes.
        """
        password = check_text(password, "password")
        if not isinstance(email_address, str):
            raise ValidationError("email_address", "must be a string")
        try:
            spellings = email_spellings(email_address)
        except ValidationError:
            spellings = ()  # a malformed address is just an unknown one
        user = self._users.find(spellings)
        stored = self._failures.read(email_address)
        trusted = self._failures.trusted_device(device_cookie, user)
        if trusted is None:
            self._failures.check_untrusted(stored)
        if user is None:
            self._hasher.verify(self._dummy_hash, password)
            self._failures.count_unknown(email_address, stored)
            raise InvalidCredentials()
        if trusted is None:
            self._failures.check_user(user, stored)
        right = self._hasher.verify(user.password_hash, password)
        if trusted is not None:
            if not right:
                self._failures.device_failed(trusted)
                raise InvalidCredentials()
            self._failures.recheck_device(trusted)
        written, session = self._settle(user, password, right, stored, device, client, trusted)
        if trusted is not None:
            self._failures.forget_device(trusted)
        elif stored is not None and session is not None:
            self._failures.forget(email_address)  # with a second factor owed, finish_login does
        self._upgrade_hash(written, password)
        if session is None:
            pending = PendingLogin(
                written.email_address, self._clock(), credential_fingerprint(written), second_factor_methods(written)
            )
            raise SecondFactorRequired(pending)
        return written, replace(session, device_cookie=issue_device_cookie(written))

    def _settle(
        self,
        user: User,
        password: str,
        right: bool,
        stored: FailureRecord | None,
        device: str = "",
        client: str = "",
        trusted: TrustedDevice | None = None,
    ) -> tuple[User, Session | None]:
        """Write what the attempt came to over the latest user, before any other work: a failure
        counted, or the count cleared and (for an active account) a session opened; None for
        the session of an account whose second factor is still owed (its count kept). From a
        trusted device the untrusted count is neither checked nor cleared (an attacker's
        failures elsewhere must not be forgiven by the user's login)."""
        session = self._new_session(user.email_address)
        verified_hash = user.password_hash
        evicted: tuple[str, ...] = ()
        owed = False

        def settle(current: User) -> User:
            nonlocal verified_hash, right, evicted, owed
            if trusted is None:
                self._failures.check_user(current, stored)  # others' failures got there first: withhold
            if current.password_hash != verified_hash:
                # The password (or its hash) changed since we checked: check again, so a
                # concurrent password change is never undone by this login.
                right = self._hasher.verify(current.password_hash, password)
                verified_hash = current.password_hash
            if not right:
                return current if trusted is not None else self._failures.failed(current, stored)
            # An unconfirmed address is refused (below) before any second step is offered.
            owed = current.is_active and current.has_second_factor and not self._refuses_unverified(current)
            if owed:
                return current  # written anyway (a decision on the read), so it costs what others cost
            cleared = current if trusted is not None else self._failures.cleared(current)
            if not current.is_active or self._refuses_unverified(current):
                return cleared
            opened, evicted = _opened(cleared, session, device, client)
            return opened

        try:
            written = self._users.modify(user.email_address, settle, read=user)
        except UserNotFound:
            raise InvalidCredentials() from None  # deleted while logging in
        except VersionConflict:
            raise LoginThrottled(1) from None  # as an unknown address's count answers a crowd
        if not right:
            if trusted is not None:
                self._failures.device_failed(trusted)  # the password changed under this attempt
            raise InvalidCredentials()
        if not written.is_active:
            raise InactiveUser()
        if self._refuses_unverified(written):
            raise EmailNotVerified()
        return written, None if owed else replace(session, evicted=evicted)

    def _new_session(self, email_address: str) -> Session:
        now = self._clock()
        return Session(email_address, self._new_session_id(), issued_at=now, last_seen=now, authenticated_at=now)

    def finish_login(
        self,
        pending: PendingLogin,
        check: SecondFactorCheck,
        device: str = "",
        client: str = "",
        device_cookie: DeviceCookie | None = None,
    ) -> tuple[User, Session]:
        """The second step: open the session of a PendingLogin once `check` accepts its proof.

        Throttled as the password is: a wrong proof is a failed login of the account, written
        (after checking the count again) by the same guarded update that would have opened the
        session, and a right one clears the count. PendingLoginInvalid when the pending sign-in
        expired, or its password was changed or reset meanwhile, or the account is gone,
        deactivated or has no second factor any more.

        From the account's own device (`device_cookie`, as at login) a wrong proof counts in
        that device's bucket instead, and the account's count neither holds it back nor is
        cleared by it: failures from elsewhere cannot keep the user's own browser out at this
        step either. The session carries a new device cookie, as a one-step login's does."""
        now = self._clock()
        if not timedelta(0) <= now - pending.started_at <= self._pending_lifetime:
            raise PendingLoginInvalid("the pending sign-in expired")
        user = self._users.get(pending.email_address)
        if user is None:
            raise PendingLoginInvalid("the account is gone")
        trusted = self._failures.trusted_device(device_cookie, user)
        session = self._new_session(user.email_address)
        evicted: tuple[str, ...] = ()
        proven = False

        def settle(current: User) -> User:
            nonlocal evicted, proven
            if not current.is_active or not current.has_second_factor or credential_fingerprint(current) != pending.fingerprint:
                raise PendingLoginInvalid("the account changed since the password was checked")
            if trusted is None:
                self._failures.check_user(current)
            used = check(current)
            proven = used is not None
            if used is None:
                return current if trusted is not None else self._failures.failed(current)
            opened, evicted = _opened(used if trusted is not None else self._failures.cleared(used), session, device, client)
            return opened

        try:
            written = self._users.modify(pending.email_address, settle, read=user)
        except UserNotFound:
            raise PendingLoginInvalid("the account is gone") from None
        except VersionConflict:
            raise LoginThrottled(1) from None
        if not proven:
            if trusted is not None:
                self._failures.device_failed(trusted)
            raise InvalidSecondFactor()
        # As a one-step login does once it succeeds: the device's old count, or a count the
        # failure store holds for the address (from before the account), is dropped, best effort.
        if trusted is not None:
            self._failures.forget_device(trusted)
        else:
            self._failures.forget(pending.email_address)
        return written, replace(session, evicted=evicted, device_cookie=issue_device_cookie(written))

    def open_verified_session(
        self, email_address: str, change: Callable[[User], User], device: str = "", client: str = "", read: User | None = None
    ) -> tuple[User, Session]:
        """A session for a user that another proof than the password verified (a passkey), in
        one guarded write with `change` (which may raise to refuse, e.g. a spent challenge).

        The password throttle neither holds nor clears it: a passkey cannot be guessed, so an
        attacker's wrong passwords must not keep its owner out, and clearing their count would
        hand that attacker fresh free guesses. An address not proved yet opens no session when
        the service requires it (as at a password login): a passkey proves the person, not
        their mailbox."""
        session = self._new_session(email_address)
        evicted: tuple[str, ...] = ()

        def open_session(current: User) -> User:
            nonlocal evicted
            changed = change(current)
            if not changed.is_active or self._refuses_unverified(changed):
                return changed
            opened, evicted = _opened(changed, session, device, client)
            return opened

        written = self._users.modify(email_address, open_session, read=read)
        if not written.is_active:
            raise InactiveUser(email_address)
        if self._refuses_unverified(written):
            raise EmailNotVerified()
        # The browser of someone who proved the account: its device cookie, as a login gives.
        return written, replace(session, evicted=evicted, device_cookie=issue_device_cookie(written))


    def reauthenticate(self, session: Session, password: object = None, check: SecondFactorCheck | None = None) -> Session:
        """Prove the password or a second factor again (sudo mode): the same session, its
        `authenticated_at` now. Throttled as a login: a wrong proof counts as a failed one."""
        user = self._users.get(session.email_address)
        if user is None or not _accepts(user, session):
            raise SessionInvalid("the session is not valid")
        if check is None:
            password = check_text(password, "password")
            self._failures.check_user(user)  # no hash for an attempt the count already throttles
            right = self._hasher.verify(user.password_hash, password)
            verified = user.password_hash

            def check(current: User) -> User | None:
                return current if right and current.password_hash == verified else None

            try:
                prove(self._users, self._failures, user, check)
            except InvalidSecondFactor:
                raise ValidationError("password", "is not correct") from None
        else:
            prove(self._users, self._failures, user, check)
        return replace(session, authenticated_at=self._clock())

    def _refuses_unverified(self, user: User) -> bool:
        return self._require_verified and user.email_verified_at is None

    def _upgrade_hash(self, user: User, password: str) -> None:
        """Re-hash with the configured parameters once the login is written (never before: a
        withheld answer must not take longer for a right password). Best effort: a failure
        leaves the old hash for the next login to upgrade."""
        if not self._hasher.needs_rehash(user.password_hash):
            return
        old_hash, new_hash = user.password_hash, self._hasher.hash(password)

        def upgrade(current: User) -> User:
            return replace(current, password_hash=new_hash) if current.password_hash == old_hash else current

        try:
            self._users.modify(user.email_address, upgrade, read=user)
        except (UserNotFound, VersionConflict, StoreUnavailable):
            pass

    def session_user(self, session: Session, fresh: bool = False) -> User:
        """The user a live session belongs to; SessionInvalid if it was revoked or the user is gone.

        `fresh` reads the store instead of this process's session view (which a change made
        elsewhere reaches within its bound): for decisions that must see it at once, such as
        administrator rights.
        """
        user = self._users.refresh(session.email_address) if fresh else self._users.recent(session.email_address)
        if not fresh and not _accepts(user, session):
            # The view is trusted to accept, never to refuse: a login on another process may be
            # newer than what this one remembers.
            user = self._users.refresh(session.email_address)
        if not _accepts(user, session):
            raise SessionInvalid("session is not valid")
        return user

    def live_sessions(self, user: User) -> tuple[SessionRecord, ...]:
        """The user's live sessions, newest first; one opened by an earlier release, which kept
        no record, is shown from what is known (its id)."""
        known = {record.session_id: record for record in user.sessions}
        records = [known.get(sid) or SessionRecord(sid, None, None) for sid in user.session_ids]
        return tuple(reversed(records))

    def end_session(self, session: Session, session_id: str) -> None:
        """End one of the caller's live sessions (their own included); SessionNotFound if none
        has this id, so one user can never end another's."""

        def end(current: User) -> User:
            if session_id not in current.session_ids:
                raise SessionNotFound(session_id)
            return _keep_sessions(current, tuple(sid for sid in current.session_ids if sid != session_id))

        try:
            self._users.modify(session.email_address, end)
        except UserNotFound:
            raise SessionInvalid("the account is gone") from None

    def seen(self, session: Session, now: datetime) -> None:
        """Note that a session is in use (called when it is re-issued). Best effort: a store
        that does not answer costs the person nothing but a staler "last seen"."""

        def note(current: User) -> User:
            records = tuple(
                replace(record, last_seen_at=now) if record.session_id == session.session_id else record
                for record in current.sessions
            )
            return replace(current, sessions=records)

        try:
            self._users.modify(session.email_address, note)
        except (UserNotFound, VersionConflict, StoreUnavailable):
            pass

    def logout(self, session: Session) -> None:
        """Revoke this one session; the user's other sessions stay live."""
        self._revoke(session.email_address, lambda live: tuple(s for s in live if s != session.session_id))

    def logout_all(self, session: Session) -> int:
        """Revoke every session of the user, this one included, and every personal access token;
        returns how many tokens ended. It is what a person presses when someone else may have
        their account: a token made by that someone would outlive every session ended here."""
        ended: list[int] = []

        def end_all(current: User) -> User:
            ended[:] = [len(current.access_tokens)]
            return replace(_keep_sessions(current, ()), access_tokens=())

        try:
            self._users.modify(session.email_address, end_all)
        except UserNotFound:
            return 0
        return ended[0]

    def _revoke(self, email_address: str, keep: Callable[[tuple[str, ...]], tuple[str, ...]]) -> None:
        try:
            self._users.modify(email_address, lambda current: _keep_sessions(current, keep(current.session_ids)))
        except UserNotFound:
            pass


def _opened(user: User, session: Session, device: str, client: str) -> tuple[User, tuple[str, ...]]:
    """The user with `session` live (the oldest ended past the cap, returned as evicted) and
    the login counted."""
    now = session.issued_at
    live = (*user.session_ids, session.session_id)[-MAX_LIVE_SESSIONS:]
    evicted = tuple(kept for kept in user.session_ids if kept not in live)
    record = SessionRecord(session.session_id, now, now, device, client)
    opened = replace(
        user,
        session_ids=live,
        sessions=_records_of(live, (*user.sessions, record)),
        last_login_at=now,
        login_count=user.login_count + 1,
    )
    return opened, evicted


def _keep_sessions(user: User, live: tuple[str, ...]) -> User:
    return replace(user, session_ids=live, sessions=_records_of(live, user.sessions))


def _records_of(live: tuple[str, ...], records: tuple[SessionRecord, ...]) -> tuple[SessionRecord, ...]:
    """The records of the live ids only, so stale ones never pile up on the user."""
    return tuple(record for record in records if record.session_id in live)


def _accepts(user: User | None, session: Session) -> bool:
    return user is not None and user.is_active and session.session_id in user.session_ids
