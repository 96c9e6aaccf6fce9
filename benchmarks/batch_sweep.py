"""Batch-size sweep of ``augment_batch``: time and peak memory per item, 1 to 4,096 items.

Issue 11 asks that batching has no superlinear cost: per-item time and
memory must not grow with the batch. Two pipelines:

- text: ``Pipeline.sometimes([append token] * 3, 0.5)`` on 3-19 token texts
  (the operator of benchmarks/pipeline_overhead.py, with its
  ``sample_params_batch`` hook);
- image: ``Pipeline.sometimes([RandomCrop(128), HorizontalFlip()], p=[1.0,
  0.5])`` on 224x224x3 uint8 numpy images (64 distinct images, cycled).

For each batch size ``b`` the same 4,096 items go through in consecutive
calls of ``b`` items (``indices`` their positions, as a DataLoader's batches),
so every size does the same work. All sizes of both pipelines run
interleaved (``_timing.interleaved``), best round of ``--repeats``, wall and
CPU time, and the system share of the CPU time (the kernel's first touch of
fresh memory lands there). Peak memory per item is ``tracemalloc``'s peak
during one call of ``b`` items (outputs included) over ``b``, measured apart
from the timings. The verdict compares the largest batch with one 16 times
smaller (4,096 vs 256): per-item time more than 25 % higher (in wall and in
CPU time) counts as superlinear growth; the memory ratio is given beside it,
with the ratio over the last doubling (a cost that still grows there keeps
growing). The user-time ratio (CPU minus system) is given too: when the CPU
time grows and the user time does not, the growth is the kernel giving the
process fresh pages (glibc hands a freed batch's ~100 MB of image outputs
back to the system, and the next call faults them in again;
``MALLOC_TRIM_THRESHOLD_=4000000000`` makes it vanish), and the line says so.

Usage: python benchmarks/batch_sweep.py [--repeats R] [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import INTERLEAVED, environment, interleaved, load_average, us, write_json
from pipeline_overhead import HOOK_NOTE, make_texts, sometimes_append_tokens

from augkit import Pipeline

RESULTS = Path(__file__).resolve().parent / "results"
#: A per-item cost this many times the one of a 16 times smaller batch counts as growth.
GROWTH = 1.25


def image_pipeline() -> Pipeline:
    from augkit.image import HorizontalFlip, RandomCrop

    return Pipeline.sometimes([RandomCrop(128), HorizontalFlip()], p=[1.0, 0.5])


def pipelines(total: int) -> dict[str, tuple[Pipeline, list[Any]]]:
    """Name -> (pipeline, ``total`` items)."""
    rng = np.random.default_rng(2024)
    images = [rng.integers(0, 256, (224, 224, 3), dtype=np.uint8) for _ in range(64)]
    return {
        "text": (sometimes_append_tokens(0.5), make_texts(total)),
        "image": (image_pipeline(), [images[i % len(images)] for i in range(total)]),
    }


def chunks(items: list[Any], b: int) -> list[tuple[list[Any], range]]:
    """Consecutive batches of ``b`` items with their indices."""
    return [(items[s : s + b], range(s, min(s + b, len(items)))) for s in range(0, len(items), b)]


def peak_bytes_per_item(pipe: Pipeline, batch: list[Any], indices: range) -> float:
    """tracemalloc's peak (above the memory in use before) during one call, per item."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        out = pipe.augment_batch(batch, seed=1, indices=indices)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del out
    return (peak - before) / len(batch)


def run(sizes: list[int], total: int, repeats: int) -> dict[str, Any]:
    import cv2

    cv2.setNumThreads(1)
    pipes = pipelines(total)
    fns: dict[str, Callable[[], None]] = {}
    for name, (pipe, items) in pipes.items():
        for b in sizes:
            batches = chunks(items, b)

            def go(pipe: Pipeline = pipe, batches: list[Any] = batches) -> None:
                for batch, idx in batches:
                    pipe.augment_batch(batch, seed=1, indices=idx)

            fns[f"{name}|{b}"] = go
    times = interleaved(fns, repeats)
    rows = []
    for b in sizes:
        row: dict[str, Any] = {"batch_size": b}
        for name, (pipe, items) in pipes.items():
            t = times[f"{name}|{b}"]
            batch, idx = chunks(items, b)[0]
            row[name] = {
                "us_per_item_wall": us(t["wall_s"], total),
                "us_per_item_cpu": us(t["cpu_s"], total),
                "us_per_item_sys": us(t["sys_s"], total),
                "us_per_item_wall_median": us(t["wall_median_s"], total),
                "peak_bytes_per_item": peak_bytes_per_item(pipe, batch, idx),
            }
        rows.append(row)
    return {
        "benchmark": "batch_sweep",
        "threads": "1 (cv2.setNumThreads(1), OMP_NUM_THREADS=1); the rest single-threaded Python",
        **environment(repeats, INTERLEAVED, numpy=np.__version__, opencv=cv2.__version__),
        "load_average_at_end": load_average(),
        "items_per_size": total,
        "pipelines": {
            "text": "Pipeline.sometimes([append token] * 3, 0.5), 3-19 token texts; " + HOOK_NOTE,
            "image": "Pipeline.sometimes([RandomCrop(128), HorizontalFlip()], p=[1.0, 0.5]), "
            "224x224x3 uint8 numpy images",
        },
        "rows": rows,
        "verdict": verdicts(rows),
    }


