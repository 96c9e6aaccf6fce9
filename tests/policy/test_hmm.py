"""HiddenMarkovChain: validation, the product chain, Baum-Welch, config."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import ConfigError, Pipeline
from augkit.policy import HiddenMarkovChain

from ..core.strategies import distributions
from ._ops import Tag


@st.composite
def hmms(draw: Any, max_hidden: int = 3, max_ops: int = 3) -> HiddenMarkovChain:
    h = draw(st.integers(1, max_hidden))
    m = draw(st.integers(1, max_ops))
    bounded = draw(st.booleans())
    start = draw(distributions(h))
    if bounded:
        rows = [draw(distributions(h)) for _ in range(h)]
    else:
        rows = [draw(distributions(h, min_stop=0.15, allow_full=False)) for _ in range(h)]
    emis = []
    for _ in range(h):
        w = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=m, max_size=m))) + 1e-3
        emis.append(w / w.sum())
    return HiddenMarkovChain(start, rows, emis, draw(st.integers(1, 5)) if bounded else None)


def brute_probability(hmm: HiddenMarkovChain, ops: list[int]) -> float:
    """P(ops) by summing over every regime path (an oracle for forward-backward)."""
    if not ops:
        return 1.0 - float(hmm.start.sum())
    total = 0.0
    for z in itertools.product(range(hmm.n_hidden), repeat=len(ops)):
        p = hmm.start[z[0]] * hmm.emissions[z[0], ops[0]]
        for t in range(1, len(ops)):
            p *= hmm.transitions[z[t - 1], z[t]] * hmm.emissions[z[t], ops[t]]
        censored = hmm.max_steps is not None and len(ops) == hmm.max_steps
        total += p * (1.0 if censored else hmm.stop[z[-1]])
    return float(total)


# ----------------------------------------------------------------- the product chain


@settings(max_examples=60, deadline=None)
@given(hmm=hmms())
def test_product_chain_visits_and_length_agree_with_the_hmm(hmm: HiddenMarkovChain) -> None:
    pipe = hmm.to_pipeline([Tag(str(o)) for o in range(hmm.n_ops)])
    np.testing.assert_allclose(pipe.visit_frequencies(), hmm.visit_frequencies(), atol=1e-9)
    assert pipe.expected_length() == pytest.approx(hmm.expected_length(), abs=1e-9)
    assert pipe.chain.max_steps == hmm.max_steps


@settings(max_examples=40, deadline=None)
@given(hmm=hmms(max_hidden=2, max_ops=2))
def test_product_chain_gives_every_sequence_the_hmms_probability(hmm: HiddenMarkovChain) -> None:
    chain, state_ops = hmm.product_chain()
    limit = hmm.max_steps or 3
    for n in range(limit + 1):
        for ops in itertools.product(range(hmm.n_ops), repeat=n):
            # The product chain's probability of the sequence: sum over its states.
            p = 0.0
            candidates = [[s for s in range(chain.n_states) if state_ops[s] == o] for o in ops]
            for states in itertools.product(*candidates):
                q = chain.start[states[0]] if states else chain.stop_at_start
                for a, b in itertools.pairwise(states):
                    q *= chain.transitions[a, b]
                if states and not (chain.max_steps is not None and n == chain.max_steps):
                    q *= chain.stop[states[-1]]
                p += q
            assert p == pytest.approx(brute_probability(hmm, list(ops)), abs=1e-12)


def test_pipeline_from_an_hmm_serialises_and_runs() -> None:
    hmm = HiddenMarkovChain([0.6, 0.3], [[0.5, 0.1], [0.2, 0.3]], [[0.9, 0.1], [0.2, 0.8]])
    pipe = hmm.to_pipeline([Tag("a"), Tag("b")])
    again = Pipeline.from_dict(pipe.to_dict())
    assert again.chain == pipe.chain and again.state_ops == pipe.state_ops
    xs = ["x", "y", "z"] * 4
    assert again.augment_batch(xs, seed=1) == pipe.augment_batch(xs, seed=1)
    assert "chain states -> operators" in pipe.describe()


# ----------------------------------------------------------------- likelihood and Baum-Welch


@settings(max_examples=30, deadline=None)
@given(hmm=hmms(max_hidden=2, max_ops=3), seed=st.integers(0, 2**32))
def test_log_likelihood_equals_the_sum_over_regime_paths(hmm: HiddenMarkovChain, seed: int) -> None:
    rng = np.random.default_rng(seed)
    seqs = [hmm.sample(rng) for _ in range(6)]
    seqs = [s[:4] for s in seqs if len(s) <= 4 or hmm.max_steps is not None][:6] or [[]]
    seqs = [s for s in seqs if brute_probability(hmm, s) > 0] or [hmm.sample(rng)]
    expected = sum(np.log(brute_probability(hmm, s)) for s in seqs)
    assert hmm.log_likelihood(seqs) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(hmm=hmms(max_hidden=3, max_ops=3), seed=st.integers(0, 2**32), n_hidden=st.integers(1, 3))
def test_baum_welch_log_likelihood_never_decreases(
    hmm: HiddenMarkovChain, seed: int, n_hidden: int
) -> None:
    rng = np.random.default_rng(seed)
    seqs = [hmm.sample(rng) for _ in range(40)]
    fitted = HiddenMarkovChain.fit(
        seqs, n_hidden=n_hidden, n_ops=hmm.n_ops, seed=seed, max_steps=hmm.max_steps, max_iter=30
    )
    ll = np.array(fitted.log_likelihoods)
    assert np.all(np.isfinite(ll))
    assert np.all(np.diff(ll) >= -1e-8 * np.abs(ll[:-1]).clip(1.0)), ll
    assert fitted.log_likelihood(seqs) == pytest.approx(ll[-1], rel=1e-9)


def test_fit_recovers_two_clearly_separated_regimes() -> None:
    # "mild" runs operators 0/1 and stays mild; "strong" runs 2/3.
    true = HiddenMarkovChain(
        start=[0.6, 0.4],
        transitions=[[0.5, 0.2], [0.1, 0.6]],
        emissions=[[0.6, 0.4, 0.0, 0.0], [0.0, 0.0, 0.3, 0.7]],
    )
    rng = np.random.default_rng(0)
    seqs = [true.sample(rng) for _ in range(1500)]
    fitted = HiddenMarkovChain.fit(seqs, n_hidden=2, n_ops=4, seed=0, n_init=2)
    # Up to relabelling: match the regime that emits operator 0.
    order = [0, 1] if fitted.emissions[0, 0] > fitted.emissions[1, 0] else [1, 0]
    np.testing.assert_allclose(fitted.start[order], true.start, atol=0.05)
    np.testing.assert_allclose(
        fitted.transitions[np.ix_(order, order)], true.transitions, atol=0.05
    )
    np.testing.assert_allclose(fitted.emissions[order], true.emissions, atol=0.05)
    assert fitted.log_likelihoods[-1] >= true.log_likelihood(seqs) - 1e-6


def test_fit_handles_empty_and_different_length_sequences() -> None:
    seqs = [[], [0], [1, 1, 0], [2, 0, 1, 1, 2], [], [0, 0]]
    fitted = HiddenMarkovChain.fit(seqs, n_hidden=2, n_ops=3, seed=1)
    assert fitted.start.sum() == pytest.approx(4 / 6)
    assert np.isfinite(fitted.log_likelihood(seqs))
    # One regime: Baum-Welch is the plain maximum-likelihood count.
    one = HiddenMarkovChain.fit(seqs, n_hidden=1, n_ops=3)
    np.testing.assert_allclose(one.emissions[0], np.array([5, 4, 2]) / 11, atol=1e-9)
    assert one.stop[0] == pytest.approx(4 / 11)


def test_fit_with_max_steps_censors_full_length_sequences() -> None:
    seqs = [[0, 1], [1, 0], [0]]
    fitted = HiddenMarkovChain.fit(seqs, n_hidden=1, n_ops=2, max_steps=2)
    # Moves: 2 (continue) and 1 stop (after [0]); the length-2 ones add no stop.
    assert fitted.stop[0] == pytest.approx(1 / 3)
    assert fitted.max_steps == 2


def test_fit_is_deterministic_for_a_seed() -> None:
    seqs = [[0, 1], [1, 1, 0], [2], [0, 2, 2]]
    a = HiddenMarkovChain.fit(seqs, n_hidden=2, n_ops=3, seed=4)
    b = HiddenMarkovChain.fit(seqs, n_hidden=2, n_ops=3, seed=4)
    assert a == b and a.log_likelihoods == b.log_likelihoods


# ----------------------------------------------------------------- validation and config


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1.0], [[0.5]], [[0.5, 0.4]]), "row 0 of emissions sums to 0.9"),
        (([1.0], [[0.5]], [[1.0], [1.0]]), "emissions has 2 rows for 1 regimes"),
        (([1.0], [[0.5]], [1.0]), "emissions must be a matrix"),
        (([1.0], [[0.5]], [[-0.5, 1.5]]), "negative entry"),
        (([1.0], [[0.5]], [[float("nan")]]), "NaN"),
        (([1.0], [[0.5]], [[float("inf")]]), "infinite"),
        (([1.0], [[0.5]], [["a"]]), "numeric"),
        (([1.0], [[0.5]], np.zeros((1, 0))), "at least one column"),
        (([1.0], [[1.0]], [[1.0]]), "stop state cannot be reached"),
        (([0.6, 0.6], [[0, 0], [0, 0]], [[1.0], [1.0]]), "start sums to 1.2"),
    ],
)
def test_invalid_chains_are_rejected(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HiddenMarkovChain(*args)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"op_sequences": []}, ValueError, "op_sequences is empty"),
        (
            {"op_sequences": [[0, 3]]},
            ValueError,
            r"op_sequences\[0\]\[\] must be an integer in \[0, 2\]",
        ),
        ({"op_sequences": [[0], [-1]]}, ValueError, r"op_sequences\[1\]\[\] must be an integer"),
        ({"op_sequences": [[0], "ab"]}, TypeError, r"op_sequences\[1\] must be a sequence"),
        ({"op_sequences": "abc"}, TypeError, "op_sequences must be a list"),
        ({"op_sequences": [[0]], "n_hidden": 0}, ValueError, "n_hidden must be an integer in"),
        ({"op_sequences": [[0]], "n_ops": 0}, ValueError, "n_ops must be an integer in"),
        ({"op_sequences": [[0, 0, 0]], "max_steps": 2}, ValueError, "more than max_steps=2"),
        ({"op_sequences": [[0]], "max_iter": 0}, ValueError, "max_iter must be"),
        ({"op_sequences": [[0]], "tol": -1}, ValueError, "tol must be"),
        ({"op_sequences": [[0]], "n_init": 0}, ValueError, "n_init must be"),
    ],
)
def test_fit_rejects_bad_input(kwargs: dict[str, Any], error: type, message: str) -> None:
    kwargs = {"n_ops": 3, **kwargs}
    with pytest.raises(error, match=message):
        HiddenMarkovChain.fit(**kwargs)


def test_fit_infers_n_ops_when_not_given() -> None:
    assert HiddenMarkovChain.fit([[0, 4], [2]], n_hidden=1).n_ops == 5


def test_to_pipeline_needs_one_operator_per_column() -> None:
    hmm = HiddenMarkovChain([1.0], [[0.0]], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="emits 2 operators but ops has 1"):
        hmm.to_pipeline([Tag()])
    with pytest.raises(TypeError, match="ops must be a list"):
        hmm.to_pipeline(Tag())  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(hmm=hmms())
def test_config_round_trip(hmm: HiddenMarkovChain) -> None:
    again = HiddenMarkovChain.from_dict(hmm.to_dict())
    assert again == hmm


def test_from_dict_errors_are_config_errors() -> None:
    good = HiddenMarkovChain([1.0], [[0.0]], [[1.0]]).to_dict()
    with pytest.raises(ConfigError, match="missing"):
        HiddenMarkovChain.from_dict({"start": [1.0], "transitions": [[0.0]]})
    with pytest.raises(ConfigError, match="unknown keys"):
        HiddenMarkovChain.from_dict({**good, "extra": 1})
    with pytest.raises(ConfigError, match="invalid hidden Markov chain"):
        HiddenMarkovChain.from_dict({**good, "emissions": [[0.5]]})
    with pytest.raises(ConfigError, match="must be a mapping"):
        HiddenMarkovChain.from_dict([1])  # type: ignore[arg-type]
