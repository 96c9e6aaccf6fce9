"""numpy = torch = PIL for the same parameters, to the tolerance docs/image_operators.md states.

The promise (geometry's module docstring): crops, flips, quarter turns and
nearest resizes are bit-identical; nearest rotation picks the same pixels
except within float32 rounding of a tie; bilinear, bicubic and area differ by
at most ``1e-6 * max(H, W, 16) * R`` (``R`` the value range of image and
fill), one more level for integer dtypes, one more unit in the last place for
float16. Every dtype and channel count (1-6, and HxW) is compared, and each
channel must come out as it would alone.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import cv2
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from augkit.image import (
    CenterCrop,
    HorizontalFlip,
    RandomCrop,
    RandomResizedCrop,
    Rotate,
    VerticalFlip,
)
from augkit.image.functional import _rotation_inverse

from .helpers import MORE_DTYPES, random_array, seeds, unambiguous_height

NP_DTYPES = (
    np.uint8,
    np.uint16,
    np.int16,
    np.int32,
    np.float32,
    np.float64,
    np.int8,
    np.float16,
    np.int64,
    np.uint32,
    np.uint64,
    np.bool_,
)
CHANNELS = (None, 1, 2, 3, 4, 5, 6)
TORCH_OF = {
    np.dtype(np.bool_): torch.bool,
    np.dtype(np.uint8): torch.uint8,
    np.dtype(np.int8): torch.int8,
    np.dtype(np.uint16): torch.uint16,
    np.dtype(np.int16): torch.int16,
    np.dtype(np.uint32): torch.uint32,
    np.dtype(np.int32): torch.int32,
    np.dtype(np.uint64): torch.uint64,
    np.dtype(np.int64): torch.int64,
    np.dtype(np.float16): torch.float16,
    np.dtype(np.float32): torch.float32,
    np.dtype(np.float64): torch.float64,
}
ROTATIONS = [
    Rotate((23.7, 23.7), interpolation=interp, border=border, fill=fill, expand=expand)
    for interp in ("bilinear", "bicubic")
    for border, fill, expand in (("constant", 3, True), ("reflect", 0, False), ("wrap", 0, False))
] + [Rotate((-131.0, -131.0), interpolation="bilinear", border="replicate")]
RESIZES = [
    RandomResizedCrop(size, interpolation=interp)
    for interp in ("bilinear", "bicubic", "area")
    for size in ((16, 16), (7, 30), (40, 9))
]
EXACT = [
    HorizontalFlip(),
    VerticalFlip(),
    RandomCrop((5, 7)),
    CenterCrop((30, 9), pad_if_needed=True, fill=2),
    Rotate((90, 90), interpolation="bicubic", expand=True),
    Rotate((180, 180)),
    RandomResizedCrop((16, 16), interpolation="nearest"),
    RandomResizedCrop((40, 9), interpolation="nearest"),
]


def label(op: Any) -> str:
    """A short test id: the operator's name and what sets it apart."""
    cfg = op.get_config()
    keys = ("degrees", "interpolation", "border", "expand", "size", "pad_if_needed")
    return "-".join([op.name, *(str(cfg[k]) for k in keys if k in cfg)]).replace(" ", "")


def to_tensor(x: np.ndarray) -> torch.Tensor:
    """An HxW / HxWxC array as the HxW / CxHxW tensor of the same dtype."""
    t = torch.from_numpy(np.ascontiguousarray(x).view(x.dtype))
    return t if x.ndim == 2 else t.permute(2, 0, 1)


def from_tensor(t: torch.Tensor) -> np.ndarray:
    """A tensor result back in numpy's layout, as float64 (bool stays bool)."""
    a = t.cpu()
    a = a if a.dtype == torch.bool else a.to(torch.float64)
    arr = a.numpy()
    return arr if arr.ndim == 2 else np.moveaxis(arr, 0, -1)


# Sampled in float32 as they are; the others are shifted first (numpy) or
# sampled in float64 (torch), which leaves float64 rounding of their magnitude.
AS_THEY_ARE = frozenset(
    np.dtype(t) for t in (np.uint8, np.uint16, np.int8, np.int16, np.float16, np.float32)
)


