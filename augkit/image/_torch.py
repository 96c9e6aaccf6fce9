"""torch kernels of the geometry operators: ``affine_grid`` + ``grid_sample``, ``interpolate``.

Everything runs on the tensor's own device (GPU included) and returns the
tensor's dtype and layout (HxW, CxHxW or NxCxHxW). torch resamples floating
point only, so integer and bool tensors are resampled in float32 (float64 for
32/64-bit integers, which float32 cannot hold exactly) and rounded, clipped
and cast back; nearest-neighbour results are therefore exact for every dtype.

Coordinates are pixel indices, as in the numpy kernels: the 2x3 ``inverse``
maps output pixel indices to input pixel indices. ``grid_sample`` offers zero
and border padding only; a constant fill other than zero samples a channel of
ones alongside the image (its value is the weight that fell inside the image,
which is exactly how OpenCV blends the border value), and the reflect / wrap
borders fold the sampling coordinates into the image and pre-pad it by two
pixels with the same rule, which makes bilinear and bicubic taps near the
edge read what OpenCV's borders give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["crop", "flip", "resize", "warp_affine"]

_RESIZE_MODES = {
    "nearest": "nearest-exact",
    "bilinear": "bilinear",
    "bicubic": "bicubic",
    "area": "area",
}
_PAD = 2  # enough for the 4x4 bicubic footprint


def _torch() -> Any:
    import torch

    return torch


def _as_nchw(t: Any) -> Any:
    if t.ndim == 2:
        return t[None, None]
    if t.ndim == 3:
        return t[None]
    return t


def _restore(out: Any, like: Any) -> Any:
    if like.ndim == 2:
        return out[0, 0]
    if like.ndim == 3:
        return out[0]
    return out


def _work_dtype(torch: Any, dtype: Any) -> Any:
    if dtype in (torch.float32, torch.float64):
        return dtype
    if dtype in (torch.int32, torch.int64, torch.uint32, torch.uint64):
        return torch.float64
    return torch.float32


def _cast_back(torch: Any, out: Any, dtype: Any) -> Any:
    if out.dtype == dtype:
        return out
    if dtype == torch.bool:
        return out > 0.5
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        out = out.round().clamp_(info.min, info.max)
    return out.to(dtype)


def _fill_tensor(torch: Any, fill: Sequence[float], channels: int, like: Any) -> Any:
    return torch.tensor(list(fill), dtype=like.dtype, device=like.device).view(1, channels, 1, 1)


def _theta(
    inverse: np.ndarray, in_hw: tuple[int, int], out_hw: tuple[int, int], normalize: bool
) -> np.ndarray:
    """The ``affine_grid`` matrix: output normalized coords -> input index (or normalized) coords."""
    ho, wo = out_hw
    # affine_grid(align_corners=False) gives x_n = (2j + 1) / wo - 1 for output column j.
    d = np.array([[wo / 2, 0.0, (wo - 1) / 2], [0.0, ho / 2, (ho - 1) / 2], [0.0, 0.0, 1.0]])
    m = np.vstack([np.asarray(inverse, dtype=np.float64), [0.0, 0.0, 1.0]]) @ d
    if normalize:
        hi, wi = in_hw
        n = np.array([[2 / wi, 0.0, 1 / wi - 1], [0.0, 2 / hi, 1 / hi - 1], [0.0, 0.0, 1.0]])
        m = n @ m
    theta: np.ndarray = m[:2]
    return theta


def _fold(torch: Any, x: Any, size: int, border: str) -> Any:
    """Coordinates folded into the image by the reflect-101 or wrap rule."""
    if border == "wrap":
        return torch.remainder(x, size)
    if size == 1:
        return torch.zeros_like(x)
    period = 2 * (size - 1)
    x = torch.remainder(x, period)
    return torch.where(x > size - 1, period - x, x)


def warp_affine(
    t: Any,
    inverses: Sequence[np.ndarray],
    out_hw: tuple[int, int],
    interpolation: str,
    border: str,
    fill: Sequence[float],
) -> Any:
    """Resample ``t`` (HxW, CxHxW or NxCxHxW) through one 2x3 inverse map per image.

    ``inverses`` holds one matrix for the whole tensor or one per leading
    image; grids are built image by image so that a batch gives bit-for-bit
    the results of its items alone.
    """
    torch = _torch()
    F = torch.nn.functional
    x = _as_nchw(t)
    n, c, hi, wi = x.shape
    dtype = x.dtype
    mode = "nearest" if dtype == torch.bool else interpolation
    work = x.to(_work_dtype(torch, dtype))
    ho, wo = int(out_hw[0]), int(out_hw[1])
    folded = border in ("reflect", "wrap")
    grids = []
    for inv in inverses:
        theta = torch.tensor(
            _theta(inv, (hi, wi), (ho, wo), normalize=not folded), dtype=work.dtype, device=x.device
        )
        grids.append(F.affine_grid(theta[None], [1, c, ho, wo], align_corners=False))
    grid = torch.cat(grids) if len(grids) > 1 else grids[0]
    if grid.shape[0] != n:
        grid = grid.expand(n, -1, -1, -1)
    if folded:
        px = min(_PAD, wi - 1) if border == "reflect" else min(_PAD, wi)
        py = min(_PAD, hi - 1) if border == "reflect" else min(_PAD, hi)
        gx = _fold(torch, grid[..., 0], wi, border) + px
        gy = _fold(torch, grid[..., 1], hi, border) + py
        pad_mode = "reflect" if border == "reflect" else "circular"
        if px or py:
            work = F.pad(work, (px, px, py, py), mode=pad_mode)
        wp, hp = wi + 2 * px, hi + 2 * py
        grid = torch.stack([(2 * gx + 1) / wp - 1, (2 * gy + 1) / hp - 1], dim=-1)
        out = F.grid_sample(work, grid, mode=mode, padding_mode="border", align_corners=False)
    elif border == "replicate":
        out = F.grid_sample(work, grid, mode=mode, padding_mode="border", align_corners=False)
    else:
        fills = [float(v) for v in fill]
        if any(v != 0.0 for v in fills):
            ones = torch.ones((n, 1, hi, wi), dtype=work.dtype, device=x.device)
            both = F.grid_sample(
                torch.cat([work, ones], dim=1),
                grid,
                mode=mode,
                padding_mode="zeros",
                align_corners=False,
            )
            out = both[:, :c] + _fill_tensor(torch, fills, c, work) * (1 - both[:, c:])
        else:
            out = F.grid_sample(work, grid, mode=mode, padding_mode="zeros", align_corners=False)
    return _restore(_cast_back(torch, out, dtype), t)


def resize(t: Any, out_hw: tuple[int, int], interpolation: str) -> Any:
    """``t`` resized to ``out_hw`` with ``torch.nn.functional.interpolate`` (no antialias)."""
    torch = _torch()
    x = _as_nchw(t)
    dtype = x.dtype
    mode = "nearest-exact" if dtype == torch.bool else _RESIZE_MODES[interpolation]
    work = x.to(_work_dtype(torch, dtype))
    kwargs: dict[str, Any] = {}
    if mode in ("bilinear", "bicubic"):
        kwargs["align_corners"] = False
    out = torch.nn.functional.interpolate(
        work, size=(int(out_hw[0]), int(out_hw[1])), mode=mode, **kwargs
    )
    return _restore(_cast_back(torch, out, dtype), t)


def flip(t: Any, axis: int) -> Any:
    """A flipped copy: ``axis=1`` left-right (last dim), ``axis=0`` up-down."""
    return _torch().flip(t, (-1,) if axis == 1 else (-2,))


def crop(
    t: Any,
    top: int,
    left: int,
    height: int,
    width: int,
    fill: Sequence[float] | None,
    copy: bool,
) -> Any:
    """The window ``[top, top+height) x [left, left+width)``; a view inside the image."""
    h, w = int(t.shape[-2]), int(t.shape[-1])
    if top >= 0 and left >= 0 and top + height <= h and left + width <= w:
        view = t[..., top : top + height, left : left + width]
        return view.clone(memory_format=_torch().contiguous_format) if copy else view
    if fill is None:  # pragma: no cover - the operators check sizes first
        raise ValueError(
            f"crop window {height}x{width} at ({top}, {left}) leaves the {h}x{w} image"
        )
    torch = _torch()
    shape = (*t.shape[:-2], height, width)
    fills = list(fill)
    value = torch.tensor(fills, dtype=torch.float64)
    if t.dtype == torch.bool:
        value = value != 0
    elif not t.dtype.is_floating_point:
        info = torch.iinfo(t.dtype)
        value = value.round().clamp(info.min, info.max)
    value = value.to(device=t.device, dtype=t.dtype)
    out = torch.empty(shape, dtype=t.dtype, device=t.device)
    if t.ndim == 2:
        out.fill_(value[0])
    else:
        out.copy_(value.view(-1, 1, 1).expand(shape) if len(fills) > 1 else value[0].expand(shape))
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, h), min(left + width, w)
    if y1 > y0 and x1 > x0:
        out[..., y0 - top : y1 - top, x0 - left : x1 - left] = t[..., y0:y1, x0:x1]
    return out
