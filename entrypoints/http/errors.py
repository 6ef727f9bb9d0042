"""Every error leaves as JSON in one shape: {"error": "<code>: <reason>", "message", "success": false}."""

from __future__ import annotations

import logging
from typing import Any

import falcon

from domain import errors

log = logging.getLogger("esauth.errors")

DEFAULT_MESSAGES = {
    400: "The request could not be understood.",
    401: "Login required.",
    403: "Forbidden.",
    404: "The requested URL was not found on the server.",
    405: "The method is not allowed for the requested URL.",
    413: "The request body is too large.",
    415: "Content-Type: 'application/json' required",
    429: "Too many requests. Try again later.",
    500: "Something broke on our side. We are looking into it.",
    503: "The service is temporarily unavailable. Try again shortly.",
}

PASSKEY_REFUSED = "The passkey was not accepted. Start again."
"""One answer for every refusal (unknown credential, bad signature, origin, counter, a spent or
expired challenge): which check failed is for the audit log."""


EMAIL_NOT_VERIFIED = (
    "Confirm your email address first: follow the link we sent, or ask for a new one "
    "(POST /v1/auth/verify-email/resend)."
)


def error_body(code: int, message: str | None) -> dict[str, Any]:
    # Falcon's own status line, so the body never disagrees with it (Python renamed some phrases).
    reason = falcon.code_to_http_status(code).split(" ", 1)[1]
    message = message or DEFAULT_MESSAGES.get(code, reason)
    return {
        "error": f"{code}: {reason}",
        # A message quoting client text must still encode, or the client gets a 500 with no body.
        "message": message.encode("utf-8", "backslashreplace").decode("utf-8"),
        "success": False,
    }


def serialize_error(req: falcon.Request, resp: falcon.Response, exception: falcon.HTTPError) -> None:
    """JSON whatever the Accept header says: clients of an API should never get an empty error.
    The hosted pages set `req.context.error_page` to answer a person in HTML instead."""
    page = req.context.get("error_page")
    if page is not None:
        page(req, resp, exception)
        return
    resp.media = error_body(exception.status_code, exception.description)
    resp.content_type = falcon.MEDIA_JSON


def unexpected_error(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict) -> None:
    """Log the trace for us; tell the client nothing about the store or the code. The route is
    named by its template, as in the access log: a raw path can hold an address or a session id."""
    log.error(
        "unhandled %s on %s %s request_id=%s", type(ex).__name__, req.method, req.uri_template or "unmatched",
        req.context.get("request_id"), exc_info=ex,
    )
    raise falcon.HTTPInternalServerError()


def domain_error(req: falcon.Request, resp: falcon.Response, ex: errors.AuthError, params: dict) -> None:
    """Map the domain's errors to statuses; messages are the domain's own, never a store's."""
    if isinstance(ex, errors.ValidationError):
        raise falcon.HTTPBadRequest(description=str(ex))
    if isinstance(ex, errors.UserAlreadyExists):
        raise falcon.HTTPConflict(description=f"'{ex.email_address}' already exists.")
    if isinstance(ex, errors.InvalidCredentials):
        raise falcon.HTTPBadRequest(description="Unknown email_address or bad password")
    if isinstance(ex, errors.UserNotFound):
        raise falcon.HTTPNotFound(description="No such user.")
    if isinstance(ex, errors.SessionNotFound):
        raise falcon.HTTPNotFound(description="No such session.")
    if isinstance(ex, errors.LoginThrottled):
        raise falcon.HTTPTooManyRequests(
            description=f"Too many failed logins for this account. Try again in {ex.retry_after_s} seconds.",
            retry_after=ex.retry_after_s,
        )
    if isinstance(ex, errors.InvalidToken):
        raise falcon.HTTPBadRequest(description=ex.reason)
    if isinstance(ex, errors.NotPermitted):
        raise falcon.HTTPForbidden(description="Administrators only.")
    if isinstance(ex, errors.SelfLockout):
        raise falcon.HTTPConflict(description="An administrator cannot deactivate, demote or delete themselves.")
    if isinstance(ex, errors.InactiveUser):
        raise falcon.HTTPForbidden(description="This account is deactivated.")
    if isinstance(ex, errors.EmailNotVerified):
        raise falcon.HTTPForbidden(description=EMAIL_NOT_VERIFIED)
    if isinstance(ex, errors.TokenRefused):
        # One answer for every refusal (malformed, unknown, revoked, expired), as RFC 6750 spells it.
        raise falcon.HTTPUnauthorized(description="The bearer token is not valid.", challenges=['Bearer error="invalid_token"'])
    if isinstance(ex, errors.SessionRequired):
        raise falcon.HTTPForbidden(description="This needs a login session: a token cannot change credentials or manage tokens.")
    if isinstance(ex, errors.TooManyTokens):
        raise falcon.HTTPConflict(description=f"You have {ex.limit} tokens, the most allowed: revoke one first.")
    if isinstance(ex, errors.TokenNotFound):
        raise falcon.HTTPNotFound(description="No such token.")
    if isinstance(ex, errors.PasskeyRefused):
        raise falcon.HTTPBadRequest(description=PASSKEY_REFUSED)
    if isinstance(ex, errors.PasskeyNotFound):
        raise falcon.HTTPNotFound(description="No such passkey.")
    if isinstance(ex, errors.TooManyPasskeys):
        raise falcon.HTTPConflict(description=f"You have {ex.limit} passkeys, the most allowed: remove one first.")
    if isinstance(ex, errors.SecondFactorRequired):
        # Resources that sign in answer it themselves (entrypoints.http.pending_login); any other is a bug.
        log.error("second factor owed on a route that cannot ask for it: %s %s", req.method, req.path)
        raise falcon.HTTPInternalServerError()
    if isinstance(ex, errors.PendingLoginInvalid):
        raise falcon.HTTPUnauthorized(description="No pending sign-in, or it expired: log in with your password first.")
    if isinstance(ex, errors.InvalidSecondFactor):
        raise falcon.HTTPBadRequest(description="The code is not correct.")
    if isinstance(ex, errors.ReauthenticationRequired):
        raise falcon.HTTPForbidden(
            description="Confirm it is you: re-authenticate first (POST /v1/auth/reauthenticate with your password or a code)."
        )
    if isinstance(ex, errors.SecondFactorState):
        raise falcon.HTTPConflict(description=ex.reason)
    if isinstance(ex, (errors.SessionInvalid, errors.SessionExpired)):
        clear = req.context.clear_session_cookie
        if clear is not None:
            clear(resp)
        message = "Session expired, please log in again." if isinstance(ex, errors.SessionExpired) else "Login required."
        raise falcon.HTTPUnauthorized(description=message)
    if isinstance(ex, errors.StoreUnavailable):
        # Not logged here: one line per outage comes from infrastructure.store_watch, not one
        # per request (an outage under load wrote thousands a second).
        raise falcon.HTTPServiceUnavailable(retry_after=1)
    if isinstance(ex, errors.VersionConflict):
        log.warning("store trouble: %s", ex)
        raise falcon.HTTPServiceUnavailable(retry_after=1)
    log.error("unmapped domain error %s", type(ex).__name__, exc_info=ex)
    raise falcon.HTTPInternalServerError()


def install(app: falcon.App) -> None:
    app.set_error_serializer(serialize_error)
    app.resp_options.xml_error_serialization = False
    app.add_error_handler(Exception, unexpected_error)
    app.add_error_handler(errors.AuthError, domain_error)
