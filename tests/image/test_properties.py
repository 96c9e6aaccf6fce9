"""Invariants every geometry operator keeps, for every input kind (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from augkit import Pipeline, Trace, item_rng
from augkit.image import Rotate
from augkit.image._arrays import swapped_layout
from augkit.registry import operator_from_dict

from .helpers import (
    FEW_CHANNELS,
    expected_hw,
    hw_of,
    images,
    np_images,
    operators,
    random_tensor,
    same,
    seeds,
    tensors,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _kind_signature(x: Any) -> tuple[Any, ...]:
    """What must survive an operator: type, dtype / mode, layout and device."""
    if isinstance(x, np.ndarray):
        return (np.ndarray, x.dtype, x.ndim, x.shape[2:] if x.ndim == 3 else ())
    if isinstance(x, torch.Tensor):
        return (torch.Tensor, x.dtype, x.ndim, tuple(x.shape[:-2]), x.device)
    return (Image.Image, x.mode)


@SETTINGS
@given(op=operators(), x=images(), seed=seeds)
def test_kind_dtype_layout_and_size_are_preserved(op: Any, x: Any, seed: int) -> None:
    op.validate_input(x)
    params = op.sample_params(x, item_rng(seed))
    out = op.apply(x, params)
    assert _kind_signature(out) == _kind_signature(x)
    assert hw_of(out) == expected_hw(op, hw_of(x), params)


@SETTINGS
@given(op=operators(), x=images(), seed=seeds)
def test_same_seed_same_output(op: Any, x: Any, seed: int) -> None:
    assert same(op(x, seed=seed), op(x, seed=seed))


@SETTINGS
@given(op=operators(), x=images(), seed=seeds)
def test_input_is_never_modified(op: Any, x: Any, seed: int) -> None:
    before = np.array(x, copy=True) if not isinstance(x, torch.Tensor) else x.clone()
    op(x, seed=seed)
    after = np.asarray(x) if not isinstance(x, torch.Tensor) else x
    if isinstance(x, torch.Tensor):
        assert torch.equal(before, after)
    else:
        assert np.array_equal(before, after, equal_nan=before.dtype.kind == "f")


@st.composite
def same_shape_batch(draw: Any) -> list[Any]:
    """2-4 inputs of one kind and shape (tensors of one shape take Rotate's batched path)."""
    first = draw(st.one_of(np_images(max_side=12), tensors(max_side=12)))
    n = draw(st.integers(2, 4))
    if isinstance(first, torch.Tensor):
        g = torch.Generator().manual_seed(draw(seeds))
        rest = [random_tensor(g, tuple(first.shape), first.dtype) for _ in range(n - 1)]
        return [first, *rest]
    return [first, *(draw(st.just(first[::-1].copy())) for _ in range(n - 1))]


@SETTINGS
@given(op=operators(), xs=same_shape_batch(), seed=seeds)
def test_batch_equals_per_item(op: Any, xs: list[Any], seed: int) -> None:
    batch = op.augment_batch(xs, seed=seed)
    for i, x in enumerate(xs):
        assert same(batch[i], op(x, rng=item_rng(seed, 0, i)))


@settings(max_examples=100, deadline=None)
@given(
    xs=same_shape_batch(),
    seed=seeds,
    border=st.sampled_from(["constant", "reflect", "replicate", "wrap"]),
)
def test_rotate_batched_grid_sample_equals_per_item(xs: list[Any], seed: int, border: str) -> None:
    # Non-zero fill and every border: the batched tensor path must not change a single value.
    op = Rotate(90, border=border, fill=5)
    params = [op.sample_params(x, item_rng(seed, 0, i)) for i, x in enumerate(xs)]
    batch = op.apply_batch(xs, params)
    for x, p, b in zip(xs, params, batch):
        assert same(b, op.apply(x, p))


@SETTINGS
@given(
    ops=st.lists(operators(), min_size=1, max_size=3),
    xs=st.lists(
        np_images(max_side=12, dtypes=(np.uint8, np.float32), channels=FEW_CHANNELS),
        min_size=1,
        max_size=4,
    ),
    seed=seeds,
)
def test_pipeline_batch_equals_per_item_and_replays(
    ops: list[Any], xs: list[Any], seed: int
) -> None:
    pipe = Pipeline.sequence(ops)
    outs, traces = pipe.augment_batch(xs, seed=seed, return_traces=True)
    for i, x in enumerate(xs):
        assert same(outs[i], pipe.augment(x, seed=seed, index=i))
        assert same(pipe.replay(x, traces[i]), outs[i])
        again = Trace.from_json(traces[i].to_json())
        assert same(pipe.replay(x, again), outs[i])
    assert all(same(a, b) for a, b in zip(pipe.replay_batch(xs, traces), outs))


@SETTINGS
@given(ops=st.lists(operators(), min_size=1, max_size=3), x=images(12, FEW_CHANNELS), seed=seeds)
def test_config_round_trip_gives_identical_outputs(ops: list[Any], x: Any, seed: int) -> None:
    pipe = Pipeline.markov(
        ops, start=[1.0] + [0.0] * (len(ops) - 1), transitions=np.eye(len(ops), k=1)
    )
    clone = Pipeline.from_json(json.dumps(pipe.to_dict()))
    assert same(clone.augment(x, seed=seed), pipe.augment(x, seed=seed))
    for op in ops:
        copy = operator_from_dict(json.loads(json.dumps(op.to_dict())))
        assert type(copy) is type(op) and copy.get_config() == op.get_config()
        assert repr(copy) == repr(op)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_flip_probability_lives_in_the_pipeline(p: float) -> None:
    from augkit.image import HorizontalFlip

    x = np.arange(12, dtype=np.uint8).reshape(3, 4)
    pipe = Pipeline.sometimes(HorizontalFlip(), p=p)
    out = pipe(x, seed=3)
    assert np.array_equal(out, x[:, ::-1] if p == 1.0 else x)
    assert HorizontalFlip().sample_params(x, item_rng(0)) == {}


@settings(max_examples=100, deadline=None)
@given(op=operators(), x=np_images(max_side=16), seed=seeds, which=st.integers(0, 3))
def test_strided_views_give_the_same_result_as_copies(
    op: Any, x: np.ndarray, seed: int, which: int
) -> None:
    # Reversed, strided and channel-sliced views reach OpenCV as they are.
    view = [
        x[::-1],
        x[:, ::-1],
        x[::2, ::2],
        x[..., :-1] if x.ndim == 3 and x.shape[2] > 1 else x.T,
    ][which]
    if view.size == 0 or swapped_layout(view.shape, tensor=False):
        return  # refused like any such array (test_validation)
    assert same(op(view, seed=seed), op(np.ascontiguousarray(view), seed=seed))
