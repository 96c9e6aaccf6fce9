"""What an image is to the geometry operators: numpy arrays, PIL images, torch tensors.

This module recognises the three input kinds without importing Pillow or torch
(an object can only be a ``torch.Tensor`` if torch is already imported), checks
shapes and dtypes with messages that name the problem, and converts PIL images
to numpy and back.

numpy images are ``HxWxC`` and tensors ``CxHxW``. A 3-d input laid out the
other way round would be taken silently as a strip a few pixels high with many
channels, so the one shape that is far more likely a mistake than an image is
refused (:func:`swapped_layout`): a numpy array whose first axis is 1, 3 or 4
and whose last axis is longer than 4 (a ``CxHxW`` array), and a 3-d tensor
whose last axis is 1, 3 or 4 and whose first axis is longer than 4 (an
``HxWxC`` tensor). The error says how to convert.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

NUMPY = "numpy"
PIL = "pil"
TORCH = "torch"

# PIL modes whose pixels round-trip through ``np.asarray`` / ``Image.fromarray``;
# "P" and "1" are index / binary images and are always resampled with nearest.
_PIL_FROMARRAY = {"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16", "F"}
_PIL_FROMBYTES = {"CMYK", "YCbCr", "HSV", "LAB", "RGBX"}
PIL_NEAREST_ONLY = frozenset({"1", "P"})


def is_tensor(x: Any) -> bool:
    """True for a ``torch.Tensor``; never imports torch."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def is_pil(x: Any) -> bool:
    """True for a ``PIL.Image.Image``; never imports Pillow."""
    mod = sys.modules.get("PIL.Image")
    return mod is not None and isinstance(x, mod.Image)


def image_kind(x: Any, what: str = "image") -> str:
    """``"numpy"``, ``"pil"`` or ``"torch"``; ``TypeError`` for anything else."""
    if isinstance(x, np.ndarray):
        return NUMPY
    if is_tensor(x):
        return TORCH
    if is_pil(x):
        return PIL
    raise TypeError(
        f"{what} must be a numpy array (HxW or HxWxC), a PIL image or a torch tensor "
        f"(CxHxW or NxCxHxW), got {type(x).__name__}"
    )


def image_hw(x: Any) -> tuple[int, int]:
    """Height and width of an image of any supported kind (no validation)."""
    if isinstance(x, np.ndarray):
        return int(x.shape[0]), int(x.shape[1])
    if is_pil(x):
        return int(x.height), int(x.width)
    return int(x.shape[-2]), int(x.shape[-1])


_FEW_CHANNELS = (1, 3, 4)


def swapped_layout(shape: Sequence[int], tensor: bool) -> bool:
    """True when a 3-d ``shape`` is almost surely the other library's layout.

    numpy (``HxWxC``): first axis 1, 3 or 4 and last axis > 4, i.e. ``CxHxW``.
    torch (``CxHxW``): last axis 1, 3 or 4 and first axis > 4, i.e. ``HxWxC``.
    """
    if len(shape) != 3:
        return False
    few, many = (shape[2], shape[0]) if tensor else (shape[0], shape[2])
    return few in _FEW_CHANNELS and many > 4


def _swapped_error(what: str, shape: tuple[int, ...], tensor: bool) -> ValueError:
    if tensor:
        return ValueError(
            f"{what} has shape {shape}, which looks like HxWxC; torch images are CxHxW "
            f"(channels first). Convert with t.permute(2, 0, 1) (a 3-d tensor whose last "
            f"axis is 1, 3 or 4 and whose first axis is longer than 4 is refused as ambiguous)"
        )
    return ValueError(
        f"{what} has shape {shape}, which looks like CxHxW; numpy images are HxWxC "
        f"(channels last). Convert with np.moveaxis(x, 0, -1) (a 3-d array whose first "
        f"axis is 1, 3 or 4 and whose last axis is longer than 4 is refused as ambiguous)"
    )


def _check_numpy(x: np.ndarray, what: str) -> None:
    if x.ndim not in (2, 3):
        raise ValueError(
            f"{what} must be a numpy array of shape HxW or HxWxC, got ndim={x.ndim} "
            f"(shape {x.shape})"
        )
    if x.size == 0:
        raise ValueError(
            f"{what} is empty (shape {x.shape}): height, width and channels must be >= 1"
        )
    if swapped_layout(x.shape, tensor=False):
        raise _swapped_error(what, x.shape, tensor=False)
    kind = x.dtype.kind
    if kind not in "biuf" or (kind == "f" and x.dtype.itemsize > 8):
        raise TypeError(
            f"{what} has dtype {x.dtype}; supported: bool, integer types, float16/32/64"
        )


