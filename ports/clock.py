"""Time, injected so that expiry rules are tested without sleeping."""

from __future__ import annotations

from datetime import datetime
from typing import Callable

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime."""
