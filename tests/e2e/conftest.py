"""End-to-end fixtures; the machinery lives in tests/e2e/harness.py."""

from tests.e2e.harness import start_server

__all__ = ["start_server"]
