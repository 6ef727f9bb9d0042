"""A Have-I-Been-Pwned-style range server on loopback, for the breached-passwords adapter's tests."""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RangeServer:
    """Answers `GET /range/<5 hex>` with `SUFFIX:COUNT` lines for the breached passwords under that
    prefix, padded with count-0 lines when asked; records every path and header it is sent.
    `delay_s` makes it slow, `status` makes it fail."""

    def __init__(self, breached: dict[str, int]) -> None:
        self.hashes = {hashlib.sha1(password.encode()).hexdigest().upper(): count for password, count in breached.items()}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.delay_s = 0.0
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.requests.append((self.path, dict(self.headers)))
                time.sleep(server.delay_s)
                prefix = self.path.rsplit("/", 1)[-1].upper()
                lines = [f"{h[5:]}:{count}" for h, count in server.hashes.items() if h.startswith(prefix)]
                if self.headers.get("Add-Padding") == "true":
                    lines += [f"{i:035X}:0" for i in range(20)]
                    lines += [f"{h[5:]}:0" for h in server.padded_only if h.startswith(prefix)]
                body = "\r\n".join(lines).encode()
                self.send_response(server.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.padded_only: set[str] = set()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/range"

    def pad_with(self, password: str) -> None:
        """List `password`'s suffix as a count-0 padding line only."""
        self.padded_only.add(hashlib.sha1(password.encode()).hexdigest().upper())

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)
