"""The account page's passkey forms that work without JavaScript: rename and remove. (Adding
one and signing in with one are WebAuthn ceremonies: static/passkeys.js calls the JSON API.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

import falcon

from domain.errors import ValidationError
from domain.passkeys import Passkeys
from entrypoints.audit import AuditLog
from entrypoints.passkey_resources import audited_removal
from entrypoints.ui.pages import HostedPages, validation_message

if TYPE_CHECKING:
    from entrypoints.ui.resources import AccountPage


class RenamePasskeyForm:
    """`POST /ui/account/passkeys/{id}` `name=`."""

    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in

    def __init__(self, account: "AccountPage", pages: HostedPages, passkeys: Passkeys, audit: AuditLog) -> None:
        self._account = account
        self._pages = pages
        self._passkeys = passkeys
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response, passkey_id: str) -> None:
        email = req.context.user.email_address
        try:
            passkey = self._passkeys.rename(email, passkey_id, req.context.form.get("name", ""))
        except ValidationError as error:
            self._account.show(req, resp, 400, error=validation_message(error.field, error.reason))
            return
        self._audit.record(req, "passkey_renamed", email, passkey_id=passkey.passkey_id)
        self._pages.redirect(resp, "/ui/account?done=passkey-renamed")


class RemovePasskeyForm:
    """`POST /ui/account/passkeys/{id}/remove`; sudo mode, as in the API."""

    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in
    recent_auth_required = True

    def __init__(self, pages: HostedPages, passkeys: Passkeys, audit: AuditLog) -> None:
        self._pages = pages
        self._passkeys = passkeys
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response, passkey_id: str) -> None:
        audited_removal(self._passkeys, self._audit, req, passkey_id)
        self._pages.redirect(resp, "/ui/account?done=passkey-removed")


def add_passkey_forms(app: falcon.App, account: "AccountPage", pages: HostedPages, passkeys: Passkeys, audit: AuditLog) -> None:
    app.add_route("/ui/account/passkeys/{passkey_id}", RenamePasskeyForm(account, pages, passkeys, audit))
    app.add_route("/ui/account/passkeys/{passkey_id}/remove", RemovePasskeyForm(pages, passkeys, audit))
