"""What the middleware leaves on `req.context` for resources, and where every request starts."""

from __future__ import annotations

from typing import Any

import falcon

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""The methods an app is asked for by name (TRACE and CONNECT have no business reaching one): the
only ones a metric labels, a proxy may forward, or the session middleware keeps an entry for, so
a client inventing methods grows nothing."""


class RequestContext(falcon.Context):
    """The session's and the device cookie's fields start as class attributes, so no middleware
    spends a process_request hook on every request to set them (`get` still reads only what a
    request set, and finds None for the rest, as it did)."""

    session: Any = None
    """The checked session (domain.session.Session), when the resource requires a login by cookie."""
    token: Any = None
    """The personal access token a bearer request was let in with."""
    user: Any = None
    """The user of the session or token."""
    issue_session: Any = None
    """A session for the session middleware to send as a cookie (after a login, or a re-issue)."""
    end_session = False
    """True when the caller's own session ended: the session middleware clears the cookie."""
    clear_session_cookie: Any = None
    """How to clear a refused cookie, for the error handlers (a forged or revoked one)."""
    device_cookie: Any = None
    """The request's valid device cookie, for resources that declare `reads_device_cookie`."""
    issue_device: Any = None
    """A device cookie for its middleware to send after a successful login."""


class Request(falcon.Request):
    context_type = RequestContext
