"""Back-translation throughput: augkit's BackTranslation vs nlpaug's BackTranslationAug.

Both sides use the same two Marian models (by default the tiny English copy
model that ``augkit.testing.marian.tiny_marian`` builds offline, as forward
and backward model; ``--model-forward/--model-backward`` take any real pair,
hub names or directories), the same >= 256 sentences of mixed length, the same
batch size, the same device, greedy decoding, one torch thread, side by side in
one process:

- nlpaug ``BackTranslationAug.augment(list)`` (it pads the whole list to its
  longest text and decodes in DataLoader batches), set to greedy decoding and
  to an output limit equal to augkit's largest per-item cap for these inputs;
- augkit ``BackTranslation.augment_batch`` with the torch backend (sorted,
  per-batch padding) and with the CTranslate2 backend (the same model
  converted, int8 on CPU);
- output agreement and chrF between the backends and vs the input (the copy
  model's reference is its input), so speed is compared at measured quality;
- a pipeline with back-translation at p = 0.5 (``Pipeline.sometimes``) run
  batched (``augment_batch``) vs per item (``augment`` in a loop, the way a
  Dataset's ``__getitem__`` calls it).

Times are the best of ``--repeats`` runs after a warm-up run; model loading
is not timed. Prints a markdown table and writes results/back_translation.json.

Usage: python benchmarks/back_translation.py [--quick] [--n N] [--batch-size B]
       [--model-forward M --model-backward M] [--device cpu] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import write_json

RESULTS = Path(__file__).resolve().parent / "results"


def chrf(hyps: Sequence[str], refs: Sequence[str], order: int = 6, beta: float = 2.0) -> float:
    """Corpus chrF (0-100) as sacrebleu computes it: character n-grams 1..6, whitespace
    removed, statistics summed over the corpus, precision and recall averaged over n."""
    match = [0] * order
    hyp_total = [0] * order
    ref_total = [0] * order
    for hyp, ref in zip(hyps, refs):
        h = "".join(hyp.split())
        r = "".join(ref.split())
        for n in range(1, order + 1):
            hc = Counter(h[i : i + n] for i in range(len(h) - n + 1))
            rc = Counter(r[i : i + n] for i in range(len(r) - n + 1))
            match[n - 1] += sum((hc & rc).values())
            hyp_total[n - 1] += sum(hc.values())
            ref_total[n - 1] += sum(rc.values())
    precs = [m / t for m, t in zip(match, hyp_total) if t]
    recs = [m / t for m, t in zip(match, ref_total) if t]
    if not precs or not recs:
        return 0.0
    p = sum(precs) / len(precs)
    r = sum(recs) / len(recs)
    if p + r == 0:
        return 0.0
    return 100 * (1 + beta**2) * p * r / (beta**2 * p + r)


def agreement(a: Sequence[str], b: Sequence[str]) -> float:
    return sum(x.strip() == y.strip() for x, y in zip(a, b)) / max(1, len(a))


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    fn()  # warm-up: first-call costs (lazy imports, allocator, caches) are not timed
    best = float("inf")
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 48 sentences, 1 repeat")
    parser.add_argument("--n", type=int, default=256, help="number of input sentences")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model-forward", default=None, help="hub name or directory")
    parser.add_argument("--model-backward", default=None, help="hub name or directory")
    parser.add_argument("--source", default="en")
    parser.add_argument("--pivot", default="de")
    parser.add_argument("--no-ctranslate2", action="store_true")
    parser.add_argument("--out", default=str(RESULTS / "back_translation.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeats = 48, 1
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch

    torch.set_num_threads(1)  # steady timings on a shared machine (see DESIGN.md)
    import nlpaug
    import nlpaug.augmenter.word as naw
    import transformers

    from augkit import Pipeline
    from augkit.testing.marian import sample_sentences, tiny_marian
    from augkit.text import BackTranslation

    if (args.model_forward is None) != (args.model_backward is None):
        parser.error("give both --model-forward and --model-backward, or neither")
    if args.model_forward is None:
        path = str(tiny_marian())
        fwd = bwd = path
        model_desc = f"tiny offline Marian copy model ({Path(path).name}), forward and backward"
    else:
        fwd, bwd = args.model_forward, args.model_backward
        model_desc = f"{fwd} -> {bwd}"
    texts = sample_sentences(args.n, seed=4242)
    common = {
        "source": args.source,
        "pivot": args.pivot,
        "forward_model": fwd,
        "backward_model": bwd,
        "device": args.device,
        "batch_size": args.batch_size,
    }

    rows: list[dict[str, Any]] = []
    outputs: dict[str, list[str]] = {}

    # nlpaug has one output limit for all texts (max_length); give it the
    # largest per-item cap augkit uses for these inputs, so a text stuck in a
    # repetition loop stops at the same length on both sides.
    from augkit.text._translate_common import OUTPUT_EXTRA, OUTPUT_RATIO

    tok = transformers.AutoTokenizer.from_pretrained(fwd)
    longest = max(len(ids) for ids in tok(texts)["input_ids"])
    nlpaug_max_length = int(OUTPUT_RATIO * longest) + OUTPUT_EXTRA + 1  # + decoder start
    aug = naw.BackTranslationAug(
        from_model_name=fwd,
        to_model_name=bwd,
        device=args.device,
        batch_size=args.batch_size,
        max_length=nlpaug_max_length,
    )
    # nlpaug calls generate() with the checkpoints' generation defaults, which
    # for opus-mt (and the tiny model, built to match) mean beam search with 4
    # beams. Greedy on both sides: set nlpaug's own model copies to 1 beam.
    for net in (aug.model.src_model, aug.model.tgt_model):
        net.generation_config.num_beams = 1
    t_nl, outputs["nlpaug"] = best_of(lambda: aug.augment(texts), args.repeats)
    rows.append({"name": "nlpaug BackTranslationAug", "seconds": t_nl})

    bt = BackTranslation(**common).load()
    t_torch, outputs["augkit_torch"] = best_of(
        lambda: bt.augment_batch(texts, seed=0), args.repeats
    )
    rows.append({"name": "augkit BackTranslation (torch)", "seconds": t_torch})

    if not args.no_ctranslate2:
        ct = BackTranslation(**common, backend="ctranslate2").load()
        t_ct, outputs["augkit_ct2"] = best_of(lambda: ct.augment_batch(texts, seed=0), args.repeats)
        rows.append({"name": "augkit BackTranslation (ctranslate2 int8)", "seconds": t_ct})

    for row in rows:
        row["sentences_per_s"] = args.n / row["seconds"]
        row["speedup_vs_nlpaug"] = t_nl / row["seconds"]

    quality: dict[str, Any] = {"chrF_vs_input": {}, "exact_agreement": {}, "chrF_between": {}}
    for key, outs in outputs.items():
        quality["chrF_vs_input"][key] = chrf(outs, texts)
    pairs = [("augkit_torch", "nlpaug")]
    if "augkit_ct2" in outputs:
        pairs.append(("augkit_ct2", "augkit_torch"))
    for a, b in pairs:
        quality["exact_agreement"][f"{a} vs {b}"] = agreement(outputs[a], outputs[b])
        quality["chrF_between"][f"{a} vs {b}"] = chrf(outputs[a], outputs[b])

    # Pipeline: back-translation with p = 0.5, batched vs per item, for each backend.
    pipelines: dict[str, dict[str, Any]] = {}
    backends = {"torch": bt} if args.no_ctranslate2 else {"torch": bt, "ctranslate2": ct}
    for backend, op in backends.items():
        pipe = Pipeline.sometimes(op, p=0.5)
        t_pb, (batched, traces) = best_of(
            lambda pipe=pipe: pipe.augment_batch(texts, seed=1, return_traces=True), args.repeats
        )
        # Per item is long and steady: warm up on a few items, then time one pass.
        for i, x in enumerate(texts[:8]):
            pipe.augment(x, seed=1, index=i)
        t0 = time.perf_counter()
        per_item = [pipe.augment(x, seed=1, index=i) for i, x in enumerate(texts)]
        t_pi = time.perf_counter() - t0
        pipelines[backend] = {
            "batched_seconds": t_pb,
            "per_item_seconds": t_pi,
            "batched_items_per_s": args.n / t_pb,
            "per_item_items_per_s": args.n / t_pi,
            "speedup": t_pi / t_pb,
            "outputs_equal": batched == per_item,
            "items_back_translated": sum(len(t.steps) for t in traces),
        }

    print(f"Back-translation, {args.n} sentences of mixed length, batch size {args.batch_size}, ")
    print(f"device {args.device}, greedy, torch threads = 1; model: {model_desc}\n")
    print("| implementation | s | sentences/s | vs nlpaug | chrF vs input |")
    print("|---|---:|---:|---:|---:|")
    keys = ["nlpaug", "augkit_torch", "augkit_ct2"]
    for row, key in zip(rows, keys):
        print(
            f"| {row['name']} | {row['seconds']:.2f} | {row['sentences_per_s']:.1f} | "
            f"{row['speedup_vs_nlpaug']:.2f}x | {quality['chrF_vs_input'][key]:.1f} |"
        )
    print()
    for k, v in quality["exact_agreement"].items():
        print(f"- identical outputs, {k}: {100 * v:.1f}% (chrF {quality['chrF_between'][k]:.1f})")
    print()
    n_bt = pipelines["torch"]["items_back_translated"]
    print(f"Pipeline.sometimes(BackTranslation, p=0.5): {n_bt} of {args.n} items back-translated\n")
    print(
        "| pipeline backend | per item s | batched s | per item items/s | batched items/s | speedup |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for backend, r in pipelines.items():
        print(
            f"| {backend} | {r['per_item_seconds']:.2f} | {r['batched_seconds']:.2f} | "
            f"{r['per_item_items_per_s']:.1f} | {r['batched_items_per_s']:.1f} | "
            f"{r['speedup']:.2f}x |"
        )
    equal = all(r["outputs_equal"] for r in pipelines.values())
    print(f"\nbatched == per-item outputs: {equal}")

    result = {
        "benchmark": "back_translation",
        "provisional": True,
        "settings": {
            "n": args.n,
            "batch_size": args.batch_size,
            "device": args.device,
            "repeats": args.repeats,
            "decoding": "greedy",
            "torch_threads": 1,
            "model_forward": fwd,
            "model_backward": bwd,
            "model": model_desc,
            "nlpaug_max_length": nlpaug_max_length,
        },
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "nlpaug": nlpaug.__version__,
        },
        "rows": rows,
        "quality": quality,
        "pipeline_p05": pipelines,
    }
    if not args.no_ctranslate2:
        import ctranslate2

        result["environment"]["ctranslate2"] = ctranslate2.__version__
    if not args.quick:
        write_json(result, Path(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
