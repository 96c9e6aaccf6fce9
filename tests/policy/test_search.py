"""search_policy: budget, baseline, determinism, and that it finds what the score rewards."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import MarkovChain, Pipeline
from augkit.policy import SearchResult, no_augmentation, search_policy

from ._ops import Tag

OPS = [Tag("a"), Tag("b"), Tag("c")]


class Counting:
    """A deterministic score from what a pipeline does to one probe text; counts its calls."""

    def __init__(self, reward: dict[str, float], seed: int = 0) -> None:
        self.reward = reward
        self.calls = 0
        self.seed = seed

    def __call__(self, pipe: Pipeline) -> float:
        self.calls += 1
        outs = pipe.augment_batch(["x"] * 16, seed=self.seed)
        total = 0.0
        for out in outs:
            tags = [w[0] for w in out.split()[1:]]
            total += sum(self.reward.get(t, 0.0) for t in tags) - 0.3 * max(0, len(tags) - 1)
        return total / len(outs)


def summary(result: SearchResult) -> Any:
    return (
        result.baseline,
        result.score,
        result.evaluations,
        [(r.chain.to_dict(), r.score, r.paths, r.scores) for r in result.history],
        result.pipeline.to_dict(),
    )


@settings(max_examples=15, deadline=None)
@given(budget=st.integers(2, 30), seed=st.integers(0, 2**16), population=st.integers(2, 6))
def test_budget_is_respected_and_baseline_reported(budget: int, seed: int, population: int) -> None:
    score = Counting({"a": 1.0, "b": -0.5})
    result = search_policy(
        OPS, score, budget=budget, seed=seed, population=population, progress=False
    )
    assert score.calls == result.evaluations <= budget
    assert result.baseline == score(no_augmentation(OPS))
    assert result.baseline == 0.0
    assert result.gain == result.score - result.baseline
    # The no-augmentation path is scored as the baseline, never twice.
    for r in result.history:
        assert all(s == result.baseline for p, s in zip(r.paths, r.scores) if p == ())
        assert r.score == pytest.approx(float(np.mean(r.scores)))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_search_is_deterministic_for_a_seed(seed: int) -> None:
    def run() -> SearchResult:
        return search_policy(OPS, Counting({"a": 1.0}), budget=12, seed=seed, progress=False)

    assert summary(run()) == summary(run())


def test_different_seeds_sample_different_paths() -> None:
    runs = [
        search_policy(OPS, Counting({"a": 1.0}), budget=12, seed=s, progress=False)
        for s in range(4)
    ]
    assert len({str(r.history[0].paths) for r in runs}) > 1


def test_search_moves_towards_the_rewarded_operator() -> None:
    result = search_policy(OPS, Counting({"a": 1.0, "b": -1.0}), budget=20, seed=0, progress=False)
    chain = result.chain
    assert chain.start[0] > 0.8
    assert result.helps and result.score > 0.7
    assert chain.stop_at_start > 0  # no augmentation stays possible


def test_search_converges_to_no_augmentation_when_augmenting_hurts() -> None:
    hurts = Counting({"a": -1.0, "b": -1.0, "c": -1.0})
    result = search_policy(OPS, hurts, budget=20, seed=0, progress=False)
    assert result.chain.stop_at_start > 0.8
    assert result.score <= result.baseline == 0.0
    assert not result.helps


def test_history_chains_are_the_sampled_ones() -> None:
    result = search_policy(OPS, Counting({"b": 1.0}), budget=15, seed=2, progress=False)
    first = result.history[0].chain
    np.testing.assert_allclose(first.start, np.full(3, 0.25))
    for r in result.history:
        assert all(len(p) <= 2 for p in r.paths)
        assert r.best_path in r.paths
    assert isinstance(result.pipeline, Pipeline)
    assert Pipeline.from_dict(result.pipeline.to_dict()).chain == result.chain


def test_time_limit_stops_the_rounds() -> None:
    score = Counting({"a": 1.0})
    result = search_policy(OPS, score, budget=40, time_limit=1e-9, progress=False)
    assert result.history == []
    assert result.evaluations == 2  # the baseline and the final chain


def test_a_given_start_chain_and_max_steps() -> None:
    start = MarkovChain([0.0, 1.0, 0.0], np.zeros((3, 3)))
    result = search_policy(
        OPS, Counting({"b": 1.0}), budget=6, start=start, max_steps=1, progress=False
    )
    assert result.history[0].paths[0] == (1,)
    assert result.chain.max_steps == 1


def test_progress_bar_counts_evaluations(capsys: pytest.CaptureFixture[str]) -> None:
    search_policy(OPS, Counting({"a": 1.0}), budget=5, seed=0, progress=True)
    assert "policy search" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ops": []}, ValueError, "at least one operator"),
        ({"ops": "abc"}, TypeError, "ops must be a list"),
        ({"score": 3}, TypeError, "score must be a callable"),
        ({"budget": 1}, ValueError, "budget must be an integer in"),
        ({"time_limit": 0}, ValueError, "time_limit must be in"),
        ({"population": 1}, ValueError, "population must be"),
        ({"elite": 0}, ValueError, "elite must be in"),
        ({"rate": 1.5}, ValueError, "rate must be in"),
        ({"smoothing": 0}, ValueError, "smoothing must be in"),
        ({"max_steps": 0}, ValueError, "max_steps must be"),
        ({"start": MarkovChain([1.0], [[0.0]])}, ValueError, "start has 1 states for 3"),
        ({"start": [1.0]}, TypeError, "start must be a MarkovChain"),
        ({"select": "first"}, ValueError, "select must be one of 'best', 'last'"),
        ({"score": lambda p: "high"}, TypeError, "score must return a number"),
        ({"score": lambda p: math.nan}, ValueError, "score returned NaN"),
    ],
)
def test_search_errors(kwargs: dict[str, Any], error: type, message: str) -> None:
    args: dict[str, Any] = {"ops": OPS, "score": Counting({}), "progress": False, **kwargs}
    with pytest.raises(error, match=message):
        search_policy(**args)


class Diversity:
    """Rewards outputs that differ from one another: only a mixture of operators scores high."""

    def __call__(self, pipe: Pipeline) -> float:
        outs = pipe.augment_batch(["x"] * 24, seed=0)
        tags = {w[0] for out in outs for w in out.split()[1:]}
        lengths = [len(out.split()) - 1 for out in outs]
        return len(tags) - 0.5 * float(np.mean(lengths))


def test_best_selection_finds_a_mixture_that_beats_every_path() -> None:
    result = search_policy(OPS, Diversity(), budget=20, seed=0, progress=False)
    path_scores = [s for r in result.history for s in r.scores]
    assert result.score > max(path_scores)  # no single path mixes tags
    assert all(r.chain_score is not None for r in result.history)
    candidates = [r.chain_score for r in result.history]
    assert result.score >= max(c for c in candidates if c is not None)
    chosen = [r for r in result.history if r.chain == result.chain]
    assert not chosen or chosen[0].chain_score == result.score


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_best_returns_the_highest_scoring_chain_it_saw(seed: int) -> None:
    score = Counting({"a": 0.6, "b": 0.5, "c": -0.2}, seed=seed % 7)
    best = search_policy(OPS, score, budget=16, seed=seed, progress=False)
    seen = [r.chain_score for r in best.history]
    assert None not in seen
    assert best.score >= max(seen, default=-math.inf)  # type: ignore[type-var]
    assert score(best.pipeline) == best.score  # the score is the chosen chain's own
    assert score.calls - 1 == best.evaluations <= 16
    last = search_policy(OPS, score, budget=16, seed=seed, select="last", progress=False)
    assert all(r.chain_score is None for r in last.history)
    assert score(last.pipeline) == last.score
