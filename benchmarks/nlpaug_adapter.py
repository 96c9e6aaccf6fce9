"""Overhead of augkit's Nlpaug adapter over calling nlpaug directly.

Same nlpaug augmenter objects, same sentences, one process, one thread
(``torch.set_num_threads(1)``; nlpaug imports torch). For each augmenter:

- ``nlpaug``: ``aug.augment(text)`` per item, unseeded (not reproducible);
- ``nlpaug seeded``: ``random.seed(s); np.random.seed(s); aug.augment(text)``
  per item — the reproducible way to call nlpaug by hand (it does not
  restore the caller's global state);
- ``adapter call``: ``op(text, rng=item_rng(seed, 0, i))`` per item
  (lock, save state, seed, run, restore, every item);
- ``adapter batch``: ``op.augment_batch(texts, seed=...)`` (state saved and
  restored once per batch);
- ``pipeline batch``: ``Pipeline.sequence([op]).augment_batch(texts, seed=...)``.

Prints a markdown table (microseconds per item, best of ``--repeats``) and
writes JSON to ``benchmarks/results/nlpaug_adapter.json`` (``--quick`` is a
smoke run that writes JSON only where ``--out`` says).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

WORDS = (
    "the a quick slow brown red fox dog cat jumps runs sleeps over under near lazy happy old "
    "young river tree house garden morning evening quietly loudly because while after before"
).split()


def make_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` sentences of 8-20 words, deterministic."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = int(rng.integers(8, 21))
        words = [WORDS[int(i)] for i in rng.integers(len(WORDS), size=k)]
        out.append(" ".join(words).capitalize() + ".")
    return out


def interleaved_best(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Best wall time of each function over ``repeats`` rounds, the variants
    interleaved within a round so that load changes hit them alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 sentences, 1 repeat")
    parser.add_argument("--n", type=int, default=1000, help="number of sentences")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the JSON (default: benchmarks/results; --quick writes only with --out)",
    )
    args = parser.parse_args(argv)
    n, repeats = (50, 1) if args.quick else (args.n, args.repeats)

    import nlpaug
    import nlpaug.augmenter.char as nac
    import nlpaug.augmenter.word as naw
    import nlpaug.flow as naf
    import torch

    from augkit import Pipeline, item_rng
    from augkit.adapters.nlpaug import Nlpaug

    torch.set_num_threads(1)
    texts = make_sentences(n)
    augmenters = {
        "RandomWordAug(swap)": naw.RandomWordAug(action="swap"),
        "RandomCharAug(insert)": nac.RandomCharAug(action="insert"),
        "Sequential(swap, char insert)": naf.Sequential(
            [naw.RandomWordAug(action="swap"), nac.RandomCharAug(action="insert")]
        ),
    }
    seed = 1234
    # The seeds the adapter draws for these items, so both sides seed alike.
    seeds = [int(item_rng(seed, 0, i).integers(0, 2**32)) for i in range(n)]
    rows = []
    for name, aug in augmenters.items():
        op = Nlpaug(aug)
        pipe = Pipeline.sequence([op])

        def direct(aug: Any = aug) -> None:
            for t in texts:
                aug.augment(t)

        def direct_seeded(aug: Any = aug) -> None:
            for t, s in zip(texts, seeds):
                random.seed(s)
                np.random.seed(s)  # noqa: NPY002 - what calling nlpaug reproducibly takes
                aug.augment(t)

        def adapter_call(op: Nlpaug = op) -> None:
            for i, t in enumerate(texts):
                op(t, rng=item_rng(seed, 0, i))

        def adapter_batch(op: Nlpaug = op) -> None:
            op.augment_batch(texts, seed=seed)

        def pipeline_batch(pipe: Pipeline = pipe) -> None:
            pipe.augment_batch(texts, seed=seed)

        timings = interleaved_best(
            {
                "nlpaug": direct,
                "nlpaug seeded": direct_seeded,
                "adapter call": adapter_call,
                "adapter batch": adapter_batch,
                "pipeline batch": pipeline_batch,
            },
            repeats,
        )
        rows.append(
            {
                "augmenter": name,
                "us_per_item": {k: v / n * 1e6 for k, v in timings.items()},
                "ratio_vs_nlpaug": {k: v / timings["nlpaug"] for k, v in timings.items()},
            }
        )

    cols = ["nlpaug", "nlpaug seeded", "adapter call", "adapter batch", "pipeline batch"]
    lines = [
        "| augmenter | " + " | ".join(f"{c} µs/item (×)" for c in cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for r in rows:
        cells = [f"{r['us_per_item'][c]:.1f} ({r['ratio_vs_nlpaug'][c]:.2f}×)" for c in cols]
        lines.append(f"| {r['augmenter']} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(f"nlpaug {nlpaug.__version__}, {n} sentences, best of {repeats}, torch threads 1\n")
    print(table)

    result = {
        "benchmark": "nlpaug_adapter",
        "nlpaug_version": nlpaug.__version__,
        "n_sentences": n,
        "repeats": repeats,
        "quick": args.quick,
        "torch_threads": 1,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": rows,
        "table": table,
    }
    out_dir = args.out
    if out_dir is None and not args.quick:
        out_dir = Path(__file__).parent / "results"
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        name = "nlpaug_adapter_quick.json" if args.quick else "nlpaug_adapter.json"
        (out_dir / name).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
