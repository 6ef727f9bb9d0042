"""Administration of other accounts: /v1/users/{email} (the search is on the users collection)."""

from __future__ import annotations

import falcon

from domain.admin import EDITABLE_FIELDS, AdminService
from domain.errors import ValidationError
from domain.search import DEFAULT_PAGE_SIZE, UserPage
from entrypoints.http.audit import AuditLog
from entrypoints.http.json_body import check_fields, read_object
from entrypoints.http.representations import account_view


def search_params(req: falcon.Request) -> tuple[str, int, str | None]:
    """q, limit and cursor from the query string, each refused by name when malformed."""
    query = req.get_param("q") or ""
    raw_limit = req.get_param("limit")
    try:
        limit = DEFAULT_PAGE_SIZE if raw_limit is None else int(raw_limit)
    except ValueError:
        raise ValidationError("limit", "must be a whole number") from None
    return query, limit, req.get_param("cursor") or None


def page_body(page: UserPage) -> dict:
    return {
        "message": f"{len(page.users)} users",
        "success": True,
        "data": {"users": [account_view(user) for user in page.users], "next_cursor": page.next_cursor},
    }


class UserResource:
    login_required = admin_required = True

    def __init__(self, admin: AdminService, audit: AuditLog) -> None:
        self._admin = admin
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        user = self._admin.get(req.context.user, email)
        resp.media = {"message": f"'{user.email_address}'", "success": True, "data": account_view(user)}

    def on_patch(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        body = read_object(req)
        check_fields(body, (), EDITABLE_FIELDS)
        if not body:
            raise ValidationError("body", f"name at least one of {', '.join(EDITABLE_FIELDS)}")
        user = self._admin.update(req.context.user, email, body)
        self._audit.record(req, "admin_user_updated", user.email_address, by=self._audit.user_ref(req.context.user.email_address), fields=sorted(body))
        resp.media = {"message": f"'{user.email_address}' updated.", "success": True, "data": account_view(user)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, email: str) -> None:
        self._admin.delete(req.context.user, email)
        self._audit.record(req, "admin_user_deleted", email, by=self._audit.user_ref(req.context.user.email_address))
        resp.media = {"message": "User deleted.", "success": True}
