"""Pipeline: seeding rule, batched execution, traces and replay, compositions, items."""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import (
    Augmenter,
    BaseAugmenter,
    ConfigError,
    Identity,
    MarkovChain,
    ModelUnavailableError,
    Pipeline,
    Trace,
    item_rng,
)
from augkit.base import TextAugmenter
from tests.ops import AppendToken, Counting, DropChar, Scale

from .strategies import chains, seeds, texts


def text_pipeline(chain: MarkovChain) -> Pipeline:
    # Identity draws nothing: the pipeline skips positioning its stream.
    pool = [AppendToken, Identity, DropChar, Counting]
    ops = [pool[i % 4]() for i in range(chain.n_states)]
    return Pipeline(ops, chain)


# ----------------------------------------------------------------- the seeding rule


@settings(max_examples=60, deadline=None)
@given(
    chain=chains(),
    xs=st.lists(texts, min_size=0, max_size=12),
    seed=seeds,
    epoch=st.integers(0, 2**31),
)
def test_batch_equals_per_item(chain: MarkovChain, xs: list[str], seed: int, epoch: int) -> None:
    pipe = text_pipeline(chain)
    outs, traces = pipe.augment_batch(xs, seed=seed, epoch=epoch, return_traces=True)
    assert len(outs) == len(xs)
    for i, x in enumerate(xs):
        out, trace = pipe.augment(x, seed=seed, epoch=epoch, index=i, return_trace=True)
        assert outs[i] == out
        assert traces[i] == trace


@settings(max_examples=40, deadline=None)
@given(
    xs=st.lists(texts, min_size=1, max_size=8),
    seed=seeds,
    data=st.data(),
)
def test_explicit_indices(xs: list[str], seed: int, data: st.DataObject) -> None:
    pipe = Pipeline.markov([AppendToken(), DropChar()], [0.5, 0.5], [[0.3, 0.3], [0.3, 0.3]])
    indices = data.draw(st.lists(st.integers(0, 10**9), min_size=len(xs), max_size=len(xs)))
    outs = pipe.augment_batch(xs, seed=seed, indices=indices)
    assert outs == [pipe.augment(x, seed=seed, index=i) for x, i in zip(xs, indices)]
    # An item's output does not depend on its neighbours or its position.
    order = data.draw(st.permutations(range(len(xs))))
    shuffled = pipe.augment_batch(
        [xs[k] for k in order], seed=seed, indices=[indices[k] for k in order]
    )
    assert shuffled == [outs[k] for k in order]


def test_seed_epoch_and_index_all_matter() -> None:
    pipe = Pipeline.markov([AppendToken(tokens=[str(i) for i in range(1000)])], [1.0], [[0.9]])
    base = pipe.augment("x", seed=1, epoch=0, index=0)
    assert pipe.augment("x", seed=1, epoch=0, index=0) == base
    others = {
        pipe.augment("x", seed=2, epoch=0, index=0),
        pipe.augment("x", seed=1, epoch=1, index=0),
        pipe.augment("x", seed=1, epoch=0, index=1),
    }
    assert base not in others and len(others) == 3


def test_seed_none_is_recorded_and_replayable() -> None:
    pipe = Pipeline.markov([AppendToken(tokens=[str(i) for i in range(1000)])], [1.0], [[0.9]])
    out, trace = pipe.augment("x", return_trace=True)
    assert pipe.augment("x", seed=trace.seed, return_trace=True) == (out, trace)
    assert pipe.replay("x", trace) == out
    outs, traces = pipe.augment_batch(["a", "b"], return_traces=True)
    assert traces[0].seed == traces[1].seed
    assert pipe.augment_batch(["a", "b"], seed=traces[0].seed) == outs


def test_call_matches_augment_and_rng_draws_a_seed() -> None:
    pipe = Pipeline.one_of([AppendToken(), DropChar()])
    assert pipe("hello", seed=4) == pipe.augment("hello", seed=4)
    a = pipe("hello", rng=np.random.default_rng(3))
    b = pipe("hello", rng=np.random.default_rng(3))
    assert a == b
    with pytest.raises(ValueError, match="seed or rng"):
        pipe("hello", seed=1, rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, r"seed must be an integer in \[0, inf\]"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"seed": True}, "seed must be an integer"),
        ({"epoch": -2}, "epoch must be an integer"),
        ({"indices": [0]}, "indices has 1 entries for 2 inputs"),
        ({"indices": [0, -1]}, "indices"),
    ],
)
def test_bad_seeding_arguments(kwargs: dict[str, Any], message: str) -> None:
    pipe = Pipeline.sequence([AppendToken()])
    with pytest.raises((ValueError, TypeError), match=message):
        pipe.augment_batch(["a", "b"], **kwargs)


