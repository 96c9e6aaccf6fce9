"""The geometric operators' ``sample_params_batch`` hooks draw what ``sample_params`` draws per item.

Every item of a group must get exactly its per-item parameters (the same
words of its stream, in the same order), whatever the mix of image sizes,
input kinds and settings: windows that fit or are padded, resized-crop tries
that fail into the fallback, degenerate ranges.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from augkit import item_rng
from augkit.image import (
    CenterCrop,
    HorizontalFlip,
    ImageTargets,
    RandomCrop,
    RandomResizedCrop,
    Rotate,
    VerticalFlip,
)
from augkit.seeding import BatchStream
from tests.batch_sampling import assert_batch_draws_as_items

from .helpers import seeds

KINDS = ("numpy", "numpy", "numpy-hwc", "tensor", "pil", "dict", "target_item")


def _image(kind: str, h: int, w: int) -> Any:
    """An image (or image item) of size ``h x w`` of one of the input kinds."""
    if kind == "numpy":
        return np.zeros((h, w), np.uint8)
    if kind == "numpy-hwc":
        return np.zeros((h + 4 if h in (1, 3, 4) else h, w, 3), np.float32)[:h]
    if kind == "tensor":
        return torch.zeros((3, h, w), dtype=torch.uint8)
    if kind == "pil":
        return Image.new("L", (w, h))
    item = {"image": np.zeros((h, w), np.uint8), "bboxes": [[0.0, 0.0, w, h]]}
    if kind == "dict":
        return item
    return ImageTargets().split(item)[0]


def batches(sides: st.SearchStrategy[int]) -> st.SearchStrategy[list[Any]]:
    """Groups of 0 to 60 images of varied sizes and kinds."""
    one = st.builds(_image, st.sampled_from(KINDS), sides, sides)
    return st.lists(one, max_size=60)


crop_sizes = st.tuples(st.integers(1, 24), st.integers(1, 24))


@settings(max_examples=120)
@given(xs=batches(st.integers(1, 40)), size=crop_sizes, seed=seeds)
def test_random_crop_with_padding_draws_as_per_item(xs: list[Any], size: Any, seed: int) -> None:
    # Windows that fit on both axes, on one (padded on the other: no draw there) or neither.
    assert_batch_draws_as_items(RandomCrop(size, pad_if_needed=True), xs, seed)


@settings(max_examples=80)
@given(
    xs=batches(st.integers(1, 40)),
    size=crop_sizes,
    pad=st.tuples(st.integers(0, 6), st.integers(0, 6)),
    seed=seeds,
)
def test_random_crop_with_padding_on_each_side_draws_as_per_item(
    xs: list[Any], size: Any, pad: Any, seed: int
) -> None:
    assert_batch_draws_as_items(RandomCrop(size, padding=pad, pad_if_needed=True), xs, seed)


@settings(max_examples=60)
@given(data=st.data(), size=crop_sizes, seed=seeds, center=st.booleans())
def test_crops_that_fit_draw_as_per_item(data: Any, size: Any, seed: int, center: bool) -> None:
    slack = st.integers(0, 20)
    n = data.draw(st.integers(0, 50))
    kinds = data.draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    xs = [_image(k, size[0] + data.draw(slack), size[1] + data.draw(slack)) for k in kinds]
    op = CenterCrop(size) if center else RandomCrop(size)
    assert_batch_draws_as_items(op, xs, seed)


@settings(max_examples=40)
@given(xs=batches(st.integers(1, 40)), size=crop_sizes, seed=seeds)
def test_center_crop_with_padding_matches_per_item(xs: list[Any], size: Any, seed: int) -> None:
    assert_batch_draws_as_items(CenterCrop(size, pad_if_needed=True), xs, seed)


@pytest.mark.parametrize("op", [RandomCrop(10), CenterCrop(10)], ids=["random", "center"])
def test_a_crop_too_large_for_an_item_is_that_item_s_error(op: Any) -> None:
    xs = [np.zeros((12, 12))] * 5 + [np.zeros((12, 9)), np.zeros((4, 4))]
    with pytest.raises(ValueError) as per_item:
        for x in xs:
            op.sample_params(x, item_rng(0))
    with pytest.raises(ValueError) as batched:
        op.sample_params_batch(xs, BatchStream(np.arange(len(xs), dtype=np.uint64)))
    assert str(batched.value) == str(per_item.value)
    assert "12x9" in str(batched.value)


ranges = st.tuples(st.floats(0.05, 1.0), st.floats(0.05, 1.0)).map(sorted)
ratios = st.tuples(st.floats(0.05, 20.0), st.floats(0.05, 20.0)).map(sorted)


@settings(max_examples=150)
@given(xs=batches(st.integers(1, 60)), scale=ranges, ratio=ratios, seed=seeds)
def test_random_resized_crop_draws_as_per_item(
    xs: list[Any], scale: Any, ratio: Any, seed: int
) -> None:
    # Extreme ratios and thin images make most tries fail: every round of the
    # batch path runs, with the scalar tail and the fallback.
    op = RandomResizedCrop(8, scale=scale, ratio=ratio)
    assert_batch_draws_as_items(op, xs, seed)


def test_random_resized_crop_covers_every_round_and_the_fallback() -> None:
    # 1x40 and 40x1 images with a ratio near 1 fail every try: the fallback.
    # Square ones with scale near 1 fail about half of the tries: many rounds.
    xs = [np.zeros((1, 40)), np.zeros((40, 1))] * 20 + [np.zeros((30, 30))] * 200
    op = RandomResizedCrop(8, scale=(0.5, 1.0), ratio=(0.7, 1.4))
    params = assert_batch_draws_as_items(op, xs, seed=5)
    assert sum(p["fallback"] for p in params) >= 40
    assert len({p["height"] for p in params}) > 5


@settings(max_examples=60)
@given(
    xs=batches(st.integers(1, 12)),
    degrees=st.one_of(st.floats(0, 180), ranges, st.just((5.0, 5.0))),
    seed=seeds,
)
def test_rotate_draws_as_per_item(xs: list[Any], degrees: Any, seed: int) -> None:
    assert_batch_draws_as_items(Rotate(degrees), xs, seed)


@given(xs=batches(st.integers(1, 12)), seed=seeds)
def test_flips_draw_nothing_per_item_or_batched(xs: list[Any], seed: int) -> None:
    for op in (HorizontalFlip(), VerticalFlip()):
        assert assert_batch_draws_as_items(op, xs, seed) == [{}] * len(xs)


@pytest.mark.parametrize(
    "op",
    [
        RandomCrop(6, pad_if_needed=True),
        RandomResizedCrop(5),
        Rotate(40),
        CenterCrop(3),
        HorizontalFlip(),
    ],
    ids=["random_crop", "random_resized_crop", "rotate", "center_crop", "horizontal_flip"],
)
def test_augment_batch_through_the_hook_equals_per_item_calls(op: Any) -> None:
    # 30 items: above BATCH_MIN, so augment_batch draws through sample_params_batch.
    xs = [np.arange(h * 9, dtype=np.uint8).reshape(h, 9) for h in range(3, 33)]
    outs = op.augment_batch(xs, seed=11)
    for i, (x, out) in enumerate(zip(xs, outs)):
        assert np.array_equal(out, op(x, rng=item_rng(11, 0, i)))
