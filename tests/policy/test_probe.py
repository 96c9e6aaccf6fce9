"""embedding_probe: k-fold accuracy on frozen embeddings, augmenting training folds only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from augkit import BaseAugmenter, Pipeline
from augkit.policy import embedding_probe, no_augmentation, search_policy, trivial_augment
from augkit.seeding import Rng

from ._ops import NgramEmbedder, Tag

POSITIVE = "good great fine lovely superb nice".split()
NEGATIVE = "bad awful poor nasty dreadful grim".split()
FILLER = "the film was and it a plot so".split()


def corpus(n: int = 24, seed: int = 0) -> tuple[list[str], list[int]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = [*rng.choice(POSITIVE if label else NEGATIVE, 1), *rng.choice(FILLER, 4)]
        texts.append(" ".join(rng.permutation(words)))
        labels.append(label)
    return texts, labels


class Recorder:
    """An embedder that remembers every text it was asked to embed."""

    def __init__(self) -> None:
        self.inner = NgramEmbedder()
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.embed(texts)


class Mark(BaseAugmenter):
    """Appends a marker word: lets a test see which texts were augmented."""

    modality = "text"

    def sample_params(self, x: Any, rng: Rng) -> dict[str, Any]:
        return {}

    def apply(self, x: Any, params: dict[str, Any]) -> Any:
        return x + " zzmark"


class SameClassWord(BaseAugmenter):
    """Appends a random sentiment word of the item's class: it teaches words few texts have."""

    modality = "text"
    needs_label = True

    def sample_params(self, x: Any, rng: Rng) -> dict[str, Any]:
        return {"word": int(rng.integers(len(POSITIVE)))}

    def apply(self, x: Any, params: dict[str, Any]) -> Any:
        lexicon = POSITIVE if x.label == 1 else NEGATIVE
        return f"{x.value} {lexicon[params['word']]}"


def test_score_is_a_k_fold_accuracy_and_deterministic() -> None:
    texts, labels = corpus()
    score = embedding_probe(NgramEmbedder(), texts, labels, folds=4)
    base = score(no_augmentation([Tag()]))
    assert 0.0 <= base <= 1.0
    assert base * 24 == pytest.approx(round(base * 24))  # accuracies over 4 folds of 6
    assert score(no_augmentation([Tag()])) == base
    tagged = trivial_augment([Tag()])
    assert score(tagged) == score(tagged)


def test_only_training_folds_are_augmented_and_tests_are_originals() -> None:
    texts, labels = corpus(12)
    rec = Recorder()
    score = embedding_probe(rec, texts, labels, folds=3)
    assert rec.seen == list(dict.fromkeys(texts))  # originals, embedded once
    score(trivial_augment([Mark()]))
    # Copies are embedded once each; originals come from the cache.
    assert sorted(rec.seen[len(texts) :]) == sorted(t + " zzmark" for t in texts)
    score(trivial_augment([Mark()]))
    assert len(rec.seen) == 2 * len(texts)  # nothing new to embed the second time


def test_a_helpful_augmentation_scores_above_no_augmentation() -> None:
    # Each text has one sentiment word; a training fold lacks some of them,
    # which copies with other words of the same class teach.
    texts, labels = corpus(24, seed=0)
    score = embedding_probe(NgramEmbedder(dim=256), texts, labels, folds=4, copies=3, C=10.0)
    helped = score(trivial_augment([SameClassWord()]))
    assert helped > score(no_augmentation([SameClassWord()])) + 0.15  # 0.875 vs 0.625


def test_probe_drives_a_small_search_end_to_end() -> None:
    texts, labels = corpus(16)
    score = embedding_probe(NgramEmbedder(), texts, labels, folds=4)
    result = search_policy([Tag("x"), Mark()], score, budget=6, seed=0, progress=False)
    assert result.evaluations <= 6
    assert 0.0 <= result.baseline <= 1.0 and 0.0 <= result.score <= 1.0


def test_copies_add_that_many_augmented_texts() -> None:
    texts, labels = corpus(12)
    rec = Recorder()
    score = embedding_probe(rec, texts, labels, folds=3, copies=2)
    score(trivial_augment([Tag()]))
    assert len(rec.seen) > len(texts) + len(texts)  # two distinct copies per text, mostly


class NotAnEmbedder:
    pass


class BadShape:
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros(len(texts))


class ToImage(BaseAugmenter):
    modality = "text"

    def apply(self, x: Any, params: dict[str, Any]) -> Any:
        return 3


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"emb": NotAnEmbedder()}, TypeError, "emb must have an embed"),
        ({"labels": [0, 1]}, ValueError, "got 12 texts but 2 labels"),
        ({"labels": [0] * 12}, ValueError, "at least two classes"),
        ({"folds": 1}, ValueError, "folds must be an integer in"),
        ({"folds": 7}, ValueError, "folds=7 needs at least 7 texts of every class"),
        ({"copies": 0}, ValueError, "copies must be"),
        ({"C": 0}, ValueError, "C must be in"),
        ({"texts": [1] * 12}, TypeError, r"texts\[0\] must be str"),
        ({"emb": BadShape()}, ValueError, "one row per text"),
    ],
)
def test_probe_errors(kwargs: dict[str, Any], error: type, message: str) -> None:
    texts, labels = corpus(12)
    args: dict[str, Any] = {"emb": NgramEmbedder(), "texts": texts, "labels": labels, **kwargs}
    with pytest.raises(error, match=message):
        embedding_probe(**args)


