"""Cursors and search words: the parts every store shares."""

import base64
import json

import pytest

from domain.errors import ValidationError
from domain.search import decode_cursor, name_words


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode("utf-8", "surrogatepass")).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    ["[" * 3000 + "]" * 3000, json.dumps(["2026-01-01T00:00:00.000Z", "\ud800@x.co"]), "[1, 2]", "{}", "not json"],
    ids=["deep", "surrogate", "numbers", "object", "text"],
)
def test_a_crafted_cursor_is_a_validation_error_never_a_crash(raw):
    with pytest.raises(ValidationError, match="cursor"):
        decode_cursor(cursor_of(raw))


def test_name_words_are_lower_case_and_split_on_any_whitespace():
    assert name_words("Jean-Luc  Picard", None, "Ünïcode\u00a0Name") == ("jean-luc", "picard", "ünïcode", "name")
