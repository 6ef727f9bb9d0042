"""HostedPages: what every hosted page shares (templates, CSRF, headers, where `next` may go),
and the middleware that applies it to every request under /ui/."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qsl, quote

import falcon
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain.errors import SessionExpired, SessionInvalid
from domain.timestamps import parse_time
from entrypoints.http import errors
from entrypoints.http.origins import normalize_origin, request_origin
from entrypoints.http.session import SessionCookies
from entrypoints.ui.csrf import FIELD, CsrfTokens
from entrypoints.ui.next_url import safe_next

PREFIX = "/ui/"
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
HTML = "text/html; charset=utf-8"
MAX_FORM_FIELDS = 20
FIELD_LABELS = {
    "email_address": "Email address",
    "password": "Password",
    "current_password": "Current password",
    "new_password": "New password",
    "first_name": "First name",
    "last_name": "Last name",
    "token": "The reset link",
    "name": "Token name",
    "passkey_name": "The passkey's name",
    "expires_in_days": "Lifetime",
    "code": "The code",
    "body": "The form",
}
ERROR_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "No such page",
    405: "Not here",
    413: "Too much",
    415: "Forms only",
    429: "Please wait",
    500: "Something broke",
    503: "Temporarily unavailable",
}
ERROR_MESSAGES = {
    404: "There is no page at this address.",
    405: "This page cannot be used that way.",
    415: "This page takes HTML forms only.",
}
FORM_REFUSED = "This form has expired or was not sent from this site. Go back, reload the page and try again."


class HostedPages:
    """Renders pages and answers for them: Jinja2 templates (autoescaped, StrictUndefined so a
    misspelt variable fails a test instead of rendering blank), a strict CSP, and CSRF tokens."""

    def __init__(
        self,
        cookies: SessionCookies,
        allowed_origins: Iterable[str] = (),
        trusted_proxies: int = 0,
        public_url: str | None = None,
        scripts: bool = False,
    ) -> None:
        self._cookies = cookies
        self._allowed = tuple(filter(None, (normalize_origin(origin) for origin in allowed_origins)))
        self._trusted_proxies = trusted_proxies
        self._public_origin = normalize_origin(public_url) if public_url else None
        self.csrf = CsrfTokens(cookies.secret_keys, cookies.secure)
        self.scripts = scripts
        self._templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._templates.filters["when"] = human_time
        # Form posts may end in a redirect to an allowed origin, which form-action must permit.
        targets = " ".join(("'self'", *self._allowed))
        # Scripts only with passkeys (WebAuthn is a browser API): the one file of our own, never inline.
        script_src = "'self'" if scripts else "'none'"
        self.security_headers = {
            "Content-Security-Policy": (
                f"default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self'; "
                f"object-src 'none'; base-uri 'none'; form-action {targets}; frame-ancestors 'none'"
            ),
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",  # the reset page carries its token in the URL; no-referrer would make Chromium send Origin: null
            "Cross-Origin-Opener-Policy": "same-origin",
        }

    def next_url(self, req: falcon.Request, raw: str | None) -> str:
        own = self._public_origin or request_origin(req, self._trusted_proxies)
        return safe_next(raw, own, self._allowed)

    def session_id(self, req: falcon.Request) -> str:
        """The id in the session cookie, checked for its signature only ("" without one): what
        CSRF tokens are bound to, for pages shown before and after sign-in alike."""
        try:
            found = self._cookies.from_request(req)
        except SessionInvalid:
            return ""
        return found[0].session_id if found is not None else ""

    def render(self, req: falcon.Request, resp: falcon.Response, template: str, status: int = 200, **context: Any) -> None:
        context.setdefault("error", None)
        context.setdefault("notice", None)
        context.setdefault("signed_in", req.context.user is not None)
        context["passkeys_on"] = self.scripts
        context["csrf_field"] = FIELD
        context["csrf_token"] = self.csrf.token(req.context.csrf_nonce, self.session_id(req))
        req.context.csrf_token_shown = True
        resp.status = falcon.code_to_http_status(status)
        resp.content_type = HTML
        resp.text = self._templates.get_template(template).render(**context)

    def error_page(self, req: falcon.Request, resp: falcon.Response, exception: falcon.HTTPError) -> None:
        """Any HTTP error under /ui/ as a page a person can read, with when to try again."""
        code = exception.status_code
        message = ERROR_MESSAGES.get(code) or exception.description or errors.DEFAULT_MESSAGES.get(code, "")
        retry = (exception.headers or {}).get("Retry-After")
        if retry and "Try again later" in message:
            message = message.replace("Try again later", f"Try again in {seconds(int(retry))}")
        resp.content_type = HTML
        resp.text = self._templates.get_template("error.html").render(
            title=ERROR_TITLES.get(code, "That did not work"), message=message, signed_in=False,
            error=None, notice=None, passkeys_on=self.scripts,
        )

    def reauthentication_error(self, req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict) -> None:
        """Sudo mode on a page: to the re-authentication page, then back to the account page
        (a form post cannot be replayed; the person presses its button again)."""
        if req.context.get("error_page") is None:
            errors.domain_error(req, resp, ex, params)
            return
        redirect(resp, "/ui/reauthenticate?next=" + quote("/ui/account?done=reauthenticated", safe="/"))

    def session_error(self, req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict) -> None:
        """A page that needs a session sends the person to sign in (and back here afterwards);
        the API keeps its 401."""
        if req.context.get("error_page") is None:
            errors.domain_error(req, resp, ex, params)
            return
        clear = req.context.clear_session_cookie
        if clear is not None:
            clear(resp)
        target = "/ui/login?next=" + quote(req.path, safe="/") if req.method == "GET" else "/ui/login"
        if isinstance(ex, SessionExpired):
            target += ("&" if "?" in target else "?") + "done=expired"
        redirect(resp, target)


class PagesMiddleware:
    """For /ui/ only: HTML errors, a CSRF nonce cookie, forms read and their token checked before
    any other work (rate limit, session, store), and the pages' security headers."""

    def __init__(self, pages: HostedPages) -> None:
        self._pages = pages

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not req.path.startswith(PREFIX):
            return
        req.context.error_page = self._pages.error_page
        given = (req.get_cookie_values(self._pages.csrf.cookie_name) or [None])[0]
        req.context.csrf_nonce_came = self._pages.csrf.usable_nonce(given)
        req.context.csrf_nonce = given if req.context.csrf_nonce_came else self._pages.csrf.new_nonce()

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict) -> None:
        if resource is None or req.method != "POST" or not req.path.startswith(PREFIX):
            return
        form = read_form(req)
        nonce = req.context.csrf_nonce if req.context.csrf_nonce_came else None
        if not self._pages.csrf.valid(form.get(FIELD), nonce, self._pages.session_id(req)):
            raise falcon.HTTPForbidden(description=FORM_REFUSED)
        req.context.form = form

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        if not req.path.startswith(PREFIX):
            return
        resp.set_headers(self._pages.security_headers)
        if req.context.get("csrf_token_shown") and not req.context.csrf_nonce_came:
            resp.set_cookie(
                self._pages.csrf.cookie_name,
                req.context.csrf_nonce,
                path="/",
                secure=self._pages.csrf.secure,
                http_only=True,
                same_site="Lax",
            )


