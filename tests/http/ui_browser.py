"""A browser-like TestClient for the hosted pages: a cookie jar, and forms posted with the CSRF
token of the page they came from, as a browser would send them."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import falcon
import falcon.testing

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
ORIGIN = "http://falconframework.org"
"""The origin falcon.testing requests are made on (scheme http, host falconframework.org)."""


class PageClient:
    def __init__(self, app: falcon.App) -> None:
        self.client = falcon.testing.TestClient(app)
        self.jar: dict[str, str] = {}
        self.page: falcon.testing.Result | None = None

    def get(self, path: str, **kwargs: object) -> falcon.testing.Result:
        result = self.client.simulate_get(path, cookies=dict(self.jar), **kwargs)
        self._keep(result)
        if TOKEN.search(result.text):
            self.page = result
        return result

    def token(self) -> str:
        assert self.page is not None, "no page with a form was loaded"
        return TOKEN.search(self.page.text).group(1)

    def post(self, path: str, fields: dict[str, str], token: str | None = "from-page",
             headers: dict[str, str] | None = None) -> falcon.testing.Result:
        """A form post with Origin set as a browser sets it (same origin unless `headers` say otherwise)."""
        body = dict(fields)
        if token == "from-page":
            body["csrf_token"] = self.token()
        elif token is not None:
            body["csrf_token"] = token
        sent = {"Content-Type": "application/x-www-form-urlencoded", "Origin": ORIGIN, **(headers or {})}
        result = self.client.simulate_post(path, body=urlencode(body), headers=sent, cookies=dict(self.jar))
        self._keep(result)
        if TOKEN.search(result.text):
            self.page = result
        return result

    def _keep(self, result: falcon.testing.Result) -> None:
        for name, cookie in result.cookies.items():
            if cookie.value and (cookie.max_age is None or cookie.max_age > 0):
                self.jar[name] = cookie.value
            else:
                self.jar.pop(name, None)


def page_text(result: falcon.testing.Result) -> str:
    """The visible words of a page, tags dropped, for asserting what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", result.text)).strip()