def tolerance(x: np.ndarray, out_hw: tuple[int, int], fill: float) -> float:
    """The stated bound on |numpy - torch| for a smooth resampling of ``x``.

    ``1e-6 * max(H, W, 16) * R + c * M``: ``R`` the value range and ``M`` the
    largest magnitude of image and fill, ``c`` 1e-5 for the dtypes sampled in
    float32 as they are and 1e-12 for the rest; plus one level for integer
    dtypes and one unit in the last place for float16 (rounding of the result).
    """
    if x.dtype.kind == "b":
        return 0.0
    lo = min(float(x.min()), fill)
    hi = max(float(x.max()), fill)
    magnitude = max(abs(lo), abs(hi))
    tol = 1e-6 * max(*x.shape[:2], *out_hw, 16) * (hi - lo)
    tol += (1e-5 if x.dtype in AS_THEY_ARE else 1e-12) * magnitude
    if x.dtype.kind in "iu":
        tol += 1.0
    if x.dtype == np.float16:
        tol += float(np.spacing(np.float16(magnitude)))
    return tol


def image(dtype: Any, channels: int | None, seed: int = 0, hw: tuple[int, int] = (13, 17)) -> Any:
    rng = np.random.default_rng(seed)
    shape = hw if channels is None else (unambiguous_height(hw[0], channels), hw[1], channels)
    return random_array(rng, shape, dtype)


def _fill(op: Any) -> float:
    fill = getattr(op, "fill", 0.0)
    return float(fill if isinstance(fill, float) else fill[0])


@pytest.mark.parametrize("dtype", NP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("op", ROTATIONS + RESIZES, ids=label)
def test_smooth_resampling_agrees_within_the_stated_tolerance(dtype: Any, op: Any) -> None:
    for channels in CHANNELS:
        x = image(dtype, channels)
        a = op(x, seed=5)
        b = from_tensor(op(to_tensor(x), seed=5))
        assert a.shape == b.shape and a.dtype == x.dtype
        tol = tolerance(x, a.shape[:2], _fill(op))
        err = np.abs(a.astype(np.float64) - b).max() if x.dtype.kind != "b" else (a != b).sum()
        assert err <= tol, (channels, err, tol)


@pytest.mark.parametrize("dtype", NP_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("op", EXACT, ids=label)
def test_exact_operators_are_identical_on_every_path(dtype: Any, op: Any) -> None:
    for channels in CHANNELS:
        x = image(dtype, channels)
        a = op(x, seed=5)
        b = op(to_tensor(x), seed=5)
        assert a.dtype == x.dtype and b.dtype == TORCH_OF[x.dtype]
        assert np.array_equal(a.astype(np.float64), from_tensor(b).astype(np.float64)), channels


def _near_a_tie(inverse: np.ndarray, out_hw: tuple[int, int], eps: float) -> np.ndarray:
    """Output pixels whose exact source position lies within ``eps`` of a pixel boundary."""
    ys, xs = np.mgrid[0 : out_hw[0], 0 : out_hw[1]].astype(np.float64)
    sx = inverse[0, 0] * xs + inverse[0, 1] * ys + inverse[0, 2]
    sy = inverse[1, 0] * xs + inverse[1, 1] * ys + inverse[1, 2]
    dist = np.minimum(np.abs(sx - np.floor(sx) - 0.5), np.abs(sy - np.floor(sy) - 0.5))
    return dist < eps


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from(NP_DTYPES),
    channels=st.sampled_from(CHANNELS),
    angle=st.floats(-180, 180),
    border=st.sampled_from(["constant", "reflect", "replicate", "wrap"]),
    seed=seeds,
)
def test_nearest_rotation_picks_the_same_pixels_on_both_paths(
    dtype: Any, channels: int | None, angle: float, border: str, seed: int
) -> None:
    # Nearest moves whole pixels, so a differing output pixel is a differing
    # choice of source pixel; that may only happen at a (float32) tie.
    x = image(dtype, channels, seed, hw=(15, 21))
    op = Rotate((angle, angle), interpolation="nearest", border=border, fill=1)
    a = op(x, seed=0)
    b = op(to_tensor(x), seed=0)
    assert b.dtype == TORCH_OF[x.dtype]
    a2 = a.reshape(*a.shape[:2], -1).astype(np.float64)
    b2 = from_tensor(b).reshape(*a.shape[:2], -1).astype(np.float64)
    differs = (a2 != b2).any(axis=2)
    inverse, _ = _rotation_inverse(angle, x.shape[:2], False)
    assert not (differs & ~_near_a_tie(inverse, a.shape[:2], 1e-4)).any()


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from(NP_DTYPES),
    channels=st.sampled_from(CHANNELS[2:]),
    interp=st.sampled_from(["nearest", "bilinear", "bicubic"]),
    border=st.sampled_from(["constant", "reflect", "replicate", "wrap"]),
    angle=st.floats(-180, 180),
    seed=seeds,
)
def test_a_channel_comes_out_as_it_would_alone(
    dtype: Any, channels: int, interp: str, border: str, angle: float, seed: int
) -> None:
    # OpenCV samples 2-channel images (and the 2-channel rest of 6) on a
    # 1/32-pixel grid, 1/3/4 channels exactly; augkit groups channels so that
    # which channels travel together never changes a value.
    x = image(dtype, channels, seed)
    fill = tuple(range(2, 2 + channels))
    out = Rotate((angle, angle), interpolation=interp, border=border, fill=fill)(x, seed=0)
    t = Rotate((angle, angle), interpolation=interp, border=border, fill=fill)(to_tensor(x), seed=0)
    for k in range(channels):
        one = Rotate((angle, angle), interpolation=interp, border=border, fill=fill[k])
        assert np.array_equal(out[:, :, k], one(np.ascontiguousarray(x[:, :, k]), seed=0))
        alone = one(to_tensor(np.ascontiguousarray(x[:, :, k])), seed=0)
        assert torch.equal(t[k], alone)


