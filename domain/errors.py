"""Every rule the domain enforces fails with one of these: one base, flat subclasses."""


class AuthError(Exception):
    """Base of every error esauth raises on purpose."""


class ValidationError(AuthError):
    """Input breaks a rule; `field` names the offending field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class UserAlreadyExists(AuthError):
    def __init__(self, email_address: str) -> None:
        super().__init__(email_address)
        self.email_address = email_address


class UserNotFound(AuthError):
    pass


class InvalidCredentials(AuthError):
    """Unknown email or wrong password: deliberately indistinguishable."""


class InactiveUser(AuthError):
    pass


class LoginThrottled(AuthError):
    """Too many consecutive failures for this account (known or not): wait `retry_after_s`."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class DeviceLocked(LoginThrottled):
    """The device cookie the attempt came with failed too often: this device waits `retry_after_s`
    (answered like any throttled login; told apart in the audit log)."""


class SessionInvalid(AuthError):
    """No session, or one that is tampered, revoked or for a user who is gone."""


class SessionNotFound(AuthError):
    """No live session of the caller has this id."""


class SessionExpired(AuthError):
    pass


class TokenRefused(AuthError):
    """A bearer token that is malformed, unknown, revoked, expired or of a deactivated user:
    deliberately indistinguishable, so a guess learns nothing about which tokens exist.
    `user_id` is the user id a well-formed token names (whether or not it exists), for the
    audit log only."""

    def __init__(self, reason: str, user_id: str | None = None) -> None:
        super().__init__(reason)
        self.user_id = user_id


class SessionRequired(AuthError):
    """A bearer token was used where only a login session may act (credentials, tokens)."""


class TooManyTokens(AuthError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} tokens")
        self.limit = limit


class TokenNotFound(AuthError):
    """No token with that id among the caller's own."""


class InvalidToken(AuthError):
    """A token that is tampered, expired, already used or for a changed password; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotPermitted(AuthError):
    """The user is logged in but may not do this (not an admin)."""


class SelfLockout(AuthError):
    """An admin tried to remove their own admin flag or deactivate themselves."""


class VersionConflict(AuthError):
    """Someone else wrote the user since it was read."""


class StoreUnavailable(AuthError):
    """The user store did not answer; the request may be retried later."""


class StoreAccessDenied(StoreUnavailable):
    """The store answered but refused esauth's credentials (401) or their privileges (403)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class StoreNeedsInit(StoreUnavailable):
    """The store is there but cannot be served as it is; the message says why and what repairs it."""


class EmailNotVerified(AuthError):
    """The password was right, but the account's address is not proved yet and the service
    requires it (ESAUTH_EMAIL_VERIFICATION=required). Said only after the password was checked,
    so it tells nothing to someone without it."""


class PasskeyRefused(AuthError):
    """A WebAuthn answer that does not verify, or a challenge that is missing, expired, spent or
    not this session's; the reason is for the audit log only: the client is told one thing."""


class PasskeyNotFound(AuthError):
    """No passkey with that id among the caller's own."""


class TooManyPasskeys(AuthError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} passkeys")
        self.limit = limit


class SecondFactorRequired(AuthError):
    """The password was right and the account has a second factor: `pending` is what the second
    step (domain.second_factor.PendingLogin) must be shown; no session is open yet."""

    def __init__(self, pending: object) -> None:
        super().__init__("a second factor is required")
        self.pending = pending


class PendingLoginInvalid(AuthError):
    """No pending sign-in, or one that expired, was tampered with, or whose password changed."""


class InvalidSecondFactor(AuthError):
    """A second-factor code (TOTP or recovery) that is wrong, malformed or already used."""


class ReauthenticationRequired(AuthError):
    """The session is older than the sudo window: prove the password or a factor again first."""


class SecondFactorState(AuthError):
    """Enrolment asked in the wrong state (already enabled, nothing to confirm); `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
