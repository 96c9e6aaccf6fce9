"""Seeded single calls: ``op(x, seed=i)`` vs albumentations' and nlpaug's per-call throughput.

What a user pays who calls one operator per item in a ``Dataset.__getitem__``
with the item's own seed (issue 11). Side by side in one process, on the same
inputs, every contender interleaved (``_timing.interleaved``), best round of
``--repeats``, wall time and CPU time; one thread (``cv2.setNumThreads(1)``,
``OMP_NUM_THREADS=1``).

Images (224x224x3 uint8 numpy arrays, each contender on its own copy so none
finds another's images in cache), goal >= 1.0x albumentations 2.0.8:

- augkit ``RandomCrop(128)(img, seed=i)``, ``HorizontalFlip()(img, seed=i)``,
  ``Rotate(30)(img, seed=i)`` (bilinear, constant border 0);
- albumentations ``RandomCrop(128, 128)``, ``HorizontalFlip(p=1)``,
  ``Rotate(limit=30, p=1)`` (bilinear, constant border 0 by default), called
  as ``t(image=img)["image"]`` after ``t.set_random_seed(0)``, once: its own
  seeding, as its users do it (``Compose(..., seed=)`` does the same for
  every transform it holds).

augkit's crop returns a view by default, albumentations' a contiguous copy;
the ``RandomCrop(128, copy=True)`` row does albumentations' work.

Text (1,000 generated sentences), goal >= 2x nlpaug: augkit
``RandomInsertion(Vocabulary(words), rate=0.1, min_words=1, max_words=10)(s,
seed=i)`` against nlpaug's word insertion from a word list. nlpaug's
``RandomWordAug`` has no insert action (it raises ``NotImplementedError``), so
the competitor is ``WordEmbsAug(action="insert")`` given a model that holds
only the same vocabulary (benchmarks/_competitors.py; the choice of
benchmarks/random_insertion.py), seeded once with
``nlpaug.util.Randomness.seed(0)``. nlpaug inserts ``ceil(0.1 * n)`` words
where augkit inserts ``round(0.1 * n)``, so a second row inserts exactly two
words per sentence on both sides (equal work). A third row sets the same
augkit call against the class the issue names, ``RandomWordAug``, doing the
nearest thing it can: ``action="substitute"`` with ``target_words`` the same
vocabulary, two words per sentence (choose two places, draw two words: the
same random work).

Other ways of calling are timed beside them, for the record: augkit with
``rng=`` (one stream shared by all calls, no per-call seeding) and batched
(``augment_batch``), albumentations through ``Compose([t], seed=0)`` and
re-seeded per call (``t.set_random_seed(i)``: what makes its output a
function of ``i``, as ``seed=i`` does augkit's), nlpaug re-seeded per call.

Usage: python benchmarks/seeded_calls.py [--repeats R] [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _competitors import nlpaug_random_word_substitution, nlpaug_vocabulary_insertion
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

from augkit.seeding import item_rng

RESULTS = Path(__file__).resolve().parent / "results"
#: Minimum competitor / augkit ratio of ``op(x, seed=i)``, from issue 11.
GOALS = {"albumentations": 1.0, "nlpaug": 2.0}
#: The contender the goal is measured on, and the competitor's.
OURS, THEIRS = "augkit op(x, seed=i)", "competitor"
SIDE = 224


def image_cases() -> dict[str, tuple[Any, Any]]:
    """Operation name -> (augkit operator, albumentations transform seeded once)."""
    import albumentations as A
    import cv2

    from augkit.image import HorizontalFlip, RandomCrop, Rotate

    cases = {
        "RandomCrop(128)": (RandomCrop(128), A.RandomCrop(128, 128)),
        "RandomCrop(128, copy=True)": (RandomCrop(128, copy=True), A.RandomCrop(128, 128)),
        "HorizontalFlip()": (HorizontalFlip(), A.HorizontalFlip(p=1)),
        "Rotate(30)": (
            Rotate(30, interpolation="bilinear", border="constant", fill=0),
            A.Rotate(
                limit=30,
                interpolation=cv2.INTER_LINEAR,
                border_mode=cv2.BORDER_CONSTANT,
                fill=0,
                p=1,
            ),
        ),
    }
    for _, t in cases.values():
        t.set_random_seed(0)
    return cases


def contenders(
    ours: Any,
    theirs: Callable[[Any], Any],
    theirs_reseeded: Callable[[Any, int], Any],
    theirs_other: tuple[str, Callable[[Any], Any]] | None,
    inputs: dict[str, list[Any]],
) -> dict[str, Callable[[], None]]:
    """The timed loops of one operation; ``inputs[name]`` is that contender's own copy."""
    shared = item_rng(0)

    def seeded() -> None:
        for i, x in enumerate(inputs[OURS]):
            ours(x, seed=i)

    def with_rng() -> None:
        for x in inputs["augkit op(x, rng=stream)"]:
            ours(x, rng=shared)

    def batched() -> None:
        ours.augment_batch(inputs["augkit augment_batch"], seed=0)

    def competitor() -> None:
        for x in inputs[THEIRS]:
            theirs(x)

    def reseeded() -> None:
        for i, x in enumerate(inputs["competitor re-seeded per call"]):
            theirs_reseeded(x, i)

    fns = {
        OURS: seeded,
        "augkit op(x, rng=stream)": with_rng,
        "augkit augment_batch": batched,
        THEIRS: competitor,
        "competitor re-seeded per call": reseeded,
    }
    if theirs_other is not None:
        name, fn = theirs_other

        def other() -> None:
            for x in inputs[name]:
                fn(x)

        fns[name] = other
    return fns


