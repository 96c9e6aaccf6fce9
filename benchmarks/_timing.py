"""Timing and reporting helpers shared by the benchmark scripts."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` wall-clock runs of ``fn``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def environment(repeats: int, **versions: str) -> dict[str, Any]:
    """The facts every result file records about where and how it was measured."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        **versions,
        "repeats": repeats,
        "timing": "best of repeats, wall clock (time.perf_counter)",
    }


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write ``result`` to ``path`` (creating its folder) and say so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {path}")
