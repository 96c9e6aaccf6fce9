"""Test-only operators for the command tests (imported with ``--import``)."""

from __future__ import annotations

import json
import time
from typing import Any

from augkit import TextAugmenter, register
from augkit.items import Labelled


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


@register("test_label_echo")
class LabelEcho(TextAugmenter):
    """Label-aware (as label-aware splicing is): appends the item's label, as JSON, to the text.

    Like ``ChunkRecombination`` with ``pool_labels`` it takes
    :class:`augkit.items.Labelled` and refuses an item without a label, in
    ``apply`` too: replaying it needs the label from the input record.
    """

    needs_label = True

    def validate_input(self, x: Any) -> None:
        if not isinstance(x, Labelled) or not isinstance(x.value, str):
            raise TypeError(f"test_label_echo takes Labelled(text, label), got {x!r}")

    def sample_params(self, x: Any, rng: Any) -> dict[str, Any]:
        return {}

    def apply(self, x: Any, params: dict[str, Any]) -> str:
        if x.label is None:
            raise ValueError("test_label_echo needs the item's label")
        return f"{x.value} {json.dumps(x.label)}"
