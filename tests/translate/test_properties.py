"""Hypothesis property tests of the operator invariants, on the tiny Marian pair.

Each example runs the model, so the example counts are small; the strategies
mix sentences in the model's vocabulary with arbitrary unicode.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import Pipeline, Trace, item_rng
from augkit.testing.marian import sample_sentences
from tests.ops import AppendToken

pytestmark = [pytest.mark.xdist_group("translate"), pytest.mark.slow]

SENTENCES = sample_sentences(40, seed=123, max_clauses=2)
WHITESPACE = ["", " ", "\n", " \t\n "]

sentence = st.sampled_from(SENTENCES)
joined = st.lists(sentence, min_size=2, max_size=3).map(" ".join)
unicode_text = st.text(max_size=30)
any_text = st.one_of(sentence, joined, unicode_text, st.sampled_from(WHITESPACE))
batches = st.lists(any_text, min_size=1, max_size=5)
seeds = st.integers(min_value=0, max_value=2**32)

FEW = settings(max_examples=8, deadline=None)


@FEW
@given(xs=batches, seed=seeds)
def test_types_lengths_and_whitespace_preserved(make_bt: Any, xs: list[str], seed: int) -> None:
    op = make_bt(temperature=0.9, batch_size=2, max_input_tokens=24)
    out = op.augment_batch(xs, seed=seed)
    assert isinstance(out, list) and len(out) == len(xs)
    for x, o in zip(xs, out):
        assert isinstance(o, str)
        if not x.strip():
            assert o == x
        else:
            assert o.strip()  # never empties a non-empty text
            assert o[: len(x) - len(x.lstrip())] == x[: len(x) - len(x.lstrip())]


@FEW
@given(xs=batches, seed=seeds)
def test_seeded_determinism_and_batch_equals_per_item(
    make_bt: Any, xs: list[str], seed: int
) -> None:
    op = make_bt(temperature=0.9, batch_size=2)
    out = op.augment_batch(xs, seed=seed)
    assert op.augment_batch(xs, seed=seed) == out
    assert out == [op(x, rng=item_rng(seed, 0, i)) for i, x in enumerate(xs)]


@FEW
@given(xs=st.lists(st.one_of(sentence, joined), min_size=2, max_size=5), data=st.data())
def test_sampled_output_independent_of_batch_order(
    make_bt: Any, xs: list[str], data: st.DataObject
) -> None:
    op = make_bt(temperature=1.1, top_k=40, batch_size=data.draw(st.integers(1, 4)))
    params = [op.sample_params(x, item_rng(7, 0, i)) for i, x in enumerate(xs)]
    out = op.apply_batch(xs, params)
    perm = data.draw(st.permutations(range(len(xs))))
    shuffled = op.apply_batch([xs[p] for p in perm], [params[p] for p in perm])
    assert [shuffled[perm.index(i)] for i in range(len(xs))] == out


@FEW
@given(xs=batches, seed=seeds)
def test_pipeline_batch_per_item_replay_and_config(make_bt: Any, xs: list[str], seed: int) -> None:
    op = make_bt(temperature=0.8, batch_size=3)
    pipe = Pipeline.markov(
        [op, AppendToken()], start=[0.6, 0.3], transitions=[[0.0, 0.5], [0.4, 0.0]], max_steps=3
    )
    out, traces = pipe.augment_batch(xs, seed=seed, return_traces=True)
    assert out == [pipe.augment(x, seed=seed, index=i) for i, x in enumerate(xs)]
    for x, o, t in zip(xs, out, traces):
        assert pipe.replay(x, Trace.from_json(t.to_json())) == o
    assert pipe.replay_batch(xs, traces) == out
    assert Pipeline.from_dict(pipe.to_dict()).augment_batch(xs, seed=seed) == out


@settings(max_examples=6, deadline=None)
@given(xs=batches)
def test_greedy_ignores_seed(make_bt: Any, xs: list[str]) -> None:
    op = make_bt(batch_size=4)
    assert op.augment_batch(xs, seed=1) == op.augment_batch(xs, seed=2)
