"""Test-only operators for the command tests (imported with ``--import``)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from augkit import ModelUnavailableError, TextAugmenter, register
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


@register("test_die_once")
class DieOnce(TextAugmenter):
    """Kills its own process (``os._exit``) on the first text containing ``marker``, once.

    Once means once per ``path``: the file is created just before the exit, and
    its existence lets every later call (a restarted Ray actor's too) through.
    Otherwise it swaps the case of the text: a visible, deterministic change.
    """

    def __init__(self, path: str, marker: str = "DIE") -> None:
        self.path = path
        self.marker = marker

    def apply(self, x: str, params: dict[str, Any]) -> str:
        if self.marker in x and not os.path.exists(self.path):
            with open(self.path, "w") as f:
                f.write(str(os.getpid()))
            os._exit(1)
        return x.swapcase()


@register("test_fail_while_file")
class FailWhileFile(TextAugmenter):
    """Raises on texts containing ``marker`` while the file ``path`` exists; else reverses words.

    The error is a :class:`~augkit.ModelUnavailableError`, as when a worker
    cannot load a model: it stops the run even with ``--skip-bad``. The run's
    config (and so its fingerprint) stays the same whether it fails or not:
    the test switches the failure with the file.
    """

    def __init__(self, path: str, marker: str = "FAIL", delay: float = 0.0) -> None:
        self.path = path
        self.marker = marker
        self.delay = delay

    def apply(self, x: str, params: dict[str, Any]) -> str:
        if self.marker in x and os.path.exists(self.path):
            time.sleep(self.delay)  # lets a driver take in the batches that came before
            raise ModelUnavailableError(f"{self.path} exists")
        return " ".join(reversed(x.split(" ")))
