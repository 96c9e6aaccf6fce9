"""torch kernels of the geometry operators: ``affine_grid`` + ``grid_sample``, ``interpolate``.

Everything runs on the tensor's own device (GPU included) and returns the
tensor's dtype and layout (HxW, CxHxW or NxCxHxW), for every real dtype.
The kernels follow the numpy ones' conventions (``_cv``), so that the two
paths agree to the tolerance stated in the operators' docs:

* **Nearest neighbour moves whole pixels.** Warps sample a map of source
  pixel indices (float32, exact below 2**24 pixels; float64 above) with
  ``grid_sample`` and gather the pixels;
  resizes select rows and columns by ``_cv.nearest_indices``. Results are
  bit-exact for every dtype, and the pixel chosen never depends on the dtype
  or on the channel count.
* **Smooth modes** resample floating point: float32 for 8/16-bit integers,
  bool, float16 and bfloat16 (all exact in float32), float64 for 32/64-bit
  integers and float64. Integer results are rounded (half to even) and
  saturated, never wrapped.
* **Area** resize is OpenCV's ``INTER_AREA``, as two weight matrices
  (``_cv.area_weights``) and a matmul; ``adaptive_avg_pool2d`` is something
  else for scales that are not integers.
* torch has no flip, gather or comparison kernels for uint16 / uint32 /
  uint64; pixels of those dtypes move as the signed integers of the same
  width (a view of the same bits).

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

from . import _cv
from ._arrays import float_bounds

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


def _movable(torch: Any, t: Any) -> Any:
    """``t`` as a dtype with flip / gather / where kernels: unsigned as signed bits."""
    for unsigned, signed in (("uint16", "int16"), ("uint32", "int32"), ("uint64", "int64")):
        if t.dtype == getattr(torch, unsigned, None):
            return t.view(getattr(torch, signed))
    return t


def _work_dtype(torch: Any, dtype: Any) -> Any:
    if dtype in (torch.float32, torch.float64):
        return dtype
    wide = {torch.int32, torch.int64}
    wide |= {getattr(torch, n) for n in ("uint32", "uint64") if hasattr(torch, n)}
    return torch.float64 if dtype in wide else torch.float32


def _cast_back(torch: Any, out: Any, dtype: Any) -> Any:
    if out.dtype == dtype:
        return out
    if dtype == torch.bool:
        return out > 0.5
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        out = out.round().clamp_(*float_bounds(int(info.min), int(info.max)))
    return out.to(dtype)


def _fill_values(torch: Any, fill: Sequence[float], dtype: Any, device: Any) -> Any:
    """Fill values in ``dtype``, saturated to its range (as the numpy kernels' ``fill_array``)."""
    value = torch.tensor([float(v) for v in fill], dtype=torch.float64)
    if dtype == torch.bool:
        return (value != 0).to(device)
    return _cast_back(torch, value, dtype).to(device)


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


def _sample(
    torch: Any,
    work: Any,
    inverses: Sequence[np.ndarray],
    out_hw: tuple[int, int],
    mode: str,
    border: str,
) -> Any:
    """``grid_sample`` of a floating ``work`` (NxCxHxW) through each 2x3 inverse map.

    Grids are built image by image (one for all, or one per image), so a
    batch gives bit-for-bit the results of its items alone; the grid has
    ``work``'s dtype. The constant border samples zeros outside.
    """
    F = torch.nn.functional
    n, c, hi, wi = work.shape
    ho, wo = out_hw
    folded = border in ("reflect", "wrap")
    grids = []
    for inv in inverses:
        theta = torch.tensor(
            _theta(inv, (hi, wi), (ho, wo), normalize=not folded),
            dtype=work.dtype,
            device=work.device,
        )
        grids.append(F.affine_grid(theta[None], [1, c, ho, wo], align_corners=False))
    grid = torch.cat(grids) if len(grids) > 1 else grids[0]
    if grid.shape[0] != n:
        if n == 1:
            work = work.expand(grid.shape[0], -1, -1, -1)
        else:
            grid = grid.expand(n, -1, -1, -1)
    if folded:
        px = min(_PAD, wi - 1) if border == "reflect" else min(_PAD, wi)
        py = min(_PAD, hi - 1) if border == "reflect" else min(_PAD, hi)
        gx = _fold(torch, grid[..., 0], wi, border) + px
        gy = _fold(torch, grid[..., 1], hi, border) + py
        if px or py:
            pad_mode = "reflect" if border == "reflect" else "circular"
            work = F.pad(work, (px, px, py, py), mode=pad_mode)
        wp, hp = wi + 2 * px, hi + 2 * py
        grid = torch.stack([(2 * gx + 1) / wp - 1, (2 * gy + 1) / hp - 1], dim=-1)
    padding = "zeros" if border == "constant" else "border"
    return F.grid_sample(work, grid, mode=mode, padding_mode=padding, align_corners=False)


def _warp_nearest(
    torch: Any,
    x: Any,
    inverses: Sequence[np.ndarray],
    out_hw: tuple[int, int],
    border: str,
    fill: Sequence[float],
) -> Any:
    """Nearest-neighbour warp of NxCxHxW ``x`` as a gather of sampled source indices."""
    n, c, hi, wi = x.shape
    ho, wo = out_hw
    constant = border == "constant"
    # Index + 1 under the constant border, so that 0 (the zero padding) means "outside".
    # float32 holds every index below 2**24 exactly (and MPS has no float64); the
    # map's dtype depends on the size only, so every dtype picks the same pixels.
    exact = torch.float32 if hi * wi < 2**24 else torch.float64
    index = torch.arange(hi * wi, dtype=exact, device=x.device).view(1, 1, hi, wi)
    src = _sample(torch, index + 1 if constant else index, inverses, out_hw, "nearest", border)
    src = src.to(torch.int64).reshape(src.shape[0], 1, ho * wo)
    if constant:
        inside = src > 0
        src = (src - 1).clamp_(min=0)
    pixels = _movable(torch, x).reshape(n, c, hi * wi)
    out = pixels.gather(2, src.expand(n, c, -1))
    if constant:
        value = _movable(torch, _fill_values(torch, fill, x.dtype, x.device)).view(1, c, 1)
        out = torch.where(inside.expand(n, c, -1), out, value)
    return out.reshape(n, c, ho, wo).view(x.dtype)


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
    image; a batch gives bit-for-bit the results of its items alone.
    """
    torch = _torch()
    x = _as_nchw(t)
    n, c, hi, wi = x.shape
    dtype = x.dtype
    out_hw = (int(out_hw[0]), int(out_hw[1]))
    if interpolation == "nearest" or dtype == torch.bool:
        return _restore(_warp_nearest(torch, x, inverses, out_hw, border, fill), t)
    work = x.to(_work_dtype(torch, dtype))
    fills = [float(v) for v in fill]
    if border == "constant" and any(v != 0.0 for v in fills):
        ones = torch.ones((n, 1, hi, wi), dtype=work.dtype, device=x.device)
        both = _sample(
            torch, torch.cat([work, ones], dim=1), inverses, out_hw, interpolation, border
        )
        value = torch.tensor(fills, dtype=work.dtype, device=x.device).view(1, c, 1, 1)
        out = both[:, :c] + value * (1 - both[:, c:])
    else:
        out = _sample(torch, work, inverses, out_hw, interpolation, border)
    return _restore(_cast_back(torch, out, dtype), t)


def resize(t: Any, out_hw: tuple[int, int], interpolation: str) -> Any:
    """``t`` resized to ``out_hw`` with the numpy kernels' conventions (no antialias).

    Nearest selects ``_cv.nearest_indices``; area applies ``_cv.area_weights``
    (OpenCV's INTER_AREA) as two matmuls; bilinear and bicubic are
    ``interpolate(align_corners=False)``, which samples as ``cv2.resize`` does.
    """
    torch = _torch()
    x = _as_nchw(t)
    hi, wi = int(x.shape[-2]), int(x.shape[-1])
    ho, wo = int(out_hw[0]), int(out_hw[1])
    dtype = x.dtype
    if interpolation == "nearest" or dtype == torch.bool:
        rows = torch.from_numpy(_cv.nearest_indices(hi, ho)).to(x.device)
        cols = torch.from_numpy(_cv.nearest_indices(wi, wo)).to(x.device)
        out = _movable(torch, x).index_select(-2, rows).index_select(-1, cols)
        return _restore(out.view(dtype), t)
    work = x.to(_work_dtype(torch, dtype))
    if interpolation == "area":
        coverage = hi >= ho and wi >= wo
        wy = torch.from_numpy(_cv.area_weights(hi, ho, coverage)).to(work)
        wx = torch.from_numpy(_cv.area_weights(wi, wo, coverage)).to(work)
        out = torch.matmul(torch.matmul(wy, work), wx.T)
    else:
        out = torch.nn.functional.interpolate(
            work, size=(ho, wo), mode=interpolation, align_corners=False
        )
    return _restore(_cast_back(torch, out, dtype), t)


def flip(t: Any, axis: int) -> Any:
    """A flipped copy: ``axis=1`` left-right (last dim), ``axis=0`` up-down."""
    torch = _torch()
    return _movable(torch, t).flip((-1,) if axis == 1 else (-2,)).view(t.dtype)


def rot90(t: Any, k: int) -> Any:
    """``t`` turned by ``k`` quarter turns over its last two dims (``np.rot90``'s sense)."""
    torch = _torch()
    return _movable(torch, t).rot90(k, (-2, -1)).view(t.dtype)


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
    value = _fill_values(torch, fill, t.dtype, t.device)
    out = torch.empty(shape, dtype=t.dtype, device=t.device)
    if t.ndim == 2:
        out.fill_(value[0])
    else:
        out.copy_(value.view(-1, 1, 1).expand(shape) if len(fill) > 1 else value[0].expand(shape))
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, h), min(left + width, w)
    if y1 > y0 and x1 > x0:
        out[..., y0 - top : y1 - top, x0 - left : x1 - left] = t[..., y0:y1, x0:x1]
    return out