# --------------------------------------------------------------------------- PIL

PIL_CASES = [
    ("L", np.uint8, None),
    ("LA", np.uint8, 2),
    ("RGB", np.uint8, 3),
    ("RGBA", np.uint8, 4),
    ("I;16", np.uint16, None),
    ("I", np.int32, None),
    ("F", np.float32, None),
]


@pytest.mark.parametrize(("mode", "dtype", "channels"), PIL_CASES, ids=[c[0] for c in PIL_CASES])
@pytest.mark.parametrize("op", ROTATIONS[:3] + RESIZES[::2] + EXACT, ids=label)
def test_pil_images_equal_their_numpy_arrays(
    mode: str, dtype: Any, channels: int | None, op: Any
) -> None:
    x = image(dtype, channels)
    if dtype == np.int32:
        x = x // 2**9  # Pillow's "I" mode holds int32
    pil = Image.fromarray(x)
    assert pil.mode == mode
    out = op(pil, seed=5)
    assert out.mode == mode
    assert np.array_equal(np.asarray(out), op(np.asarray(pil), seed=5))


# --------------------------------------------------------------------------- references


def _float64_reference(x: np.ndarray, inverse: np.ndarray, interp: str) -> np.ndarray:
    """torch's float64 grid_sample at exact coordinates (replicate border), clipped to dtype."""
    from augkit.image import _torch

    t = to_tensor(x.astype(np.float64))
    ref = from_tensor(_torch.warp_affine(t, [inverse], x.shape[:2], interp, "replicate", [0.0]))
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        ref = np.clip(ref, info.min, info.max)
    return ref


@pytest.mark.parametrize(
    ("dtype", "channels"),
    [
        (np.uint8, 2),  # PIL "LA"
        (np.uint8, 6),  # a 2-channel rest
        (np.uint16, 2),
        (np.float32, 2),
        (np.int16, 1),
        (np.int32, 3),
        (np.float64, 1),
        (np.float64, 4),
    ],
)
@pytest.mark.parametrize("interp", ["bilinear", "bicubic"])
def test_smooth_warps_sample_at_exact_coordinates(dtype: Any, channels: int, interp: str) -> None:
    # Regression (issue 9): these were sampled on OpenCV's 1/32-pixel grid,
    # up to ~5 levels off on 0-255 data.
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (17, 19, channels)).astype(dtype)
    inverse, _ = _rotation_inverse(23.7, (17, 19), False)
    out = Rotate((23.7, 23.7), interpolation=interp, border="replicate")(x, seed=0)
    ref = _float64_reference(x, inverse, interp)
    rounding = 0.5 if x.dtype.kind in "iu" else 0.0
    assert np.abs(out.astype(np.float64) - ref).max() <= rounding + 1e-6 * 19 * 255


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.uint32, np.uint64, np.int32])
@pytest.mark.parametrize("interp", ["bilinear", "bicubic"])
def test_large_values_survive_smooth_rotation(dtype: Any, interp: str) -> None:
    # Regression (issue 9): OpenCV's float64 bicubic saturates at the int32 range,
    # Rotate(interpolation="bicubic", border="replicate") of 3e9 gave -2147484160.
    value = {np.int32: 2**31 - 5}.get(dtype, 3e9)
    x = np.full((16, 16), value).astype(dtype)
    op = Rotate(interpolation=interp, border="replicate")
    out = op.apply(x, {"angle": 10.0})
    assert out.dtype == x.dtype and np.array_equal(out, x)  # a constant image stays constant
    t = from_tensor(op.apply(torch.from_numpy(x), {"angle": 10.0}))
    assert np.abs(t - x).max() <= tolerance(x, (16, 16), value)
    ramp = (value - np.arange(16 * 16).reshape(16, 16) * 1e6).astype(dtype)
    got = op.apply(ramp, {"angle": 10.0}).astype(np.float64)
    want = from_tensor(op.apply(torch.from_numpy(ramp), {"angle": 10.0}))
    assert np.abs(got - want).max() <= tolerance(ramp, (16, 16), 0.0)


