"""The device cookie (domain.devices) on the wire: signed with itsdangerous, read where a login is
tried, and sent with every successful one."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, Sequence

import falcon
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from domain.devices import DeviceCookie
from ports.clock import Clock

SALT = "esauth.device.v1"
"""Its own salt: a session cookie can never pass for a device cookie, nor the other way round."""


def device_cookie_name(secure: bool) -> str:
    """`__Host-` makes browsers refuse it unless Secure, host-only and Path=/."""
    return "__Host-device" if secure else "device"


class DeviceCookies:
    """`__Host-device` (`device` with Secure off): HttpOnly, SameSite=Strict (only our own
    pages and same-site front ends post logins), Path=/, host-only even when the session
    cookie is shared with subdomains (only this host reads it), for `max_age`.

    It holds `{"u": <user id>, "n": <nonce>}` and the time it was signed, HMAC-SHA256 under the
    first of the secret keys; every key verifies (itsdangerous wants the signing key last), and
    one older than `max_age` is no longer honoured, whatever the browser kept.
    """

    def __init__(
        self, secret_keys: Sequence[str], clock: Clock, secure: bool = True, max_age: timedelta = timedelta(days=365)
    ) -> None:
        self.name = device_cookie_name(secure)
        self.secure = secure
        self.max_age_s = int(max_age.total_seconds())

        class ClockedSigner(TimestampSigner):
            """Dates and ages cookies by the app's clock (itsdangerous reads time.time())."""

            def get_timestamp(self) -> int:
                return int(clock().timestamp())

        self._serializer = URLSafeTimedSerializer(
            list(reversed(secret_keys)), salt=SALT, signer=ClockedSigner, signer_kwargs={"digest_method": hashlib.sha256}
        )

    def encode(self, cookie: DeviceCookie) -> str:
        return self._serializer.dumps({"u": cookie.user_id, "n": cookie.nonce})

    def decode(self, value: str) -> DeviceCookie | None:
        """The cookie's content, or None for one that is forged, expired or malformed: OWASP's
        "not valid" cookie, which makes the attempt an untrusted one, nothing worse."""
        try:
            data = self._serializer.loads(value, max_age=self.max_age_s)
        except BadData:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("n"), str):
            return None
        return DeviceCookie(data["u"], data["n"])

    def from_request(self, req: falcon.Request) -> DeviceCookie | None:
        values = req.get_cookie_values(self.name)
        return self.decode(values[0]) if values else None

    def set(self, resp: falcon.Response, cookie: DeviceCookie) -> None:
        resp.set_cookie(
            self.name,
            self.encode(cookie),
            max_age=self.max_age_s,
            path="/",
            secure=self.secure,
            http_only=True,
            same_site="Strict",
        )


class DeviceCookieMiddleware:
    """For resources that declare `reads_device_cookie` (the API's login and the sign-in page):
    puts the request's valid device cookie, or None, in `req.context.device_cookie`, and sends
    the one a successful login left in `req.context.issue_device`. Other requests never pay
    for its signature check."""

    def __init__(self, cookies: DeviceCookies) -> None:
        self._cookies = cookies

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict) -> None:
        if req.method == "POST" and getattr(resource, "reads_device_cookie", False):
            req.context.device_cookie = self._cookies.from_request(req)

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool) -> None:
        issued = req.context.issue_device
        if req_succeeded and issued is not None:
            self._cookies.set(resp, issued)
