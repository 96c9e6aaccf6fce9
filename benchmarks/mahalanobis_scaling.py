"""Mahalanobis scoring of augmented vectors against 16 classes: time, memory, cost in n.

Issue 12: score 10,000 augmented vectors against 16 classes with
``augkit.quality.Mahalanobis(shrinkage="ledoit-wolf")``, report time and
memory, and show the cost is linear in n.

Vectors: numpy random data of MiniLM's shape (d=384, float32), not
embeddings (embedding 10,000 texts would time the encoder, which
embedding_throughput.py measures). Each class ``k`` of 16 has a mean
``mu_k ~ N(0, 0.25^2 I)``; a row is ``mu_k + z A`` with ``z ~ N(0, I)`` and
one fixed random mixing matrix ``A`` (384x384, entries ``N(0, 1/384)``), so
the classes share a full, non-diagonal covariance, as the model assumes. The
model is fitted on 64 originals per class (1,024 rows, fewer than d^2 so the
shrinkage matters); the augmented rows are drawn the same way, labels
cycling through the classes.

Timed per n (``--sizes``, default 1,250 / 2,500 / 5,000 / 10,000), the
sizes interleaved (``_timing.interleaved``), best round of ``--repeats``,
wall and CPU time:

- ``distance(E, labels)``: each row's distance to its own class (the
  filter's score);
- ``predict(E)``: the nearest class of each row (the filter's label check;
  distances to all 16 means);
- the two together, per row, and that per-row time divided by the per-row
  time at the largest n (1.0 everywhere = linear).

Memory: ``tracemalloc`` peak during one ``distance`` + ``predict`` at each n
(numpy reports its buffers to tracemalloc), beside the size of the input
itself. ``fit`` (Ledoit-Wolf on 1,024 x 384 and the eigendecomposition) is
timed once, apart.

Usage: python benchmarks/mahalanobis_scaling.py [--sizes N,N,..] [--repeats R] [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import INTERLEAVED, environment, interleaved, load_average, write_json

from augkit.quality import Mahalanobis

RESULTS = Path(__file__).resolve().parent / "results"
DIM = 384
CLASSES = 16
TRAIN_PER_CLASS = 64
SIZES = (1250, 2500, 5000, 10000)


def make_data(n_max: int, seed: int = 12) -> tuple[np.ndarray, list[int], np.ndarray, list[int]]:
    """Training rows and labels, then ``n_max`` augmented rows and labels (float32)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 0.25, (CLASSES, DIM))
    mix = rng.normal(0.0, 1.0 / np.sqrt(DIM), (DIM, DIM))

    def draw(labels: np.ndarray) -> np.ndarray:
        z = rng.standard_normal((len(labels), DIM))
        out: np.ndarray = (means[labels] + z @ mix).astype(np.float32)
        return out

    y_train = np.repeat(np.arange(CLASSES), TRAIN_PER_CLASS)
    y_aug = np.arange(n_max) % CLASSES
    return draw(y_train), y_train.tolist(), draw(y_aug), y_aug.tolist()


def score(model: Mahalanobis, e: np.ndarray, labels: list[int]) -> None:
    model.distance(e, labels)
    model.predict(e)


def peak_bytes(model: Mahalanobis, e: np.ndarray, labels: list[int]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        score(model, e, labels)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(sizes: list[int], repeats: int) -> dict[str, Any]:
    import sklearn

    x_train, y_train, x_aug, y_aug = make_data(max(sizes))
    t0, c0 = time.perf_counter(), time.process_time()
    model = Mahalanobis(shrinkage="ledoit-wolf").fit(x_train, y_train)
    fit = {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
    inputs = {n: (x_aug[:n], y_aug[:n]) for n in sizes}
    fns: dict[str, Any] = {}
    for n in sizes:
        e, y = inputs[n]
        fns[f"distance n={n}"] = lambda e=e, y=y: model.distance(e, y)
        fns[f"predict n={n}"] = lambda e=e: model.predict(e)
    timings = interleaved(fns, repeats)
    largest = max(sizes)
    per_row_ref = {
        k: (timings[f"distance n={largest}"][k] + timings[f"predict n={largest}"][k]) / largest
        for k in ("wall_s", "cpu_s")
    }
    rows = []
    for n in sizes:
        e, y = inputs[n]
        d, p = timings[f"distance n={n}"], timings[f"predict n={n}"]
        total = {k: d[k] + p[k] for k in ("wall_s", "cpu_s")}
        rows.append(
            {
                "n": n,
                "distance": d,
                "predict": p,
                "total_wall_s": total["wall_s"],
                "total_cpu_s": total["cpu_s"],
                "us_per_row_wall": total["wall_s"] / n * 1e6,
                "us_per_row_cpu": total["cpu_s"] / n * 1e6,
                "per_row_vs_largest_wall": total["wall_s"] / n / per_row_ref["wall_s"],
                "per_row_vs_largest_cpu": total["cpu_s"] / n / per_row_ref["cpu_s"],
                "tracemalloc_peak_bytes": peak_bytes(model, e, y),
                "input_bytes": int(e.nbytes),
            }
        )
    # Check: the scores are sane (the right class is nearest for most rows).
    accuracy = float(np.mean(model.predict(x_aug) == np.asarray(y_aug)))
    return {
        "benchmark": "mahalanobis_scaling",
        "environment": environment(
            repeats, INTERLEAVED, numpy=np.__version__, scikit_learn=sklearn.__version__
        ),
        "load_average_at_end": load_average(),
        "data": (
            f"numpy random, d={DIM} float32, {CLASSES} classes, means N(0, 0.25^2 I), shared "
            f"covariance A^T A (A 384x384 N(0, 1/384)); fit on {TRAIN_PER_CLASS} per class"
        ),
        "model": repr(model),
        "fit": fit,
        "predict_accuracy_on_largest": accuracy,
        "rows": rows,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"Mahalanobis(shrinkage='ledoit-wolf'), {CLASSES} classes, d={DIM}, fitted on "
        f"{CLASSES * TRAIN_PER_CLASS} rows in {result['fit']['wall_s']:.3f} s wall / "
        f"{result['fit']['cpu_s']:.3f} s CPU; best of {result['environment']['repeats']} "
        "interleaved rounds",
        "",
        "| n | distance(E, labels) s | predict(E) s | total s (wall / CPU) | us/row (wall / CPU) "
        "| per row vs largest n (wall / CPU) | tracemalloc peak | input |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['n']:,} | {r['distance']['wall_s']:.4f} | {r['predict']['wall_s']:.4f} | "
            f"{r['total_wall_s']:.4f} / {r['total_cpu_s']:.4f} | "
            f"{r['us_per_row_wall']:.1f} / {r['us_per_row_cpu']:.1f} | "
            f"{r['per_row_vs_largest_wall']:.2f} / {r['per_row_vs_largest_cpu']:.2f} | "
            f"{r['tracemalloc_peak_bytes'] / 2**20:.1f} MiB | {r['input_bytes'] / 2**20:.1f} MiB |"
        )
    lines += [
        "",
        f"nearest class = its label for {result['predict_accuracy_on_largest']:.1%} of rows",
        f"load average at start {result['environment']['load_average_at_start']}, "
        f"at end {result['load_average_at_end']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="smoke run: n=500/1,000, 2 rounds")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        sizes, repeats = [500, 1000], 2
    else:
        sizes, repeats = [int(s) for s in args.sizes.split(",")], args.repeats
    result = run(sizes, repeats)
    print(table(result))
    if not args.quick or args.out is not None:
        write_json(result, args.out or RESULTS / "mahalanobis_scaling.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
