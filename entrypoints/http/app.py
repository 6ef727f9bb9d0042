"""create_app: the Falcon application, built from collaborators that are already made."""

from __future__ import annotations

from datetime import timedelta
from typing import Callable, Iterable

import falcon
from falcon.routing import CompiledRouter

from domain.access_tokens import AccessTokens
from domain.accounts import AccountService
from domain.admin import AdminService
from domain.auth import AuthService
from domain.email_addresses import EmailAddresses
from domain.passkeys import Passkeys
from domain.second_factor import TotpService
from entrypoints.http import errors
from entrypoints.http.context import Request
from entrypoints.http.cors import CorsMiddleware
from entrypoints.http.device_cookies import DeviceCookieMiddleware, DeviceCookies
from entrypoints.http.account_resources import (
    MeResource,
    PasswordResetResource,
    PasswordResource,
    SessionResource,
    SessionsResource,
)
from entrypoints.http.admin_resources import UserResource
from entrypoints.http.email_resources import EmailChangeResource, VerifyEmailResource
from entrypoints.http.audit import AuditLog
from entrypoints.http.forward_auth import ForwardedRequestGuard, VerifyResource
from entrypoints.http.health import LiveResource, ReadyResource
from entrypoints.http.json_body import MAX_BODY_BYTES, BodyLimitMiddleware
from entrypoints.http.metrics_resource import MetricsResource
from entrypoints.openapi.document import OpenApiResource, build_document
from entrypoints.http.passkey_ceremony import CeremonyCookies
from entrypoints.http.passkey_resources import (
    PasskeyResource,
    PasskeysResource,
    RegistrationOptionsResource,
    SecondFactorOptionsResource,
    SecondFactorPasskeyResource,
    SignInOptionsResource,
    SignInResource,
)
from entrypoints.http.rate_limit import ClientLimiter, RateLimitMiddleware
from entrypoints.http.representations import PublicUserJson
from entrypoints.http.request_guard import CrossSiteGuard, ResponseHeaders
from entrypoints.http.resources import (
    HealthResource,
    LoginResource,
    LogoutResource,
    SignupResource,
    TestResource,
    UsersResource,
)
from entrypoints.http.request_log import RequestObserver
from entrypoints.http.pending_login import PendingLoginCookies, SecondFactorStep
from entrypoints.http.second_factor_resources import ReauthenticateResource, SecondFactorLoginResource, TotpResource
from entrypoints.http.session import SessionCookies, SessionMiddleware
from entrypoints.http.token_resources import TokenResource, TokensResource
from entrypoints.ui.pages import HostedPages, PagesMiddleware
from entrypoints.ui.email_pages import add_email_pages
from entrypoints.ui.resources import add_pages
from entrypoints.ui.second_factor_pages import add_second_factor_pages
from domain.errors import ReauthenticationRequired, SessionExpired, SessionInvalid
from ports.clock import Clock
from ports.metrics import NO_METRICS, Metrics


