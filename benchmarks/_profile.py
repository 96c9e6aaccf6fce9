"""Where the time of issue 11's hot paths goes: primitives timed alone, calls profiled.

Not a benchmark (``run_all.py`` skips files starting with ``_``): the evidence
behind the "what stands in the way" notes of docs/benchmarks.md. Two parts:

- **primitives**: CPU µs per call (``time.process_time``, best of
  ``--repeats`` loops) of the seeding words and draws augkit's per-item path
  makes, beside the ``random`` calls nlpaug makes instead;
- **profiles**: each call of the benchmarks (``pipe.augment(x, seed=,
  index=)``, ``augment_batch``, ``op(x, seed=i)``) under ``cProfile``, the
  functions with the most own time, in µs per item. cProfile adds a cost per
  function call, so its µs (each function's least own time of three
  profiled runs) are scaled to the call's unprofiled CPU time (the ``scale``
  column: unprofiled / profiled); read them as shares.

Usage: python benchmarks/_profile.py [--top K] [--repeats R] [--only NAME]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _competitors import nlpaug_vocabulary_insertion
from _timing import load_average
from pipeline_overhead import (
    TOKENS,
    AppendTokenAugkit,
    make_texts,
    nlpaug_append_token,
    nlpaug_noop,
)

from augkit import Identity, Pipeline
from augkit.seeding import Stream, item_rng, item_word, mix, seed_epoch_word


def cpu_us(fn: Callable[[], Any], n: int, repeats: int) -> float:
    """Best CPU µs per item of ``fn`` (which handles ``n`` items)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best / n * 1e6


