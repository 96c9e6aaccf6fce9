"""``augkit demo``: the bundled sample texts and image through Markov pipelines, offline.

Uses only what is installed and on local disk. Model-backed operators run only
when a local model directory is given (``--marian-dir`` / ``AUGKIT_MARIAN_DIR``
for back-translation, ``--mlm-dir`` / ``AUGKIT_MLM_DIR`` for masked-LM
insertion); otherwise the demo says they were skipped and why. The hub is
never contacted: ``HF_HUB_OFFLINE`` is set for the process.

The text part runs :func:`augkit.corpus.augment_corpus` over the sample, as
``augkit augment`` would, and prints how many variants came out unchanged
(``--distinct`` redraws them).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .._jsonl import dumps_line, load_jsonl
from ..base import BaseAugmenter
from ..errors import AugkitError
from ..pipeline import Pipeline
from ..protocol import Params
from ..trace import Trace
from ._common import non_negative

__all__ = ["add_parser", "markov_pipeline", "run", "run_demo"]

N_VARIANTS = 2
N_IMAGE_SAMPLES = 5


def markov_pipeline(ops: Sequence[Any], *, key: str | None = None) -> Pipeline:
    """A chain that starts anywhere, moves to another operator or stops (about half each)."""
    n = len(ops)
    start = np.full(n, 0.9 / n)
    trans = np.zeros((n, n)) if n == 1 else (np.ones((n, n)) - np.eye(n)) * (0.45 / (n - 1))
    return Pipeline.markov(list(ops), start, trans, max_steps=3, key=key)


def _short(value: Any, limit: int = 70) -> str:
    s = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def format_trace(trace: Trace | dict[str, Any]) -> str:
    """``op(params) -> op(params)``, or ``(unchanged)`` for an empty path.

    A path whose operators changed nothing (shuffling the sentences of a
    one-sentence text) says so.
    """
    t = trace if isinstance(trace, Trace) else Trace.from_dict(trace)
    if not t.steps:
        return "(unchanged: the chain stopped at once)"
    path = " -> ".join(f"{s.op}{_short(s.params)}" for s in t.steps)
    return path + "  (unchanged: no step changed it)" if t.changed is False else path


def _say(line: str = "") -> None:
    print(line, flush=True)


# --------------------------------------------------------------------------- text


_SAMPLE_TEXTS = resources.files("augkit") / "data" / "sample_texts.jsonl"


def _sample_texts() -> list[dict[str, Any]]:
    return load_jsonl(_SAMPLE_TEXTS)


def _text_ops(
    texts: list[str], marian_dir: str | None, mlm_dir: str | None, pivot: str
) -> tuple[list[Any], list[str]]:
    """The operators that can run here, and a line for each one that cannot."""
    ops: list[Any] = []
    skipped: list[str] = []
    try:
        from ..text import ChunkRecombination, RandomInsertion, Synonyms, Vocabulary

        ops.append(ChunkRecombination(unit="sentence", mode="shuffle"))
        vocab = Vocabulary.from_corpus(texts, min_count=2, stopwords="english")
        ops.append(RandomInsertion(vocab, rate=0.1))
        if Synonyms.available():
            ops.append(RandomInsertion(Synonyms(), rate=0.1))
        else:
            skipped.append("RandomInsertion(Synonyms): no WordNet data installed locally")
    except ImportError as exc:
        skipped.append(f"text operators: a dependency is missing ({exc})")

    if marian_dir:
        fwd = Path(marian_dir) / f"opus-mt-en-{pivot}"
        bwd = Path(marian_dir) / f"opus-mt-{pivot}-en"
        missing = [str(p) for p in (fwd, bwd) if not p.is_dir()]
        if missing:
            skipped.append(f"BackTranslation: no model directory {', '.join(missing)}")
        else:
            try:
                from ..text import BackTranslation

                ops.append(
                    BackTranslation("en", pivot, forward_model=str(fwd), backward_model=str(bwd))
                )
            except (ImportError, AttributeError, TypeError, ValueError) as exc:
                skipped.append(f"BackTranslation: cannot be set up here ({exc})")
    else:
        skipped.append(
            "BackTranslation: no local MarianMT model (pass --marian-dir DIR or set "
            f"AUGKIT_MARIAN_DIR; DIR holds opus-mt-en-{pivot} and opus-mt-{pivot}-en)"
        )
    if mlm_dir:
        if not Path(mlm_dir).is_dir():
            skipped.append(f"RandomInsertion(MaskedLM): no model directory {mlm_dir}")
        else:
            try:
                from ..text import MaskedLM, RandomInsertion

                ops.append(RandomInsertion(MaskedLM(mlm_dir), rate=0.1))
            except (ImportError, AttributeError, TypeError, ValueError) as exc:
                skipped.append(f"RandomInsertion(MaskedLM): cannot be set up here ({exc})")
    else:
        skipped.append(
            "RandomInsertion(MaskedLM): no local masked-LM model (pass --mlm-dir DIR or "
            "set AUGKIT_MLM_DIR)"
        )
    return ops, skipped


def _demo_texts(
    out: Path, seed: int, ops: list[Any], originals: list[dict[str, Any]], distinct: bool
) -> None:
    from ..corpus import augment_corpus

    pipe = markov_pipeline(ops)
    _say("== Text pipeline ==")
    _say(pipe.describe())
    _say()
    target = out / "texts.jsonl"
    with resources.as_file(_SAMPLE_TEXTS) as src:
        summary = augment_corpus(
            src,
            target,
            pipe,
            label_field="label",
            n=N_VARIANTS,
            seed=seed,
            distinct=distinct,
            batch_size=8,
            overwrite=True,
            restart=True,
        )
    records = load_jsonl(target)
    for rec in records:
        if rec["variant"] != 0:
            continue
        i = rec["source_index"]
        _say(f"[{i}] ({rec['label']})")
        _say(f"  before: {originals[i]['text']}")
        _say(f"  after:  {rec['text']}")
        _say(f"  trace:  {format_trace(rec['trace'])}")
    _say()
    _say(
        f"wrote {len(records)} records ({N_VARIANTS} variants of {len(originals)} texts, with "
        f"traces) to {target}"
    )
    share = 100 * summary.unchanged / max(summary.variants, 1)
    line = f"unchanged: {summary.unchanged} of {summary.variants} variants ({share:.1f} %)"
    if distinct:
        line += f"; {summary.not_distinct} could not be made distinct"
    else:
        line += "; augkit demo --distinct redraws them"
    _say(line)
    flag = " --distinct" if distinct else ""
    _say(
        "  the same as: augkit augment <sample_texts.jsonl> -o texts.jsonl --config <this chain> "
        f"--label-field label --n {N_VARIANTS} --seed {seed}{flag}"
    )


# --------------------------------------------------------------------------- image


class _Fixed(BaseAugmenter):
    """Returns an output computed already; lets the preview grid show Markov samples."""

    modality = "image"

    def __init__(self, output: Any) -> None:
        self.output = output

    def apply(self, x: Any, params: Params) -> Any:
        return self.output


def _demo_image(out: Path, seed: int) -> None:
    _say("== Image pipeline ==")
    try:
        from ..image import HorizontalFlip, RandomResizedCrop, Rotate, VerticalFlip
        from ..image.preview import load_sample, save_preview_grid

        item = load_sample()
        h, w = item["image"].shape[:2]
        ops = [
            Rotate(degrees=20),
            RandomResizedCrop(size=(h, w), scale=(0.5, 1.0)),
            HorizontalFlip(),
            VerticalFlip(),
        ]
    except ImportError as exc:
        _say(f"skipped: the image demo needs the image extra (pip install 'augkit[image]'): {exc}")
        return
    pipe = markov_pipeline(ops)
    _say(pipe.describe())
    _say()
    tiles: list[tuple[str, Any]] = []
    lines = []
    for k in range(N_IMAGE_SAMPLES):
        result, trace = pipe.augment(item, seed=seed, index=k, return_trace=True)
        _say(f"[sample {k}]")
        _say(
            f"  before: image {item['image'].shape}, {len(item['bboxes'])} boxes, "
            f"{len(item['keypoints'])} keypoints"
        )
        _say(
            f"  after:  image {result['image'].shape}, {len(result['bboxes'])} boxes, "
            f"{len(result['keypoints'])} keypoints"
        )
        _say(f"  trace:  {format_trace(trace)}")
        caption = " > ".join(s.op.replace("random_resized_crop", "rrc") for s in trace.steps)
        tiles.append((f"#{k} {caption or 'unchanged'}", _Fixed(result)))
        lines.append(dumps_line({"sample": k, "trace": trace.to_dict()}))
    tiles += [(op.name, op) for op in ops]
    grid = save_preview_grid(item, tiles, out / "image_grid.png", seed=seed)
    (out / "image_traces.jsonl").write_text("".join(lines), encoding="utf-8")
    _say()
    _say(f"wrote {grid} (original, {N_IMAGE_SAMPLES} Markov samples, each operator alone)")
    _say(f"wrote {out / 'image_traces.jsonl'}")


# --------------------------------------------------------------------------- entry


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="augment bundled sample texts and an image")
    demo.add_argument("--out", default="out/demo", help="directory for results (out/demo)")
    demo.add_argument("--seed", type=non_negative, default=0)
    demo.add_argument(
        "--distinct",
        action="store_true",
        help="redraw text variants equal to their input or an earlier variant",
    )
    demo.add_argument(
        "--marian-dir",
        help="directory with local MarianMT models opus-mt-en-PIVOT and opus-mt-PIVOT-en "
        "(enables back-translation; env AUGKIT_MARIAN_DIR)",
    )
    demo.add_argument("--pivot", default="de", help="pivot language for back-translation (de)")
    demo.add_argument(
        "--mlm-dir", help="local masked-LM model directory (enables MaskedLM; env AUGKIT_MLM_DIR)"
    )
    demo.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_demo(
        out=Path(args.out),
        seed=args.seed,
        marian_dir=args.marian_dir,
        mlm_dir=args.mlm_dir,
        pivot=args.pivot,
        distinct=args.distinct,
    )


def run_demo(
    out: Path,
    *,
    seed: int = 0,
    marian_dir: str | None = None,
    mlm_dir: str | None = None,
    pivot: str = "de",
    distinct: bool = False,
) -> int:
    """Run the demo, writing under ``out``; returns the exit code."""
    # Never reach for the hub: models come from local directories only.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    marian_dir = marian_dir or os.environ.get("AUGKIT_MARIAN_DIR") or None
    mlm_dir = mlm_dir or os.environ.get("AUGKIT_MLM_DIR") or None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a user error (a file of that name, no permission): exit 2
        raise AugkitError(
            f"--out {str(out)!r}: cannot create the folder ({exc.strerror})"
        ) from None
    _say(f"augkit demo (seed {seed}); results go to {out}")
    _say()
    samples = _sample_texts()
    ops, skipped = _text_ops([r["text"] for r in samples], marian_dir, mlm_dir, pivot)
    for line in skipped:
        _say(f"skipped: {line}")
    _say()
    if ops:
        _demo_texts(out, seed, ops, samples, distinct)
    else:
        _say("skipped: the text demo (no text operator could be set up)")
    _say()
    _demo_image(out, seed)
    return 0
