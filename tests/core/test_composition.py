"""Thin protocol, nested pipelines, n variants, distinct variants and what traces record."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import BaseAugmenter, ConfigError, Identity, MarkovChain, Pipeline, Trace, item_rng
from augkit.items import Labelled, values_equal
from tests.ops import Append, AppendToken, Counting, DropChar

from .strategies import chains, seeds, texts


def duck_pipelines() -> list[Pipeline]:
    a, b = Append("a"), Append("b")
    return [
        Pipeline.markov([a, b], start=[0.5, 0.5], transitions=[[0, 0.5], [0.5, 0]], max_steps=3),
        Pipeline.sequence([a, b]),
        Pipeline.one_of([a, b], weights=[1, 3]),
        Pipeline.sometimes([a, b], p=0.7),
        Pipeline.sometimes(a, p=0.7),
        Pipeline.some_of([a, b, Append("c")], 2),
        Pipeline(
            [a, b], MarkovChain([1.0, 0.0], [[0.0, 1.0], [0.0, 0.0]])
        ),  # the constructor itself
    ]


# ----------------------------------------------------------------- the thin protocol


@pytest.mark.parametrize("pipe", duck_pipelines(), ids=lambda p: str(p.chain.start.tolist()))
def test_a_duck_typed_operator_works_in_every_constructor(pipe: Pipeline) -> None:
    xs = ["x", "", "some text", "y"]
    outs, traces = pipe.augment_batch(xs, seed=4, return_traces=True)
    for i, x in enumerate(xs):
        out = pipe.augment(x, seed=4, index=i)
        assert out == outs[i]
        assert set(out[len(x) :]) <= {"a", "b", "c"} and out.startswith(x)
        assert pipe.replay(x, Trace.from_json(traces[i].to_json())) == out
        # The trace names the duck operators by their own name attribute.
        appended = "".join(s.op.removeprefix("append_") * s.params["k"] for s in traces[i].steps)
        assert out == x + appended
    assert pipe.replay_batch(xs, traces) == outs
    # Duck-typed operators have no to_dict: the config says so instead of guessing.
    with pytest.raises(ConfigError, match="has no to_dict"):
        pipe.to_dict()


def test_a_duck_typed_operator_in_nested_pipelines_and_the_torch_wrappers() -> None:
    torch_mod = pytest.importorskip("augkit.torch")
    inner = Pipeline.sequence([Append("a"), Append("b")])
    outer = Pipeline.sometimes([inner, Append("c")], p=0.8)
    xs = [f"t{i}" for i in range(12)]
    outs, traces = outer.augment_batch(xs, seed=1, return_traces=True)
    assert outs == [outer.augment(x, seed=1, index=i) for i, x in enumerate(xs)]
    assert outer.replay_batch(xs, [Trace.from_json(t.to_json()) for t in traces]) == outs
    ds = torch_mod.AugmentedDataset([(x, i) for i, x in enumerate(xs)], outer, seed=1)
    assert [ds[i] for i in range(len(xs))] == [(o, i) for i, o in enumerate(outs)]
    assert ds.__getitems__([3, 1]) == [(outs[3], 3), (outs[1], 1)]


def test_base_augmenter_keeps_apply_batch_final() -> None:
    with pytest.raises(TypeError, match="override _apply_batch instead"):

        class Bad(BaseAugmenter):
            def apply_batch(self, xs: Any, params: Any) -> list[Any]:  # type: ignore[misc]
                return list(xs)

    class OnlyBatch(BaseAugmenter):
        def _apply_batch(self, xs: list[Any], params: list[dict[str, Any]]) -> list[Any]:
            return [x * 2 for x in xs]

    class Neither(BaseAugmenter):
        pass

    assert OnlyBatch().apply(3, {}) == 6  # apply follows from the hook
    assert OnlyBatch().name == "only_batch"
    with pytest.raises(NotImplementedError, match="neither apply nor _apply_batch"):
        Neither().apply(1, {})


def test_validation_runs_once_per_step() -> None:
    calls: list[str] = []

    class Watched(AppendToken):
        def validate_input(self, x: Any) -> None:
            calls.append(x)
            super().validate_input(x)

    pipe = Pipeline.sequence([Watched()])
    pipe.augment_batch(["a", "b"], seed=0)
    assert calls == ["a", "b"]
    calls.clear()
    Watched().apply_batch(["a"], [{"token": "x"}])
    assert calls == ["a"]


def test_seed_and_rng_mean_the_same_everywhere() -> None:
    op = AppendToken()
    pipe = Pipeline.sequence([op])
    # rng=: the generator every operator, and the pipeline, draws from.
    assert op("a", rng=item_rng(3)) == op.apply("a", op.sample_params("a", item_rng(3)))
    assert pipe("a", rng=item_rng(3)) == pipe.apply("a", pipe.sample_params("a", item_rng(3)))
    # seed=: the seeding rule at (seed, epoch 0, index 0).
    assert op("a", seed=3) == op("a", rng=item_rng(3))
    assert pipe("a", seed=3) == pipe.augment("a", seed=3)


# ----------------------------------------------------------------- nesting


@settings(max_examples=40, deadline=None)
@given(
    inner=chains(max_states=3),
    xs=st.lists(texts, min_size=0, max_size=8),
    seed=seeds,
)
def test_nested_pipelines_batch_replay_and_serialise(
    inner: MarkovChain, xs: list[str], seed: int
) -> None:
    pool = [AppendToken, DropChar, Identity]
    inner_pipe = Pipeline([pool[i % 3]() for i in range(inner.n_states)], inner)
    outer = Pipeline.markov(
        [inner_pipe, AppendToken(), inner_pipe], [0.5, 0.3, 0.2],
        [[0.0, 0.5, 0.3], [0.4, 0.0, 0.0], [0.0, 0.5, 0.0]], max_steps=4,
    )  # fmt: skip
    outs, traces = outer.augment_batch(xs, seed=seed, return_traces=True)
    for i, x in enumerate(xs):
        out, trace = outer.augment(x, seed=seed, index=i, return_trace=True)
        assert out == outs[i] and trace == traces[i]
        assert outer.replay(x, Trace.from_json(trace.to_json())) == out
        for k, step in enumerate(trace.steps):
            if step.op == "pipeline":  # a nested step holds the inner trace, which replays
                assert set(step.params) == {"seed", "steps"}
                before = _input_at(outer, x, trace, step)
                after = str(outer.replay(x, Trace(seed, 0, i, trace.steps[: k + 1])))
                assert inner_pipe.apply(before, step.params) == after
    restored = Pipeline.from_json(outer.to_json())
    assert restored.augment_batch(xs, seed=seed) == outs
    assert restored.to_dict() == outer.to_dict()


def _input_at(pipe: Pipeline, x: str, trace: Trace, step: Any) -> str:
    """The value a step of ``trace`` received: replay the steps before it."""
    k = list(trace.steps).index(step)
    return str(pipe.replay(x, Trace(trace.seed, trace.epoch, trace.index, trace.steps[:k])))


def test_a_nested_pipeline_is_one_batched_step() -> None:
    counting = Counting()
    inner = Pipeline.sequence([counting, AppendToken()])
    outer = Pipeline.sequence([AppendToken(), inner])
    outer.augment_batch([f"text {i}" for i in range(20)], seed=0)
    assert counting.batch_calls == [20]  # the inner operator saw the whole batch at once


def test_a_pipeline_as_an_operator() -> None:
    inner = Pipeline.sequence([AppendToken(), DropChar()])
    params = inner.sample_params("abc", item_rng(5))
    assert json.loads(json.dumps(params)) == params
    out = inner.apply("abc", params)
    assert inner.apply_batch(["abc", "abc"], [params, params]) == [out, out]
    assert inner("abc", rng=item_rng(5)) == out
    with pytest.raises(ValueError, match="'steps'"):
        inner.apply("abc", {"seed": 1})


def test_nested_label_aware_operators_get_the_label() -> None:
    from augkit.text import ChunkRecombination

    splice = ChunkRecombination.from_dataset(["Pos a. Pos b."], ["pos"], rate=1.0)
    inner = Pipeline.sequence([splice, AppendToken()])
    outer = Pipeline.sequence([inner])
    assert outer.needs_label and inner.needs_label
    item = {"text": "One. Two. Three.", "label": "pos", "id": 4}
    out = outer(item, seed=2)
    assert out["id"] == 4 and out["label"] == "pos" and "Pos" in out["text"]
    labelled = Labelled("One. Two. Three.", "pos")
    assert isinstance(inner.apply(labelled, inner.sample_params(labelled, item_rng(2))), str)


# ----------------------------------------------------------------- variants


@settings(max_examples=40, deadline=None)
@given(
    chain=chains(),
    xs=st.lists(texts, min_size=0, max_size=6),
    seed=seeds,
    n=st.integers(1, 5),
    distinct=st.booleans(),
)
def test_variants_alone_equal_variants_in_a_batch(
    chain: MarkovChain, xs: list[str], seed: int, n: int, distinct: bool
) -> None:
    pool = [AppendToken, Identity, DropChar]
    pipe = Pipeline([pool[i % 3]() for i in range(chain.n_states)], chain)
    outs, traces = pipe.augment_batch(xs, seed=seed, n=n, distinct=distinct, return_traces=True)
    assert len(outs) == len(xs) and all(len(o) == n for o in outs)
    for i, x in enumerate(xs):
        alone, ts = pipe.augment(x, seed=seed, index=i, n=n, distinct=distinct, return_trace=True)
        assert alone == outs[i] and ts == traces[i]
        assert [t.variant for t in ts] == list(range(n))
        # Variant 0 without redraws is the plain call; every variant replays from its trace.
        if not distinct or ts[0].attempt == 0:
            assert alone[0] == pipe.augment(x, seed=seed, index=i)
        for out, t in zip(alone, ts):
            assert pipe.replay(x, Trace.from_json(t.to_json())) == out
            assert t.changed == (out != x)
            assert (t.distinct is None) == (not distinct)


def test_variants_have_their_own_coordinate() -> None:
    pipe = Pipeline.sequence([AppendToken()])
    outs, traces = pipe.augment("a", seed=1, epoch=2, index=3, n=4, return_trace=True)
    for v, t in enumerate(traces):
        assert (t.seed, t.epoch, t.index, t.variant, t.attempt) == (1, 2, 3, v, 0)
        token = pipe.ops[0].sample_params("a", item_rng(1, 2, 3, 1, variant=v))["token"]
        assert outs[v] == f"a {token}"


def test_distinct_variants_differ_or_are_flagged() -> None:
    pipe = Pipeline.sometimes(AppendToken(tokens=["x", "y"]), p=0.5)
    outs, traces = pipe.augment("a", seed=0, n=3, distinct=True, return_trace=True)
    # Three distinct outputs exist ("a x", "a y"; the input "a" does not count).
    assert outs[0] != outs[1] and "a" not in outs[:2]
    assert [t.distinct for t in traces[:2]] == [True, True]
    assert traces[2].distinct is False and traces[2].attempt == 3  # four tries, then flagged
    assert outs[2] in {"a", *outs[:2]}
    # Redraws are deterministic and come from their own attempt coordinate.
    again = pipe.augment("a", seed=0, n=3, distinct=True, return_trace=True)
    assert again == (outs, traces)
    for out, t in zip(outs, traces):
        assert pipe.replay("a", t) == out


def test_distinct_settles_variants_in_order_whatever_the_batch() -> None:
    pipe = Pipeline.sometimes([AppendToken(tokens=["x", "y", "z"]), DropChar()], p=0.4)
    xs = ["ab", "a", "", "abc"] * 3
    batch, traces = pipe.augment_batch(xs, seed=9, n=3, distinct=True, return_traces=True)
    assert batch == [pipe.augment(x, seed=9, index=i, n=3, distinct=True) for i, x in enumerate(xs)]
    for x, outs, ts in zip(xs, batch, traces):
        seen = [x]
        for out, t in zip(outs, ts):
            # Distinct from the input and the earlier variants, or flagged as not.
            assert (out not in seen) == t.distinct
            seen.append(out)


def test_variant_arguments_are_checked() -> None:
    pipe = Pipeline.sequence([AppendToken()])
    for kwargs, match in [
        ({"n": 0}, r"n must be an integer in \[1,"),
        ({"n": 1.5}, "n must be an integer"),
        ({"max_tries": 0}, r"max_tries must be an integer in \[1,"),
        ({"distinct": "yes"}, "distinct must be a bool"),
    ]:
        with pytest.raises((TypeError, ValueError), match=match):
            pipe.augment("a", seed=0, **kwargs)


# ----------------------------------------------------------------- what steps record


def test_steps_record_whether_they_changed_the_item() -> None:
    from augkit.text import ChunkRecombination

    pipe = Pipeline.sequence([ChunkRecombination(), AppendToken()])
    _, trace = pipe.augment("Only one sentence here.", seed=0, return_trace=True)
    assert [s.changed for s in trace.steps] == [False, True] and trace.changed
    _, trace = pipe.augment("First. Second.", seed=0, return_trace=True)
    assert [s.changed for s in trace.steps] == [True, True]
    same = Pipeline.sequence([Identity()])
    _, trace = same.augment("x", seed=0, return_trace=True)
    assert trace.changed is False and trace.to_dict()["changed"] is False


def test_values_equal_compares_what_operators_return() -> None:
    torch = pytest.importorskip("torch")
    a = np.array([1.0, np.nan])
    assert values_equal(a, a.copy()) and not values_equal(a, a.astype(np.float32))
    assert not values_equal(np.zeros(3), np.zeros(4))
    t = torch.tensor([1.0, float("nan")])
    assert values_equal(t, t.clone()) and not values_equal(t, t + 1)
    assert values_equal({"a": [1, "b"]}, {"a": [1, "b"]}) and not values_equal({"a": 1}, {"b": 1})
    assert values_equal(Labelled("x", 1), Labelled("x", 1))
    assert not values_equal("1", 1)


# ----------------------------------------------------------------- one lens per tree


def test_a_nested_pipeline_s_lens_is_adopted_or_refused() -> None:
    inner = Pipeline.sequence([AppendToken()], key="body")
    outer = Pipeline.sequence([inner, DropChar()])  # declares nothing: takes "body" up
    assert outer.key == "body" and outer.lens_declared
    out = outer.augment({"body": "abc", "id": 1}, seed=0)
    assert out["id"] == 1 and out["body"] != "abc"
    assert Pipeline.from_dict(outer.to_dict()).to_dict() == outer.to_dict()
    with pytest.raises(ValueError, match="declare key/label/targets once"):
        Pipeline.sequence([inner], key="text")
    # A default lens inside says nothing.
    assert Pipeline.sequence([Pipeline.sequence([AppendToken()])], key="x").key == "x"


def test_with_item_keeps_what_it_is_not_told_to_change() -> None:
    pipe = Pipeline.sequence([AppendToken()], key="a", label="y")
    assert (pipe.with_item(key="b").key, pipe.with_item(key="b").lens.label) == ("b", "y")  # type: ignore[attr-defined]
    assert pipe.with_item(label="z").key == "a"
    with pytest.raises(TypeError, match="with_item takes key, label or targets"):
        pipe.with_item(field="b")


def test_rng_and_rngs_draw_the_seed_of_the_run() -> None:
    pipe = Pipeline.sequence([AppendToken(), DropChar()])
    xs = ["abc", "de", "f"]
    seeds = [int(item_rng(i).integers(0, 2**63)) for i in range(3)]
    batch, traces = pipe.augment_batch(
        xs, rngs=[item_rng(i) for i in range(3)], indices=[5, 6, 7], return_traces=True
    )
    assert batch == [
        pipe.augment(x, seed=s, index=5 + i) for i, (x, s) in enumerate(zip(xs, seeds))
    ]
    assert [t.seed for t in traces] == seeds
    assert pipe.augment("abc", rng=item_rng(0), index=5) == batch[0]
    assert pipe("abc", rng=item_rng(0), index=5) == batch[0]
    with pytest.raises(ValueError, match="seed or rngs"):
        pipe.augment_batch(xs, seed=1, rngs=[item_rng(0)] * 3)
    with pytest.raises(ValueError, match="3 inputs"):
        pipe.augment_batch(xs, rngs=[item_rng(0)])
    with pytest.raises(TypeError, match=r"numpy\.random\.Generator"):
        pipe.augment("a", rng=3)  # type: ignore[arg-type]


def test_nested_and_duck_typed_pipelines_pickle() -> None:
    import pickle

    inner = Pipeline.sequence([Append("a"), AppendToken()])
    outer = Pipeline.one_of([inner, Append("b")])
    again = pickle.loads(pickle.dumps(outer))
    xs = ["x", "yy", ""]
    assert again.augment_batch(xs, seed=3, n=2) == outer.augment_batch(xs, seed=3, n=2)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: Pipeline.sequence(5), TypeError, "ops must be a list of operators, got int"),
        (lambda: Pipeline.sometimes(3), TypeError, "ops must be a list of operators, got int"),
        (lambda: Pipeline.one_of("ab"), TypeError, "ops must be a list of operators, got str"),
        (lambda: Pipeline.some_of([], 1), ValueError, "at least one operator"),
    ],
)
def test_constructor_arguments_are_named(build: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()