def redirect(resp: falcon.Response, location: str) -> None:
    """303: the browser follows with a GET, so Back or reload never re-posts a form."""
    resp.status = falcon.HTTP_303
    resp.location = location
    resp.content_type = HTML
    resp.text = ""


def read_form(req: falcon.Request) -> dict[str, str]:
    """An url-encoded form as field -> value; a field given twice, or anything else, is a 400."""
    media_type = (req.content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise falcon.HTTPUnsupportedMediaType(description=ERROR_MESSAGES[415])
    raw = req.bounded_stream.read()
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise falcon.HTTPBadRequest(description="The form could not be read. Reload the page and try again.") from None
    form = dict(pairs)
    if len(form) != len(pairs):
        raise falcon.HTTPBadRequest(description="The form names a field twice. Reload the page and try again.")
    return form


def human_time(instant: str | None) -> str:
    """An API instant ("2026-01-01T12:02:00.000Z") as a person reads it: "1 Jan 2026, 12:02 UTC"."""
    if not instant:
        return "unknown"
    moment = parse_time(instant)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def seconds(count: int) -> str:
    return "1 second" if count == 1 else f"{count} seconds"


def validation_message(field: str, reason: str) -> str:
    """`password: must be at least 8 characters` as a person reads it."""
    return f"{FIELD_LABELS.get(field, field)} {reason}."
