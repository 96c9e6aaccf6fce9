"""Test-only operators for the command tests (imported with ``--import``)."""

from __future__ import annotations

import time
from typing import Any

from augkit import TextAugmenter, register


@register("test_slow_upper")
class SlowUpper(TextAugmenter):
    """Uppercases the first character after sleeping ``delay`` seconds: gives kill tests time."""

    def __init__(self, delay: float = 0.0002) -> None:
        self.delay = delay

    def apply(self, x: str, params: dict[str, Any]) -> str:
        time.sleep(self.delay)
        return x[:1].upper() + x[1:]


@register("test_fail_on")
class FailOn(TextAugmenter):
    """Raises ValueError on texts containing ``marker``; otherwise reverses the text."""

    def __init__(self, marker: str = "BOOM") -> None:
        self.marker = marker

    def apply(self, x: str, params: dict[str, Any]) -> str:
        if self.marker in x:
            raise ValueError(f"cannot handle {self.marker!r}")
        return x[::-1]
