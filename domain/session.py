"""What a login session is and when it ends; signing it into a cookie is the HTTP layer's job."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.devices import DeviceCookie
from domain.errors import ReauthenticationRequired, SessionExpired


@dataclass(frozen=True, slots=True)
class Session:
    """One login of one user. `issued_at` starts the absolute clock, `last_seen` the idle one."""

    email_address: str
    session_id: str
    issued_at: datetime
    last_seen: datetime
    evicted: tuple[str, ...] = field(default=(), compare=False)
    """Sessions this login ended because the user already had the most live sessions allowed."""
    device_cookie: DeviceCookie | None = field(default=None, compare=False)
    """The device cookie this login issued (a new nonce each time), for the client to keep."""
    authenticated_at: datetime | None = None
    """When its owner last proved a credential (at login, or re-authenticating for sudo mode);
    None for a cookie of an earlier release, which counts from `issued_at`."""

    @property
    def proven_at(self) -> datetime:
        return self.authenticated_at or self.issued_at


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """What a person is shown of one of their live sessions, kept on the user beside its id.

    `last_seen_at` moves when the session is re-issued (at most every quarter of the idle
    timeout), so it is coarse on purpose: no store write per request."""

    session_id: str
    created_at: datetime | None
    """None for a session opened by an earlier release, which kept no record."""
    last_seen_at: datetime | None
    device: str = ""
    client: str = ""


@dataclass(frozen=True)
class SessionPolicy:
    """Idle and absolute limits (OWASP ASVS 7.3), and how often an active session is re-issued.

    An active session is re-issued once a quarter of the idle timeout has passed, and never more
    often than every `refresh_after`: most responses carry no Set-Cookie, and a session used at
    least every three quarters of the idle timeout never ends for inactivity, however short the
    timeout (a fixed minute would end a 60 s one while its user is active).
    """

    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_lifetime: timedelta = timedelta(hours=12)
    refresh_after: timedelta = timedelta(minutes=1)
    sudo_max_age: timedelta = timedelta(minutes=15)
    """How recent a proven credential must be to change credentials (sudo mode)."""

    def check_recent(self, session: Session, now: datetime) -> None:
        """Raise ReauthenticationRequired unless the session proved a credential within
        `sudo_max_age`."""
        if now - session.proven_at > self.sudo_max_age:
            raise ReauthenticationRequired("re-authentication required")

    def check(self, session: Session, now: datetime) -> None:
        """Raise SessionExpired if either clock has run out."""
        if now - session.last_seen > self.idle_timeout:
            raise SessionExpired("session expired after inactivity")
        if now - session.issued_at > self.absolute_lifetime:
            raise SessionExpired("session reached its maximum lifetime")

    def touch(self, session: Session, now: datetime) -> Session | None:
        """The session to re-issue because it is in use, or None if it is fresh enough."""
        if self.fresh(session.last_seen, now):
            return None
        return replace(session, last_seen=now)

    def fresh(self, seen: datetime, now: datetime) -> bool:
        """Whether a session seen (or re-issued) at `seen` needs no new cookie yet."""
        return now - seen < min(self.refresh_after, self.idle_timeout / 4)

    def max_age(self, session: Session, now: datetime) -> int:
        """Seconds the cookie may live: the idle window, never past the absolute end."""
        remaining = min(self.idle_timeout, session.issued_at + self.absolute_lifetime - now)
        return max(0, int(remaining.total_seconds()))