def primitives(repeats: int) -> list[tuple[str, float]]:
    """CPU µs per call of the words and draws of one item's path."""
    n = 20_000
    ks = range(n)
    s = item_rng(0)
    ew = seed_epoch_word(1, 0)
    base = 0x123456789ABCDEF0
    r = random.Random(0)
    gen = np.random.default_rng(0)
    rows: dict[str, Callable[[], Any]] = {
        "loop overhead (subtract from the rest)": lambda: [None for _ in ks],
        "seeding.mix(z) (SplitMix64 finalizer on a Python int)": lambda: [
            mix(base ^ k) for k in ks
        ],
        "item_word(seed_epoch_word(seed, epoch), index) (two mixes)": lambda: [
            item_word(seed_epoch_word(1, 0), k) for k in ks
        ],
        "item_word(epoch word, index), cached epoch word": lambda: [item_word(ew, k) for k in ks],
        "Stream.random()": lambda: [s.random() for _ in ks],
        "Stream.integers(8)": lambda: [s.integers(8) for _ in ks],
        "Stream(w) (a new stream object)": lambda: [Stream(base) for _ in ks],
        "Stream.random(2) (sized: numpy)": lambda: [s.random(2) for _ in range(n // 10)],
        "[Stream.random() for _ in range(2)] (the same words, scalar)": lambda: [
            [s.random() for _ in range(2)] for _ in range(n // 10)
        ],
        "random.random() (nlpaug's generator)": lambda: [r.random() for _ in ks],
        "random.choice(TOKENS) (nlpaug's draw in the benchmark)": lambda: [
            r.choice(TOKENS) for _ in ks
        ],
        "numpy Generator.integers(8)": lambda: [gen.integers(8) for _ in range(n // 10)],
    }
    out = []
    for name, fn in rows.items():
        per = n // 10 if "sized" in name or "scalar" in name or "numpy G" in name else n
        out.append((name, cpu_us(fn, per, repeats)))
    return out


def calls() -> dict[str, tuple[Callable[[], Any], int]]:
    """Name -> (one run of the benchmark's loop, items it handles)."""
    from nlpaug.util import Randomness

    texts = make_texts(2000)
    Randomness.seed(0)
    out: dict[str, tuple[Callable[[], Any], int]] = {}
    kinds = {
        "no-op": (lambda: Identity(), nlpaug_noop),
        "append token": (AppendTokenAugkit, nlpaug_append_token),
    }
    import nlpaug.flow as naf

    for kind, (make_ours, make_theirs) in kinds.items():
        ops = [make_ours() for _ in range(3)]
        for flow_name, pipe, flow in (
            ("sequence", Pipeline.sequence(ops), naf.Sequential([make_theirs() for _ in range(3)])),
            (
                "sometimes p=0.5",
                Pipeline.sometimes(ops, 0.5),
                naf.Sometimes([make_theirs() for _ in range(3)], aug_p=0.5),
            ),
        ):
            case = f"{flow_name}, 3 x {kind}"

            def item(pipe: Pipeline = pipe) -> None:
                for i, x in enumerate(texts):
                    pipe.augment(x, seed=1, index=i)

            def batch(pipe: Pipeline = pipe) -> None:
                pipe.augment_batch(texts, seed=1)

            def theirs(flow: Any = flow) -> None:
                for x in texts:
                    flow.augment(x)

            out[f"{case}: augkit per item"] = (item, len(texts))
            out[f"{case}: augkit batched"] = (batch, len(texts))
            out[f"{case}: nlpaug per item"] = (theirs, len(texts))

    import cv2

    from augkit.image import HorizontalFlip, RandomCrop, Rotate
    from augkit.testing.masked_lm import corpus_sentences
    from augkit.text import RandomInsertion, Vocabulary

    cv2.setNumThreads(1)
    rng = np.random.default_rng(2024)
    images = [rng.integers(0, 256, (224, 224, 3), dtype=np.uint8) for _ in range(300)]
    for name, op in (
        ("RandomCrop(128)", RandomCrop(128)),
        ("RandomCrop(128, copy=True)", RandomCrop(128, copy=True)),
        ("HorizontalFlip()", HorizontalFlip()),
        ("Rotate(30)", Rotate(30, interpolation="bilinear", border="constant", fill=0)),
    ):

        def seeded(op: Any = op) -> None:
            for i, x in enumerate(images):
                op(x, seed=i)

        out[f"{name}(img, seed=i)"] = (seeded, len(images))
    sentences = corpus_sentences(1000, seed=123)
    vocab = Vocabulary.from_corpus(sentences, min_count=1, stopwords=None).words
    ours = RandomInsertion(Vocabulary(vocab), rate=0.0, min_words=2, max_words=2)
    theirs_ins = nlpaug_vocabulary_insertion(vocab, aug_p=0.1, aug_min=2, aug_max=2)

    def insert_seeded() -> None:
        for i, x in enumerate(sentences):
            ours(x, seed=i)

    def insert_theirs() -> None:
        for x in sentences:
            theirs_ins.augment(x)

    out["RandomInsertion(2 words)(s, seed=i)"] = (insert_seeded, len(sentences))
    out["nlpaug WordEmbsAug insert (2 words)"] = (insert_theirs, len(sentences))
    return out


def profile(fn: Callable[[], Any], n: int, repeats: int, top: int) -> dict[str, Any]:
    """The ``top`` functions by own time, µs per item scaled to the unprofiled CPU time."""
    plain = cpu_us(fn, n, repeats)
    # Three profiled runs, each function's least own time: a preemption by another
    # process (wall clock is cProfile's cheap clock) lands in one run, not in all three.
    own: dict[tuple[str, int, str], tuple[int, float]] = {}  # function -> (calls, own s)
    for _ in range(3):
        prof = cProfile.Profile()
        prof.enable()
        fn()
        prof.disable()
        raw = pstats.Stats(prof).stats  # type: ignore[attr-defined]
        for key, (_, ncalls, tottime, _, _) in raw.items():
            if key not in own or tottime < own[key][1]:
                own[key] = (ncalls, tottime)
    profiled = sum(t for _, t in own.values()) / n * 1e6
    scale = plain / profiled if profiled else 1.0
    rows = sorted(own.items(), key=lambda kv: kv[1][1], reverse=True)[:top]
    funcs = []
    for (path, line, func), (ncalls, tottime) in rows:
        where = f"{Path(path).name}:{line}({func})" if line else func
        funcs.append(
            {
                "function": where,
                "calls_per_item": ncalls / n,
                "own_us_per_item": tottime / n * 1e6 * scale,
            }
        )
    return {"cpu_us_per_item": plain, "scale": scale, "functions": funcs}


def markdown(prims: list[tuple[str, float]], profiles: dict[str, dict[str, Any]]) -> str:
    lines = ["| primitive | CPU µs per call |", "|---|---:|"]
    lines += [f"| {name} | {v:.2f} |" for name, v in prims]
    for name, p in profiles.items():
        lines += [
            "",
            f"**{name}**: {p['cpu_us_per_item']:.2f} CPU µs per item (scale {p['scale']:.2f})",
            "",
            "| function | calls/item | own µs/item |",
            "|---|---:|---:|",
        ]
        lines += [
            f"| `{f['function']}` | {f['calls_per_item']:.2f} | {f['own_us_per_item']:.2f} |"
            for f in p["functions"]
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", default=None, help="profile only calls whose name has this")
    args = parser.parse_args(argv)
    print(f"load average at start: {load_average()}\n")
    prims = primitives(args.repeats)
    profiles = {
        name: profile(fn, n, args.repeats, args.top)
        for name, (fn, n) in calls().items()
        if args.only is None or args.only in name
    }
    print(markdown(prims, profiles))
    print(f"\nload average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
