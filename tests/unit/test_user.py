"""Email identity, password policy and names: the rules on a user's fields."""

import pytest

from domain.errors import ValidationError
from domain.user import check_name, check_password, normalize_email


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("test@abc.com", "test@abc.com"),
        ("Test@ABC.com ", "test@abc.com"),
        ("  MiXeD.Case+tag@Sub.Example.ORG\t", "mixed.case+tag@sub.example.org"),
    ],
)
def test_email_identity_is_trimmed_and_case_insensitive(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "no-at-sign.example.com",
        "two@@example.com",
        "a@b@example.com",
        "@example.com",
        "user@",
        "user@localhost",
        "user@example.",
        "user@.example.com",
        "user@exa..mple.com",
        "us er@example.com",
        "user@exa mple.com",
        "user\x00@example.com",
        "user\n@example.com",
        "user@-example.com",
        "a" * 65 + "@example.com",
        "a" * 60 + "@" + "b" * 190 + ".com",  # 255 characters
    ],
)
def test_email_that_is_not_an_address_is_refused(raw):
    with pytest.raises(ValidationError) as caught:
        normalize_email(raw)
    assert caught.value.field == "email_address"


def test_email_of_254_characters_is_accepted():
    email = "a" * 60 + "@" + "b" * 189 + ".com"
    assert len(email) == 254
    assert normalize_email(email) == email


@pytest.mark.parametrize("raw", [None, 42, ["a@b.com"], {"a": 1}, True])
def test_email_must_be_a_string(raw):
    with pytest.raises(ValidationError, match="must be a string"):
        normalize_email(raw)


@pytest.mark.parametrize("password", ["12345678", "x" * 1024, "pässwörd", "        "])
def test_passwords_between_8_and_1024_characters_are_accepted(password):
    assert check_password(password) == password


@pytest.mark.parametrize("password, reason", [("1234567", "at least 8"), ("x" * 1025, "at most 1024"), (12345678, "string"), (None, "string")])
def test_password_policy_refuses(password, reason):
    with pytest.raises(ValidationError, match=reason) as caught:
        check_password(password)
    assert caught.value.field == "password"


def test_names_are_optional_trimmed_and_bounded():
    assert check_name(None, "first_name") is None
    assert check_name("  Ada ", "first_name") == "Ada"
    assert check_name("   ", "first_name") is None
    assert check_name("x" * 100, "last_name") == "x" * 100
    with pytest.raises(ValidationError, match="at most 100") as caught:
        check_name("x" * 101, "last_name")
    assert caught.value.field == "last_name"
    with pytest.raises(ValidationError, match="string"):
        check_name(7, "first_name")
    with pytest.raises(ValidationError, match="control"):
        check_name("a\x07b", "first_name")


@pytest.mark.parametrize("raw", ["x,victim@corp.com", "a;b@c.co", "a(c)@b.co", '"q"@c.co', "a<b>@c.co", "a\\b@c.co", "a[1]@c.co", "a:b@c.co"])
def test_addresses_that_mail_tools_would_read_as_other_mailboxes_are_refused(raw):
    with pytest.raises(ValidationError, match="must not contain"):
        normalize_email(raw)
