"""Strategies and helpers shared by the image-operator tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
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
from augkit.image import functional as F

torch.set_num_threads(1)

seeds = st.integers(0, 2**32 - 1)
COMMON_DTYPES = (np.uint8, np.float32)
MORE_DTYPES = (np.uint16, np.int16, np.float64, np.float16, np.int64, np.int32, np.bool_)


def random_array(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind == "f":
        return rng.random(shape).astype(dt)
    info = np.iinfo(dt)
    lo, hi = max(info.min, -(2**40)), min(info.max, 2**40)
    return rng.integers(lo, hi, size=shape, endpoint=True).astype(dt)


ALL_CHANNELS = (None, 1, 2, 3, 4, 6)
FEW_CHANNELS = (None, 1, 2, 3, 4)  # chains of operators: see unambiguous_height


@st.composite
def np_images(
    draw: Any,
    *,
    max_side: int = 20,
    dtypes: tuple[Any, ...] | None = None,
    channels: tuple[int | None, ...] = ALL_CHANNELS,
) -> np.ndarray:
    """HxW or HxWxC arrays (C in ``channels``), uint8/float32 mostly, other dtypes sometimes."""
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    c = draw(st.sampled_from(channels))
    if dtypes is None:
        dtype = draw(st.sampled_from(COMMON_DTYPES * 3 + MORE_DTYPES))
    else:
        dtype = draw(st.sampled_from(dtypes))
    rng = np.random.default_rng(draw(seeds))
    shape = (h, w) if c is None else (unambiguous_height(h, c), w, c)
    return random_array(rng, shape, dtype)


def unambiguous_height(h: int, c: int) -> int:
    """``h`` raised past the heights (1, 3, 4) at which an HxWxC array with C > 4 is refused.

    Such an array looks like CxHxW. A crop of a many-channel image to such a
    height is refused by the next operator, so chains of operators are tested
    with at most four channels (``FEW_CHANNELS``).
    """
    while c > 4 and h in (1, 3, 4):
        h += 1
    return h


TENSOR_DTYPES = (torch.uint8, torch.float32) * 3 + (
    torch.float64,
    torch.uint16,
    torch.int64,
    torch.uint32,
    torch.bool,
)


def random_tensor(g: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """Uniform floats in [0, 1), integers in [0, 255] (0 or 1 for bool)."""
    if dtype.is_floating_point:
        return torch.rand(shape, generator=g, dtype=dtype)
    top = 2 if dtype == torch.bool else 256
    return torch.randint(0, top, shape, generator=g, dtype=torch.int64).to(dtype)


@st.composite
def tensors(draw: Any, *, max_side: int = 16) -> torch.Tensor:
    """HxW, CxHxW or NxCxHxW tensors, uint8 or float32 mostly, other dtypes sometimes."""
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    lead = draw(st.sampled_from([(), (1,), (3,), (2, 3), (1, 4)]))
    dtype = draw(st.sampled_from(TENSOR_DTYPES))
    g = torch.Generator().manual_seed(draw(seeds))
    return random_tensor(g, (*lead, h, w), dtype)


PIL_MODES = ("L", "RGB", "RGBA", "F", "I;16", "P", "1", "LA")


@st.composite
def pil_images(draw: Any, *, max_side: int = 16) -> Image.Image:
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    mode = draw(st.sampled_from(PIL_MODES))
    rng = np.random.default_rng(draw(seeds))
    if mode == "F":
        return Image.fromarray(rng.random((h, w)).astype(np.float32))
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65535, (h, w)).astype(np.uint16))
    if mode == "1":
        return Image.fromarray(rng.random((h, w)) < 0.5)
    if mode in ("RGB", "RGBA", "LA"):
        c = {"RGB": 3, "RGBA": 4, "LA": 2}[mode]
        return Image.fromarray(rng.integers(0, 256, (h, w, c)).astype(np.uint8), mode)
    img = Image.fromarray(rng.integers(0, 256, (h, w)).astype(np.uint8), "L")
    if mode == "P":
        img = img.convert("P")
        img.putpalette(list(range(256)) * 3)
    return img


def images(
    max_side: int = 16, channels: tuple[int | None, ...] = ALL_CHANNELS
) -> st.SearchStrategy[Any]:
    """Any supported image kind."""
    return st.one_of(
        np_images(max_side=max_side, channels=channels),
        tensors(max_side=max_side),
        pil_images(max_side=max_side),
    )


@st.composite
def operators(draw: Any) -> Any:
    """One of the six operators with a random valid configuration (crops pad when needed)."""
    name = draw(st.sampled_from(["rotate", "random_crop", "center_crop", "rrc", "hflip", "vflip"]))
    if name == "rotate":
        return Rotate(
            degrees=draw(st.floats(0, 180)),
            interpolation=draw(st.sampled_from(["nearest", "bilinear", "bicubic"])),
            border=draw(st.sampled_from(["constant", "reflect", "replicate", "wrap"])),
            fill=draw(st.sampled_from([0, 7])),
            expand=draw(st.booleans()),
        )
    size = (draw(st.integers(1, 24)), draw(st.integers(1, 24)))
    if name == "random_crop":
        return RandomCrop(
            size,
            pad_if_needed=True,
            fill=draw(st.sampled_from([0, 3])),
            padding=draw(st.sampled_from([0, 1, (2, 0)])),
            copy=draw(st.booleans()),
        )
    if name == "center_crop":
        return CenterCrop(size, pad_if_needed=True, copy=draw(st.booleans()))
    if name == "rrc":
        return RandomResizedCrop(
            size, interpolation=draw(st.sampled_from(["nearest", "bilinear", "bicubic", "area"]))
        )
    return HorizontalFlip() if name == "hflip" else VerticalFlip()


def to_numpy(x: Any) -> np.ndarray:
    """Pixels of any kind as a numpy array (tensors keep their CxHxW layout)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def same(a: Any, b: Any) -> bool:
    """Exact equality of two outputs of the same kind (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, Image.Image):
        return (
            a.mode == b.mode
            and a.size == b.size
            and np.array_equal(np.asarray(a), np.asarray(b), equal_nan=a.mode == "F")
        )
    if isinstance(a, (np.ndarray, torch.Tensor)):
        x, y = to_numpy(a), to_numpy(b)
        if x.dtype != y.dtype or x.shape != y.shape:
            return False
        return bool(np.array_equal(x, y, equal_nan=x.dtype.kind == "f"))
    return bool(a == b)


def expected_hw(op: Any, hw: tuple[int, int], params: dict[str, Any]) -> tuple[int, int]:
    """The output size an operator must produce for input size ``hw`` and ``params``."""
    if isinstance(op, Rotate):
        if not op.expand:
            return hw
        return F.rotate_matrix(params["angle"], hw, op.expand)[1]
    if isinstance(op, RandomResizedCrop):
        return op.size
    if isinstance(op, (RandomCrop, CenterCrop)):
        return op.size
    return hw


def hw_of(x: Any) -> tuple[int, int]:
    if isinstance(x, Image.Image):
        return x.height, x.width
    if isinstance(x, np.ndarray):
        return x.shape[0], x.shape[1]
    return int(x.shape[-2]), int(x.shape[-1])


def apply_with(
    spec: ImageTargets,
    op: Any,
    item: Any,
    params: dict[str, Any] | None = None,
    seed: int = 0,
) -> Any:
    """``op`` on ``item`` read with ``spec``, as a ``Pipeline(targets=spec)`` step runs it.

    The parameters are drawn from ``item_rng(seed)`` unless given, so two
    specs (say two box formats) can be compared on the same geometry.
    """
    value, _, put = spec.split(item)
    op.validate_input(value)
    if params is None:
        params = op.sample_params(value, item_rng(seed))
    return put(op.apply(value, params))
