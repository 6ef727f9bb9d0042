"""Reads a seed-era index over plain HTTP: Elasticsearch 1.x-9.x and OpenSearch alike.

Neither official client fits here: elasticsearch-py 9 refuses any server without the
`X-Elastic-Product` header (every OpenSearch, every Elasticsearch before 7.14), and each client
shapes its requests for its own generation. Reading an index needs four calls that every
version has: `_count`, a scroll search, `_search/scroll` and its clearing, so they are sent
as plain JSON over urllib3 (already installed with the clients).
"""

from __future__ import annotations

import json
from typing import Any, Mapping
from urllib.parse import quote

import urllib3

from infrastructure.search_engine.client import Refused, translate

ENGINE = "seed cluster"


class SeedSource:
    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self._base = url.rstrip("/")
        self._http = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout_s), retries=False)

    def _request(self, method: str, path: str, body: Any = None, *, raw: bool = False) -> dict[str, Any]:
        data = None if body is None else (body.encode() if raw else json.dumps(body).encode())
        headers = {"Accept": "application/json", "Content-Type": "text/plain" if raw else "application/json"}
        try:
            answer = self._http.request(method, self._base + path, body=data, headers=headers)
        except urllib3.exceptions.HTTPError as error:
            raise translate(ENGINE, type(error).__name__, None, None) from error
        try:
            parsed = json.loads(answer.data or b"{}")
        except ValueError:
            parsed = None
        if answer.status >= 300:
            raise translate(ENGINE, "error", answer.status, parsed)
        if not isinstance(parsed, Mapping):
            raise translate(ENGINE, "an answer that is not JSON", None, None)
        return dict(parsed)

    def count(self, index: str) -> int:
        return int(self._request("GET", f"/{quote(index, safe='')}/_count")["count"])

    def search(self, index: str, body: Mapping[str, Any], scroll: str) -> dict[str, Any]:
        return self._request("POST", f"/{quote(index, safe='')}/_search?scroll={scroll}", body)

    def scroll(self, scroll_id: str, scroll: str) -> dict[str, Any]:
        """The JSON body of 2.x and later; Elasticsearch 1.x takes the bare id as the body."""
        try:
            return self._request("POST", "/_search/scroll", {"scroll": scroll, "scroll_id": scroll_id})
        except Refused:
            return self._request("POST", f"/_search/scroll?scroll={scroll}", scroll_id, raw=True)

    def clear_scroll(self, scroll_id: str) -> None:
        self._request("DELETE", "/_search/scroll", {"scroll_id": [scroll_id]})

    def close(self) -> None:
        self._http.clear()
