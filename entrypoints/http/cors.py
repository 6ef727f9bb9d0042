"""CORS for the front ends listed in ESAUTH_ALLOWED_ORIGINS, and nothing for anyone else."""

from __future__ import annotations

from typing import Any, Iterable

import falcon

from entrypoints.http.origins import normalize_origin

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PATCH", "DELETE")
"""Every method a route of the API answers; PUT and the rest are never granted."""
ALLOWED_HEADERS = ("content-type", "authorization", "x-request-id")
"""What a front end needs to send: JSON bodies, bearer tokens, its own request id."""
EXPOSED_HEADERS = "Retry-After, X-Request-ID"
PREFLIGHT_MAX_AGE_S = "600"


class CorsMiddleware:
    """Answers preflights and marks responses for listed origins, with credentials.

    `Access-Control-Allow-Origin` echoes the request's origin (never `*`, which browsers refuse
    with credentials); `Vary: Origin` is on every response when any origin is listed, so a cache
    never hands one origin's answer to another. A preflight asking for a method or header the API
    does not use gets no CORS headers at all, and the browser stops there. Which cross-site
    writes are allowed at all is still the CrossSiteGuard's decision, from the same list.
    """

    def __init__(self, allowed_origins: Iterable[str]) -> None:
        self._allowed = frozenset(filter(None, (normalize_origin(origin) for origin in allowed_origins)))

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.cors_origin = None
        if not self._allowed:
            return
        origin = req.get_header("Origin")
        if origin is None or normalize_origin(origin) not in self._allowed:
            return
        requested = req.get_header("Access-Control-Request-Method")
        if req.method == "OPTIONS" and requested is not None:
            headers = [h.strip().lower() for h in (req.get_header("Access-Control-Request-Headers") or "").split(",") if h.strip()]
            if requested not in ALLOWED_METHODS or any(h not in ALLOWED_HEADERS for h in headers):
                return
            resp.status = falcon.HTTP_204
            resp.set_header("Access-Control-Allow-Methods", ", ".join(ALLOWED_METHODS))
            resp.set_header("Access-Control-Allow-Headers", ", ".join(ALLOWED_HEADERS))
            resp.set_header("Access-Control-Max-Age", PREFLIGHT_MAX_AGE_S)
            resp.complete = True  # answered here: no route, no session, no store
        req.context.cors_origin = normalize_origin(origin)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        if not self._allowed:
            return
        resp.append_header("Vary", "Origin")
        origin = req.context.get("cors_origin")
        if origin is None:
            return
        resp.set_header("Access-Control-Allow-Origin", origin)
        resp.set_header("Access-Control-Allow-Credentials", "true")
        resp.set_header("Access-Control-Expose-Headers", EXPOSED_HEADERS)
