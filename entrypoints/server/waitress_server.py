"""waitress as `esauth serve` runs it: limits chosen for an exposed server, and its own answers
made to look like esauth's.

waitress answers a few requests itself, before the app sees them (a malformed request line or
header, a body or header block over its limits, an unsupported Transfer-Encoding): here those
answers are JSON in esauth's error shape with its usual headers, and each closes the connection.
Its parser also accepts a request carrying both `Content-Length` and `Transfer-Encoding`,
frames it by the chunked body and keeps the connection open, so bytes the sender hid after the
chunks become a second request: RFC 9112 6.1 says to refuse such a message or close, and a proxy
in front may frame it the other way (request smuggling). Here it is a 400 and a closed connection.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from entrypoints.http.errors import error_body
from entrypoints.http.request_guard import REQUEST_ID

CONNECTION_LIMIT = 1000
"""Open connections waitress accepts before it stops accepting (its default is 100): held idle or
trickled by one client, 100 shut every other client out. Each costs a file descriptor and a few
KiB; nothing else is spent on a connection until a whole request has arrived."""
CHANNEL_TIMEOUT_S = 30
"""Seconds of silence after which waitress closes a connection (its default is 120). Long enough
for keep-alive between requests (browsers and nginx's upstream pool idle less), short enough
that abandoned sockets give their slot back within a minute."""
CLEANUP_INTERVAL_S = 5
"""How often the silent connections are looked for (default 30), so the timeout above holds."""
MESSAGES = {
    431: "The request headers are too large.",
    501: "This Transfer-Encoding is not supported.",
}


class StrictRequestParser(HTTPRequestParser):
    """waitress's parser, refusing a message framed two ways."""

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        # HTTP/1.1: waitress has already taken Transfer-Encoding out (and chose chunked); 1.0:
        # it left the header in and frames by Content-Length. Refused either way.
        if "CONTENT_LENGTH" in self.headers and (self.chunked or "TRANSFER_ENCODING" in self.headers):
            raise ParsingError("Content-Length and Transfer-Encoding together")


class JsonErrorTask(ErrorTask):
    """waitress's own error answer in esauth's shape and headers; it still closes the connection."""

    def execute(self) -> None:
        error = self.request.error
        body = json.dumps(error_body(error.code, MESSAGES.get(error.code))).encode()
        given = self.request.headers.get("X_REQUEST_ID", "")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Request-ID", given if REQUEST_ID.fullmatch(given) else secrets.token_hex(16)),
        ])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class EsauthChannel(HTTPChannel):
    parser_class = StrictRequestParser
    error_task_class = JsonErrorTask

    def received(self, data: bytes) -> bool:
        """Stop reading a connection once a request on it was refused: nothing after a bad
        message can be trusted to start where the sender says (that is what smuggling needs)."""
        if any(request.error for request in self.requests):
            return False
        return super().received(data)


class EsauthServer(TcpWSGIServer):
    channel_class = EsauthChannel
