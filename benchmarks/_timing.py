"""Timing and reporting helpers shared by the benchmark scripts.

The project machine is a shared 2-core box: another process can take a core
for seconds at a time. :func:`interleaved` is how a side-by-side comparison
copes: every contender runs once per round, in an order that rotates from
round to round (a burst of load hits them alike), and each keeps its best
round, in wall-clock time (``time.perf_counter``) and in CPU time of this
process (``time.process_time``, which another process's load barely moves).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

#: What :func:`interleaved` measures, as the result files record it.
INTERLEAVED = (
    "interleaved rounds (every contender once per round, the order rotating), best round "
    "of each, wall clock (time.perf_counter) and CPU time of the process (time.process_time); "
    "gc enabled, gc.collect() before each timed run (objects made before the rounds frozen)"
)


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` wall-clock runs of ``fn``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _system_time() -> float:
    """System (kernel) CPU seconds of this process so far: page faults of fresh memory land here."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on every platform
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, float, float]:
    """``(wall seconds, CPU seconds, of which system seconds)`` of one run of ``fn``."""
    gc.collect()
    s0 = _system_time()
    c0 = time.process_time()
    t0 = time.perf_counter()
    fn()
    t1 = time.perf_counter()
    c1 = time.process_time()
    return t1 - t0, c1 - c0, _system_time() - s0


def interleaved(
    fns: Mapping[str, Callable[[], Any]], repeats: int, *, warmup: bool = True
) -> dict[str, dict[str, float]]:
    """Best and median wall / CPU seconds of each function over ``repeats`` interleaved rounds.

    Returns ``{name: {"wall_s", "cpu_s", "sys_s", "wall_median_s", "cpu_median_s"}}``;
    ``wall_s`` and ``cpu_s`` are each the best round (not necessarily the same one),
    ``sys_s`` the system share of the CPU-best round.
    """
    names = list(fns)
    # What exists now (imported libraries, inputs) is never garbage: leave it out of
    # every collection, so the collection before each run takes microseconds, not 0.3 s.
    gc.collect()
    gc.freeze()
    if warmup:  # imports, caches, first-call costs
        for name in names:
            fns[name]()
    walls: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    syss: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            wall, cpu, system = timed(fns[name])
            walls[name].append(wall)
            cpus[name].append(cpu)
            syss[name].append(system)
    return {
        n: {
            "wall_s": min(walls[n]),
            "cpu_s": min(cpus[n]),
            "sys_s": syss[n][cpus[n].index(min(cpus[n]))],
            "wall_median_s": statistics.median(walls[n]),
            "cpu_median_s": statistics.median(cpus[n]),
        }
        for n in names
    }


def ratios(theirs: Mapping[str, float], ours: Mapping[str, float]) -> dict[str, float]:
    """How many times faster ``ours`` is than ``theirs``, in wall and in CPU time."""
    return {"wall": theirs["wall_s"] / ours["wall_s"], "cpu": theirs["cpu_s"] / ours["cpu_s"]}


def verdict(need: float, ratio: Mapping[str, float]) -> str:
    """Whether a ``>= need`` goal is met, by wall and CPU time."""
    wall, cpu = ratio["wall"] >= need, ratio["cpu"] >= need
    if wall and cpu:
        return "met"
    if wall or cpu:
        return f"met in {'wall' if wall else 'CPU'} time only"
    return "NOT met"


def us(seconds: float, n: int) -> float:
    """Microseconds per item."""
    return seconds / n * 1e6


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (how busy the shared machine was)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        return None


#: The load averages when the benchmark process started (it imports this module first).
LOAD_AT_START = load_average()


def source_state() -> dict[str, Any]:
    """The augkit commit measured, and which of its files differed from it (others' work)."""
    import augkit

    root = Path(augkit.__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.rstrip("\n") if proc.returncode == 0 else None

    status = git("status", "--porcelain", "--", "augkit")
    return {
        "augkit_commit": git("rev-parse", "--short", "HEAD"),
        "augkit_uncommitted": None if status is None else [ln[3:] for ln in status.splitlines()],
    }


def environment(
    repeats: int, timing: str = "best of repeats, wall clock (time.perf_counter)", **versions: str
) -> dict[str, Any]:
    """The facts every result file records about where and how it was measured."""
    return {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": LOAD_AT_START,
        **source_state(),
        **versions,
        "repeats": repeats,
        "timing": timing,
    }


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write ``result`` to ``path`` (creating its folder) and say so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {path}")