def create_app(
    auth: AuthService,
    cookies: SessionCookies,
    audit: AuditLog,
    limiter: ClientLimiter,
    clock: Clock,
    *,
    accounts: AccountService,
    emails: EmailAddresses,
    admin: AdminService,
    tokens: AccessTokens,
    passkeys: Passkeys | None = None,
    totp: TotpService,
    pending: PendingLoginCookies,
    allowed_origins: Iterable[str] = (),
    trusted_proxies: int = 0,
    max_body_bytes: int = MAX_BODY_BYTES,
    public_url: str | None = None,
    metrics: Metrics = NO_METRICS,
    metrics_resource: MetricsResource | None = None,
    access_log: bool = True,
    pool_saturated: Callable[[], bool] = lambda: False,
    on_unavailable: Callable[[], None] = lambda: None,
    device_cookie_max_age: timedelta = timedelta(days=365),
) -> falcon.App:
    """Middleware order is the order of the checks: the observer around everything (it times
    and logs what leaves), headers on everything (CORS ones too, and preflights answered before
    anything else), then size, CSRF, per-client rate, and the session last, so refused requests
    never touch the store. The hosted pages' middleware comes early so every error under /ui/ is
    a page, and checks a form's CSRF token (in process_resource) before the rate limit and the
    session are looked at. The device cookie is read only past the rate limit, and only for
    logins. `/metrics` exists only when a `metrics_resource` is given, the passkey routes only
    when `passkeys` is (a relying party is configured)."""
    allowed_origins = tuple(allowed_origins)
    pages = HostedPages(cookies, allowed_origins, trusted_proxies, public_url, scripts=passkeys is not None)
    router = CompiledRouter()
    app = falcon.App(
        media_type=falcon.MEDIA_JSON,
        request_type=Request,
        router=router,
        middleware=[
            RequestObserver(
                router, metrics, access_log=access_log, trusted_proxies=trusted_proxies, on_unavailable=on_unavailable
            ),
            ResponseHeaders(),
            *([CorsMiddleware(allowed_origins)] if allowed_origins else []),  # none allowed: nothing to answer
            PagesMiddleware(pages),
            BodyLimitMiddleware(max_body_bytes),
            CrossSiteGuard(allowed_origins, trusted_proxies),
            RateLimitMiddleware(limiter, audit, trusted_proxies),
            ForwardedRequestGuard(audit),
            DeviceCookieMiddleware(DeviceCookies(cookies.secret_keys, clock, cookies.secure, device_cookie_max_age)),
            SessionMiddleware(cookies, auth, audit, clock, tokens, limiter, trusted_proxies),
        ],
    )
    errors.install(app)
    app.add_error_handler((SessionInvalid, SessionExpired), pages.session_error)
    app.add_error_handler(ReauthenticationRequired, pages.reauthentication_error)

    signup = SignupResource(auth, audit, emails)
    app.add_route("/v1/users", UsersResource(signup, admin))
    app.add_route("/v1/users/new", signup)
    app.add_route("/v1/users/me", MeResource(accounts, audit))
    app.add_route("/v1/users/me/password", PasswordResource(accounts, audit))
    app.add_route("/v1/users/me/email", EmailChangeResource(emails, audit))
    app.add_route("/v1/users/me/tokens", TokensResource(tokens, accounts, audit))
    app.add_route("/v1/users/me/tokens/{token_id}", TokenResource(tokens, audit))
    app.add_route("/v1/users/me/sessions", SessionsResource(auth))
    app.add_route("/v1/users/me/sessions/{session_id}", SessionResource(auth, audit))
    # `path`: the server sees %2F as `/`, which is legal in an address's local part; literal
    # routes (/v1/users/me, /new) still win, and Falcon falls back here when they do not match.
    app.add_route("/v1/users/{email:path}", UserResource(admin, audit))
    step = SecondFactorStep(auth, pending, audit)
    app.add_route("/v1/auth/login", LoginResource(auth, audit, step))
    app.add_route("/v1/auth/login/mfa", SecondFactorLoginResource(step, totp))
    app.add_route("/v1/auth/reauthenticate", ReauthenticateResource(auth, totp, audit))
    totp_resource = TotpResource(totp, audit)
    app.add_route("/v1/users/me/totp", totp_resource)
    app.add_route("/v1/users/me/totp/confirm", totp_resource, suffix="confirm")
    app.add_route("/v1/users/me/totp/disable", totp_resource, suffix="disable")
    logout = LogoutResource(auth, audit)
    app.add_route("/v1/auth/logout", logout)
    app.add_route("/v1/auth/logout-all", logout, suffix="all")
    reset = PasswordResetResource(accounts, audit)
    app.add_route("/v1/auth/password-reset", reset)
    app.add_route("/v1/auth/password-reset/confirm", reset, suffix="confirm")
    user_json = PublicUserJson(cookies.kept)  # the probe's and the proxies' answer, per user kept
    app.add_route("/v1/auth/verify", VerifyResource(user_json))
    verify_email = VerifyEmailResource(emails, audit)
    app.add_route("/v1/auth/verify-email", verify_email)
    app.add_route("/v1/auth/verify-email/resend", verify_email, suffix="resend")
    app.add_route("/v1/test", TestResource(user_json))
    health = HealthResource(auth)
    app.add_route("/health", health)
    app.add_route("/health/live", LiveResource())
    app.add_route("/health/ready", ReadyResource(health, auth, pool_saturated))
    app.add_route("/openapi.json", OpenApiResource(build_document(cookies.name, metrics=metrics_resource is not None, passkeys=passkeys is not None)))
    if metrics_resource is not None:
        app.add_route("/metrics", metrics_resource)
    if passkeys is not None:
        ceremonies = CeremonyCookies(cookies.secret_keys, passkeys.challenge_lifetime, clock, cookies.secure)
        app.add_route("/v1/users/me/passkeys", PasskeysResource(passkeys, ceremonies, audit))
        app.add_route("/v1/users/me/passkeys/options", RegistrationOptionsResource(passkeys, ceremonies))
        app.add_route("/v1/users/me/passkeys/{passkey_id}", PasskeyResource(passkeys, audit))
        app.add_route("/v1/auth/passkey/options", SignInOptionsResource(passkeys, ceremonies))
        app.add_route("/v1/auth/passkey/login", SignInResource(passkeys, ceremonies, audit))
        app.add_route("/v1/auth/login/mfa/passkey/options", SecondFactorOptionsResource(passkeys, ceremonies, step))
        app.add_route("/v1/auth/login/mfa/passkey", SecondFactorPasskeyResource(passkeys, ceremonies, step, audit))
    account = add_pages(app, pages, auth, accounts, tokens, audit, step, emails, passkeys)
    add_second_factor_pages(app, pages, account, auth, step, totp, audit)
    add_email_pages(app, pages, emails, audit, account)
    return app