def verdicts(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per pipeline: the largest batch's per-item time and memory against a 16x smaller one."""
    by_size = {r["batch_size"]: r for r in rows}
    big = max(by_size)
    small = big // 16 if big // 16 in by_size else min(by_size)
    half = big // 2 if big // 2 in by_size else small
    out = {}
    for name in ("text", "image"):
        a, h, b = by_size[small][name], by_size[half][name], by_size[big][name]
        wall = b["us_per_item_wall"] / a["us_per_item_wall"]
        cpu = b["us_per_item_cpu"] / a["us_per_item_cpu"]
        # User time alone: the CPU time without the kernel's (page faults of fresh memory).
        user = (b["us_per_item_cpu"] - b["us_per_item_sys"]) / (
            a["us_per_item_cpu"] - a["us_per_item_sys"]
        )
        mem = b["peak_bytes_per_item"] / a["peak_bytes_per_item"]
        mem_last = b["peak_bytes_per_item"] / h["peak_bytes_per_item"]
        grows = min(wall, cpu) > GROWTH
        grows_user = user > GROWTH
        if not grows:
            said = "no superlinear growth"
        elif grows_user:
            said = "grows superlinearly"
        else:
            said = (
                "grows, in system time only (the kernel's page faults of fresh memory; "
                "augkit's own user time does not grow)"
            )
        out[name] = {
            "from": small,
            "to": big,
            "time_ratio_wall": wall,
            "time_ratio_cpu": cpu,
            "time_ratio_user": user,
            "memory_ratio": mem,
            "memory_ratio_last_doubling": mem_last,
            "superlinear": grows,
            "superlinear_user_time": grows_user,
            "line": (
                f"{name}: per-item time at {big:,} is {wall:.2f}x (wall) / {cpu:.2f}x (CPU; "
                f"{user:.2f}x in user time) that at {small:,}: "
                + said
                + f"; per-item peak memory {mem:.2f}x that at {small:,} "
                f"({mem_last:.2f}x over the last doubling, {half:,} to {big:,})"
            ),
        }
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| batch size | text µs/item (wall / CPU) | text peak KiB/item | image µs/item "
        "(wall / CPU) | image: system part of CPU µs/item | image peak KiB/item |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        cells = [f"{r['batch_size']:,}"]
        for name in ("text", "image"):
            m = r[name]
            cells.append(f"{m['us_per_item_wall']:.1f} / {m['us_per_item_cpu']:.1f}")
            if name == "image":
                cells.append(f"{m['us_per_item_sys']:.1f}")
            cells.append(f"{m['peak_bytes_per_item'] / 1024:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    p = result["pipelines"]
    return (
        f"{result['items_per_size']:,} items per batch size, best of {result['repeats']} "
        f"interleaved rounds.\ntext: {p['text']}\nimage: {p['image']}\n\n"
        + "\n".join(lines)
        + "\n\n"
        + "\n".join(f"Verdict, {v['line']}" for v in result["verdict"].values())
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--largest", type=int, default=4096, help="largest batch (a power of 2)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny run to check the script works")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON path (default: results/; --quick: none)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.largest, args.repeats = 64, 1
    sizes = [2**k for k in range(args.largest.bit_length()) if 2**k <= args.largest]
    result = run(sizes, args.largest, args.repeats)
    table = markdown(result)
    result["markdown"] = table
    print(table)
    out = args.out or (None if args.quick else RESULTS / "batch_sweep.json")
    if out is not None:
        write_json(result, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
