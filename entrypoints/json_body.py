"""JSON request bodies: bounded in size, `application/json` only, an object with known fields."""

from __future__ import annotations

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
    guard (entrypoints.request_guard), which runs before any resource.
    """
    max_bytes = req.context.get("max_body_bytes", MAX_BODY_BYTES)
    raw = req.bounded_stream.read(max_bytes + 1)
    if len(raw) > max_bytes:  # a body sent without Content-Length (chunked) is bounded here
        raise falcon.HTTPContentTooLarge(description=f"The request body is larger than {max_bytes} bytes.")
    if not raw.strip():
        raise falcon.HTTPBadRequest(description="A JSON object body with Content-Type: 'application/json' is required.")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise falcon.HTTPBadRequest(description="The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise falcon.HTTPBadRequest(description="The body must be a JSON object.")
    return body


def check_fields(body: dict[str, Any], required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    """Name the first missing or unexpected field: typos must not be silently ignored."""
    for name in required:
        if name not in body:
            raise falcon.HTTPBadRequest(description=f"{name}: is required")
    allowed = set(required) | set(optional)
    for name in body:
        if name not in allowed:
            raise falcon.HTTPBadRequest(description=f"{name[:64]}: is not an accepted field")
