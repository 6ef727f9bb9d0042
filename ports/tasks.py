"""Work that must not happen on the request path."""

from __future__ import annotations

from typing import Callable

Defer = Callable[[Callable[[], None]], None]
"""Runs the given task later (or now); never raises on its behalf."""


def run_now(task: Callable[[], None]) -> None:
    task()
