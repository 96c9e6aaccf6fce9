"""Crops are slices of the original; RandomResizedCrop samples like torchvision; flips mirror."""

from __future__ import annotations

import math
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
    RandomCrop,
    RandomResizedCrop,
    VerticalFlip,
)

from .helpers import hw_of, images, np_images, seeds, to_numpy


def _slice(x: Any, top: int, left: int, h: int, w: int) -> np.ndarray:
    a = to_numpy(x)
    if isinstance(x, torch.Tensor):
        return a[..., top : top + h, left : left + w]
    return a[top : top + h, left : left + w]


@settings(max_examples=200, deadline=None)
@given(x=images(20), data=st.data(), seed=seeds, copy=st.booleans())
def test_random_crop_is_the_slice_of_the_original(x: Any, data: Any, seed: int, copy: bool) -> None:
    H, W = hw_of(x)
    size = (data.draw(st.integers(1, H)), data.draw(st.integers(1, W)))
    op = RandomCrop(size, copy=copy)
    params = op.sample_params(x, item_rng(seed))
    top, left = params["top"], params["left"]
    assert 0 <= top <= H - size[0] and 0 <= left <= W - size[1]
    out = op.apply(x, params)
    assert np.array_equal(to_numpy(out), _slice(x, top, left, *size))
    if isinstance(x, np.ndarray):
        assert np.shares_memory(out, x) != copy
        if copy:
            assert out.flags.c_contiguous
    if isinstance(x, torch.Tensor):
        assert (out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()) != copy
        if copy:
            assert out.is_contiguous()


def test_random_crop_positions_cover_the_image_uniformly() -> None:
    x = np.zeros((10, 6), np.uint8)
    op = RandomCrop((7, 6))
    tops = [op.sample_params(x, item_rng(1, 0, i))["top"] for i in range(800)]
    counts = np.bincount(tops, minlength=4)
    assert counts.tolist() != [] and len(counts) == 4 and counts.min() > 150


