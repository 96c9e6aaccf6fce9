"""Pipeline.filtered: rejected outputs redrawn from their own attempt coordinates.

The embedder here is a bag of hashed words (tests/quality/helpers.py): the
properties are about determinism and bookkeeping, not about quality.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import ConfigError, Identity, Pipeline, Trace
from augkit.pipeline import _Draw
from augkit.quality import FilteredPipeline, QualityFilter
from augkit.text import ChunkRecombination, RandomInsertion, Vocabulary
from tests.quality.helpers import HashingEmbedder, sample_rows

ROWS = sample_rows()
TEXTS = [r["text"] for r in ROWS]
LABELS = [r["label"] for r in ROWS]


class Counting(HashingEmbedder):
    """Counts calls and rows, to see that a round is embedded in one batch."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts: Any) -> np.ndarray:
        self.calls.append(len(texts))
        return super().embed(texts)


def make_pipe() -> Pipeline:
    vocab = Vocabulary.from_corpus(TEXTS, min_count=2, stopwords="english")
    return Pipeline.one_of(
        [ChunkRecombination(unit="sentence", mode="shuffle"), RandomInsertion(vocab, rate=0.4)]
    )


def make_filter(**kwargs: Any) -> QualityFilter:
    settings_ = {"metric": "cosine", "quantile": 0.5, "min_distance": 1e-9, **kwargs}
    return QualityFilter(HashingEmbedder(), **settings_).fit(TEXTS, LABELS)


PIPE = make_pipe()
QF = make_filter()
FILTERED = PIPE.filtered(QF, max_tries=4)


def test_it_is_a_pipeline_that_filters() -> None:
    assert isinstance(FILTERED, FilteredPipeline) and isinstance(FILTERED, Pipeline)
    assert FILTERED.pipeline is PIPE and FILTERED.quality_filter is QF
    outs, traces = FILTERED.augment_batch(ROWS, seed=3, n=2, return_traces=True)
    flat = [t for ts in traces for t in ts]
    assert all(t.quality is not None for t in flat)
    tries = [len(t.quality["tries"]) for t in flat]  # type: ignore[index]
    assert max(tries) > 1, "the settings above should make the filter redraw some outputs"
    assert min(tries) >= 1 and max(tries) <= 4
    # Every accepted output passes the filter when scored on its own.
    accepted = [
        (o["text"], r["text"])
        for o_s, t_s, r in zip(outs, traces, ROWS)
        for o, t in zip(o_s, t_s)
        if t.quality["accepted"]  # type: ignore[index]
    ]
    report = QF.evaluate([a for a, _ in accepted], originals=[b for _, b in accepted])
    assert report.accepted.all()


@settings(max_examples=8)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.booleans())
def test_batch_equals_per_item_and_repeats(seed: int, n: int, distinct: bool) -> None:
    batch, traces = FILTERED.augment_batch(
        ROWS, seed=seed, n=n, distinct=distinct, return_traces=True
    )
    for i, row in enumerate(ROWS):
        alone, alone_traces = FILTERED.augment(
            row, seed=seed, index=i, n=n, distinct=distinct, return_trace=True
        )
        assert alone == batch[i]
        assert [t.to_dict() for t in alone_traces] == [t.to_dict() for t in traces[i]]
    again, again_traces = FILTERED.augment_batch(
        ROWS, seed=seed, n=n, distinct=distinct, return_traces=True
    )
    assert again == batch
    assert [[t.to_json() for t in ts] for ts in again_traces] == [
        [t.to_json() for t in ts] for ts in traces
    ]
    # Untraced calls (the pipeline's fast paths) give the same outputs.
    assert FILTERED.augment_batch(ROWS, seed=seed, n=n, distinct=distinct) == batch
    # A subset, out of order, keeps each item's coordinates.
    order = [5, 0, 17]
    sub = FILTERED.augment_batch(
        [ROWS[i] for i in order], seed=seed, n=n, indices=order, distinct=distinct
    )
    assert sub == [batch[i] for i in order]


@settings(max_examples=6)
@given(st.integers(0, 2**32 - 1))
def test_each_try_is_its_own_attempt_coordinate(seed: int) -> None:
    outs, traces = FILTERED.augment_batch(ROWS, seed=seed, n=2, return_traces=True)
    for i, (row, ts) in enumerate(zip(ROWS, traces)):
        for v, t in enumerate(ts):
            q = t.quality
            assert q is not None
            attempts = [tr["attempt"] for tr in q["tries"]]
            assert attempts == list(range(len(attempts)))  # 0, 1, 2, ...: distinct coordinates
            assert t.attempt == attempts[-1] and len(attempts) <= FILTERED.max_tries
            assert all(not tr["accepted"] for tr in q["tries"][:-1])
            for tr in q["tries"]:
                # The candidate of that attempt is the unfiltered pipeline at that coordinate.
                out, _ = PIPE._run(
                    [row["text"]], [row["label"]], _Draw([(seed, 0, i, v, tr["attempt"])]), True
                )
                d = QF.decide(QF.embed("x", out), None, QF.embed("o", [row["text"]]))
                assert float(d.distance[0]) == tr["distance"] and d.reason[0] == tr["reason"]
            assert FILTERED.replay(row, t) == outs[i][v]
            assert FILTERED.replay(row, Trace.from_json(t.to_json())) == outs[i][v]
            if q["accepted"]:
                assert t.distinct is None and outs[i][v]["text"] == out[0]


