"""A tiny in-process SMTP server for tests: just enough of RFC 5321 for smtplib.

Greeting, EHLO/HELO, AUTH PLAIN/LOGIN (when mechanisms are offered), MAIL FROM, RCPT TO, DATA
with dot-unstuffing, RSET, NOOP, QUIT. It never offers STARTTLS (and refuses the command), records
every accepted message and every command verb, and can be told to answer 5xx to a step.
Use it as a context manager (or through a fixture) so that it is always shut down and closed.
"""

from __future__ import annotations

import base64
import socket
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    """The message as sent, CRLF line ends, dot-unstuffed, without the final `.` line."""
    auth: tuple[str, str, str] | None
    """(mechanism, username, password) when the session authenticated."""


@dataclass
class _Session:
    helo: str | None = None
    auth: tuple[str, str, str] | None = None
    mail_from: str | None = None
    rcpt_tos: list[str] = field(default_factory=list)


class FakeSmtpServer:
    def __init__(
        self,
        *,
        auth_mechanisms: tuple[str, ...] = (),
        credentials: tuple[str, str] | None = None,
        refuse: dict[str, str] | None = None,
        hold: threading.Event | None = None,
        read_timeout_s: float = 5.0,
    ) -> None:
        """auth_mechanisms: offered in EHLO (PLAIN, LOGIN). credentials: the only accepted
        (username, password), any when None. refuse: a step -> the reply that refuses it; steps are
        GREETING, EHLO, HELO, AUTH, MAIL, RCPT, DATA (the command) and DATA_END (after the message).
        hold: when given, each session waits for it to be set before greeting."""
        self.auth_mechanisms = tuple(mechanism.upper() for mechanism in auth_mechanisms)
        self.credentials = credentials
        self.refuse = {step.upper(): reply for step, reply in (refuse or {}).items()}
        self.hold = hold
        self.read_timeout_s = read_timeout_s
        self.messages: list[ReceivedMessage] = []
        self.commands: list[str] = []
        self.connections = 0
        self._changed = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-smtp", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stops accepting, waits for open sessions to end (each bounded by read_timeout_s), closes."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeSmtpServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.connections >= count, timeout)

    def _record(
        self, *, command: str | None = None, message: ReceivedMessage | None = None, connected: bool = False
    ) -> None:
        with self._changed:
            if command is not None:
                self.commands.append(command)
            if message is not None:
                self.messages.append(message)
            if connected:
                self.connections += 1
            self._changed.notify_all()


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True  # server_close() joins every session thread: nothing outlives the fixture
    fake: FakeSmtpServer


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        self.timeout = self.server.fake.read_timeout_s
        super().setup()

    def handle(self) -> None:
        fake = self.server.fake
        fake._record(connected=True)
        if fake.hold is not None:
            fake.hold.wait(fake.read_timeout_s)
        if "GREETING" in fake.refuse:
            self._reply(fake.refuse["GREETING"])
            return
        self._reply("220 fake.test ESMTP ready")
        session = _Session()
        try:
            while True:
                line = self._read_line()
                if line is None:
                    return
                verb, _, argument = line.partition(" ")
                verb = verb.upper()
                fake._record(command=verb)
                if verb == "QUIT":
                    self._reply("221 2.0.0 Bye")
                    return
                self._dispatch(session, verb, argument.strip())
        except (TimeoutError, ConnectionError):
            return

    def _dispatch(self, session: _Session, verb: str, argument: str) -> None:
        fake = self.server.fake
        if verb in fake.refuse and verb != "DATA_END":
            self._reply(fake.refuse[verb])
        elif verb == "EHLO":
            session.helo = argument
            extensions = ["8BITMIME", "SIZE 1000000"]
            if fake.auth_mechanisms:
                extensions.append("AUTH " + " ".join(fake.auth_mechanisms))
            lines = ["fake.test greets " + argument, *extensions]
            self._reply("\r\n".join(f"250-{text}" for text in lines[:-1]) + f"\r\n250 {lines[-1]}")
        elif verb == "HELO":
            session.helo = argument
            self._reply("250 fake.test")
        elif verb == "AUTH":
            self._auth(session, argument)
        elif verb == "MAIL":
            if session.helo is None:
                self._reply("503 5.5.1 Say EHLO first")
            elif fake.auth_mechanisms and session.auth is None:
                self._reply("530 5.7.0 Authentication required")
            else:
                session.mail_from = _path(argument, "FROM:")
                session.rcpt_tos = []
                self._reply("250 2.1.0 OK")
        elif verb == "RCPT":
            if session.mail_from is None:
                self._reply("503 5.5.1 MAIL first")
            else:
                session.rcpt_tos.append(_path(argument, "TO:"))
                self._reply("250 2.1.5 OK")
        elif verb == "DATA":
            self._data(session)
        elif verb == "RSET":
            session.mail_from, session.rcpt_tos = None, []
            self._reply("250 2.0.0 OK")
        elif verb == "NOOP":
            self._reply("250 2.0.0 OK")
        elif verb == "STARTTLS":
            self._reply("454 4.7.0 TLS not available")
        else:
            self._reply("502 5.5.2 Command not implemented")

    def _auth(self, session: _Session, argument: str) -> None:
        fake = self.server.fake
        mechanism, _, initial = argument.partition(" ")
        mechanism = mechanism.upper()
        if mechanism not in fake.auth_mechanisms:
            self._reply("504 5.5.4 Unrecognized authentication type")
            return
        if session.auth is not None:
            self._reply("503 5.5.1 Already authenticated")
            return
        try:
            if mechanism == "PLAIN":
                response = initial or self._challenge("")
                _, username, password = _b64(response).split("\0", 2)
            else:  # LOGIN
                username = _b64(initial or self._challenge("VXNlcm5hbWU6"))
                password = _b64(self._challenge("UGFzc3dvcmQ6"))
        except (ValueError, UnicodeDecodeError):
            self._reply("501 5.5.2 Cannot decode the response")
            return
        if fake.credentials is not None and (username, password) != fake.credentials:
            self._reply("535 5.7.8 Authentication credentials invalid")
            return
        session.auth = (mechanism, username, password)
        self._reply("235 2.7.0 Authentication successful")

    def _challenge(self, text: str) -> str:
        self._reply(f"334 {text}")
        line = self._read_line()
        if line is None or line == "*":
            raise ValueError("authentication cancelled")
        return line

    def _data(self, session: _Session) -> None:
        fake = self.server.fake
        if session.mail_from is None or not session.rcpt_tos:
            self._reply("503 5.5.1 RCPT first")
            return
        self._reply("354 End data with <CR><LF>.<CR><LF>")
        lines: list[bytes] = []
        while True:
            raw = self.rfile.readline(65537)
            if not raw:
                raise ConnectionError("client went away during DATA")
            if raw in (b".\r\n", b".\n"):
                break
            if raw.startswith(b"."):
                raw = raw[1:]
            lines.append(raw)
        if "DATA_END" in fake.refuse:
            self._reply(fake.refuse["DATA_END"])
        else:
            received = ReceivedMessage(session.mail_from, tuple(session.rcpt_tos), b"".join(lines), session.auth)
            fake._record(message=received)
            self._reply("250 2.0.0 OK queued")
        session.mail_from, session.rcpt_tos = None, []

    def _read_line(self) -> str | None:
        raw = self.rfile.readline(65537)
        if not raw:
            return None
        return raw.rstrip(b"\r\n").decode("utf-8", "replace")

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode("utf-8") + b"\r\n")


def _path(argument: str, prefix: str) -> str:
    """`FROM:<a@b> SIZE=12` -> `a@b`."""
    if argument.upper().startswith(prefix):
        argument = argument[len(prefix):]
    return argument.strip().split(" ", 1)[0].strip("<>")


def _b64(text: str) -> str:
    return base64.b64decode(text, validate=True).decode("utf-8")


def closed_port() -> int:
    """A local port with nothing listening on it: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