CONTENDER_NAMES = (
    OURS,
    "augkit op(x, rng=stream)",
    "augkit augment_batch",
    THEIRS,
    "competitor re-seeded per call",
    "competitor Compose([t], seed=0)",
)


def image_rows(n_images: int, repeats: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    import albumentations as A
    import cv2

    cv2.setNumThreads(1)
    rng = np.random.default_rng(2024)
    images = [rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8) for _ in range(n_images)]
    own = {name: [im.copy() for im in images] for name in CONTENDER_NAMES}
    rows = []
    for op_name, (ours, t) in image_cases().items():
        compose = A.Compose([t], seed=0)

        def reseed(x: Any, i: int, t: Any = t) -> Any:
            t.set_random_seed(i)
            return t(image=x)["image"]

        fns = contenders(
            ours,
            lambda x, t=t: t(image=x)["image"],
            reseed,
            ("competitor Compose([t], seed=0)", lambda x, c=compose: c(image=x)["image"]),
            own,
        )
        sample_ours = ours(images[0], seed=0)
        sample_theirs = t(image=images[0])["image"]
        rows.append(
            {
                "case": op_name,
                "competitor": f"albumentations {type(t).__name__}",
                "goal_vs": "albumentations",
                "items": n_images,
                "output": {
                    "augkit": _describe(sample_ours, images[0]),
                    "albumentations": _describe(sample_theirs, images[0]),
                },
                "times": interleaved(fns, repeats),
            }
        )
    return rows, {"albumentations": A.__version__, "opencv": cv2.__version__}


def _describe(out: np.ndarray, src: np.ndarray) -> str:
    kind = "view" if np.shares_memory(out, src) else "copy"
    layout = "contiguous" if out.flags.c_contiguous else "strided"
    return f"{'x'.join(map(str, out.shape))} {out.dtype} {kind}, {layout}"


