"""Passkeys over HTTP: the caller's own (/v1/users/me/passkeys, with a login session only) and
signing in with one (/v1/auth/passkey/*). Each ceremony is two calls: options (which set the
ceremony cookie, entrypoints.http.passkey_ceremony), then the authenticator's answer."""

from __future__ import annotations

from typing import Any

import falcon

from domain.errors import InactiveUser, PasskeyRefused
from domain.passkeys import Passkeys
from domain.second_factor import PendingLogin
from domain.timestamps import format_time
from domain.user import Passkey, User
from entrypoints.http.audit import AuditLog
from entrypoints.http.json_body import check_fields, read_object
from entrypoints.http.passkey_ceremony import REGISTER, SECOND_FACTOR, SIGN_IN, CeremonyCookies
from entrypoints.http.pending_login import SecondFactorStep
from entrypoints.http.representations import public_user
from entrypoints.http.user_agent import summarize


def passkey_view(passkey: Passkey) -> dict[str, Any]:
    """A passkey as its owner sees it: never the key or the credential id."""
    return {
        "id": passkey.passkey_id,
        "name": passkey.name,
        "created_at": format_time(passkey.created_at),
        "last_used_at": format_time(passkey.last_used_at) if passkey.last_used_at else None,
    }


class RegistrationOptionsResource:
    """`POST /v1/users/me/passkeys/options` (no body, like logout): start adding a passkey
    (session only, like every change of credentials)."""

    login_required = True
    session_required = True
    recent_auth_required = True  # sudo mode: a passkey is a credential

    def __init__(self, passkeys: Passkeys, ceremonies: CeremonyCookies) -> None:
        self._passkeys = passkeys
        self._ceremonies = ceremonies

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        options, challenge = self._passkeys.registration_options(req.context.user.email_address)
        self._ceremonies.start(resp, REGISTER, challenge, req.context.session.session_id)
        resp.media = {"message": "Create the passkey with these options.", "success": True, "data": {"publicKey": options}}


class PasskeysResource:
    """GET lists the caller's passkeys; POST `{name, credential}` keeps a new one (201)."""

    login_required = True
    session_required = True
    recent_auth_required = frozenset({"POST"})

    def __init__(self, passkeys: Passkeys, ceremonies: CeremonyCookies, audit: AuditLog) -> None:
        self._passkeys = passkeys
        self._ceremonies = ceremonies
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        passkeys = self._passkeys.of(req.context.user.email_address)
        resp.media = {"message": "Your passkeys", "success": True, "data": {"passkeys": [passkey_view(p) for p in passkeys]}}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("name", "credential"))
        passkey = audited_registration(self._passkeys, self._ceremonies, self._audit, req, resp, body["name"], body["credential"])
        resp.status = falcon.HTTP_201
        resp.location = f"/v1/users/me/passkeys/{passkey.passkey_id}"
        resp.media = {"message": "Passkey added.", "success": True, "data": passkey_view(passkey)}


class PasskeyResource:
    """PATCH `{name}` renames one of the caller's passkeys, DELETE removes it (sudo mode: it may
    be the factor that stands between a stolen session and the account)."""

    login_required = True
    session_required = True
    recent_auth_required = frozenset({"DELETE"})

    def __init__(self, passkeys: Passkeys, audit: AuditLog) -> None:
        self._passkeys = passkeys
        self._audit = audit

    def on_patch(self, req: falcon.Request, resp: falcon.Response, passkey_id: str) -> None:
        body = read_object(req)
        check_fields(body, ("name",))
        email = req.context.user.email_address
        passkey = self._passkeys.rename(email, passkey_id, body["name"])
        self._audit.record(req, "passkey_renamed", email, passkey_id=passkey.passkey_id)
        resp.media = {"message": "Passkey renamed.", "success": True, "data": passkey_view(passkey)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, passkey_id: str) -> None:
        audited_removal(self._passkeys, self._audit, req, passkey_id)
        resp.media = {"message": "Passkey removed.", "success": True}


class SignInOptionsResource:
    """`POST /v1/auth/passkey/options` (no body): the same options for every caller (no address asked)."""

    rate_limited = True

    def __init__(self, passkeys: Passkeys, ceremonies: CeremonyCookies) -> None:
        self._passkeys = passkeys
        self._ceremonies = ceremonies

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        options, challenge = self._passkeys.authentication_options()
        self._ceremonies.start(resp, SIGN_IN, challenge)
        resp.media = {"message": "Sign in with a passkey using these options.", "success": True, "data": {"publicKey": options}}


