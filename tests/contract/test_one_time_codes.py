"""The OneTimeCodes adapter against RFC 6238's own test vectors (Appendix B, HMAC-SHA1)."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from infrastructure.second_factor.pyotp_codes import PyotpCodes

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize("unix_time, eight_digits", [(59, "94287082"), (1111111109, "07081804"), (1234567890, "89005924")])
def test_codes_are_rfc_6238s(unix_time: int, eight_digits: str) -> None:
    codes = PyotpCodes(8, 30)
    step = codes.step(datetime.fromtimestamp(unix_time, timezone.utc))
    assert step == unix_time // 30
    assert codes.code(RFC_SECRET, step) == eight_digits


def test_a_new_secret_is_160_bits_of_base32_and_the_uri_enrols_it() -> None:
    codes = PyotpCodes(6, 30)
    secret = codes.new_secret()
    assert len(base64.b32decode(secret)) == 20 and secret != codes.new_secret()
    uri = urlsplit(codes.uri(secret, "ada@example.com", "esauth"))
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [secret] and parse_qs(uri.query)["issuer"] == ["esauth"]