@pytest.mark.parametrize(
    ("in_hw", "out_hw"),
    [((20, 30), (16, 16)), ((30, 20), (16, 16)), ((10, 30), (16, 16)), ((12, 8), (40, 31))],
)
@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.float64, np.int32])
def test_tensor_area_is_opencvs_inter_area(
    in_hw: tuple[int, int], out_hw: tuple[int, int], dtype: Any
) -> None:
    # Regression (issue 9): adaptive_avg_pool2d is not INTER_AREA for a non-integer
    # scale; a 20x30 float crop resized to 16x16 differed by 0.227, uint8 by 123 levels.
    import albumentations as A

    rng = np.random.default_rng(0)
    x = rng.random((*in_hw, 3))
    x = (x * 255).astype(dtype) if np.dtype(dtype).kind in "iu" else x.astype(dtype)
    op = RandomResizedCrop(out_hw, interpolation="area")
    whole = {"top": 0, "left": 0, "height": in_hw[0], "width": in_hw[1], "fallback": False}
    ours = from_tensor(op.apply(to_tensor(x), whole))
    native = x if x.dtype != np.int32 else x.astype(np.float64)  # OpenCV resizes no int32
    opencv = cv2.resize(native, out_hw[::-1], interpolation=cv2.INTER_AREA).astype(np.float64)
    albu = A.Resize(*out_hw, interpolation=cv2.INTER_AREA)(image=native)["image"]
    tol = tolerance(x, out_hw, 0.0)
    assert np.abs(ours - opencv).max() <= tol
    assert np.abs(ours - albu.astype(np.float64)).max() <= tol
    assert np.abs(op.apply(x, whole) - opencv).max() <= (0.5 if x.dtype == np.int32 else 0.0)


@settings(max_examples=100, deadline=None)
@given(
    hi=st.integers(1, 50),
    wi=st.integers(1, 50),
    ho=st.integers(1, 50),
    wo=st.integers(1, 50),
    dtype=st.sampled_from([np.float32, np.float64, np.uint8, np.uint16]),
    seed=seeds,
)
def test_tensor_area_matches_opencv_for_any_sizes(
    hi: int, wi: int, ho: int, wo: int, dtype: Any, seed: int
) -> None:
    x = random_array(np.random.default_rng(seed), (hi, wi), dtype)
    op = RandomResizedCrop((ho, wo), interpolation="area")
    whole = {"top": 0, "left": 0, "height": hi, "width": wi, "fallback": False}
    a = op.apply(x, whole).astype(np.float64)
    b = from_tensor(op.apply(torch.from_numpy(x), whole))
    assert np.abs(a - b).max() <= tolerance(x, (ho, wo), 0.0)


@settings(max_examples=100, deadline=None)
@given(
    hi=st.integers(1, 60),
    wi=st.integers(1, 60),
    ho=st.integers(1, 60),
    wo=st.integers(1, 60),
    dtype=st.sampled_from((np.uint8, np.float32, *MORE_DTYPES, np.uint32, np.uint64)),
    seed=seeds,
)
def test_nearest_resize_takes_the_pixel_under_each_output_centre(
    hi: int, wi: int, ho: int, wo: int, dtype: Any, seed: int
) -> None:
    # One rule on both paths, computed exactly: output index j reads input index
    # floor((j + 0.5) * n_in / n_out); a centre on a pixel boundary reads the second.
    x = random_array(np.random.default_rng(seed), (hi, wi), dtype)
    op = RandomResizedCrop((ho, wo), interpolation="nearest")
    whole = {"top": 0, "left": 0, "height": hi, "width": wi, "fallback": False}
    rows = [math.floor((j + Fraction(1, 2)) * Fraction(hi, ho)) for j in range(ho)]
    cols = [math.floor((j + Fraction(1, 2)) * Fraction(wi, wo)) for j in range(wo)]
    want = x[np.ix_(rows, cols)]
    assert np.array_equal(op.apply(x, whole), want)
    assert np.array_equal(op.apply(torch.from_numpy(x), whole).numpy(), want)