def text_rows(n_texts: int, repeats: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    import nlpaug
    from nlpaug.util import Randomness

    from augkit.testing.masked_lm import corpus_sentences
    from augkit.text import RandomInsertion, Vocabulary

    texts = corpus_sentences(n_texts, seed=123)
    vocab = Vocabulary.from_corpus(texts, min_count=1, stopwords=None).words
    insertion = "nlpaug WordEmbsAug(action='insert'), vocabulary only"
    # label -> (augkit's rate, min_words, max_words), competitor's name, competitor.
    settings = {
        "rate 0.1, 1 to 10 words": (
            (0.1, 1, 10),
            insertion,
            nlpaug_vocabulary_insertion(vocab, aug_p=0.1, aug_min=1, aug_max=10),
        ),
        "exactly 2 words (equal work)": (
            (0.0, 2, 2),
            insertion,
            nlpaug_vocabulary_insertion(vocab, aug_p=0.1, aug_min=2, aug_max=2),
        ),
        "exactly 2 words vs RandomWordAug": (
            (0.0, 2, 2),
            "nlpaug RandomWordAug(action='substitute', target_words=vocabulary), 2 words",
            nlpaug_random_word_substitution(vocab, 2),
        ),
    }
    rows = []
    for label, ((rate, lo, hi), competitor, theirs) in settings.items():
        ours = RandomInsertion(Vocabulary(vocab), rate=rate, min_words=lo, max_words=hi)
        Randomness.seed(0)
        # Both really change the text, and how much: words added (insertion) or, for the
        # substitution, words that differ from the input's at the same position.
        added = {
            "augkit": sum(
                len(ours(x, seed=i).split()) - len(x.split()) for i, x in enumerate(texts)
            ),
            "nlpaug": sum(_words_changed(x, theirs.augment(x)[0]) for x in texts),
        }
        Randomness.seed(0)

        def reseed(x: str, i: int, theirs: Any = theirs) -> Any:
            Randomness.seed(i)
            return theirs.augment(x)

        own = {name: list(texts) for name in CONTENDER_NAMES}
        fns = contenders(ours, lambda x, a=theirs: a.augment(x), reseed, None, own)
        rows.append(
            {
                "case": f"RandomInsertion(Vocabulary), {label}",
                "competitor": competitor,
                "goal_vs": "nlpaug",
                "items": n_texts,
                "vocab_size": len(vocab),
                "words_inserted_per_item": {k: v / n_texts for k, v in added.items()},
                "times": interleaved(fns, repeats),
            }
        )
    return rows, {"nlpaug": nlpaug.__version__}


def _words_changed(before: str, after: str) -> int:
    """Whitespace words added, or (same count) words that differ position by position."""
    a, b = before.split(), after.split()
    if len(a) != len(b):
        return len(b) - len(a)
    return sum(x != y for x, y in zip(a, b))


def run(n_images: int, n_texts: int, repeats: int) -> dict[str, Any]:
    images, image_versions = image_rows(n_images, repeats)
    texts, text_versions = text_rows(n_texts, repeats)
    rows = images + texts
    for r in rows:
        r["ratio"] = ratios(r["times"][THEIRS], r["times"][OURS])
        r["goal"] = GOALS[r["goal_vs"]]
        r["verdict"] = verdict(r["goal"], r["ratio"])
    return {
        "benchmark": "seeded_calls",
        "threads": "1 (cv2.setNumThreads(1), OMP_NUM_THREADS=1); the rest single-threaded Python",
        **environment(
            repeats, INTERLEAVED, numpy=np.__version__, **image_versions, **text_versions
        ),
        "load_average_at_end": load_average(),
        "image": f"{SIDE}x{SIDE}x3 uint8",
        "rows": rows,
    }


def _pair(t: dict[str, float], n: int) -> str:
    return f"{us(t['wall_s'], n):.1f} / {us(t['cpu_s'], n):.1f}"


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| operation | competitor | augkit `op(x, seed=i)` µs (wall / CPU) "
        "| competitor µs (wall / CPU) | competitor / augkit (wall / CPU) | goal |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in result["rows"]:
        n, t, ratio = r["items"], r["times"], r["ratio"]
        lines.append(
            f"| {r['case']} | {r['competitor']} | {_pair(t[OURS], n)} | {_pair(t[THEIRS], n)} "
            f"| {ratio['wall']:.2f}x / {ratio['cpu']:.2f}x | >= {r['goal']:.1f}x: {r['verdict']} |"
        )
    others = [n for n in CONTENDER_NAMES if n not in (OURS, THEIRS)]
    lines += [
        "",
        "Other ways of calling, µs per item (wall / CPU):",
        "",
        "| operation | " + " | ".join(others) + " |",
        "|---|" + "---:|" * len(others),
    ]
    for r in result["rows"]:
        n, t = r["items"], r["times"]
        cells = [_pair(t[o], n) if o in t else "n/a" for o in others]
        lines.append(f"| {r['case']} | " + " | ".join(cells) + " |")
    notes = [""]
    for r in result["rows"]:
        if "output" in r:
            out = r["output"]
            notes.append(
                f"- {r['case']}: augkit returns {out['augkit']}; albumentations {out['albumentations']}"
            )
        if "words_inserted_per_item" in r:
            w = r["words_inserted_per_item"]
            notes.append(
                f"- {r['case']}: words inserted (RandomWordAug: substituted) per sentence: "
                f"augkit {w['augkit']:.2f}, nlpaug {w['nlpaug']:.2f}"
            )
    rows = result["rows"]
    head = (
        f"{rows[0]['items']} images of {result['image']}, {rows[-1]['items']} sentences; best "
        f"of {result['repeats']} interleaved rounds.\n\n"
    )
    return head + "\n".join(lines + notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--quick", action="store_true", help="tiny run to check the script works")
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON path (default: results/; --quick: none)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.texts, args.repeats = 8, 40, 1
    result = run(args.images, args.texts, args.repeats)
    table = markdown(result)
    result["markdown"] = table
    print(table)
    out = args.out or (None if args.quick else RESULTS / "seeded_calls.json")
    if out is not None:
        write_json(result, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
