"""The service itself: the health probes, this document (/openapi.json), and /metrics."""

from __future__ import annotations

from typing import Any

from entrypoints.openapi.parts import RETRY_AFTER, answer, error, operation

STORE_OK = {
    "type": "object",
    "properties": {"status": {"const": "ok"}, "store": {"enum": ["sqlite", "elasticsearch", "opensearch"]}},
    "required": ["status", "store"],
    "additionalProperties": False,
}
"""What /health and /health/ready answer when all is well."""

PATHS: dict[str, dict[str, Any]] = {
    "/health": {
        "get": operation(
            "health",
            "Whether the store answers",
            "service",
            {
                200: answer(
                    "The store answers.",
                    STORE_OK,
                ),
                503: error(503, "The store does not answer.", RETRY_AFTER),
            },
            store=False,
        )
    },
    "/health/live": {
        "get": operation(
            "healthLive",
            "Whether the process answers (a liveness probe; asks nothing of the store)",
            "service",
            {
                200: answer(
                    "The process answers.",
                    {"type": "object", "properties": {"status": {"const": "ok"}}, "required": ["status"], "additionalProperties": False},
                )
            },
            store=False,
        )
    },
    "/health/ready": {
        "get": operation(
            "healthReady",
            "Whether this process can serve logins (a readiness probe)",
            "service",
            {
                200: answer(
                    "The store reads and takes a write, and the hashing pool is not saturated.",
                    STORE_OK,
                ),
                503: error(503, "The store does not answer or take a write, or the hashing pool is saturated.", RETRY_AFTER),
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

METRICS_PATHS: dict[str, dict[str, Any]] = {
    "/metrics": {
        "get": operation(
            "metrics",
            "Prometheus figures, for the networks in ESAUTH_METRICS_ALLOW",
            "service",
            {
                200: answer("The figures in Prometheus text format 0.0.4.", {"type": "string"}, media_type="text/plain"),
                403: error(403, "The client is not in ESAUTH_METRICS_ALLOW."),
            },
            store=False,
        )
    },
}
"""Served only where metrics are on (entrypoints.http.app: a metrics resource given)."""