# ----------------------------------------------------------------- batched execution


def test_each_operator_is_called_once_per_step_with_all_its_items() -> None:
    counting = Counting()
    other = AppendToken()
    pipe = Pipeline.markov([counting, other], [0.6, 0.4], [[0.2, 0.5], [0.5, 0.2]], max_steps=4)
    xs = [f"sentence number {i}" for i in range(64)]
    _, traces = pipe.augment_batch(xs, seed=11, return_traces=True)
    per_step = [sum(1 for t in traces if len(t) > k and t.steps[k].op_index == 0) for k in range(4)]
    assert counting.batch_calls == [n for n in per_step if n > 0]
    assert counting.apply_calls == 0
    assert sum(counting.batch_calls) == sum(t.ops.count("test_counting") for t in traces)
    assert len(counting.batch_calls) <= 4  # at most one call per step, not one per item


def test_per_item_execution_is_a_batch_of_one() -> None:
    # One loop serves augment and augment_batch: an item alone is a batch of one.
    counting = Counting()
    Pipeline.sequence([counting]).augment("abc", seed=0)
    assert counting.batch_calls == [1] and counting.apply_calls == 0


class Broken(TextAugmenter):
    def apply(self, x: str, params: dict[str, Any]) -> str:
        return x

    def _apply_batch(self, xs: Any, params: Any) -> list[Any]:
        return []


def test_wrong_batch_length_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="returned 0 outputs for 2 inputs"):
        Pipeline.sequence([Broken()]).augment_batch(["a", "b"], seed=0)


# ----------------------------------------------------------------- traces and replay


@settings(max_examples=60, deadline=None)
@given(chain=chains(), xs=st.lists(texts, min_size=1, max_size=6), seed=seeds)
def test_replay_reproduces_output(chain: MarkovChain, xs: list[str], seed: int) -> None:
    pipe = text_pipeline(chain)
    outs, traces = pipe.augment_batch(xs, seed=seed, return_traces=True)
    for x, out, trace in zip(xs, outs, traces):
        assert pipe.replay(x, trace) == out
        again = Trace.from_json(trace.to_json())
        assert again == trace
        assert pipe.replay(x, json.loads(trace.to_json())) == out
    assert pipe.replay_batch(xs, traces) == outs


def test_trace_contents() -> None:
    pipe = Pipeline.sequence([AppendToken(), DropChar()])
    out, trace = pipe.augment("hello", seed=3, epoch=1, index=9, return_trace=True)
    assert (trace.seed, trace.epoch, trace.index) == (3, 1, 9)
    assert trace.ops == ["test_append_token", "test_drop_char"]
    assert [s.op_index for s in trace.steps] == [0, 1]
    token = trace.steps[0].params["token"]
    assert token in AppendToken().tokens
    pos = trace.steps[1].params["pos"]
    appended = f"hello {token}"
    assert out == appended[:pos] + appended[pos + 1 :]


def test_replay_rejects_a_foreign_trace() -> None:
    _, trace = Pipeline.sequence([AppendToken()]).augment("a", seed=0, return_trace=True)
    with pytest.raises(ValueError, match="does not match"):
        Pipeline.sequence([DropChar()]).replay("a", trace)


def test_replay_draws_no_randomness() -> None:
    pipe = Pipeline.sequence([AppendToken(), DropChar()])
    out, trace = pipe.augment("hello", seed=3, return_trace=True)
    state = np.random.get_state()  # noqa: NPY002 - the global state is what is checked
    py_state = random.getstate()
    assert pipe.replay("hello", trace) == out
    assert random.getstate() == py_state
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), state))  # noqa: NPY002 - the global state is what is checked


