"""RandomInsertion vs nlpaug's word insertion, side by side in one process.

Vocabulary insertion: augkit's ``RandomInsertion(Vocabulary(words))`` against
nlpaug's ``WordEmbsAug(action="insert")``, the one nlpaug word augmenter that
inserts words without a model (``RandomWordAug`` has no insert action; it
raises ``NotImplementedError``). Its insert action draws a uniformly random
word of the embedding model's vocabulary, so it is given a model object that
holds only a vocabulary (the same words augkit gets); no vectors are read
and gensim is not needed. Same 1,000 sentences, rate 0.1, at least 1 and at
most 10 words on both sides.

Masked-LM insertion: augkit's ``MaskedLM`` source with the tiny offline BERT
(``augkit.testing.masked_lm``), batched (``augment_batch``: one forward pass
per ``batch_size`` insertion points) against the same operator per item.
nlpaug's ``ContextualWordEmbsAug(action="insert")`` is tried on the same model
directory; under transformers 5 it fails (see DESIGN.md), and the error is
recorded instead of a time.

torch runs with 1 thread (``torch.set_num_threads(1)``); everything else is
single-threaded Python. Timings are the best of ``--repeats`` runs.

Usage: python benchmarks/random_insertion.py [--items N] [--repeats R] [--quick]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _competitors import nlpaug_vocabulary_insertion
from _timing import best_of, environment, write_json

from augkit import item_rng
from augkit.testing.masked_lm import corpus_sentences, tiny_masked_lm
from augkit.text import MaskedLM, RandomInsertion, Vocabulary
from augkit.text.tokenize import words

RESULTS = Path(__file__).resolve().parent / "results"


def vocabulary_rows(texts: list[str], repeats: int) -> list[dict[str, Any]]:
    vocab = Vocabulary.from_corpus(texts, min_count=1, stopwords=None).words
    ours = RandomInsertion(Vocabulary(vocab), rate=0.1, min_words=1, max_words=10)
    theirs = nlpaug_vocabulary_insertion(vocab, aug_p=0.1, aug_min=1, aug_max=10)
    random.seed(0)
    # Both really insert: more words out than in.
    sample = texts[:50]
    added_ours = sum(len(words(ours(x, seed=i))) - len(words(x)) for i, x in enumerate(sample))
    added_theirs = sum(len(theirs.augment(x)[0].split()) - len(x.split()) for x in sample)

    def ours_item() -> None:
        for i, x in enumerate(texts):
            ours(x, seed=i)

    def ours_batch() -> None:
        ours.augment_batch(texts, seed=1)

    shared = item_rng(1)

    def ours_item_shared_rng() -> None:
        # No per-item seeding: isolates the operator from augkit's
        # (seed, epoch, index) generator construction.
        for x in texts:
            ours(x, rng=shared)

    def theirs_item() -> None:
        for x in texts:
            theirs.augment(x)

    def theirs_list() -> None:
        theirs.augment(texts)

    return [
        {
            "case": "Vocabulary insertion",
            "items": len(texts),
            "vocab_size": len(vocab),
            "words_added_first_50": {"augkit": added_ours, "nlpaug": added_theirs},
            "augkit_item_s": best_of(ours_item, repeats),
            "augkit_batch_s": best_of(ours_batch, repeats),
            "augkit_item_shared_rng_s": best_of(ours_item_shared_rng, repeats),
            "nlpaug_item_s": best_of(theirs_item, repeats),
            "nlpaug_list_s": best_of(theirs_list, repeats),
        }
    ]


def masked_lm_rows(texts: list[str], repeats: int) -> list[dict[str, Any]]:
    import torch

    torch.set_num_threads(1)
    model_dir = tiny_masked_lm()
    op = RandomInsertion(MaskedLM(str(model_dir), device="cpu", batch_size=64), rate=0.1)
    op.augment_batch(texts[:4], seed=0)  # load the model outside the timings
    positions = sum(
        len(op.sample_params(x, item_rng(1, 0, i))["slots"]) for i, x in enumerate(texts)
    )

    def ours_item() -> None:
        for i, x in enumerate(texts):
            op(x, rng=item_rng(1, 0, i))

    def ours_batch() -> None:
        op.augment_batch(texts, seed=1)

    row: dict[str, Any] = {
        "case": "MaskedLM insertion (tiny BERT, CPU)",
        "items": len(texts),
        "insertion_points": positions,
        "augkit_item_s": best_of(ours_item, repeats),
        "augkit_batch_s": best_of(ours_batch, repeats),
    }
    try:
        import nlpaug.augmenter.word as naw

        theirs = naw.ContextualWordEmbsAug(model_path=str(model_dir), action="insert", device="cpu")
        theirs.augment(texts[0])

        def theirs_item() -> None:
            for x in texts:
                theirs.augment(x)

        row["nlpaug_item_s"] = best_of(theirs_item, repeats)
    except Exception as exc:  # recorded: the comparison is impossible, not skipped silently
        row["nlpaug_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    return [row]


def run(items: int, mlm_items: int, repeats: int) -> dict[str, Any]:
    import nlpaug
    import numpy as np
    import torch
    import transformers

    texts = corpus_sentences(items, seed=123)
    rows = vocabulary_rows(texts, repeats) + masked_lm_rows(texts[:mlm_items], repeats)
    return {
        "benchmark": "random_insertion",
        "threads": "torch.set_num_threads(1); everything else single-threaded",
        **environment(
            repeats,
            nlpaug=nlpaug.__version__,
            transformers=transformers.__version__,
            torch=torch.__version__,
            numpy=np.__version__,
        ),
        "rows": rows,
    }


def markdown(result: dict[str, Any]) -> str:
    head = (
        "| case | items | augkit per item (µs/item) | augkit batch (µs/item) "
        "| nlpaug per item (µs/item) | nlpaug / augkit per item | nlpaug / augkit batch |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for r in result["rows"]:
        n = r["items"]
        ai = r["augkit_item_s"] / n * 1e6
        ab = r["augkit_batch_s"] / n * 1e6
        if "nlpaug_item_s" in r:
            ni = r["nlpaug_item_s"] / n * 1e6
            theirs = f"{ni:.1f} | {ni / ai:.2f}x | {ni / ab:.2f}x"
        else:
            theirs = f"not measured: {r.get('nlpaug_error', 'n/a')} | n/a | n/a"
        lines.append(f"| {r['case']} | {n} | {ai:.1f} | {ab:.1f} | {theirs} |")
    notes = []
    for r in result["rows"]:
        if "nlpaug_list_s" in r:
            nl = r["nlpaug_list_s"] / r["items"] * 1e6
            notes.append(f"nlpaug given the whole list (`augment(list)`): {nl:.1f} µs/item.")
        if "augkit_item_shared_rng_s" in r:
            sh = r["augkit_item_shared_rng_s"] / r["items"] * 1e6
            notes.append(
                f"augkit per item with one shared Generator (no per-item seeding): {sh:.1f} µs/item"
                f" ({r['nlpaug_item_s'] / r['augkit_item_shared_rng_s']:.2f}x nlpaug per item)."
            )
        if "insertion_points" in r:
            ratio = r["augkit_item_s"] / r["augkit_batch_s"]
            notes.append(
                f"MaskedLM: {r['insertion_points']} insertion points; batched is "
                f"{ratio:.1f}x faster than per item."
            )
    return head + "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--mlm-items", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny run to check the script works")
    parser.add_argument("--out", type=Path, default=RESULTS / "random_insertion.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.items, args.mlm_items, args.repeats = 60, 12, 1
    result = run(args.items, args.mlm_items, args.repeats)
    table = markdown(result)
    result["markdown"] = table
    print(table)
    if not args.quick:
        write_json(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
