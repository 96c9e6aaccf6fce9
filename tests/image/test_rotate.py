"""Rotate: identity, quarter turns equal np.rot90, mask/image partners, borders, backends."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from augkit import item_rng
from augkit.image import ImageTargets, Rotate

from .helpers import (
    MORE_DTYPES,
    apply_with,
    images,
    np_images,
    random_array,
    same,
    seeds,
    tensors,
    to_numpy,
    unambiguous_height,
)

BORDERS = ["constant", "reflect", "replicate", "wrap"]
INTERPS = ["nearest", "bilinear", "bicubic"]


def _rot90(x: Any, k: int) -> Any:
    """np.rot90 of any kind, in its own layout."""
    if isinstance(x, torch.Tensor):
        return torch.rot90(x, k, dims=(-2, -1))
    if isinstance(x, Image.Image):
        return np.rot90(np.asarray(x), k)
    return np.rot90(x, k)


@settings(max_examples=150, deadline=None)
@given(
    x=images(14),
    interp=st.sampled_from(INTERPS),
    border=st.sampled_from(BORDERS),
    turns=st.sampled_from([0, 1, -1, 2, 4, -3]),
)
def test_rotate_by_zero_is_identity(x: Any, interp: str, border: str, turns: int) -> None:
    op = Rotate((360.0 * turns, 360.0 * turns), interpolation=interp, border=border, fill=9)
    out = op(x, seed=0)
    assert same(out, x.copy() if isinstance(x, Image.Image) else x)
    if isinstance(x, np.ndarray):
        assert not np.shares_memory(out, x)


@st.composite
def square(draw: Any) -> Any:
    """Square images of every kind, dtype and channel count."""
    n = draw(st.integers(1, 17))
    kind = draw(st.sampled_from(["numpy", "numpy", "torch", "pil"]))
    rng = np.random.default_rng(draw(seeds))
    if kind == "numpy":
        dtype = draw(st.sampled_from((np.uint8, np.float32, *MORE_DTYPES)))
        c = draw(st.sampled_from([None, 1, 3, 5, 9]))
        if c is None:
            return random_array(rng, (n, n), dtype)
        n = unambiguous_height(n, c)
        return random_array(rng, (n, n, c), dtype)
    if kind == "torch":
        lead = draw(st.sampled_from([(), (3,), (2, 1)]))
        dtype = draw(st.sampled_from([np.uint8, np.float32, np.float64, np.int64]))
        return torch.from_numpy(random_array(rng, (*lead, n, n), dtype))
    return Image.fromarray(rng.integers(0, 256, (n, n, 3)).astype(np.uint8))


@settings(max_examples=200, deadline=None)
@given(
    x=square(),
    quarter=st.sampled_from([90, -90, 180, -180, 270, 450]),
    interp=st.sampled_from(INTERPS),
)
def test_quarter_turns_of_a_square_image_equal_rot90(x: Any, quarter: int, interp: str) -> None:
    # Turning about the centre ((n-1)/2, (n-1)/2) in pixel indices maps pixel centres
    # onto pixel centres; nearest (and, sampling exactly at centres, bilinear and
    # bicubic as well) must then reproduce np.rot90 bit for bit, with no border.
    out = Rotate((quarter, quarter), interpolation=interp)(x, seed=1)
    assert np.array_equal(to_numpy(out), to_numpy(_rot90(x, quarter // 90)))
    if isinstance(x, np.ndarray):
        assert out.flags.c_contiguous and not np.shares_memory(out, x)


@settings(max_examples=150, deadline=None)
@given(x=square(), quarter=st.sampled_from([90, -90, 180, 270]), eps=st.sampled_from([1e-4, -1e-4]))
def test_resampling_a_near_quarter_turn_gives_rot90(x: Any, quarter: int, eps: float) -> None:
    # Exact quarter turns are permutations; a hair off one goes through warpAffine /
    # grid_sample. Nearest sampling must land on the same pixels, which pins down the
    # pixel-centre convention every other angle uses (on both backends).
    out = Rotate((quarter + eps, quarter + eps), interpolation="nearest")(x, seed=1)
    assert np.array_equal(to_numpy(out), to_numpy(_rot90(x, quarter // 90)))


@settings(max_examples=100, deadline=None)
@given(x=np_images(max_side=15), quarter=st.sampled_from([90, -90, 270]))
def test_quarter_turn_with_expand_swaps_height_and_width(x: np.ndarray, quarter: int) -> None:
    out = Rotate((quarter, quarter), interpolation="nearest", expand=True)(x, seed=0)
    assert np.array_equal(out, np.rot90(x, quarter // 90))


@settings(max_examples=150, deadline=None)
@given(
    seed=seeds,
    h=st.integers(2, 20),
    w=st.integers(2, 20),
    border=st.sampled_from(BORDERS),
    expand=st.booleans(),
    as_tensor=st.booleans(),
)
def test_mask_and_image_rotate_together(
    seed: int, h: int, w: int, border: str, expand: bool, as_tensor: bool
) -> None:
    # The image is a colour lookup of the mask; after rotating both (nearest), every
    # output pixel must still be the colour of its mask label, fill included.
    rng = np.random.default_rng(seed)
    mask = rng.integers(0, 5, (h, w)).astype(np.uint8)
    lut = np.array(
        [[10, 20, 30], [40, 50, 60], [70, 80, 90], [100, 110, 120], [130, 140, 150]], np.uint8
    )
    image = lut[mask]
    op = Rotate(
        180,
        interpolation="nearest",
        border=border,
        fill=tuple(int(v) for v in lut[4]),
        expand=expand,
        mask_fill=4,
    )
    item: dict[str, Any] = {"image": image, "mask": mask, "label": "cat"}
    if as_tensor:
        item = {
            "image": torch.from_numpy(image).permute(2, 0, 1),
            "mask": torch.from_numpy(mask),
            "label": "cat",
        }
    out = apply_with(ImageTargets(passthrough=["label"]), op, item, seed=seed)
    assert out["label"] == "cat"
    img_out = to_numpy(out["image"])
    if as_tensor:
        img_out = np.moveaxis(img_out, 0, -1)
    assert np.array_equal(img_out, lut[to_numpy(out["mask"])])


@pytest.mark.parametrize("border", BORDERS)
@pytest.mark.parametrize("interp", INTERPS)
@pytest.mark.parametrize("expand", [False, True])
def test_numpy_and_torch_paths_agree(border: str, interp: str, expand: bool) -> None:
    yy, xx = np.mgrid[0:23, 0:31]
    img = np.stack([np.sin(xx / 5.0) + np.cos(yy / 4.0), xx / 31.0, yy / 23.0], -1).astype(
        np.float32
    )
    op = Rotate((25, 25), interpolation=interp, border=border, fill=(0.5, 1.0, 2.0), expand=expand)
    a = op(img, seed=0)
    b = op(torch.from_numpy(img).permute(2, 0, 1), seed=0).permute(1, 2, 0).numpy()
    assert a.shape == b.shape
    # OpenCV and grid_sample sample the same points with the same border rule.
    assert np.abs(a - b).max() < 1e-3
    u8 = (img * 80).astype(np.uint8)
    a8 = op(u8, seed=0).astype(int)
    b8 = op(torch.from_numpy(u8).permute(2, 0, 1), seed=0).permute(1, 2, 0).numpy().astype(int)
    assert np.abs(a8 - b8).max() <= 1  # rounding of the uint8 result only


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_constant_border_uses_fill_per_channel(kind: str) -> None:
    img = np.full((9, 9, 3), 200, np.uint8)
    op = Rotate((45, 45), interpolation="nearest", fill=(1, 2, 3))
    x: Any = img if kind == "numpy" else torch.from_numpy(img).permute(2, 0, 1)
    out = to_numpy(op(x, seed=0))
    out = out if kind == "numpy" else np.moveaxis(out, 0, -1)
    assert out[0, 0].tolist() == [1, 2, 3]  # a corner rotated out of the image
    assert out[4, 4].tolist() == [200, 200, 200]


@pytest.mark.parametrize("border", ["reflect", "replicate", "wrap"])
def test_non_constant_borders_leave_no_fill(border: str) -> None:
    img = np.full((12, 10), 100.0, np.float32)
    out = Rotate((33, 33), border=border, fill=0)(img, seed=0)
    assert np.allclose(out, 100.0, atol=1e-4)


def test_borders_follow_opencv_definitions() -> None:
    # A shift by two pixels shows what each border rule puts beyond the right edge.
    row = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32).repeat(4, axis=0)
    t = torch.from_numpy(row)
    op = Rotate(0)
    from augkit.image import _cv, _torch

    shift = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])  # out(x) = in(x + 2)
    expected = {
        "constant": [3, 4, 0, 0],
        "replicate": [3, 4, 4, 4],
        "reflect": [3, 4, 3, 2],  # OpenCV's REFLECT_101: the edge pixel is not repeated
        "wrap": [3, 4, 1, 2],
    }
    for border, values in expected.items():
        for interp in INTERPS:
            a = _cv.warp_affine(row, shift, (4, 4), interp, border, (0.0,))
            b = _torch.warp_affine(t, [shift], (4, 4), interp, border, (0.0,)).numpy()
            assert a[0].tolist() == values, (border, interp)
            assert np.allclose(b, a, atol=1e-5), (border, interp)
    assert op.border == "constant"


def test_expand_keeps_every_pixel() -> None:
    img = np.ones((30, 50), np.float32)
    cut = Rotate((30, 30))(img, seed=0)
    whole = Rotate((30, 30), expand=True)(img, seed=0)
    assert whole.shape == (
        int(np.ceil(50 * np.sin(np.pi / 6) + 30 * np.cos(np.pi / 6))),
        int(np.ceil(50 * np.cos(np.pi / 6) + 30 * np.sin(np.pi / 6))),
    )
    assert abs(whole.sum() - img.sum()) < 0.01 * img.sum()
    assert cut.sum() < 0.9 * img.sum()


@pytest.mark.parametrize("policy", ["propagate", "raise"])
def test_nan_policy(policy: str) -> None:
    img = np.zeros((8, 8), np.float32)
    img[4, 4] = np.nan
    op = Rotate(10, nan_policy=policy)
    if policy == "raise":
        with pytest.raises(ValueError, match="NaN"):
            op(img, seed=0)
        with pytest.raises(ValueError, match="NaN"):
            op(torch.from_numpy(img), seed=0)
        with pytest.raises(ValueError, match="NaN"):
            op({"image": img}, seed=0)
    else:
        assert np.isnan(op(img, seed=0)).any()
        assert torch.isnan(op(torch.from_numpy(img), seed=0)).any()


def test_no_silent_dtype_change_and_no_rounding_of_floats() -> None:
    rng = np.random.default_rng(0)
    f = rng.random((16, 16, 3)).astype(np.float32) / 1000  # far below one uint8 step
    out = Rotate(20)(f, seed=0)
    assert out.dtype == np.float32 and 0 < out.max() < 0.002 and len(np.unique(out)) > 100
    u = (rng.random((16, 16)) * 255).astype(np.uint8)
    assert Rotate(20)(u, seed=0).dtype == np.uint8
    assert Rotate(20)(torch.from_numpy(u), seed=0).dtype == torch.uint8
    big = np.full((5, 5), 2**40 + 3, np.int64)
    assert Rotate((90, 90))(big, seed=0).tolist() == big.tolist()  # OpenCV alone would give int32
    assert Rotate((90, 90), interpolation="bilinear")(big, seed=0).dtype == np.int64


@settings(max_examples=60, deadline=None)
@given(x=tensors(max_side=12), seed=seeds)
def test_tensor_output_stays_on_its_device_and_is_not_a_view(x: torch.Tensor, seed: int) -> None:
    out = Rotate(40)(x, seed=seed)
    assert out.device == x.device and out.dtype == x.dtype
    assert out.data_ptr() != x.data_ptr()


def test_angle_is_drawn_uniformly_from_degrees() -> None:
    op = Rotate((-10, 25))
    angles = [op.sample_params(np.zeros((2, 2)), item_rng(5, 0, i))["angle"] for i in range(400)]
    assert min(angles) >= -10 and max(angles) <= 25
    assert abs(np.mean(angles) - 7.5) < 1.5
    assert Rotate(12).degrees == (-12.0, 12.0)


@settings(max_examples=100, deadline=None)
@given(
    x=np_images(max_side=20, dtypes=(np.uint8, np.uint16, np.float32)),
    angle=st.floats(-180, 180),
    interp=st.sampled_from(["nearest", "bilinear"]),
    border=st.sampled_from(BORDERS),
)
def test_three_channel_fast_route_equals_channel_by_channel(
    x: np.ndarray, angle: float, interp: str, border: str
) -> None:
    # Three-channel images are warped through OpenCV's four-channel kernel; each
    # channel must come out exactly as if it had been warped on its own.
    if x.ndim == 2:
        x = np.stack([x, x[::-1], x[:, ::-1]], axis=-1)
    x = x[:, :, :3] if x.shape[2] >= 3 else np.concatenate([x] * 3, axis=2)[:, :, :3]
    op = Rotate((angle, angle), interpolation=interp, border=border, fill=(1, 2, 3))
    out = op(x, seed=0)
    for ch in range(3):
        alone = Rotate((angle, angle), interpolation=interp, border=border, fill=ch + 1)(
            np.ascontiguousarray(x[:, :, ch]), seed=0
        )
        assert np.array_equal(out[:, :, ch], alone)


@pytest.mark.parametrize("hw", [(1, 1), (1, 5), (5, 1)])
@pytest.mark.parametrize("interp", INTERPS)
def test_one_pixel_wide_images_with_every_border(hw: tuple[int, int], interp: str) -> None:
    # OpenCV 5.0 hangs on bicubic + REFLECT_101 for such images unless worked around.
    x = np.random.default_rng(0).random((*hw, 3)).astype(np.float32)
    for border in BORDERS:
        for angle in (-130.9, 17.0, 45.0):
            op = Rotate((angle, angle), interpolation=interp, border=border, expand=True)
            a = op(x, seed=0)
            b = op(torch.from_numpy(x).permute(2, 0, 1), seed=0).permute(1, 2, 0).numpy()
            assert a.shape == b.shape
            assert np.abs(a - b).max() < 1e-3, (border, angle)