def test_no_global_random_state_is_touched() -> None:
    np.random.seed(123)  # noqa: NPY002 - the global state is what is checked
    random.seed(123)
    expected_np = np.random.random()  # noqa: NPY002 - the global state is what is checked
    expected_py = random.random()
    np.random.seed(123)  # noqa: NPY002 - the global state is what is checked
    random.seed(123)
    pipe = Pipeline.markov([AppendToken(), DropChar()], [0.5, 0.5], [[0.4, 0.4], [0.4, 0.4]])
    pipe.augment_batch(["some text"] * 20, seed=1)
    pipe.augment("x")  # fresh entropy comes from the OS, not the global generators
    AppendToken()("x", seed=5)
    assert np.random.random() == expected_np  # noqa: NPY002 - the global state is what is checked
    assert random.random() == expected_py


# ----------------------------------------------------------------- compositions


def path_counts(pipe: Pipeline, n: int, seed: int = 0) -> Counter[tuple[int, ...]]:
    _, traces = pipe.augment_batch(["x"] * n, seed=seed, return_traces=True)
    return Counter(tuple(s.op_index for s in t.steps) for t in traces)


def binomial_ok(count: int, n: int, p: float) -> bool:
    """|count - np| within 5 standard deviations (false alarm ~6e-7)."""
    return abs(count - n * p) <= 5 * math.sqrt(n * p * (1 - p)) + 1e-9


def test_sequence_applies_every_operator_in_order() -> None:
    pipe = Pipeline.sequence([AppendToken(), DropChar(), AppendToken()])
    assert set(path_counts(pipe, 200)) == {(0, 1, 2)}
    assert pipe.expected_length() == 3


def test_one_of_follows_weights_and_p() -> None:
    pipe = Pipeline.one_of([AppendToken(), DropChar(), Counting()], weights=[1, 2, 1], p=0.8)
    n = 8000
    counts = path_counts(pipe, n)
    assert set(counts) <= {(), (0,), (1,), (2,)}
    for path, p in {(): 0.2, (0,): 0.2, (1,): 0.4, (2,): 0.2}.items():
        assert binomial_ok(counts[path], n, p), (path, counts)
    np.testing.assert_allclose(pipe.visit_frequencies(), [0.2, 0.4, 0.2])


def test_sometimes() -> None:
    pipe = Pipeline.sometimes(AppendToken(), p=0.3)
    n = 8000
    counts = path_counts(pipe, n)
    assert set(counts) <= {(), (0,)}
    assert binomial_ok(counts[(0,)], n, 0.3)
    assert pipe.expected_length() == pytest.approx(0.3)


@pytest.mark.parametrize(("m", "k"), [(1, 1), (3, 1), (4, 2), (5, 3), (4, 4)])
def test_some_of_draws_uniform_subsets_in_order(m: int, k: int) -> None:
    pipe = Pipeline.some_of([AppendToken() for _ in range(m)], k)
    n = 6000
    counts = path_counts(pipe, n, seed=m * 10 + k)
    subsets = list(itertools.combinations(range(m), k))
    assert set(counts) <= set(subsets)
    for s in subsets:
        assert binomial_ok(counts[s], n, 1 / len(subsets)), (s, counts)
    assert pipe.expected_length() == pytest.approx(k)
    np.testing.assert_allclose(pipe.visit_frequencies(), [k / m] * m)


def test_composition_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match=r"p must be in \[0.0, 1.0\]"):
        Pipeline.sometimes(AppendToken(), p=1.5)
    with pytest.raises(ValueError, match=r"n must be an integer in \[1, 2\]"):
        Pipeline.some_of([AppendToken(), DropChar()], 3)
    with pytest.raises(ValueError, match="weights"):
        Pipeline.one_of([AppendToken(), DropChar()], weights=[0, 0])
    with pytest.raises(ValueError, match="one entry per operator"):
        Pipeline.one_of([AppendToken(), DropChar()], weights=[1])
    with pytest.raises(ValueError, match="at least one operator"):
        Pipeline.sequence([])


# ----------------------------------------------------------------- construction and items


class FakeImageOp(BaseAugmenter):
    modality = "image"

    def apply(self, x: Any, params: dict[str, Any]) -> Any:
        return x


def test_incompatible_modalities_are_rejected() -> None:
    with pytest.raises(ValueError, match="incompatible modalities"):
        Pipeline.sequence([AppendToken(), FakeImageOp()])
    # "any" operators mix with either.
    assert Pipeline.sequence([AppendToken(), Scale()]).modality == "text"
    assert Pipeline.sequence([FakeImageOp(), Scale()]).modality == "image"