class SignInResource:
    """`POST /v1/auth/passkey/login` `{credential}`: a session, as a password login gives."""

    rate_limited = True

    def __init__(self, passkeys: Passkeys, ceremonies: CeremonyCookies, audit: AuditLog) -> None:
        self._passkeys = passkeys
        self._ceremonies = ceremonies
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("credential",))
        user = audited_passkey_login(self._passkeys, self._ceremonies, self._audit, req, resp, body["credential"])
        resp.media = {"message": f"'{user.email_address}' successfully logged in!", "success": True, "data": public_user(user)}


def pending_binding(pending: PendingLogin) -> str:
    """What ties a second step's ceremony to its pending sign-in."""
    return f"{int(pending.started_at.timestamp())}:{pending.fingerprint}"


class SecondFactorOptionsResource:
    """`POST /v1/auth/login/mfa/passkey/options` (no body): a pending sign-in's passkey step; the
    options may name the account's passkeys, since its password is proven."""

    rate_limited = True

    def __init__(self, passkeys: Passkeys, ceremonies: CeremonyCookies, step: SecondFactorStep) -> None:
        self._passkeys = passkeys
        self._ceremonies = ceremonies
        self._step = step

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        pending = self._step.cookies.read(req)
        options, challenge = self._passkeys.second_factor_options(pending.email_address)
        self._ceremonies.start(resp, SECOND_FACTOR, challenge, pending_binding(pending))
        resp.media = {"message": "Use one of your passkeys with these options.", "success": True, "data": {"publicKey": options}}


class SecondFactorPasskeyResource:
    """`POST /v1/auth/login/mfa/passkey` `{credential}`: finish a pending sign-in with a passkey,
    under the login throttle as a code is (entrypoints.http.pending_login)."""

    rate_limited = True
    reads_device_cookie = True  # a failure from the account's own device counts apart

    def __init__(self, passkeys: Passkeys, ceremonies: CeremonyCookies, step: SecondFactorStep, audit: AuditLog) -> None:
        self._passkeys = passkeys
        self._ceremonies = ceremonies
        self._step = step
        self._audit = audit

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        check_fields(body, ("credential",))
        pending = self._step.cookies.read(req)
        try:
            challenge = self._ceremonies.finish(req, resp, SECOND_FACTOR, pending_binding(pending))
            check = self._passkeys.second_factor_check(pending.email_address, body["credential"], challenge)
        except PasskeyRefused as refused:
            self._audit.record(req, "passkey_login_failed", pending.email_address, reason=str(refused), step="second")
            raise
        user = self._step.finish(req, resp, check, factor="passkey")
        resp.media = {"message": f"'{user.email_address}' successfully logged in!", "success": True, "data": public_user(user)}


def audited_registration(
    passkeys: Passkeys, ceremonies: CeremonyCookies, audit: AuditLog, req: falcon.Request, resp: falcon.Response,
    name: object, credential: object,
) -> Passkey:
    """Finish adding a passkey and audit it, for the API and the pages alike."""
    email = req.context.user.email_address
    try:
        challenge = ceremonies.finish(req, resp, REGISTER, req.context.session.session_id)
        passkey = passkeys.register(email, name, credential, challenge)
    except PasskeyRefused as refused:
        audit.record(req, "passkey_refused", email, ceremony=REGISTER, reason=str(refused))
        raise
    audit.record(req, "passkey_added", email, passkey_id=passkey.passkey_id)
    return passkey


def audited_removal(passkeys: Passkeys, audit: AuditLog, req: falcon.Request, passkey_id: str) -> Passkey:
    email = req.context.user.email_address
    passkey = passkeys.remove(email, passkey_id)
    audit.record(req, "passkey_removed", email, passkey_id=passkey.passkey_id)
    return passkey


def audited_passkey_login(
    passkeys: Passkeys, ceremonies: CeremonyCookies, audit: AuditLog, req: falcon.Request, resp: falcon.Response,
    credential: object,
) -> User:
    """Sign in with a passkey and audit the outcome; the new session is left in
    `req.context.issue_session` for the session middleware to send."""
    try:
        challenge = ceremonies.finish(req, resp, SIGN_IN)
        user, session, passkey = passkeys.authenticate(credential, challenge, summarize(req.user_agent), audit.client(req))
    except PasskeyRefused as refused:
        audit.record(req, "passkey_login_failed", reason=str(refused))
        raise
    except InactiveUser as inactive:
        audit.record(req, "login_refused_inactive", *inactive.args[:1], method="passkey")
        raise
    audit.record(req, "login_ok", user.email_address, method="passkey", passkey_id=passkey.passkey_id)
    if session.evicted:
        audit.record(req, "session_evicted", user.email_address, count=len(session.evicted))
    req.context.issue_session = session
    req.context.issue_device = session.device_cookie
    return user
