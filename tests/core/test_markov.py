"""MarkovChain: validation, sampling, exact analysis, fitting, config."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import ConfigError, MarkovChain

from .strategies import chains

# ----------------------------------------------------------------- helpers


def exact_visits(chain: MarkovChain) -> np.ndarray:
    """Expected visits by enumerating every path (an oracle independent of the matrix algebra)."""
    assert chain.max_steps is not None
    n = chain.n_states
    visits = np.zeros(n)
    # frontier: (last state, probability of the path so far)
    frontier = [(j, chain.start[j]) for j in range(n) if chain.start[j] > 0]
    for _ in range(chain.max_steps):
        nxt = []
        for state, prob in frontier:
            visits[state] += prob
            for j in range(n):
                if chain.transitions[state, j] > 0:
                    nxt.append((j, prob * chain.transitions[state, j]))
        # merge equal states to keep the frontier small
        merged: dict[int, float] = {}
        for s, p in nxt:
            merged[s] = merged.get(s, 0.0) + p
        frontier = list(merged.items())
    return visits


def is_legal(chain: MarkovChain, path: list[int]) -> bool:
    if not path:
        return chain.stop_at_start > 0
    if chain.start[path[0]] <= 0:
        return False
    for a, b in itertools.pairwise(path):
        if chain.transitions[a, b] <= 0:
            return False
    at_bound = chain.max_steps is not None and len(path) == chain.max_steps
    return at_bound or chain.stop[path[-1]] > 0


# ----------------------------------------------------------------- sampling


@settings(max_examples=150, deadline=None)
@given(chain=chains(), seed=st.integers(0, 2**32))
def test_samples_are_legal_paths_within_max_steps(chain: MarkovChain, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(50):
        path = chain.sample(rng)
        assert is_legal(chain, path), path
        if chain.max_steps is not None:
            assert len(path) <= chain.max_steps


@settings(max_examples=40, deadline=None)
@given(chain=chains(max_states=4), seed=st.integers(0, 2**32))
def test_empirical_visit_frequencies_match_exact(chain: MarkovChain, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_walks = 4000
    counts = np.zeros((n_walks, chain.n_states))
    for w in range(n_walks):
        for s in chain.sample(rng):
            counts[w, s] += 1
    expected = chain.visit_frequencies()
    mean = counts.mean(axis=0)
    # Standard error of the mean visit count, from the sample variance;
    # 5 standard errors makes a false alarm ~6e-7 per state. A rare state can
    # show zero visits (and so zero sample variance) by chance: with at most
    # 15 expected visits in all walks that has probability >= e^-15, so
    # 15 / n_walks is added as the floor for that case.
    se = counts.std(axis=0, ddof=1) / math.sqrt(n_walks)
    tol = 5 * se + 15 / n_walks
    assert np.all(np.abs(mean - expected) <= tol), (mean, expected, tol)


def test_sampling_is_a_function_of_the_generator_only() -> None:
    chain = MarkovChain([0.3, 0.3, 0.2], [[0.2, 0.3, 0.1], [0.1, 0.1, 0.1], [0.4, 0.4, 0.1]])
    a = [chain.sample(np.random.default_rng(5)) for _ in range(3)]
    b = [chain.sample(np.random.default_rng(5)) for _ in range(3)]
    assert a == b
    assert a[0] == a[1] == a[2]


def test_zero_probability_states_are_never_sampled() -> None:
    chain = MarkovChain([0.0, 1.0, 0.0], [[0, 0, 0], [0.0, 0.0, 0.5], [0, 0, 0]])
    rng = np.random.default_rng(0)
    seen = {tuple(chain.sample(rng)) for _ in range(2000)}
    assert seen == {(1,), (1, 2)}


# ----------------------------------------------------------------- analysis


@settings(max_examples=100, deadline=None)
@given(chain=chains(bounded=True, max_states=4))
def test_visit_frequencies_equal_path_enumeration(chain: MarkovChain) -> None:
    np.testing.assert_allclose(chain.visit_frequencies(), exact_visits(chain), atol=1e-9)
    assert chain.expected_length() == pytest.approx(exact_visits(chain).sum(), abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(chain=chains(bounded=False, max_states=4))
def test_unbounded_visits_are_the_limit_of_bounded_ones(chain: MarkovChain) -> None:
    # Visits with a large bound converge to those of the fundamental matrix.
    bounded = MarkovChain(chain.start, chain.transitions, max_steps=400)
    np.testing.assert_allclose(chain.visit_frequencies(), bounded.visit_frequencies(), atol=1e-8)


def test_expected_length_of_simple_chains() -> None:
    # Geometric: continue with prob q -> expected length 1 / (1 - q).
    assert MarkovChain([1.0], [[0.75]]).expected_length() == pytest.approx(4.0)
    # Bounded geometric: sum_{k<m} q^k.
    assert MarkovChain([1.0], [[0.75]], max_steps=3).expected_length() == pytest.approx(
        1 + 0.75 + 0.75**2
    )
    # Never-stopping chain bounded by max_steps runs exactly max_steps.
    assert MarkovChain([1.0, 0.0], [[0, 1], [1, 0]], max_steps=5).expected_length() == 5


def test_stationary_of_a_closed_chain() -> None:
    p = np.array([[0.1, 0.9], [0.5, 0.5]])
    chain = MarkovChain([1.0, 0.0], p, max_steps=10)
    pi = chain.stationary()
    np.testing.assert_allclose(pi @ p, pi, atol=1e-12)
    assert pi.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(pi, [5 / 14, 9 / 14])


def test_stationary_refuses_when_it_does_not_exist() -> None:
    with pytest.raises(ValueError, match="stops from state"):
        MarkovChain([1.0], [[0.5]]).stationary()
    two_classes = MarkovChain([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]], max_steps=3)
    with pytest.raises(ValueError, match="not unique"):
        two_classes.stationary()


# ----------------------------------------------------------------- fitting


def test_fit_counts_are_maximum_likelihood() -> None:
    seqs = [[0, 1], [0], [1, 1, 0], []]
    chain = MarkovChain.fit(seqs, n_states=2)
    # first states: 0,0,1,stop -> start = [2/4, 1/4]
    np.testing.assert_allclose(chain.start, [0.5, 0.25])
    # from 0: ->1 once, stop twice (after [0] and after [1,1,0]) -> [0, 1/3]
    # from 1: ->1 once, ->0 once, stop once (after [0,1])      -> [1/3, 1/3]
    np.testing.assert_allclose(chain.transitions, [[0.0, 1 / 3], [1 / 3, 1 / 3]])


def test_fit_smoothing_and_censoring() -> None:
    smooth = MarkovChain.fit([[0]], n_states=2, smoothing=1.0)
    np.testing.assert_allclose(smooth.start, [2 / 4, 1 / 4])
    # Sequences of length max_steps ended because of the bound: no stop counted.
    censored = MarkovChain.fit([[0, 0], [0, 0]], n_states=1, max_steps=2)
    assert censored.transitions[0, 0] == 1.0


@settings(max_examples=10, deadline=None)
@given(chain=chains(max_states=3, bounded=False), seed=st.integers(0, 2**32))
def test_fit_recovers_a_chain_from_its_samples(chain: MarkovChain, seed: int) -> None:
    rng = np.random.default_rng(seed)
    seqs = [chain.sample(rng) for _ in range(6000)]
    fitted = MarkovChain.fit(seqs, n_states=chain.n_states)
    n_seq = len(seqs)
    se_start = np.sqrt(chain.start * (1 - chain.start) / n_seq)
    assert np.all(np.abs(fitted.start - chain.start) <= 5 * se_start + 1e-9)
    leaving = np.zeros(chain.n_states)
    for s in seqs:
        for state in s:
            leaving[state] += 1
    for i in range(chain.n_states):
        if leaving[i] < 50:
            continue  # too rarely visited to estimate its row
        p = chain.transitions[i]
        se = np.sqrt(p * (1 - p) / leaving[i])
        assert np.all(np.abs(fitted.transitions[i] - p) <= 5 * se + 1e-9), i


def test_fit_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"sequences\[0\]\[\] must be an integer in \[0, 1\]"):
        MarkovChain.fit([[2]], n_states=2)
    with pytest.raises(ValueError, match="empty"):
        MarkovChain.fit([], n_states=2)
    with pytest.raises(ValueError, match="smoothing"):
        MarkovChain.fit([[0]], n_states=1, smoothing=-1)


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("start", "transitions", "max_steps", "message"),
    [
        ([0.5, 0.5], [[0.1]], None, "start has 2 entries but transitions is 1x1"),
        ([0.5, 0.5], [[0.1, 0.1]], None, "transitions must be square.*got 1x2"),
        ([0.5], [[-0.1]], None, "negative entry"),
        ([1.2], [[0.0]], None, "start sums to 1.2"),
        ([1.0, 0.0], [[0.6, 0.6], [0, 0]], None, "row 0 of transitions sums to 1.2"),
        ([float("nan")], [[0.0]], None, "NaN"),
        ([1.0], [[float("inf")]], None, "infinite"),
        ([1.0], [[1.0]], None, "stop state cannot be reached"),
        ([1.0, 0.0], [[0.0, 1.0], [1.0, 0.0]], None, "stop state cannot be reached"),
        ([1.0], [[0.5]], 0, "max_steps must be an integer in"),
        ([], [], None, "at least one state"),
        ([[1.0]], [[0.0]], None, "must be a vector"),
        (["a"], [[0.0]], None, "numeric"),
    ],
)
def test_invalid_chains_are_rejected(
    start: object, transitions: object, max_steps: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        MarkovChain(start, transitions, max_steps)  # type: ignore[arg-type]


def test_unreachable_trap_is_allowed() -> None:
    # State 1 never stops, but it cannot be entered: the chain is fine.
    chain = MarkovChain([1.0, 0.0], [[0.5, 0.0], [0.0, 1.0]])
    assert chain.expected_length() == pytest.approx(2.0)


def test_rounding_above_one_is_tolerated() -> None:
    chain = MarkovChain([0.7, 0.3 + 1e-12], [[0.0, 0.0], [0.0, 0.0]])
    assert chain.stop_at_start == 0.0


@settings(max_examples=50, deadline=None)
@given(chain=chains())
def test_config_round_trip(chain: MarkovChain) -> None:
    again = MarkovChain.from_dict(chain.to_dict())
    assert again == chain
    a = [again.sample(np.random.default_rng(1)) for _ in range(5)]
    b = [chain.sample(np.random.default_rng(1)) for _ in range(5)]
    assert a == b


def test_from_dict_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="missing"):
        MarkovChain.from_dict({"start": [1.0]})
    with pytest.raises(ConfigError, match="unknown keys"):
        MarkovChain.from_dict({"start": [1.0], "transitions": [[0]], "extra": 1})
    with pytest.raises(ConfigError, match="invalid chain"):
        MarkovChain.from_dict({"start": [2.0], "transitions": [[0]]})


@settings(max_examples=100, deadline=None)
@given(chain=chains(), seed=st.integers(0, 2**32))
def test_block_sampling_gives_the_same_paths(chain: MarkovChain, seed: int) -> None:
    # The pipeline samples from a stream it owns, in blocks; the path must be
    # the one that step-by-step sampling gives from the same state.
    for k in range(20):
        a = chain.sample(np.random.default_rng([seed, k]))
        b = chain.sample_from_stream(np.random.default_rng([seed, k]))
        assert a == b


# ----------------------------------------------------------------- weighted fitting

paths_of = st.lists(st.lists(st.integers(0, 2), max_size=4), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(seqs=paths_of, counts=st.lists(st.integers(0, 3), min_size=8, max_size=8))
def test_integer_weights_fit_as_repeated_sequences(
    seqs: list[list[int]], counts: list[int]
) -> None:
    counts = counts[: len(seqs)]
    if sum(counts) == 0:
        counts[0] = 1
    weighted = MarkovChain.fit(seqs, n_states=3, weights=counts, smoothing=0.5)
    repeated = [s for s, c in zip(seqs, counts) for _ in range(c)]
    plain = MarkovChain.fit(repeated, n_states=3, smoothing=0.5)
    np.testing.assert_allclose(weighted.start, plain.start, atol=1e-12)
    np.testing.assert_allclose(weighted.transitions, plain.transitions, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(seqs=paths_of, w=st.floats(1e-3, 1e3), bounded=st.booleans())
def test_equal_weights_fit_as_no_weights(seqs: list[list[int]], w: float, bounded: bool) -> None:
    m = 4 if bounded else None
    weighted = MarkovChain.fit(seqs, n_states=3, max_steps=m, weights=[w] * len(seqs))
    plain = MarkovChain.fit(seqs, n_states=3, max_steps=m)
    np.testing.assert_allclose(weighted.start, plain.start, atol=1e-12)
    np.testing.assert_allclose(weighted.transitions, plain.transitions, atol=1e-12)


def test_zero_weight_sequences_are_ignored() -> None:
    fitted = MarkovChain.fit([[0, 1], [1]], n_states=2, weights=[0.0, 2.0])
    np.testing.assert_allclose(fitted.start, [0.0, 1.0])
    np.testing.assert_allclose(fitted.transitions, [[0.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize(
    ("weights", "error", "message"),
    [
        ([1.0], ValueError, "weights has 1 entries for 2 sequences"),
        ([1.0, 1.0, 1.0], ValueError, "weights has 3 entries for 2 sequences"),
        ([1.0, -0.5], ValueError, r"weights\[1\] must be in \[0.0, inf\]"),
        ([float("nan"), 1.0], ValueError, r"weights\[0\] must be in"),
        ([1.0, float("inf")], ValueError, r"weights\[1\] must be finite"),
        ([1.0, "a"], TypeError, r"weights\[1\] must be a number"),
        (3.0, TypeError, "weights must be a sequence of numbers"),
        ([0.0, 0.0], ValueError, "weights are all 0"),
    ],
)
def test_fit_rejects_bad_weights(weights: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        MarkovChain.fit([[0], [1]], n_states=2, weights=weights)  # type: ignore[arg-type]