@settings(max_examples=150, deadline=None)
@given(x=np_images(max_side=10), h=st.integers(1, 16), w=st.integers(1, 16), seed=seeds)
def test_pad_if_needed_centres_the_image_on_a_filled_canvas(
    x: np.ndarray, h: int, w: int, seed: int
) -> None:
    H, W = x.shape[:2]
    op = RandomCrop((h, w), pad_if_needed=True, fill=1)
    params = op.sample_params(x, item_rng(seed))
    out = op.apply(x, params)
    assert out.shape[:2] == (h, w) and out.dtype == x.dtype
    top, left = params["top"], params["left"]
    if h > H:
        assert top == -((h - H) // 2)
    if w > W:
        assert left == -((w - W) // 2)
    # Every output pixel is either the image pixel it came from or the fill.
    ys, xs = np.mgrid[0:h, 0:w]
    sy, sx = ys + top, xs + left
    inside = (sy >= 0) & (sy < H) & (sx >= 0) & (sx < W)
    assert np.array_equal(out[inside], x[sy[inside], sx[inside]])
    assert (out[~inside] == np.array(1).astype(x.dtype)).all()


@settings(max_examples=200, deadline=None)
@given(
    x=images(12),
    data=st.data(),
    seed=seeds,
    pad=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    fill=st.sampled_from([0, 5]),
)
def test_padding_crops_the_image_padded_with_fill(
    x: Any, data: Any, seed: int, pad: tuple[int, int], fill: int
) -> None:
    # The differential: numpy's own pad, then the drawn window of the padded array.
    H, W = hw_of(x)
    py, px = pad
    size = (data.draw(st.integers(1, H + 2 * py)), data.draw(st.integers(1, W + 2 * px)))
    op = RandomCrop(size, padding=pad, fill=fill)
    params = op.sample_params(x, item_rng(seed))
    top, left = params["top"], params["left"]
    assert -py <= top <= H + py - size[0] and -px <= left <= W + px - size[1]
    out = op.apply(x, params)
    a = to_numpy(x)
    if isinstance(x, torch.Tensor):
        widths = [(0, 0)] * (a.ndim - 2) + [(py, py), (px, px)]
    else:
        widths = [(py, py), (px, px)] + [(0, 0)] * (a.ndim - 2)
    padded = np.pad(a, widths, constant_values=np.array(fill).astype(a.dtype))
    expected = _slice(padded, top + py, left + px, *size)
    if isinstance(x, torch.Tensor):
        expected = padded[..., top + py : top + py + size[0], left + px : left + px + size[1]]
    assert np.array_equal(to_numpy(out), expected)


def test_padding_positions_cover_every_shift_uniformly() -> None:
    # RandomCrop(8, padding=1) on 8x8: each axis shifts by -1, 0 or +1 with equal chance.
    x = np.zeros((8, 8), np.uint8)
    op = RandomCrop(8, padding=1)
    params = [op.sample_params(x, item_rng(2, 0, i)) for i in range(1500)]
    for key in ("top", "left"):
        counts = np.bincount([p[key] + 1 for p in params], minlength=3)
        assert len(counts) == 3 and counts.min() > 400, counts


def test_padding_is_declared_in_the_config_and_replays() -> None:
    from augkit import Pipeline

    op = RandomCrop(5, padding=(1, 2))
    assert op.get_config()["padding"] == (1, 2) and RandomCrop(5, padding=3).padding == 3
    pipe = Pipeline.sequence([op])
    again = Pipeline.from_dict(pipe.to_dict())
    x = np.arange(36, dtype=np.uint8).reshape(6, 6)
    for i in range(20):
        assert np.array_equal(pipe.augment(x, seed=i), again.augment(x, seed=i))


def test_a_window_beyond_the_padding_is_refused() -> None:
    op = RandomCrop(4, padding=1)
    x = np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="padded by 1x1"):
        op.apply(x, {"top": -2, "left": 0, "height": 4, "width": 4})
    with pytest.raises(ValueError, match="larger than the 2x2 image padded by 1x1 to 4x4"):
        RandomCrop(5, padding=1)(np.zeros((2, 2)), seed=0)
    assert RandomCrop(5, padding=1, pad_if_needed=True)(np.zeros((2, 2)), seed=0).shape == (5, 5)


def test_pad_if_needed_with_tensors_and_per_channel_fill() -> None:
    t = torch.arange(2 * 3 * 2 * 2, dtype=torch.uint8).reshape(2, 3, 2, 2)
    out = RandomCrop((4, 3), pad_if_needed=True, fill=(7, 8, 9))(t, seed=0)
    assert out.shape == (2, 3, 4, 3) and out.dtype == torch.uint8
    assert out[:, :, 0, 0].tolist() == [[7, 8, 9], [7, 8, 9]]  # padded row 0 (top pad = 1)
    assert torch.equal(out[:, :, 1:3, 0:2], t)


@settings(max_examples=150, deadline=None)
@given(x=images(20), data=st.data())
def test_center_crop_takes_the_middle(x: Any, data: Any) -> None:
    H, W = hw_of(x)
    h, w = data.draw(st.integers(1, H)), data.draw(st.integers(1, W))
    out = CenterCrop((h, w))(x)
    top, left = (H - h) // 2, (W - w) // 2
    assert np.array_equal(to_numpy(out), _slice(x, top, left, h, w))
    # The leftover is split evenly, any odd pixel at the bottom / right.
    assert top == H - h - top - ((H - h) % 2)


# --------------------------------------------------------------------------- RandomResizedCrop


def _consistent(w: int, h: int, lo: float, hi: float, rlo: float, rhi: float, area: int) -> bool:
    """Could rounding sqrt(a*r), sqrt(a/r) to (w, h) come from a in [lo,hi]*area, r in [rlo,rhi]?"""
    a_min, a_max = (w - 0.5) * (h - 0.5), (w + 0.5) * (h + 0.5)
    r_min, r_max = (w - 0.5) / (h + 0.5), (w + 0.5) / max(h - 0.5, 1e-9)
    return (
        a_max >= lo * area - 1e-9
        and a_min <= hi * area + 1e-9
        and r_max >= rlo - 1e-9
        and r_min <= rhi + 1e-9
    )


@settings(max_examples=200, deadline=None)
@given(
    H=st.integers(1, 300),
    W=st.integers(1, 300),
    lo=st.floats(0.01, 1.0),
    span=st.floats(0.0, 1.0),
    rlo=st.floats(0.2, 2.0),
    rspan=st.floats(1.0, 3.0),
    seed=seeds,
)
def test_resized_crop_samples_area_and_ratio_in_range(
    H: int, W: int, lo: float, span: float, rlo: float, rspan: float, seed: int
) -> None:
    hi = lo + (1.0 - lo) * span
    op = RandomResizedCrop(8, scale=(lo, hi), ratio=(rlo, rlo * rspan))
    p = op.sample_params(np.zeros((H, W), np.uint8), item_rng(seed))
    top, left, h, w = p["top"], p["left"], p["height"], p["width"]
    assert 0 <= top and top + h <= H and 0 <= left and left + w <= W and h >= 1 and w >= 1
    if not p["fallback"]:
        assert _consistent(w, h, lo, hi, rlo, rlo * rspan, H * W)
    else:  # torchvision's fallback: a centred crop at the nearest allowed ratio
        assert (top, left) == ((H - h) // 2, (W - w) // 2)
        ratio = W / H
        if ratio < rlo:
            assert (w, h) == (W, min(H, max(1, round(W / rlo))))
        elif ratio > rlo * rspan:
            assert (w, h) == (min(W, max(1, round(H * rlo * rspan))), H)
        else:
            assert (w, h) == (W, H)


def test_resized_crop_distribution_matches_torchvision_semantics() -> None:
    # On a large image rounding is negligible: the area fraction is uniform on scale
    # and the log of the ratio uniform on log(ratio).
    x = np.zeros((1000, 1000), np.uint8)
    op = RandomResizedCrop(8, scale=(0.2, 0.6), ratio=(0.5, 2.0))
    ps = [op.sample_params(x, item_rng(11, 0, i)) for i in range(1500)]
    assert not any(p["fallback"] for p in ps)
    areas = np.array([p["height"] * p["width"] / 1e6 for p in ps])
    logr = np.log([p["width"] / p["height"] for p in ps])
    assert areas.min() > 0.19 and areas.max() < 0.61
    assert abs(areas.mean() - 0.4) < 0.01 and abs(areas.std() - 0.4 / math.sqrt(12)) < 0.01
    assert abs(logr.mean()) < 0.04 and abs(logr.std() - 2 * math.log(2) / math.sqrt(12)) < 0.03


def test_resized_crop_fallback_is_torchvisions() -> None:
    # A 10x1000 strip: every draw is too tall, so the fallback crops the centre at ratio 4/3.
    op = RandomResizedCrop(8)
    p = op.sample_params(np.zeros((10, 1000), np.uint8), item_rng(0))
    assert p == {"top": 0, "left": (1000 - 13) // 2, "height": 10, "width": 13, "fallback": True}
    q = op.sample_params(np.zeros((1000, 10), np.uint8), item_rng(0))
    assert q == {"top": (1000 - 13) // 2, "left": 0, "height": 13, "width": 10, "fallback": True}


@settings(max_examples=100, deadline=None)
@given(x=images(16), seed=seeds)
def test_resized_crop_resizes_the_sampled_slice(x: Any, seed: int) -> None:
    H, W = hw_of(x)
    op = RandomResizedCrop((H, W), interpolation="nearest")
    p = op.sample_params(x, item_rng(seed))
    same_size = RandomResizedCrop((p["height"], p["width"]))
    out = same_size.apply(x, p)  # no resize needed: exactly the slice
    assert np.array_equal(to_numpy(out), _slice(x, p["top"], p["left"], p["height"], p["width"]))
    resized = to_numpy(op.apply(x, p))
    # Nearest upsampling of the slice: every output value occurs in the slice.
    src = _slice(x, p["top"], p["left"], p["height"], p["width"])
    if isinstance(x, np.ndarray) and x.ndim == 2:
        assert set(np.unique(resized)).issubset(set(np.unique(src)))


def test_resized_crop_numpy_and_torch_agree() -> None:
    rng = np.random.default_rng(0)
    img = rng.random((40, 50, 3)).astype(np.float32)
    for interp in ("nearest", "bilinear", "bicubic"):
        op = RandomResizedCrop((33, 27), interpolation=interp)
        a = op(img, seed=4)
        b = op(torch.from_numpy(img).permute(2, 0, 1), seed=4).permute(1, 2, 0).numpy()
        if interp == "nearest":
            # Both pick floor((j + 0.5) * scale), computed exactly (no ties broken apart).
            assert np.array_equal(a, b)
        else:
            assert np.abs(a - b).max() < 1e-3, interp


# --------------------------------------------------------------------------- flips


@settings(max_examples=150, deadline=None)
@given(x=images(16))
def test_flips_mirror_and_undo_themselves(x: Any) -> None:
    for op, axis in ((HorizontalFlip(), -1), (VerticalFlip(), -2)):
        out = op(x, seed=0)
        a = to_numpy(x)
        if isinstance(x, torch.Tensor):
            expected = np.flip(a, axis=axis)
        else:
            expected = np.flip(a, axis=1 if axis == -1 else 0)
        assert np.array_equal(to_numpy(out), expected)
        assert np.array_equal(to_numpy(op(out, seed=0)), a)
        if isinstance(out, np.ndarray):
            assert out.flags.c_contiguous and not np.shares_memory(out, x)


def test_flip_of_dtypes_opencv_cannot_flip() -> None:
    big = np.array([[2**40, 1], [3, 2**50]], np.int64)
    assert HorizontalFlip()(big).tolist() == [[1, 2**40], [2**50, 3]]
    many = np.arange(2 * 3 * 7, dtype=np.uint8).reshape(2, 3, 7)
    assert np.array_equal(VerticalFlip()(many), many[::-1])
    img = Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4))
    assert np.array_equal(np.asarray(HorizontalFlip()(img)), np.asarray(img)[:, ::-1])


@pytest.mark.parametrize("op", [RandomCrop(3), CenterCrop(3), HorizontalFlip(), VerticalFlip()])
def test_crops_and_flips_never_touch_values(op: Any) -> None:
    x = np.linspace(0, 1, 5 * 6 * 3, dtype=np.float32).reshape(5, 6, 3) / 7
    out = op(x, seed=2)
    assert set(out.ravel().tolist()).issubset(set(x.ravel().tolist()))
