"""create_app: the Falcon application, built from collaborators that are already made."""

from __future__ import annotations

import falcon

from domain.auth import AuthService
from entrypoints import errors
from entrypoints.json_body import MAX_BODY_BYTES, BodyLimitMiddleware
from entrypoints.resources import (
    HealthResource,
    LoginResource,
    LogoutResource,
    TestResource,
    UsersResource,
)
from entrypoints.session import SessionCookies, SessionMiddleware
from ports.clock import Clock


def create_app(
    auth: AuthService,
    cookies: SessionCookies,
    clock: Clock,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> falcon.App:
    app = falcon.App(
        media_type=falcon.MEDIA_JSON,
        middleware=[BodyLimitMiddleware(max_body_bytes), SessionMiddleware(cookies, auth, clock)],
    )
    errors.install(app)

    users = UsersResource(auth)
    app.add_route("/v1/users", users)
    app.add_route("/v1/users/new", users, suffix="new")
    app.add_route("/v1/auth/login", LoginResource(auth))
    app.add_route("/v1/auth/logout", LogoutResource(auth))
    app.add_route("/v1/test", TestResource())
    app.add_route("/health", HealthResource(auth))
    return app