def test_max_tries_is_respected_and_the_original_comes_back() -> None:
    strict = make_filter(min_distance=10.0)  # cosine distance <= 2: every output is a near-copy
    for max_tries in (1, 3):
        fp = PIPE.filtered(strict, max_tries=max_tries)
        outs, traces = fp.augment_batch(ROWS[:6], seed=1, return_traces=True)
        assert outs == ROWS[:6]
        for t in traces:
            assert t.quality is not None and t.quality["accepted"] is False
            assert t.quality["fallback"] == "original" and t.steps == ()
            assert [tr["attempt"] for tr in t.quality["tries"]] == list(range(max_tries))
            assert {tr["reason"] for tr in t.quality["tries"]} == {"near_copy"}
    last = PIPE.filtered(strict, max_tries=2, fallback="last")
    outs, traces = last.augment_batch(ROWS[:6], seed=1, return_traces=True)
    for row, out, t in zip(ROWS[:6], outs, traces):
        assert t.attempt == 1 and last.replay(row, t) == out and "fallback" not in t.quality  # type: ignore[operator]


def test_one_batched_embedding_per_round() -> None:
    emb = Counting()
    qf = QualityFilter(emb, metric="cosine", quantile=0.5, min_distance=1e-9).fit(TEXTS, LABELS)
    emb.calls.clear()
    fp = PIPE.filtered(qf, max_tries=3)
    _, traces = fp.augment_batch(ROWS, seed=2, n=2, return_traces=True)
    rounds = max(len(t.quality["tries"]) for ts in traces for t in ts)  # type: ignore[index]
    assert len(emb.calls) == 1 + rounds  # the originals once, then every round's candidates
    assert emb.calls[0] == len(set(TEXTS)) and emb.calls[1] == 2 * len(ROWS)


def test_distinct_variants_are_filtered_too() -> None:
    outs, traces = FILTERED.augment_batch(ROWS, seed=5, n=3, distinct=True, return_traces=True)
    for row, vs, ts in zip(ROWS, outs, traces):
        for k, (o, t) in enumerate(zip(vs, ts)):
            if t.quality["accepted"]:  # type: ignore[index]
                assert t.distinct is True
                assert o != row and o not in vs[:k]
            else:
                assert t.distinct is False


def test_class_reference_reads_labels_through_the_lens() -> None:
    qf = make_filter(reference="class", label_check=True, min_distance=0.0)
    fp = PIPE.filtered(qf)
    outs = fp.augment_batch(ROWS, seed=0)
    assert [o["label"] for o in outs] == LABELS
    with pytest.raises(ValueError, match=r"labels is required: reference='class'"):
        fp.augment_batch(TEXTS, seed=0)  # plain strings carry no label


def test_what_a_filtered_pipeline_refuses() -> None:
    with pytest.raises(TypeError, match="quality_filter must be a fitted quality filter"):
        PIPE.filtered(object())
    with pytest.raises(ValueError, match="must be a fitted QualityFilter"):
        PIPE.filtered(QualityFilter(HashingEmbedder()))
    with pytest.raises(TypeError, match="filtered already"):
        FILTERED.filtered(QF)
    with pytest.raises(ValueError, match="max_tries must be an integer in"):
        PIPE.filtered(QF, max_tries=0)
    with pytest.raises(ValueError, match="fallback must be one of 'original', 'last'"):
        PIPE.filtered(QF, fallback="drop")
    with pytest.raises(ConfigError, match="no config of its own"):
        FILTERED.to_dict()
    outer = Pipeline.sequence([FILTERED, Identity()])
    with pytest.raises(TypeError, match="nested in another pipeline"):
        outer.augment_batch(ROWS[:2], seed=0)
    with pytest.raises(TypeError, match="nested in another pipeline"):
        FILTERED.sample_params("a text", np.random.default_rng(0))


def test_with_item_keeps_the_filter() -> None:
    other = FILTERED.with_item(key="body")
    assert isinstance(other, FilteredPipeline) and other.key == "body"
    rows = [{"body": r["text"], "label": r["label"]} for r in ROWS[:4]]
    assert [o["body"] for o in other.augment_batch(rows, seed=9)] == [
        o["text"] for o in FILTERED.augment_batch(ROWS[:4], seed=9)
    ]
    assert "filtered by QualityFilter" in FILTERED.describe()


def test_it_pickles_for_dataloader_workers() -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(FILTERED))
    assert isinstance(copy, FilteredPipeline) and copy.max_tries == FILTERED.max_tries
    assert copy.augment_batch(ROWS, seed=8, n=2) == FILTERED.augment_batch(ROWS, seed=8, n=2)


def test_a_text_embedder_pickles_without_its_model() -> None:
    import pickle

    from augkit.quality import TextEmbedder

    emb = TextEmbedder("some/model")
    emb._loaded = ("tokenizer", "model", 8)  # what a loaded one holds
    assert pickle.loads(pickle.dumps(emb))._loaded is None