def test_non_augmenters_are_rejected() -> None:
    with pytest.raises(TypeError, match="is not an augkit operator: it lacks modality, "):
        Pipeline.sequence([lambda x: x])
    with pytest.raises(ValueError, match="chain has 2 states but there are 1"):
        Pipeline([AppendToken()], MarkovChain([0.5, 0.5], [[0, 0], [0, 0]]))


def test_every_operator_satisfies_the_protocol() -> None:
    for op in (AppendToken(), DropChar(), Scale(), Counting(), FakeImageOp()):
        assert isinstance(op, Augmenter)


@settings(max_examples=40, deadline=None)
@given(
    xs=st.lists(texts, min_size=1, max_size=6),
    labels=st.lists(st.integers(0, 3), min_size=6, max_size=6),
    seed=seeds,
)
def test_key_augments_one_field_and_keeps_the_others(
    xs: list[str], labels: list[int], seed: int
) -> None:
    items = [{"text": x, "label": y, "meta": {"id": i}} for i, (x, y) in enumerate(zip(xs, labels))]
    pipe = Pipeline.markov(
        [AppendToken(), DropChar()], [0.5, 0.5], [[0.3, 0.3], [0.3, 0.3]], key="text"
    )
    plain = Pipeline.markov([AppendToken(), DropChar()], [0.5, 0.5], [[0.3, 0.3], [0.3, 0.3]])
    outs = pipe.augment_batch(items, seed=seed)
    assert outs == [pipe.augment(it, seed=seed, index=i) for i, it in enumerate(items)]
    texts_only = plain.augment_batch(xs, seed=seed)
    for item, out, expected in zip(items, outs, texts_only):
        assert out["text"] == expected
        assert out["label"] == item["label"] and out["meta"] == item["meta"]
        assert item["text"] in xs  # the input item was not mutated


def test_key_errors() -> None:
    pipe = Pipeline.sequence([AppendToken()], key="text")
    with pytest.raises(KeyError, match=r"no field 'text'.*key="):
        pipe.augment({"body": "x"}, seed=0)
    # The key names a field of mapping items; a plain text is augmented as it is.
    assert pipe.augment("x", seed=0) == pipe.augment({"text": "x"}, seed=0)["text"]


def test_operator_input_validation_runs_in_the_pipeline() -> None:
    with pytest.raises(TypeError, match="AppendToken takes str, got int"):
        Pipeline.sequence([AppendToken()]).augment(3, seed=0)


def test_numeric_items_work_with_any_modality_ops() -> None:
    pipe = Pipeline.markov([Scale(), Scale(0.1, 0.2)], [0.5, 0.5], [[0.4, 0.4], [0.4, 0.4]])
    xs = [np.arange(3.0) + i for i in range(10)]
    outs = pipe.augment_batch(xs, seed=9)
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(outs[i], pipe.augment(x, seed=9, index=i))


# ----------------------------------------------------------------- standalone operators


@settings(max_examples=50, deadline=None)
@given(xs=st.lists(texts, min_size=1, max_size=6), seed=seeds)
def test_operator_batch_equals_per_item(xs: list[str], seed: int) -> None:
    op = DropChar()
    outs = op.augment_batch(xs, seed=seed)
    assert outs == [op(x, rng=item_rng(seed, 0, i)) for i, x in enumerate(xs)]
    assert op(xs[0], seed=seed) == outs[0]


