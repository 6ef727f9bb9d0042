"""create_app: the Falcon application, built from collaborators that are already made."""

from __future__ import annotations

from typing import Iterable

import falcon

from domain.accounts import AccountService
from domain.admin import AdminService
from domain.auth import AuthService
from entrypoints import errors
from entrypoints.account_resources import MeResource, PasswordResetResource, PasswordResource
from entrypoints.admin_resources import UserResource
from entrypoints.audit import AuditLog
from entrypoints.json_body import MAX_BODY_BYTES, BodyLimitMiddleware
from entrypoints.openapi.document import OpenApiResource, build_document
from entrypoints.rate_limit import ClientLimiter, RateLimitMiddleware
from entrypoints.request_guard import CrossSiteGuard, ResponseHeaders
from entrypoints.resources import (
    HealthResource,
    LoginResource,
    LogoutResource,
    SignupResource,
    TestResource,
    UsersResource,
)
from entrypoints.session import SessionCookies, SessionMiddleware
from ports.clock import Clock


def create_app(
    auth: AuthService,
    cookies: SessionCookies,
    audit: AuditLog,
    limiter: ClientLimiter,
    clock: Clock,
    *,
    accounts: AccountService,
    admin: AdminService,
    allowed_origins: Iterable[str] = (),
    trusted_proxies: int = 0,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> falcon.App:
    """Middleware order is the order of the checks: headers on everything, then size, CSRF,
    per-client rate, and the session last, so refused requests never touch the store."""
    app = falcon.App(
        media_type=falcon.MEDIA_JSON,
        middleware=[
            ResponseHeaders(),
            BodyLimitMiddleware(max_body_bytes),
            CrossSiteGuard(allowed_origins, trusted_proxies),
            RateLimitMiddleware(limiter, audit, trusted_proxies),
            SessionMiddleware(cookies, auth, audit, clock),
        ],
    )
    errors.install(app)

    signup = SignupResource(auth, audit)
    app.add_route("/v1/users", UsersResource(signup, admin))
    app.add_route("/v1/users/new", signup)
    app.add_route("/v1/users/me", MeResource(accounts, audit))
    app.add_route("/v1/users/me/password", PasswordResource(accounts, audit))
    # `path`: the server sees %2F as `/`, which is legal in an address's local part; literal
    # routes (/v1/users/me, /new) still win, and Falcon falls back here when they do not match.
    app.add_route("/v1/users/{email:path}", UserResource(admin, audit))
    app.add_route("/v1/auth/login", LoginResource(auth, audit))
    logout = LogoutResource(auth, audit)
    app.add_route("/v1/auth/logout", logout)
    app.add_route("/v1/auth/logout-all", logout, suffix="all")
    reset = PasswordResetResource(accounts, audit)
    app.add_route("/v1/auth/password-reset", reset)
    app.add_route("/v1/auth/password-reset/confirm", reset, suffix="confirm")
    app.add_route("/v1/test", TestResource())
    app.add_route("/health", HealthResource(auth))
    app.add_route("/openapi.json", OpenApiResource(build_document(cookies.name)))
    return app