def test_probe_refuses_a_pipeline_that_does_not_return_text() -> None:
    texts, labels = corpus(12)
    score = embedding_probe(NgramEmbedder(), texts, labels, folds=3)
    with pytest.raises(TypeError, match="needs a text pipeline"):
        score(Pipeline.sequence([ToImage()]))


def _noise_corpus(n: int = 40) -> tuple[list[str], list[int]]:
    """Texts of random made-up words with labels unrelated to them: nothing to learn."""
    rng = np.random.default_rng(5)
    letters = list("abcdefghijklmnopqrstuvwxyz")

    def sentence() -> str:
        return " ".join("".join(rng.choice(letters, 5)) for _ in range(4)) + "."

    texts = [f"{sentence()} {sentence()}" for _ in range(n)]
    return texts, [int(v) for v in rng.integers(0, 2, n)]


def _appender(texts: list[str], labels: list[int]) -> list[Any]:
    """Appends donor sentences of the item's label, drawn from ``texts``."""
    from augkit.text import ChunkRecombination

    return [
        ChunkRecombination(
            unit="sentence", mode="splice", splice="append", rate=1.0, pool=texts,
            pool_labels=labels,
        )
    ]  # fmt: skip


def test_operators_built_from_all_texts_leak_held_out_texts_and_per_fold_ones_do_not() -> None:
    texts, labels = _noise_corpus()
    emb = NgramEmbedder(dim=1024)
    pipe = Pipeline.sequence(_appender(texts, labels))
    leaky = embedding_probe(emb, texts, labels, folds=4)
    safe = embedding_probe(emb, texts, labels, folds=4, operators=_appender)
    base = leaky(no_augmentation(pipe.ops))
    assert base == safe(no_augmentation(pipe.ops))  # no operator runs: the same score
    # The donors of a training text include held-out texts with their labels: the
    # classifier learns the test fold itself.
    assert leaky(pipe) > base + 0.15
    assert safe(pipe) < leaky(pipe) - 0.15


def test_operators_are_built_once_per_fold_from_its_training_texts_only() -> None:
    texts, labels = corpus(20)
    calls: list[tuple[list[str], list[Any]]] = []

    def build(train_texts: list[str], train_labels: list[Any]) -> list[Any]:
        calls.append((train_texts, train_labels))
        return [Tag("a")]

    score = embedding_probe(NgramEmbedder(), texts, labels, folds=4, operators=build)
    assert len(calls) == 4
    seen: list[str] = []
    for train_texts, train_labels in calls:
        assert len(train_texts) == 15 and set(train_texts) <= set(texts)
        assert train_labels == [labels[texts.index(t)] for t in train_texts]
        seen += [t for t in texts if t not in train_texts]
    assert sorted(seen) == sorted(texts)  # every text is held out exactly once
    pipe = Pipeline.sequence([Tag("a")])
    assert score(pipe) == embedding_probe(NgramEmbedder(), texts, labels, folds=4)(pipe)
    with pytest.raises(TypeError, match="operators must be a callable"):
        embedding_probe(NgramEmbedder(), texts, labels, operators=[Tag("a")])  # type: ignore[arg-type]


def test_with_operators_keeps_the_chain_states_and_lens() -> None:
    from augkit import MarkovChain

    pipe = Pipeline(
        [Tag("a"), Tag("b")],
        MarkovChain([0.5, 0.5, 0.0], [[0, 0, 1], [0, 0, 0], [0, 0, 0]]),
        state_ops=(0, 1, 0),
        key="body",
        label="y",
    )
    other = pipe.with_operators([Tag("c"), Tag("d")])
    assert other.chain == pipe.chain and other.state_ops == pipe.state_ops
    assert (other.key, other.lens.label) == ("body", "y")
    for i in range(10):
        a = pipe.augment({"body": "x", "y": 0}, seed=i)["body"]
        b = other.augment({"body": "x", "y": 0}, seed=i)["body"]
        assert a.replace(" a", " c").replace(" b", " d") == b
    with pytest.raises(ValueError, match="got 1 operators for a pipeline of 2"):
        pipe.with_operators([Tag("c")])
    with pytest.raises(TypeError, match="ops must be a list"):
        pipe.with_operators(Tag("c"))  # type: ignore[arg-type]


def test_a_magnitude_search_with_per_fold_operators_builds_the_states() -> None:
    from augkit.policy import magnitude_states
    from augkit.text import RandomInsertion, Vocabulary

    texts, labels = corpus(16)

    def build(t: list[str], y: list[Any]) -> list[Any]:
        return [RandomInsertion(Vocabulary.from_corpus(t), rate=0.4), Tag("a")]

    levels = (0.5, 1.0)
    wrong = embedding_probe(NgramEmbedder(), texts, labels, folds=4, operators=build)
    states = embedding_probe(
        NgramEmbedder(),
        texts,
        labels,
        folds=4,
        operators=lambda t, y: magnitude_states(build(t, y), levels)[0],
    )
    with pytest.raises(ValueError, match=r"built 2 operators for a pipeline of 3.*magnitude_"):
        search_policy(build(texts, labels), wrong, budget=4, magnitudes=levels, progress=False)
    result = search_policy(
        build(texts, labels), states, budget=6, magnitudes=levels, progress=False
    )
    assert len(result.pipeline.ops) == 3
