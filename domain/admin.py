"""What an administrator may do to other accounts, and what nobody may do to themselves."""

from __future__ import annotations

from dataclasses import replace

from domain.accounts import new_stamp
from domain.errors import NotPermitted, SelfLockout, UserNotFound, ValidationError
from domain.search import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, UserPage, query_terms
from domain.user import User, check_name, email_spellings
from domain.users import Users

EDITABLE_FIELDS = ("is_active", "is_admin", "first_name", "last_name")


class AdminService:
    """Every method takes the acting user first and refuses non-admins with NotPermitted."""

    def __init__(self, users: Users) -> None:
        self._users = users

    def search(self, actor: User, query: str = "", limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> UserPage:
        _require_admin(actor)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValidationError("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        return self._users.search(query_terms(query), limit, cursor)

    def get(self, actor: User, email_address: object) -> User:
        _require_admin(actor)
        return self.find(email_address)

    def update(self, actor: User, email_address: object, changes: dict[str, object]) -> User:
        """Change flags and names. Deactivating ends every session of the user at once."""
        _require_admin(actor)
        values: dict[str, object] = {}
        for name in ("is_active", "is_admin"):
            if name in changes:
                if not isinstance(changes[name], bool):
                    raise ValidationError(name, "must be true or false")
                values[name] = changes[name]
        for name in ("first_name", "last_name"):
            if name in changes:
                values[name] = check_name(changes[name], name)
        email = self.find(email_address).email_address
        if email == actor.email_address and (values.get("is_active") is False or values.get("is_admin") is False):
            raise SelfLockout("an administrator cannot deactivate or demote themselves")
        return self.apply(email, values)

    def delete(self, actor: User, email_address: object) -> None:
        """Remove the user; their sessions end with them."""
        _require_admin(actor)
        email = self.find(email_address).email_address
        if email == actor.email_address:
            raise SelfLockout("an administrator cannot delete themselves")
        if not self._users.delete(email):
            raise UserNotFound()

    def find(self, email_address: object) -> User:
        """The user of this address, under whichever spelling it is stored (email_spellings)."""
        user = self._users.find(email_spellings(email_address))
        if user is None:
            raise UserNotFound()
        return user

    def apply(self, email_address: str, values: dict[str, object]) -> User:
        """Write changes with no actor to check: for the operator's command line."""

        def change(current: User) -> User:
            updated = replace(current, **values)
            if current.is_active and not updated.is_active:
                updated = replace(updated, session_ids=(), sessions=(), security_stamp=new_stamp())
            return updated

        return self._users.modify(email_address, change)


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotPermitted("administrators only")
