"""`?next=` only to this origin or an allowed one: every hostile spelling ends on the account page."""

from __future__ import annotations

import pytest

from entrypoints.ui.next_url import DEFAULT_NEXT, safe_next

OWN = "https://auth.example.com"
ALLOWED = ("https://app.example.com",)


@pytest.mark.parametrize(
    "raw",
    [
        "//evil.com", "///evil.com", "https://evil.com", "http://evil.com/ui/account", "/\\evil.com", "\\\\evil.com",
        "%2F%2Fevil.com", "/%2Fevil.com", "/%5Cevil.com", "%5C%5Cevil.com", "javascript:alert(1)",
        "JavaScript:alert(1)", "data:text/html,x", "/\t/evil.com", "/\n/evil.com", "\t//evil.com", " //evil.com",
        "https://auth.example.com@evil.com", "https://user:pw@auth.example.com/", "https://auth.example.com.evil.com",
        "https://app.example.com:8443/", "http://app.example.com/", "ui/account", "evil.com", "", None,
        "/" + "a" * 3000,
    ],
)
def test_hostile_values_go_to_the_account_page(raw: str | None) -> None:
    assert safe_next(raw, OWN, ALLOWED) == DEFAULT_NEXT


@pytest.mark.parametrize(
    "raw",
    ["/ui/account", "/ui/account?done=profile", "/somewhere/else#top", "https://auth.example.com/ui/account",
     "https://app.example.com/after-login?x=1", "https://APP.example.com:443/"],
)
def test_this_origin_and_allowed_origins_are_kept(raw: str) -> None:
    assert safe_next(raw, OWN, ALLOWED) == raw
