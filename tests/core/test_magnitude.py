"""Magnitudes: ``magnitude_params``, ``with_magnitude``, the contract's rule 10, and the search
over (operator, magnitude) states."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import BaseAugmenter, Identity, Pipeline
from augkit.base import scale_magnitude
from augkit.image import RandomCrop, Rotate
from augkit.policy import search_policy
from augkit.seeding import Rng
from augkit.testing import ContractError, check_operator
from augkit.text import ChunkRecombination, RandomInsertion, Vocabulary

magnitudes = st.floats(0.0, 1.0, exclude_min=True)


class Strength(BaseAugmenter):
    """Appends ``tag`` and its ``amount`` (rounded): which state of a search ran."""

    modality = "text"
    magnitude_params = ("amount",)

    def __init__(self, tag: str = "s", amount: float = 1.0) -> None:
        self.tag = tag
        self.amount = amount

    def sample_params(self, x: Any, rng: Rng) -> dict[str, Any]:
        return {}

    def apply(self, x: Any, params: dict[str, Any]) -> Any:
        return f"{x} {self.tag}={self.amount:.2f}"


@settings(max_examples=200)
@given(v=st.floats(-1e6, 1e6), m=magnitudes)
def test_floats_scale_by_the_magnitude(v: float, m: float) -> None:
    assert scale_magnitude(v, m) == v * m
    assert scale_magnitude(v, 1.0) == v


@settings(max_examples=200)
@given(v=st.integers(-50, 1000), m=magnitudes)
def test_integers_round_and_a_positive_strength_never_vanishes(v: int, m: float) -> None:
    out = scale_magnitude(v, m)
    assert isinstance(out, int)
    if v > 0:
        assert 1 <= out <= v and abs(out - v * m) <= max(0.5, 1 - v * m)
    else:
        assert out == v
    assert scale_magnitude(v, 1.0) == v


@settings(max_examples=100)
@given(vs=st.lists(st.floats(-100, 100) | st.integers(0, 100), max_size=4), m=magnitudes)
def test_sequences_scale_element_by_element(vs: list[Any], m: float) -> None:
    assert scale_magnitude(vs, m) == tuple(scale_magnitude(v, m) for v in vs)


@pytest.mark.parametrize("value", [True, "3", None, {"a": 1}])
def test_non_numbers_cannot_be_scaled(value: Any) -> None:
    with pytest.raises(TypeError, match="magnitude parameter must be a number"):
        scale_magnitude(value, 0.5)


def _declaring() -> list[BaseAugmenter]:
    vocab = Vocabulary(["alpha", "beta", "gamma"])
    return [
        Rotate(30),
        Rotate((0, 40)),
        RandomCrop(8, padding=4),
        RandomInsertion(vocab, rate=0.3),
        ChunkRecombination(unit="sentence", mode="splice", pool=["A b."], rate=0.6, drop=0.2),
    ]


@pytest.mark.parametrize("op", _declaring(), ids=lambda op: repr(op)[:40])
@pytest.mark.parametrize("m", [0.25, 0.5, 1.0])
def test_built_in_operators_scale_only_their_declared_arguments(op: Any, m: float) -> None:
    scaled = op.with_magnitude(m)
    assert type(scaled) is type(op) and scaled is not op
    before, after = op.get_config(), scaled.get_config()
    for name, value in before.items():
        if name in op.magnitude_params:
            assert after[name] == scale_magnitude(value, m)
        else:
            assert after[name] == value, name
    if m == 1.0:
        assert after == before


def test_chunk_recombination_declares_only_the_strengths_it_uses() -> None:
    assert ChunkRecombination(unit="sentence", mode="shuffle").magnitude_params == ()
    assert ChunkRecombination(mode="shuffle", drop=0.1).magnitude_params == ("drop",)
    splice = ChunkRecombination(mode="splice", pool=["A."], rate=0.5, repeat=0.2)
    assert splice.magnitude_params == ("rate", "repeat")
    assert ChunkRecombination(mode="splice", pool=[], rate=0.0).magnitude_params == ()
    with pytest.raises(TypeError, match="declares no magnitude"):
        ChunkRecombination().with_magnitude(0.5)


def test_rotate_at_half_magnitude_turns_half_as_far() -> None:
    angles = [
        Rotate(30).with_magnitude(0.5).sample_params(None, _rng(i))["angle"] for i in range(300)
    ]
    assert max(map(abs, angles)) <= 15.0 and max(map(abs, angles)) > 13.0


def _rng(i: int) -> Rng:
    from augkit import item_rng

    return item_rng(0, 0, i)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (0, ValueError, r"magnitude must be in \(0.0, 1.0\]"),
        (1.5, ValueError, "magnitude must be in"),
        (math.nan, ValueError, "got NaN"),
        ("high", TypeError, "magnitude must be a number"),
    ],
)
def test_bad_magnitudes_are_refused(value: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Rotate(30).with_magnitude(value)


def test_an_operator_without_magnitude_says_so() -> None:
    with pytest.raises(TypeError, match="Identity declares no magnitude"):
        Identity().with_magnitude(0.5)


def test_the_contract_checks_magnitudes() -> None:
    check_operator(Strength(amount=0.8), ["x", ""])

    class Undeclared(Strength):
        magnitude_params = ("power",)

    with pytest.raises(ContractError, match=r"magnitude: .*names \['power'\]"):
        check_operator(Undeclared(), ["x"])

    class Meddling(Strength):
        def with_magnitude(self, magnitude: float) -> Any:
            return Strength(tag="other", amount=self.amount * magnitude)

    with pytest.raises(ContractError, match=r"with_magnitude\(1.0\) is not an equal copy"):
        check_operator(Meddling(), ["x"])

    class Retagging(Strength):
        def with_magnitude(self, magnitude: float) -> Any:
            if magnitude == 1.0:
                return Retagging(self.tag, self.amount)
            return Retagging("other", self.amount * magnitude)

    with pytest.raises(ContractError, match=r"with_magnitude\(0.5\) changed \['tag'\]"):
        check_operator(Retagging(), ["x"])


# --------------------------------------------------------------------------- search


class AmountScore:
    """Rewards the amount nearest ``best`` of the one operator a path runs; no augmentation 0."""

    def __init__(self, best: float) -> None:
        self.best = best

    def __call__(self, pipe: Pipeline) -> float:
        total = 0.0
        outs = pipe.augment_batch(["x"] * 12, seed=0)
        for out in outs:
            for word in out.split()[1:]:
                total += 1.0 - 2 * abs(float(word.split("=")[1]) - self.best) - 0.2
        return total / len(outs)


@pytest.mark.parametrize("best", [0.25, 1.0])
def test_search_finds_the_rewarded_magnitude(best: float) -> None:
    ops = [Strength("s"), Identity()]
    result = search_policy(
        ops, AmountScore(best), budget=25, seed=1, magnitudes=(0.25, 0.5, 1.0), progress=False
    )
    assert result.states == ((0, 0.25), (0, 0.5), (0, 1.0), (1, None))
    assert len(result.pipeline.ops) == 4 == result.chain.n_states
    favourite = int(np.argmax(result.chain.start))
    assert result.states[favourite] == (0, best)
    assert result.pipeline.ops[favourite].amount == best


def test_a_searched_pipeline_with_magnitudes_round_trips_through_its_config() -> None:
    def score(pipe: Pipeline) -> float:
        angles = [t.steps[0].params["angle"] for t in _traces(pipe) if t.steps]
        return -float(np.mean(np.abs(angles))) if angles else -5.0

    result = search_policy([Rotate(40)], score, budget=12, magnitudes=(0.25, 1.0), progress=False)
    assert [op.degrees for op in result.pipeline.ops] == [(-10.0, 10.0), (-40.0, 40.0)]
    again = Pipeline.from_dict(result.pipeline.to_dict())
    img = np.arange(30, dtype=np.float32).reshape(5, 6)
    for seed in range(5):
        assert np.array_equal(
            again.augment(img, seed=seed), result.pipeline.augment(img, seed=seed)
        )


def _traces(pipe: Pipeline) -> list[Any]:
    img = np.zeros((5, 6), np.float32)
    return [pipe.augment(img, seed=0, index=i, return_trace=True)[1] for i in range(10)]


def test_without_magnitudes_every_operator_is_one_state() -> None:
    result = search_policy([Strength("s"), Identity()], AmountScore(1.0), budget=4, progress=False)
    assert result.states == ((0, None), (1, None))
    assert result.pipeline.ops[0].amount == 1.0


@pytest.mark.parametrize(
    ("magnitudes", "error", "message"),
    [
        ((), ValueError, "at least one level"),
        ((0.5, 0.5), ValueError, "must be distinct"),
        ((0.5, 2.0), ValueError, r"magnitudes\[1\] must be in"),
        ("0.5", TypeError, "magnitudes must be a sequence"),
    ],
)
def test_bad_magnitude_levels_are_refused(magnitudes: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        search_policy([Strength()], AmountScore(1.0), magnitudes=magnitudes, progress=False)


def test_a_start_chain_needs_one_state_per_level() -> None:
    from augkit import MarkovChain

    with pytest.raises(ValueError, match=r"start has 2 states for 3 \(operator, magnitude\)"):
        search_policy(
            [Strength(), Identity()],
            AmountScore(1.0),
            magnitudes=(0.5, 1.0),
            start=MarkovChain([0.5, 0.5], np.zeros((2, 2))),
            progress=False,
        )
