"""The service itself: /health and this document, /openapi.json."""

from __future__ import annotations

from typing import Any

from entrypoints.openapi.parts import RETRY_AFTER, answer, error, operation

PATHS: dict[str, dict[str, Any]] = {
    "/health": {
        "get": operation(
            "health",
            "Whether the store answers",
            "service",
            {
                200: answer(
                    "The store answers.",
                    {
                        "type": "object",
                        "properties": {"status": {"const": "ok"}, "store": {"enum": ["sqlite", "elasticsearch", "opensearch"]}},
                        "required": ["status", "store"],
                        "additionalProperties": False,
                    },
                ),
                503: error(503, "The store does not answer.", RETRY_AFTER),
            },
            store=False,
        )
    },
    "/openapi.json": {
        "get": operation(
            "openApiDocument",
            "This document: the API's contract (OpenAPI 3.1)",
            "service",
            {200: answer("The document.", {"type": "object", "required": ["openapi", "info", "paths"]})},
            store=False,
        )
    },
}