def _check_tensor(x: Any, what: str) -> None:
    if x.ndim not in (2, 3, 4):
        raise ValueError(
            f"{what} must be a torch tensor of shape HxW, CxHxW or NxCxHxW, got ndim={x.ndim} "
            f"(shape {tuple(x.shape)})"
        )
    if x.numel() == 0:
        raise ValueError(f"{what} is empty (shape {tuple(x.shape)})")
    if swapped_layout(x.shape, tensor=True):
        raise _swapped_error(what, tuple(x.shape), tensor=True)
    if x.is_complex():
        raise TypeError(f"{what} has complex dtype {x.dtype}; images must be real")


def _check_pil(x: Any, what: str) -> None:
    if x.width == 0 or x.height == 0:
        raise ValueError(f"{what} is empty (size {x.width}x{x.height})")
    if x.mode not in _PIL_FROMARRAY and x.mode not in _PIL_FROMBYTES:
        raise TypeError(
            f"{what} has PIL mode {x.mode!r}; supported: "
            f"{', '.join(sorted(_PIL_FROMARRAY | _PIL_FROMBYTES))}"
        )


def check_image(x: Any, what: str = "image", *, reject_nan: bool = False) -> str:
    """Validate one image and return its kind.

    ``reject_nan`` raises ``ValueError`` when a floating-point image holds NaN
    (the ``nan_policy="raise"`` of the operators).
    """
    kind = image_kind(x, what)
    if kind == NUMPY:
        _check_numpy(x, what)
        has_nan = reject_nan and x.dtype.kind == "f" and bool(np.isnan(x).any())
    elif kind == TORCH:
        _check_tensor(x, what)
        has_nan = reject_nan and x.is_floating_point() and bool(x.isnan().any())
    else:
        _check_pil(x, what)
        has_nan = reject_nan and x.mode == "F" and bool(np.isnan(np.asarray(x)).any())
    if has_nan:
        raise ValueError(
            f"{what} contains NaN (nan_policy='raise'; use nan_policy='propagate' to allow it)"
        )
    return kind


# --------------------------------------------------------------------------- PIL


def pil_to_numpy(img: Any) -> np.ndarray:
    """The pixels of a PIL image as an HxW or HxWxC array (a copy Pillow makes)."""
    return np.asarray(img)


def pil_from_numpy(arr: np.ndarray, like: Any) -> Any:
    """A PIL image of ``like``'s mode (and palette) holding ``arr``."""
    from PIL import Image

    mode = like.mode
    arr = np.ascontiguousarray(arr)
    if mode in _PIL_FROMBYTES:
        out = Image.frombytes(mode, (arr.shape[1], arr.shape[0]), arr.tobytes())
    else:
        out = Image.fromarray(arr)
        if mode == "P":
            palette = like.getpalette()
            if palette is not None:
                out.putpalette(palette)
            else:  # pragma: no cover - a P image always has a palette in Pillow >= 9
                out = out.convert("P")
        elif out.mode != mode:  # pragma: no cover - guarded by _PIL_FROMARRAY
            out = out.convert(mode)
    return out


# --------------------------------------------------------------------------- fill


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def normalize_fill(name: str, value: Any) -> float | tuple[float, ...]:
    """A fill value as given by the user: one number, or one number per channel."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return _finite(name, value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == 0:
            raise ValueError(f"{name} must be a number or a non-empty sequence of numbers")
        return tuple(_finite(f"{name}[{i}]", v) for i, v in enumerate(value))
    raise TypeError(f"{name} must be a number or a sequence of numbers, got {type(value).__name__}")


def float_bounds(low: int, high: int) -> tuple[float, float]:
    """The float64 values nearest to ``[low, high]`` that lie inside it.

    Clipping a float result to ``float(iinfo.max)`` is not enough before a cast:
    for int64 / uint64 that float rounds up to 2**63 / 2**64, which the cast
    wraps to the other end of the range.
    """
    lo, hi = float(low), float(high)
    if lo < low:
        lo = float(np.nextafter(lo, 0.0))
    if hi > high:
        hi = float(np.nextafter(hi, 0.0))
    return lo, hi


def fill_vector(fill: Any, channels: int, name: str = "fill") -> tuple[float, ...]:
    """``fill`` expanded to one value per channel; ``ValueError`` on a length mismatch."""
    if isinstance(fill, (int, float)):
        return (float(fill),) * channels
    values = tuple(float(v) for v in fill)
    if len(values) == 1:
        return values * channels
    if len(values) != channels:
        raise ValueError(f"{name} has {len(values)} values but the image has {channels} channel(s)")
    return values
