"""Per-item overhead of augkit's Markov pipeline vs nlpaug's flows.

Both sides run the same trivial operators, the same number of them, on the
same texts, in one process. Two operators: "no-op" returns its input
(augkit's Identity; an nlpaug WordAugmenter whose substitute returns the
text, which nlpaug's flows call once each, no retries) and "append token"
(append one random token: one random draw per step on both sides):

- sequence of 3 operators: ``Pipeline.sequence`` vs ``naf.Sequential``;
- each of 3 operators with p = 0.5: ``Pipeline.sometimes([...], 0.5)`` vs
  ``naf.Sometimes(aug_p=0.5)``;
- a general Markov chain (augkit only; nlpaug has no equivalent).

augkit is measured per item (``pipe.augment(x, seed=..., index=i)`` in a
loop, the way a Dataset calls it) and batched (``augment_batch``); nlpaug per
item (``flow.augment(x)``). nlpaug's flows given a list return a single
output for the whole list, so there is no batched nlpaug figure to compare.

Usage: python benchmarks/pipeline_overhead.py [--items N] [--repeats R] [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import best_of, environment, write_json

from augkit import Identity, Pipeline, TextAugmenter

TOKENS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
RESULTS = Path(__file__).resolve().parent / "results"


class AppendTokenAugkit(TextAugmenter):
    """augkit side: append a random token."""

    def sample_params(self, x: str, rng: np.random.Generator) -> dict[str, Any]:
        return {"token": TOKENS[int(rng.integers(len(TOKENS)))]}

    def apply(self, x: str, params: dict[str, Any]) -> str:
        return x + " " + params["token"]


def nlpaug_noop() -> Any:
    from nlpaug.augmenter.word import WordAugmenter

    class NoopNlpaug(WordAugmenter):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(action="substitute", name="Noop", aug_min=1, aug_max=1)

        def substitute(self, data: str) -> str:
            return data

    return NoopNlpaug()


def nlpaug_append_token() -> Any:
    """nlpaug side: the same operation as a WordAugmenter (its own RNG is ``random``)."""
    from nlpaug.augmenter.word import WordAugmenter

    class AppendTokenNlpaug(WordAugmenter):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(action="substitute", name="AppendToken", aug_min=1, aug_max=1)

        def substitute(self, data: str) -> str:
            return data + " " + random.choice(TOKENS)

    return AppendTokenNlpaug()


def run(items: int, repeats: int) -> dict[str, Any]:
    import nlpaug
    import nlpaug.flow as naf

    rng = np.random.default_rng(0)
    texts = [
        " ".join(TOKENS[int(j)] for j in rng.integers(0, len(TOKENS), int(rng.integers(3, 20))))
        for _ in range(items)
    ]
    random.seed(0)

    kinds = {
        "no-op": (lambda: Identity(), nlpaug_noop),
        "append token": (AppendTokenAugkit, nlpaug_append_token),
    }
    cases: dict[str, tuple[Pipeline, Any]] = {}
    for kind, (make_ours, make_theirs) in kinds.items():
        ops = [make_ours() for _ in range(3)]
        cases[f"sequence, 3 x {kind}"] = (
            Pipeline.sequence(ops),
            naf.Sequential([make_theirs() for _ in range(3)]),
        )
        cases[f"sometimes p=0.5, 3 x {kind}"] = (
            Pipeline.sometimes(ops, 0.5),
            naf.Sometimes([make_theirs() for _ in range(3)], aug_p=0.5),
        )
    ops = [AppendTokenAugkit() for _ in range(3)]
    cases["markov chain, 3 x append token (augkit only)"] = (
        Pipeline.markov(
            ops, [0.4, 0.3, 0.3], [[0.1, 0.3, 0.3], [0.3, 0.1, 0.3], [0.3, 0.3, 0.1]], 6
        ),
        None,
    )
    rows = []
    for name, (pipe, flow) in cases.items():
        steps = pipe.expected_length()

        def augkit_loop(pipe: Pipeline = pipe) -> None:
            for i, x in enumerate(texts):
                pipe.augment(x, seed=1, index=i)

        def augkit_batch(pipe: Pipeline = pipe) -> None:
            pipe.augment_batch(texts, seed=1)

        row: dict[str, Any] = {
            "case": name,
            "items": items,
            "expected_steps_per_item": steps,
            "augkit_item_s": best_of(augkit_loop, repeats),
            "augkit_batch_s": best_of(augkit_batch, repeats),
        }
        if flow is not None:

            def nlpaug_loop(flow: Any = flow) -> None:
                for x in texts:
                    flow.augment(x)

            row["nlpaug_item_s"] = best_of(nlpaug_loop, repeats)
        rows.append(row)

    return {
        "benchmark": "pipeline_overhead",
        "threads": "single-threaded Python (no torch involved)",
        **environment(repeats, nlpaug=nlpaug.__version__, numpy=np.__version__),
        "rows": rows,
    }


def markdown(result: dict[str, Any]) -> str:
    head = (
        "| case | steps/item | augkit per item (µs/item) | augkit batch (µs/item) "
        "| nlpaug per item (µs/item) | augkit µs/step (per item) | nlpaug µs/step "
        "| nlpaug / augkit per item | nlpaug / augkit batch |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for r in result["rows"]:
        n = r["items"]
        steps = r["expected_steps_per_item"]
        ai = r["augkit_item_s"] / n * 1e6
        ab = r["augkit_batch_s"] / n * 1e6
        if "nlpaug_item_s" in r:
            ni = r["nlpaug_item_s"] / n * 1e6
            theirs = (
                f"{ni:.1f} | {ai / steps:.2f} | {ni / steps:.2f} | {ni / ai:.2f}x | {ni / ab:.2f}x"
            )
        else:
            theirs = f"n/a | {ai / steps:.2f} | n/a | n/a | n/a"
        lines.append(f"| {r['case']} | {steps:.2f} | {ai:.1f} | {ab:.1f} | {theirs} |")
    return head + "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny run to check the script works")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON path (default: results/; --quick: none)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.items, args.repeats = 50, 1
    result = run(args.items, args.repeats)
    table = markdown(result)
    result["markdown"] = table
    print(table)
    out = args.out or (None if args.quick else RESULTS / "pipeline_overhead.json")
    if out is not None:
        write_json(result, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
