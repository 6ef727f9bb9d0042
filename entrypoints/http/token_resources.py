"""/v1/users/me/tokens: the caller's personal access tokens, managed with a login session only."""

from __future__ import annotations

from typing import Any

import falcon

from domain.access_tokens import AccessTokens, check_lifetime, check_token_name
from domain.accounts import AccountService
from domain.errors import ValidationError
from domain.timestamps import format_time
from domain.user import AccessToken
from entrypoints.http.audit import AuditLog
from entrypoints.http.json_body import check_fields, read_object


def token_view(token: AccessToken) -> dict[str, Any]:
    """A token as its owner sees it later: never the secret, which is not kept."""
    return {
        "id": token.token_id,
        "name": token.name,
        "created_at": format_time(token.created_at),
        "expires_at": format_time(token.expires_at),
        "last_used_at": format_time(token.last_used_at) if token.last_used_at else None,
    }


def own_tokens(tokens: AccessTokens, req: falcon.Request) -> list[dict[str, Any]]:
    """The caller's tokens as the API lists them and the account page shows them."""
    return [token_view(token) for token in tokens.of(req.context.user.email_address)]


def audited_token_create(
    tokens: AccessTokens, accounts: AccountService, audit: AuditLog, req: falcon.Request,
    name: object, expires_in_days: object, current_password: object,
) -> tuple[str, AccessToken]:
    """Make a token for the caller once their current password is proved (a stolen cookie alone
    must not become a credential that outlives the session by months), and audit it. The name
    and lifetime are checked first, so a malformed request costs no hash."""
    name, days = check_token_name(name), check_lifetime(expires_in_days)
    email = req.context.user.email_address
    try:
        accounts.confirm_password(email, current_password)
    except ValidationError as error:
        if error.field == "current_password":
            audit.record(req, "token_create_failed", email)
        raise
    token, entry = tokens.create(email, name, days)
    audit.record(req, "token_created", email, token_id=entry.token_id)
    return token, entry


def audited_token_revoke(tokens: AccessTokens, audit: AuditLog, req: falcon.Request, token_id: str) -> None:
    email = req.context.user.email_address
    tokens.revoke(email, token_id)
    audit.record(req, "token_revoked", email, token_id=token_id[:32])


class TokensResource:
    """POST makes a token (201, shown once), GET lists them.

    A session is required: a token that could mint tokens would outlive its own revocation, and
    a leaked one should not list the others. Making one also takes the current password: a
    token outlives the session by months, so a stolen cookie alone must not turn into one (the
    password is checked as a password change checks it, through the login throttle, and each
    attempt spends one of the client's rate-limit tokens, since it costs a hash).
    """

    login_required = True
    session_required = True
    rate_limited = True  # POST only
    # No sudo mode here: the current password in the body is that proof, made in the request.

    def __init__(self, tokens: AccessTokens, accounts: AccountService, audit: AuditLog) -> None:
        self._tokens = tokens
        self._accounts = accounts
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("name", "current_password"), ("expires_in_days",))
        token, entry = audited_token_create(
            self._tokens, self._accounts, self._audit, req, body["name"], body.get("expires_in_days"), body["current_password"]
        )
        resp.status = falcon.HTTP_201
        resp.location = f"/v1/users/me/tokens/{entry.token_id}"
        resp.media = {
            "message": "Token created. Copy it now: it is not shown again.",
            "success": True,
            "data": {**token_view(entry), "token": token},
        }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"message": "Your tokens", "success": True, "data": {"tokens": own_tokens(self._tokens, req)}}



class TokenResource:
    """DELETE /v1/users/me/tokens/{token_id} revokes one of the caller's tokens (session only,
    like every change of credentials)."""

    login_required = True
    session_required = True
    recent_auth_required = True

    def __init__(self, tokens: AccessTokens, audit: AuditLog) -> None:
        self._tokens = tokens
        self._audit = audit

    def on_delete(self, req: falcon.Request, resp: falcon.Response, token_id: str) -> None:
        audited_token_revoke(self._tokens, self._audit, req, token_id)
        resp.media = {"message": "Token revoked.", "success": True}
