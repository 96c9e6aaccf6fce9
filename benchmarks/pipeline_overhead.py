"""Per-item overhead of augkit's Markov pipeline vs nlpaug's flows.

Both sides run the same trivial operators, the same number of them, on the
same texts, in one process. Two operators: "no-op" returns its input
(augkit's Identity; an nlpaug WordAugmenter whose substitute returns the
text, which nlpaug's flows call once each, no retries) and "append token"
(append one random token: one random draw per step on both sides). The
augkit append-token operator implements the optional
``sample_params_batch(xs, rngs)`` hook, as a user who cares about batch
speed would (tests/ops.py's AppendToken): pipelines draw the parameters of a
group of 24 or more items in numpy through it.

- sequence of 3 operators: ``Pipeline.sequence`` vs ``naf.Sequential``;
- each of 3 operators with p = 0.5: ``Pipeline.sometimes([...], 0.5)`` vs
  ``naf.Sometimes(aug_p=0.5)``;
- a general Markov chain (augkit only; nlpaug has no equivalent).

augkit is measured per item (``pipe.augment(x, seed=..., index=i)`` in a
loop, the way a Dataset calls it) and batched (``augment_batch``); nlpaug per
item (``flow.augment(x)``, seeded once with ``nlpaug.util.Randomness.seed``,
as its users seed it). nlpaug's flows given a list return a single output
for the whole list, so there is no batched nlpaug figure to compare. Goals
(issue 11): augkit >= 3x nlpaug per item and >= 10x batched, in every case.

All contenders of all cases run interleaved (``_timing.interleaved``), best
round of ``--repeats``, in wall time and in CPU time.

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

from _timing import (
    INTERLEAVED,
    environment,
    interleaved,
    load_average,
    ratios,
    us,
    verdict,
    write_json,
)

from augkit import Identity, Pipeline, TextAugmenter
from augkit.seeding import BatchStream, Rng

TOKENS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
RESULTS = Path(__file__).resolve().parent / "results"
#: (per item, batched): minimum nlpaug / augkit ratios, from issue 11.
GOALS = {"item": 3.0, "batch": 10.0}
HOOK_NOTE = (
    "augkit's append-token operator implements sample_params_batch (the optional batch hook "
    "of tests/ops.py's AppendToken); pipelines use it for groups of 24+ items."
)


class AppendTokenAugkit(TextAugmenter):
    """augkit side: append a random token; the batch hook draws a group's tokens at once."""

    def sample_params(self, x: str, rng: Rng) -> dict[str, Any]:
        return {"token": TOKENS[int(rng.integers(len(TOKENS)))]}

    def sample_params_batch(self, xs: list[str], rngs: BatchStream) -> list[dict[str, Any]]:
        return [{"token": TOKENS[i]} for i in rngs.integers(0, len(TOKENS)).tolist()]

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


def make_texts(n: int) -> list[str]:
    """``n`` texts of 3 to 19 tokens."""
    rng = np.random.default_rng(0)
    return [
        " ".join(TOKENS[int(j)] for j in rng.integers(0, len(TOKENS), int(rng.integers(3, 20))))
        for _ in range(n)
    ]


def sometimes_append_tokens(p: float = 0.5) -> Pipeline:
    """The text pipeline of the batch-size sweep: 3 x append token, each with probability p."""
    return Pipeline.sometimes([AppendTokenAugkit() for _ in range(3)], p)


def run(items: int, repeats: int) -> dict[str, Any]:
    import nlpaug
    import nlpaug.flow as naf
    from nlpaug.util import Randomness

    texts = make_texts(items)
    Randomness.seed(0)

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

    fns: dict[str, Any] = {}
    for name, (pipe, flow) in cases.items():

        def augkit_item(pipe: Pipeline = pipe) -> None:
            for i, x in enumerate(texts):
                pipe.augment(x, seed=1, index=i)

        def augkit_batch(pipe: Pipeline = pipe) -> None:
            pipe.augment_batch(texts, seed=1)

        fns[f"{name}|augkit_item"] = augkit_item
        fns[f"{name}|augkit_batch"] = augkit_batch
        if flow is not None:

            def nlpaug_item(flow: Any = flow) -> None:
                for x in texts:
                    flow.augment(x)

            fns[f"{name}|nlpaug_item"] = nlpaug_item

    times = interleaved(fns, repeats)
    rows = []
    for name, (pipe, flow) in cases.items():
        row: dict[str, Any] = {
            "case": name,
            "items": items,
            "expected_steps_per_item": pipe.expected_length(),
            "augkit_item": times[f"{name}|augkit_item"],
            "augkit_batch": times[f"{name}|augkit_batch"],
        }
        if flow is not None:
            theirs = times[f"{name}|nlpaug_item"]
            row["nlpaug_item"] = theirs
            row["ratio_item"] = ratios(theirs, row["augkit_item"])
            row["ratio_batch"] = ratios(theirs, row["augkit_batch"])
            row["goal_item"] = verdict(GOALS["item"], row["ratio_item"])
            row["goal_batch"] = verdict(GOALS["batch"], row["ratio_batch"])
        rows.append(row)

    return {
        "benchmark": "pipeline_overhead",
        "threads": "single-threaded Python (no torch involved)",
        **environment(repeats, INTERLEAVED, nlpaug=nlpaug.__version__, numpy=np.__version__),
        "load_average_at_end": load_average(),
        "note": HOOK_NOTE,
        "goals": GOALS,
        "rows": rows,
    }


def _pair(t: dict[str, float], n: int) -> str:
    return f"{us(t['wall_s'], n):.1f} / {us(t['cpu_s'], n):.1f}"


def _ratio(r: dict[str, float]) -> str:
    return f"{r['wall']:.2f}x / {r['cpu']:.2f}x"


def markdown(result: dict[str, Any]) -> str:
    head = (
        "| case | steps/item | augkit per item µs (wall / CPU) | augkit batch µs/item "
        "(wall / CPU) | nlpaug per item µs (wall / CPU) | nlpaug / augkit per item "
        "(wall / CPU) | nlpaug / augkit batch (wall / CPU) |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    goals = []
    for r in result["rows"]:
        n = r["items"]
        cells = [
            r["case"],
            f"{r['expected_steps_per_item']:.2f}",
            _pair(r["augkit_item"], n),
            _pair(r["augkit_batch"], n),
        ]
        if "nlpaug_item" in r:
            cells += [_pair(r["nlpaug_item"], n), _ratio(r["ratio_item"]), _ratio(r["ratio_batch"])]
            goals.append(
                f"- {r['case']}: per item >= {GOALS['item']:.0f}x: {r['goal_item']}; "
                f"batched >= {GOALS['batch']:.0f}x: {r['goal_batch']}"
            )
        else:
            cells += ["n/a", "n/a", "n/a"]
        lines.append("| " + " | ".join(cells) + " |")
    return (
        head
        + "\n".join(lines)
        + f"\n\n{result['rows'][0]['items']} texts, best of {result['repeats']} interleaved "
        f"rounds. {HOOK_NOTE}\n\nGoals (issue 11):\n" + "\n".join(goals)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
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