def test_nearest_resize_of_a_mask_is_the_same_for_numpy_and_torch() -> None:
    # Regression (issue 9): a 25x40 -> 20x30 mask differed in 72 of 600 pixels.
    mask = np.random.default_rng(0).integers(0, 5, (25, 40)).astype(np.uint8)
    op = RandomResizedCrop((20, 30), interpolation="nearest")
    whole = {"top": 0, "left": 0, "height": 25, "width": 40, "fallback": False}
    item = {"image": np.zeros((25, 40, 3), np.uint8), "mask": mask}
    a = op.apply(item, whole)["mask"]
    b = op.apply({"image": torch.zeros(3, 25, 40), "mask": torch.from_numpy(mask)}, whole)
    assert np.array_equal(a, b["mask"].numpy())
    # Column j = 1 has its centre at 1.5 * 40 / 30 = 2.0 exactly: the tie reads column 2.
    assert np.array_equal(a[:, 1], mask[[((2 * j + 1) * 25) // 40 for j in range(20)], 2])


@pytest.mark.parametrize("dtype", [torch.uint16, torch.uint32, torch.uint64])
def test_unsigned_tensors_go_through_every_operator(dtype: torch.dtype) -> None:
    # Regression (issue 9): HorizontalFlip()(torch.zeros(3, 8, 8, dtype=torch.uint16))
    # raised NotImplementedError (torch has no flip kernel for it).
    t = torch.arange(3 * 8 * 8, dtype=torch.int64).reshape(3, 8, 8).to(dtype)
    ref = t.to(torch.int64)
    assert torch.equal(
        HorizontalFlip()(torch.zeros(3, 8, 8, dtype=dtype)), torch.zeros(3, 8, 8, dtype=dtype)
    )
    assert torch.equal(HorizontalFlip()(t).to(torch.int64), ref.flip(-1))
    assert torch.equal(VerticalFlip()(t).to(torch.int64), ref.flip(-2))
    assert torch.equal(Rotate((90, 90))(t, seed=0).to(torch.int64), ref.rot90(1, (-2, -1)))
    for op in EXACT + ROTATIONS + RESIZES:
        out = op(t, seed=1)
        assert out.dtype == dtype
        expected = op(t.numpy().transpose(1, 2, 0).copy(), seed=1)
        tol = tolerance(expected, expected.shape[:2], _fill(op)) if op in ROTATIONS + RESIZES else 0
        assert np.abs(from_tensor(out) - expected.astype(np.float64)).max() <= tol, op


def test_nearest_tensor_warps_keep_every_bit_of_wide_integers() -> None:
    big = torch.tensor([[2**62 + 1, -(2**61) - 3], [2**60 + 7, 5]], dtype=torch.int64)
    x = big.repeat(4, 4)
    out = Rotate((33, 33), interpolation="nearest", fill=2**52 + 1)(x, seed=0)
    assert set(out.flatten().tolist()) == set(x.flatten().tolist()) | {2**52 + 1}
    a = Rotate((33, 33), interpolation="nearest", fill=2**52 + 1)(x.numpy(), seed=0)
    assert np.array_equal(a, out.numpy())


def test_one_pixel_choice_for_every_dtype_on_the_numpy_path() -> None:
    # OpenCV's exact nearest kernel serves uint8 / uint16 / float32 with 1, 3 or
    # 4 channels, a fixed-point one the rest; augkit moves every dtype through
    # the exact one, so a label map and its image pick the same pixels.
    idx = np.arange(64 * 64).reshape(64, 64)
    for angle in np.linspace(0.1, 89.9, 40):
        op = Rotate((angle, angle), interpolation="nearest", border="replicate")
        want = op(idx.astype(np.float32), seed=0)
        for dtype in (np.int32, np.int64, np.uint32, np.float64, np.uint64):
            for channels in (None, 2, 3):
                x = idx.astype(dtype)
                x = x if channels is None else np.repeat(x[:, :, None], channels, axis=2)
                out = op(x, seed=0)
                first = out if channels is None else out[:, :, 0]
                assert np.array_equal(first, want.astype(dtype)), (angle, dtype, channels)
