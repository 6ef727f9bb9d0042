"""Email identity, password policy and names: the rules on a user's fields."""

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from domain.errors import ValidationError
from domain.user import User, canonical_email, check_name, check_password, email_spellings, normalize_email


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
    email = "a" * 60 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 61 + ".com"  # labels of at most 63
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


NFC_E = "\u00e9@b.com"
NFD_E = "e\u0301@b.com"

ONE_ADDRESS = {
    "nfc and nfd": ([NFC_E, NFD_E, "\u00c9@B.COM", "E\u0301@b.com"], NFC_E),
    "ligature": (["\ufb00@b.com", "ff@b.com", "FF@b.com"], "ff@b.com"),
    "fullwidth": (["ｔｅｓｔ@ａｂｃ.ｃｏｍ", "test@abc.com", "ＴＥＳＴ@ＡＢＣ.ＣＯＭ", "test＠abc．com"], "test@abc.com"),
    "idna": (["user@exämple.com", "user@xn--exmple-cua.com", "user@EXÄMPLE.com", "user@XN--EXMPLE-CUA.COM"], "user@exämple.com"),
    "kelvin sign": (["\u212a@b.com", "k@b.com"], "k@b.com"),
}


@pytest.mark.parametrize("spellings, identity", ONE_ADDRESS.values(), ids=ONE_ADDRESS.keys())
def test_every_spelling_of_one_address_has_one_identity(spellings, identity):
    assert {normalize_email(spelling) for spelling in spellings} == {identity}
    assert normalize_email(identity) == identity  # the identity form is a fixed point


def test_sharp_s_is_its_own_letter_not_ss():
    """Lower case, not full case folding: `ß` and `ss` are two mailboxes (as IDNA 2008 holds)."""
    assert normalize_email("STRAẞE@faß.de") == "straße@faß.de"
    assert normalize_email("strasse@fass.de") == "strasse@fass.de"


@pytest.mark.parametrize(
    "raw, words",
    [
        ("a..b@x.com", "two periods"),
        (".a@x.com", "start with a period"),
        ("a.@x.com", "period immediately before"),
        ("a@ex_ample.com", "'_'"),
        ("a@" + "b" * 64 + ".com", "too many"),
        ("a@b.local", "special-use"),
        ("a＜b@x.com", "must not contain"),  # NFKC makes the fullwidth sign a '<'
        ("a＠b@x.com", "like name@example.com"),  # and the fullwidth at sign a second '@'
    ],
)
def test_what_email_validator_refuses_is_refused_naming_the_field(raw, words):
    with pytest.raises(ValidationError, match=words) as caught:
        normalize_email(raw)
    assert caught.value.field == "email_address"


def test_a_label_of_63_characters_is_accepted():
    assert normalize_email("a@" + "b" * 63 + ".com") == "a@" + "b" * 63 + ".com"


@pytest.mark.parametrize(
    "raw, spellings",
    [
        ("test@abc.com", ("test@abc.com",)),
        (" Test@ABC.com", ("test@abc.com",)),
        (NFD_E, (NFD_E, NFC_E)),  # an earlier release stored what was typed, lower-cased
        ("user@xn--exmple-cua.com", ("user@xn--exmple-cua.com", "user@exämple.com")),
        ("A..B@x.com", ("a..b@x.com",)),  # refused now, but an earlier release may have stored it
    ],
)
def test_email_spellings_are_what_an_earlier_release_stored_then_the_identity(raw, spellings):
    assert email_spellings(raw) == spellings


@pytest.mark.parametrize("raw", ["", "no-at-sign", "a b@x.com", "a@localhost", None])
def test_email_spellings_refuse_what_no_release_accepted(raw):
    with pytest.raises(ValidationError):
        email_spellings(raw)


def test_canonical_email_folds_malformed_strings_alike_and_never_raises():
    assert canonical_email(" ＡＢＣ@localhost") == canonical_email("abc@localhost") == "abc@localhost"
    assert canonical_email(NFD_E) == NFC_E


def test_the_domain_stays_free_of_io_modules():
    """email-validator is used from the domain for syntax only: with check_deliverability off it
    never loads its DNS resolver, and nothing of the domain opens a socket."""
    code = (
        "import sys, domain.auth, domain.accounts, domain.admin, domain.address_report\n"
        "from domain.user import normalize_email\n"
        "normalize_email('user@exämple.com')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dns', 'socket', 'ssl', 'sqlite3', 'elasticsearch', 'falcon'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_a_users_repr_shows_no_secret_nor_what_stands_for_one() -> None:
    """Nothing logs a User today; if a log line or a failure message ever shows one, it holds
    no hash, session id, stamp, token or code digest, nor the sealed TOTP secret."""
    secrets_held = {
        "password_hash": "$argon2id$v=19$hash", "security_stamp": "stamp-1", "session_ids": ("session-1",),
        "totp_secret": "sealed-1", "recovery_codes": ("code-digest-1",),
    }
    user = User(email_address="ada@example.com", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc), **secrets_held)
    shown = repr(user)
    assert "ada@example.com" in shown
    for held in ("argon2id", "stamp-1", "session-1", "sealed-1", "code-digest-1"):
        assert held not in shown
