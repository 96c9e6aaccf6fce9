"""Presets: TrivialAugment, RandAugment, EDA and UDA back-translation as plain chains."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import Identity, Pipeline
from augkit.policy import eda, rand_augment, trivial_augment, uda_back_translation
from augkit.text import ChunkRecombination, RandomInsertion

from ._ops import Tag


def path_probability(pipe: Pipeline, path: tuple[int, ...]) -> float:
    """Exact probability of a walk, from the chain's matrices (no sampling)."""
    ch = pipe.chain
    if not path:
        return ch.stop_at_start
    p = float(ch.start[path[0]])
    for a, b in itertools.pairwise(path):
        p *= float(ch.transitions[a, b])
    at_bound = ch.max_steps is not None and len(path) == ch.max_steps
    return p * (1.0 if at_bound else float(ch.stop[path[-1]]))


def ops_of(m: int) -> list[Tag]:
    return [Tag(chr(ord("a") + i)) for i in range(m)]


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 8))
def test_trivial_augment_is_one_uniform_operator_then_stop(m: int) -> None:
    pipe = trivial_augment(ops_of(m))
    ch = pipe.chain
    # Exactly: every walk has one step, each operator with probability 1 / m.
    assert ch.stop_at_start == pytest.approx(0.0)
    np.testing.assert_allclose(ch.start, np.full(m, 1.0 / m))
    np.testing.assert_allclose(ch.stop, np.ones(m))
    np.testing.assert_allclose(ch.transitions, np.zeros((m, m)))
    assert pipe.expected_length() == pytest.approx(1.0)
    np.testing.assert_allclose(pipe.visit_frequencies(), np.full(m, 1.0 / m))


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 5), seed=st.integers(0, 2**32))
def test_trivial_augment_paths_have_length_one(m: int, seed: int) -> None:
    pipe = trivial_augment(ops_of(m))
    rng = np.random.default_rng(seed)
    for _ in range(30):
        path = pipe.chain.sample(rng)
        assert len(path) == 1


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 4), n=st.integers(1, 4))
def test_rand_augment_walks_are_exactly_n_uniform_steps(m: int, n: int) -> None:
    pipe = rand_augment(ops_of(m), n=n)
    # Every one of the m**n sequences of n operators has probability m**-n,
    # so they exhaust the distribution: no walk of another length exists.
    probs = [path_probability(pipe, p) for p in itertools.product(range(m), repeat=n)]
    np.testing.assert_allclose(probs, np.full(m**n, float(m) ** -n))
    assert sum(probs) == pytest.approx(1.0)
    assert pipe.expected_length() == pytest.approx(n)
    np.testing.assert_allclose(pipe.visit_frequencies(), np.full(m, n / m))


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 5), n=st.integers(1, 5), seed=st.integers(0, 2**32))
def test_rand_augment_paths_always_have_length_n(m: int, n: int, seed: int) -> None:
    pipe = rand_augment(ops_of(m), n=n)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        assert len(pipe.chain.sample(rng)) == n
    _, traces = pipe.augment_batch(["x"] * 9, seed=seed % 1000, return_traces=True)
    assert all(len(t.steps) == n for t in traces)


def test_presets_are_plain_pipelines_that_round_trip() -> None:
    ops = ops_of(3)
    for pipe in (trivial_augment(ops), rand_augment(ops, n=2)):
        again = Pipeline.from_dict(pipe.to_dict())
        assert again.chain == pipe.chain
        xs = ["one", "two", "three"]
        assert again.augment_batch(xs, seed=3) == pipe.augment_batch(xs, seed=3)
        text = pipe.describe()
        assert "start:" in text and "expected length" in text


def test_eda_default_operators_and_chain() -> None:
    pipe = eda(alpha=0.2, p=0.8)
    assert isinstance(pipe.ops[0], RandomInsertion) and pipe.ops[0].rate == 0.2
    assert isinstance(pipe.ops[1], ChunkRecombination) and pipe.ops[1].drop == 0.2
    assert isinstance(pipe.ops[2], ChunkRecombination) and pipe.ops[2].unit == "sentence"
    assert pipe.chain.stop_at_start == pytest.approx(0.2)
    np.testing.assert_allclose(pipe.chain.start, np.full(3, 0.8 / 3))
    assert pipe.expected_length() == pytest.approx(0.8)
    # Deletion alone (no synonyms needed): drops words, never adds any.
    out = pipe.ops[1]("one two three four five six seven eight", seed=1)
    assert set(out.split()) <= set("one two three four five six seven eight".split())
    assert Pipeline.from_dict(pipe.to_dict()).chain == pipe.chain


def test_eda_and_uda_take_the_callers_operators() -> None:
    ops = ops_of(4)
    pipe = eda(ops)
    assert pipe.ops == tuple(ops)
    np.testing.assert_allclose(pipe.chain.start, np.full(4, 0.25))
    uda = uda_back_translation(Identity(), p=0.5)
    assert uda.chain.stop_at_start == pytest.approx(0.5)
    assert uda.expected_length() == pytest.approx(0.5)
    assert "start: [0.5]" in uda.describe()


def test_uda_builds_sampled_back_translation_without_loading_a_model() -> None:
    pipe = uda_back_translation(source="en", pivot="de", temperature=0.9)
    op = pipe.ops[0]
    assert type(op).__name__ == "BackTranslation"
    assert op.temperature == 0.9 and op.pivot == "de"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: trivial_augment([]), ValueError, "at least one operator"),
        (lambda: trivial_augment("abc"), TypeError, "ops must be a list"),
        (lambda: rand_augment(ops_of(2), n=0), ValueError, "n must be an integer in"),
        (lambda: rand_augment(ops_of(2), n=1.5), TypeError, "n must be an integer"),
        (lambda: eda(alpha=1.5), ValueError, "alpha must be in"),
        (lambda: eda(ops_of(2), p=-0.1), ValueError, "p must be in"),
        (lambda: uda_back_translation(Identity(), p=2), ValueError, "p must be in"),
        (lambda: uda_back_translation(temperature=0), ValueError, "temperature must be in"),
    ],
)
def test_preset_errors(call: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]
