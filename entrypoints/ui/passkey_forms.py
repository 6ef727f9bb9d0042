"""The account page's passkey forms that work without JavaScript: rename and remove. (Adding
one and signing in with one are WebAuthn ceremonies: static/passkeys.js calls the JSON API.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import falcon

from domain.errors import ValidationError
from domain.passkeys import Passkeys
from entrypoints.http.audit import AuditLog
from entrypoints.http.passkey_resources import audited_removal
from entrypoints.ui.pages import redirect

if TYPE_CHECKING:
    from entrypoints.ui.resources import AccountPage


@dataclass
class RenamePasskeyForm:
    """`POST /ui/account/passkeys/{id}` `name=`."""

    account: "AccountPage"
    passkeys: Passkeys
    audit: AuditLog
    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in

    def on_post(self, req: falcon.Request, resp: falcon.Response, passkey_id: str) -> None:
        email = req.context.user.email_address
        try:
            passkey = self.passkeys.rename(email, passkey_id, req.context.form.get("name", ""))
        except ValidationError as error:  # its `name` is the passkey's, not a token's (the page's other `name`)
            self.account.refused(req, resp, ValidationError("passkey_name", error.reason) if error.field == "name" else error)
            return
        self.audit.record(req, "passkey_renamed", email, passkey_id=passkey.passkey_id)
        redirect(resp, "/ui/account?done=passkey-renamed")


@dataclass
class RemovePasskeyForm:
    """`POST /ui/account/passkeys/{id}/remove`; sudo mode, as in the API."""

    passkeys: Passkeys
    audit: AuditLog
    login_required = True
    session_required = True  # pages are for browsers: a bearer token never signs one in
    recent_auth_required = True

    def on_post(self, req: falcon.Request, resp: falcon.Response, passkey_id: str) -> None:
        audited_removal(self.passkeys, self.audit, req, passkey_id)
        redirect(resp, "/ui/account?done=passkey-removed")


def add_passkey_forms(app: falcon.App, account: "AccountPage", passkeys: Passkeys, audit: AuditLog) -> None:
    app.add_route("/ui/account/passkeys/{passkey_id}", RenamePasskeyForm(account, passkeys, audit))
    app.add_route("/ui/account/passkeys/{passkey_id}/remove", RemovePasskeyForm(passkeys, audit))
