"""JSON request bodies: bounded in size, `application/json` only, an object with known fields."""

from __future__ import annotations

import codecs
import json
from typing import Any

import falcon

MAX_BODY_BYTES = 64 * 1024


class BodyLimitMiddleware:
    """Refuse a declared oversized body before routing, so it is never read."""

    def __init__(self, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.max_bytes = max_bytes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.max_body_bytes = self.max_bytes
        if req.content_length is not None and req.content_length > self.max_bytes:
            raise falcon.HTTPContentTooLarge(description=f"The request body is larger than {self.max_bytes} bytes.")


def read_object(req: falcon.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 4xx that says what is wrong with it.

    The content type was already checked for every state-changing request by the cross-site
    guard (entrypoints.http.request_guard), which runs before any resource.
    """
    max_bytes = req.context.get("max_body_bytes", MAX_BODY_BYTES)
    raw = req.bounded_stream.read(max_bytes + 1)
    if len(raw) > max_bytes:  # a body sent without Content-Length (chunked) is bounded here
        raise falcon.HTTPContentTooLarge(description=f"The request body is larger than {max_bytes} bytes.")
    text = _utf8_text(raw)
    if not text.strip():
        raise falcon.HTTPBadRequest(description="A JSON object body with Content-Type: 'application/json' is required.")
    try:
        body = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except BodyRefused as refused:
        raise falcon.HTTPBadRequest(description=str(refused)) from None
    except (ValueError, RecursionError):
        raise falcon.HTTPBadRequest(description="The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise falcon.HTTPBadRequest(description="The body must be a JSON object.")
    for name, value in body.items():
        _check_strings(name, value)
    return body


class BodyRefused(ValueError):
    """JSON that Python's parser reads but RFC 8259 / I-JSON (RFC 7493) do not allow; says why."""


def _utf8_text(raw: bytes) -> str:
    """RFC 8259 8.1: JSON between systems is UTF-8 without a byte order mark. Python's json.loads
    would guess UTF-16/32 and skip a BOM; a body another parser reads differently is refused."""
    if raw.startswith(codecs.BOM_UTF8):
        raise falcon.HTTPBadRequest(description="The body must be UTF-8 without a byte order mark (RFC 8259).")
    if b"\x00" in raw or raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # No JSON text holds a NUL byte; UTF-16 and UTF-32 put one next to every ASCII character.
        raise falcon.HTTPBadRequest(description="The body must be UTF-8 (RFC 8259), not UTF-16 or UTF-32.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise falcon.HTTPBadRequest(description="The body is not valid UTF-8 (RFC 8259).") from None


def _shown(text: str) -> str:
    """A client's text quoted in a message: bounded, and escaped so a lone surrogate can be encoded."""
    return ascii(text[:64]) if _has_lone_surrogate(text) else repr(text[:64])


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse what parsers disagree on: a repeated key (first or last wins?) and keys that are
    not Unicode text (a lone surrogate from a \\uD800-style escape)."""
    body: dict[str, Any] = {}
    for key, value in pairs:
        if _has_lone_surrogate(key):
            raise BodyRefused(f"A key holds a lone surrogate ({_shown(key)}); keys must be Unicode text.")
        if key in body:
            raise BodyRefused(f"The key {_shown(key)} appears more than once.")
        body[key] = value
    return body


def _no_constant(name: str) -> Any:
    raise BodyRefused(f"{name} is not a JSON number (RFC 8259).")


def _check_strings(field: str, value: Any) -> None:
    """Every string in the field (nested too) must be encodable: a lone surrogate would break the
    hash, the store or the answer far from here, so it is refused naming the field. A loop, not
    recursion: as deep as the parser went, one more frame could be one too many."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _has_lone_surrogate(item):
                raise falcon.HTTPBadRequest(description=f"{field}: holds a lone surrogate; text must be valid Unicode")
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def check_fields(body: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    """Name the first missing or unexpected field: typos must not be silently ignored."""
    for name in required:
        if name not in body:
            raise falcon.HTTPBadRequest(description=f"{name}: is required")
    allowed = set(required) | set(optional)
    for name in body:
        if name not in allowed:
            raise falcon.HTTPBadRequest(description=f"{name[:64]}: is not an accepted field")