def test_operator_argument_errors() -> None:
    op = DropChar()
    with pytest.raises(ValueError, match="rngs has 1 generators for 2 inputs"):
        op.augment_batch(["a", "b"], rngs=[np.random.default_rng(0)])
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        op("a", rng=np.random.RandomState(0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="DropChar takes str"):
        op(b"bytes", seed=0)
    assert repr(Scale(0.2, 0.4)) == "Scale(low=0.2, high=0.4)"


@pytest.mark.parametrize("probs", [[0.5, 0.5, 0.5], [0.2, 0.9, 0.6]])
def test_sometimes_list_applies_each_operator_independently(probs: list[float]) -> None:
    pipe = Pipeline.sometimes([AppendToken(), DropChar(), Counting()], probs)
    n = 8000
    counts = path_counts(pipe, n, seed=21)
    for subset in itertools.chain.from_iterable(
        itertools.combinations(range(3), r) for r in range(4)
    ):
        p = math.prod(probs[i] if i in subset else 1 - probs[i] for i in range(3))
        assert binomial_ok(counts[subset], n, p), (subset, counts)
    assert sum(counts.values()) == n
    np.testing.assert_allclose(pipe.visit_frequencies(), probs)


def test_streams_of_different_items_differ() -> None:
    draws = {
        tuple(item_rng(5, e, i, s).integers(0, 2**63, size=2).tolist())
        for e in range(3)
        for i in range(3)
        for s in range(3)
    }
    assert len(draws) == 27
    assert item_rng(5).random() != item_rng(6).random()


def test_step_k_draws_from_stream_k() -> None:
    pipe = Pipeline.sequence([AppendToken(tokens=[str(i) for i in range(10**6)]), DropChar()])
    _, trace = pipe.augment("some words", seed=8, epoch=2, index=40, return_trace=True)
    expected = AppendToken(tokens=[str(i) for i in range(10**6)]).sample_params(
        "some words", item_rng(8, 2, 40, 1)
    )
    assert trace.steps[0].params == expected


# ----------------------------------------------------------------- issue 9: found by a new user


class _NeedsModel(TextAugmenter):
    """Stands for an operator whose model is not on this machine."""

    def __init__(self, model: str = "m") -> None:
        self.model = model

    def check_available(self) -> None:
        raise ModelUnavailableError(f"model {self.model!r} is not here")

    def apply(self, x: str, params: dict[str, Any]) -> str:
        return x


class _Holder(TextAugmenter):
    """Holds a component with its own check (as RandomInsertion holds a word source)."""

    def __init__(self, part: Any) -> None:
        self.part = part

    def apply(self, x: str, params: dict[str, Any]) -> str:
        return x


def test_check_available_asks_every_operator() -> None:
    ok = Pipeline.sequence([AppendToken(), Identity()])
    ok.check_available()  # operators without models have nothing to check
    pipe = Pipeline.sequence([AppendToken(), _NeedsModel("a"), _NeedsModel("b")])
    with pytest.raises(ModelUnavailableError) as info:
        pipe.check_available()
    lines = str(info.value).splitlines()
    assert lines == [
        "operator 1 (_needs_model): model 'a' is not here",
        "operator 2 (_needs_model): model 'b' is not here",
    ]
    # The components an operator holds are asked too.
    with pytest.raises(ModelUnavailableError, match=r"operator 0 .*'c' is not here"):
        Pipeline.sequence([_Holder(_NeedsModel("c"))]).check_available()


@pytest.mark.parametrize("batch", ["abc", b"abc", bytearray(b"abc"), {"text": "abc"}])
def test_a_str_or_mapping_is_not_a_batch(batch: Any) -> None:
    pipe = Pipeline.sequence([AppendToken()])
    with pytest.raises(TypeError, match=r"xs must be a sequence of items.*augment\(x\)"):
        pipe.augment_batch(batch, seed=0)
    with pytest.raises(TypeError, match="xs must be a sequence of items"):
        pipe.replay_batch(batch, [])
    with pytest.raises(TypeError, match="xs must be a sequence of items"):
        AppendToken().augment_batch(batch, seed=0)
    # A tuple, a generator and a list of one text are batches.
    assert len(pipe.augment_batch(("abc",), seed=0)) == 1
    assert len(pipe.augment_batch((x for x in ["a", "b"]), seed=0)) == 2


def test_replay_batch_takes_a_list_of_traces() -> None:
    pipe = Pipeline.sequence([AppendToken()])
    out, trace = pipe.augment("abc", seed=0, return_trace=True)
    with pytest.raises(TypeError, match="traces must be a sequence"):
        pipe.replay_batch(["abc"], trace.to_dict())
    assert pipe.replay_batch(["abc"], [trace.to_dict()]) == [out]


@pytest.mark.parametrize(
    ("p", "message"),
    [
        ("0.5", "p must be a number, got str"),
        (None, "p must be a number, got NoneType"),
        ([0.5, "x"], r"p\[1\] must be a number, got str"),
        ([0.5, 1.5], r"p\[1\] must be in \[0.0, 1.0\], got 1.5"),
        ([0.5], "p has 1 entries for 2 operators"),
    ],
)
def test_sometimes_probability_errors_name_the_argument(p: Any, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        Pipeline.sometimes([AppendToken(), DropChar()], p=p)


def test_markov_blames_the_argument_of_the_wrong_length() -> None:
    ops = [AppendToken(), DropChar()]
    square = [[0.0, 0.5], [0.5, 0.0]]
    with pytest.raises(ValueError, match=r"start has 3 entries for 2 operator\(s\)"):
        Pipeline.markov(ops, start=[0.5, 0.3, 0.2], transitions=square)
    with pytest.raises(ValueError, match=r"transitions is 3x3 for 2 operator\(s\).*2x2"):
        Pipeline.markov(ops, start=[0.5, 0.5], transitions=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="transitions is 2x1"):
        Pipeline.markov(ops, start=[0.5, 0.5], transitions=[[0.0], [0.0]])


@pytest.mark.parametrize(
    ("trace", "message"),
    [
        ({"epoch": 0, "index": 0}, "malformed trace: no 'seed' .*seed, epoch, index and steps"),
        ({"seed": "x", "epoch": 0, "index": 0}, "malformed trace: seed must be an integer"),
        ({"seed": 0, "epoch": -1, "index": 0}, r"epoch must be an integer in \[0, inf\]"),
        ({"seed": 0, "epoch": 0, "index": 0, "steps": "ab"}, "'steps' must be a list"),
        ({"seed": 0, "epoch": 0, "index": 0, "steps": [{"op": "x"}]}, "no 'op_index'"),
        ({"seed": 0, "epoch": 0, "index": 0, "steps": [3]}, "malformed trace step: expected"),
        (
            {"seed": 0, "epoch": 0, "index": 0, "steps": [{"op_index": 0, "op": 1}]},
            "'op' must be an operator name",
        ),
        ([1, 2], "a trace must be a mapping with seed, epoch, index and steps, got list"),
    ],
)
def test_malformed_traces_say_what_is_wrong(trace: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Trace.from_dict(trace)


def test_trace_from_json_errors() -> None:
    with pytest.raises(ConfigError, match="a trace must be JSON text: Expecting"):
        Trace.from_json("{bad")
    with pytest.raises(TypeError, match="takes JSON text, got dict; for a dict use"):
        Trace.from_json({"seed": 0})  # type: ignore[arg-type]
    trace = Trace(1, 2, 3)
    assert Trace.from_json(trace.to_json()) == trace
    assert Trace.from_json(trace.to_json().encode()) == trace


class _AppendLabel(BaseAugmenter):
    """Reads the item's label: the loop hands it Labelled items."""

    modality = "text"
    needs_label = True

    def sample_params(self, x: Any, rng: Any) -> dict[str, Any]:
        return {"k": int(rng.integers(3))}

    def apply(self, x: Any, params: dict[str, Any]) -> Any:
        return f"{x.value}|{x.label}{params['k']}"


@settings(max_examples=60, deadline=None)
@given(
    chain=chains(),
    xs=st.lists(texts, min_size=0, max_size=70),
    seed=seeds,
    epoch=st.integers(0, 2**31),
    n=st.one_of(st.none(), st.integers(1, 3)),
    labelled=st.booleans(),
)
def test_large_untraced_batches_equal_per_item_and_traced_runs(
    chain: MarkovChain, xs: list[str], seed: int, epoch: int, n: int | None, labelled: bool
) -> None:
    # Untraced batches of 24+ items (variants included) and untraced single calls take
    # the fast paths (paths in numpy; one re-positioned stream); traced runs the general
    # loop. All three must agree, with operators that use the batch hook or not, draw
    # nothing, or read the label.
    pool = [AppendToken, Identity, DropChar, _AppendLabel if labelled else Counting]
    pipe = Pipeline([pool[i % 4]() for i in range(chain.n_states)], chain, key="text")
    items = [{"text": x, "label": i % 2} for i, x in enumerate(xs)]
    outs = pipe.augment_batch(items, seed=seed, epoch=epoch, n=n)
    traced, _ = pipe.augment_batch(items, seed=seed, epoch=epoch, n=n, return_traces=True)
    assert outs == traced
    for i, item in enumerate(items):
        assert outs[i] == pipe.augment(item, seed=seed, epoch=epoch, index=i, n=n)
    if n is None:
        plain = Pipeline([pool[i % 4]() for i in range(chain.n_states)], chain)
        if not labelled:
            assert plain.augment_batch(xs, seed=seed, epoch=epoch) == [o["text"] for o in outs]
