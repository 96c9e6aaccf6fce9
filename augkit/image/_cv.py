"""numpy kernels of the geometry operators, on OpenCV.

OpenCV does the resampling (``warpAffine``, ``resize``, ``flip``), as in
albumentations. What this module adds is what OpenCV leaves to the caller, so
that every dtype and channel count gets the same arithmetic (OpenCV 5.0,
measured against float64 references; the tests pin each point):

* **Channel groups.** OpenCV warps uint8 / uint16 / float32 at exact
  (float32) coordinates only in images of 1, 3 or 4 channels; 2 channels (and
  the 2-channel rest of a 6-channel image) are warped bilinearly on a
  1/32-pixel grid, and bicubic / area take at most four channels. Images are split into groups of 4, 3 or 1 channels
  (a rest of 2 is 1 + 1), so a channel's result never depends on the channels
  that travel with it. HxWx1 keeps its axis (OpenCV drops it).
* **Smooth warps** (bilinear, bicubic) sample uint8, uint16 and float32 as
  they are. int8, int16 and float16 go through float32, which holds them
  exactly. float64 and 32/64-bit integers go through float32 too, after each
  channel is shifted and scaled into [-1, 1] (exactly, by its midrange and a
  power of two): OpenCV warps float64 and int16 bilinearly on the 1/32-pixel
  grid (up to ~5 levels off on 0-255 data) and its float64 bicubic saturates
  at the int32 range. The cost is float32 precision relative to the channel's
  value range, the tolerance stated in the operators' docs.
* **Nearest-neighbour warps** move bits: a dtype is viewed as uint8 (1- and
  4-byte types) or uint16 words (2- and 8-byte types), which OpenCV samples
  exactly, so the result is bit-exact and the pixel chosen for an output
  position is the same for every dtype and channel count (a mask and its
  image agree). OpenCV's fixed-point kernels for the other dtypes pick a
  neighbouring pixel near ties.
* **Nearest resize** is an index lookup by :func:`nearest_indices`, the
  pixel-centre rule computed exactly in integers, shared with the torch
  kernels. **Area resize** is ``cv2.INTER_AREA``; :func:`area_weights` writes
  its weights as matrices for the torch kernels. Other resizes run in the
  dtypes OpenCV resizes natively (uint8, uint16, int16, float32, float64),
  float32 for int8 / float16 and float64 for the rest.

Integer results are rounded (half to even) and saturated, never wrapped;
every function returns an array of the input's dtype and shape layout.

Coordinates are pixel indices: pixel ``(row i, column j)`` has its centre at
``(x=j, y=i)``; matrices map output indices to input indices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._arrays import float_bounds

_CV2: Any = None


def cv2() -> Any:
    """OpenCV, imported on first use (it costs ~100 ms and is only needed for images)."""
    global _CV2
    if _CV2 is None:
        import cv2 as _cv

        _CV2 = _cv
    return _CV2


_BORDERS = {"constant": 0, "replicate": 1, "reflect": 4, "wrap": 3}  # cv2.BORDER_* values
_INTERP = {"nearest": 0, "bilinear": 1, "bicubic": 2, "area": 3}  # cv2.INTER_*
_WARP_INVERSE_MAP = 16

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
# dtypes OpenCV warps at exact coordinates (in 1, 3 or 4 channel groups) ...
_WARP_NATIVE = frozenset(np.dtype(t) for t in (np.uint8, np.uint16, np.float32))
# ... and those float32 holds exactly.
_WARP_VIA_F32 = frozenset(np.dtype(t) for t in (np.int8, np.int16, np.float16))
# dtypes OpenCV resizes natively.
_RESIZE_NATIVE = frozenset(
    np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64)
)
# dtypes cv2.flip / cv2.copyTo keep (OpenCV 5.0 turns 8-byte integers into int32).
_FLIP_NATIVE = frozenset(
    np.dtype(t)
    for t in (
        np.bool_,
        np.uint8,
        np.int8,
        np.uint16,
        np.int16,
        np.float16,
        np.uint32,
        np.int32,
        np.float32,
        np.float64,
    )
)
_MAX_CHANNELS = 4


def _as_hwc(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 3 else img[:, :, None]


def _restore(out: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Give ``out`` the layout of ``like`` (OpenCV drops a trailing channel axis of 1)."""
    if like.ndim == 3 and out.ndim == 2:
        return out[:, :, None]
    return out


def _channel_groups(c: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges of 4, 3 or 1 channels covering ``c`` channels, in order."""
    full, rest = divmod(c, _MAX_CHANNELS)
    sizes = [_MAX_CHANNELS] * full + ([3] if rest == 3 else [1] * rest)
    groups, start = [], 0
    for size in sizes:
        groups.append((start, start + size))
        start += size
    return groups


def _chunked(
    fn: Callable[[np.ndarray, tuple[float, ...]], np.ndarray],
    img: np.ndarray,
    fill: tuple[float, ...],
) -> np.ndarray:
    """Run ``fn(group, group_fill)`` on channel groups of 4, 3 or 1 and restack."""
    if img.ndim == 2 or img.shape[2] in (1, 3, 4):
        return _restore(fn(img, fill), img)
    parts = []
    for start, stop in _channel_groups(img.shape[2]):
        part = img[:, :, start:stop]
        parts.append(_restore(fn(part, fill[start:stop]), part))
    return np.concatenate(parts, axis=2)


def _cv_value(fill: tuple[float, ...]) -> tuple[float, float, float, float]:
    v = (*fill, 0.0, 0.0, 0.0, 0.0)
    return (v[0], v[1], v[2], v[3])


def _cast_back(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float results back to ``dtype``: integers are rounded and saturated, never wrapped."""
    if out.dtype == dtype:
        return out
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        out = np.clip(np.rint(out), *float_bounds(int(info.min), int(info.max)))
    return out.astype(dtype)


def fill_array(fill: tuple[float, ...], dtype: np.dtype) -> np.ndarray:
    """Fill values in ``dtype``, saturated to its range as OpenCV does (never wrapped)."""
    arr = np.asarray(fill, dtype=np.float64)
    out: np.ndarray = arr != 0 if dtype.kind == "b" else _cast_back(arr, dtype)
    return out


# --------------------------------------------------------------------------- nearest


def _bit_view(dtype: np.dtype) -> np.dtype:
    """The dtype whose words carry ``dtype``'s bits through OpenCV's exact nearest kernel."""
    return np.dtype(np.uint8) if dtype.itemsize in (1, 4) else np.dtype(np.uint16)


def _nearest_work(img: np.ndarray) -> np.ndarray:
    """``img``'s bits as uint8 / uint16 words (HxWx(C*k) when a value takes k > 1 words)."""
    view = _bit_view(img.dtype)
    if img.dtype.itemsize == view.itemsize:
        return img.view(view)
    return np.ascontiguousarray(_as_hwc(img)).view(view)


def _from_words(out: np.ndarray, img: np.ndarray) -> np.ndarray:
    """Undo :func:`_nearest_work` on a result: ``img``'s dtype and layout."""
    if img.dtype.itemsize == out.dtype.itemsize:
        return out.view(img.dtype)
    out = np.ascontiguousarray(out).view(img.dtype)
    return out if img.ndim == 3 else out[:, :, 0]


def _fill_words(fill: tuple[float, ...], dtype: np.dtype) -> tuple[float, ...]:
    """Fill values as the words of :func:`_bit_view` that encode them in ``dtype``."""
    words = fill_array(fill, dtype).view(_bit_view(dtype))
    return tuple(float(v) for v in words.reshape(-1))


def nearest_indices(n_in: int, n_out: int) -> np.ndarray:
    """Source index of each output index for a nearest resize of ``n_in`` to ``n_out``.

    The pixel-centre rule ``floor((j + 0.5) * n_in / n_out)``, computed
    exactly in integers: an output centre that falls on the boundary of two
    input pixels takes the second. torch's "nearest-exact" is this rule in
    float32 (so it may land on the other side of such a tie); OpenCV's
    INTER_NEAREST_EXACT and Pillow's NEAREST compute it in 16.16 fixed point
    and land on either side of a tie, depending on the sizes. OpenCV's
    INTER_NEAREST and torch's "nearest" take ``floor(j * n_in / n_out)``,
    half a pixel off.
    """
    j = np.arange(n_out, dtype=np.int64)
    idx: np.ndarray = ((2 * j + 1) * n_in) // (2 * n_out)
    return idx


# --------------------------------------------------------------------------- smooth


def _smooth_work(
    img: np.ndarray, fill: tuple[float, ...] | None
) -> tuple[np.ndarray, tuple[float, ...] | None, np.ndarray | None, np.ndarray | None]:
    """``img`` in a dtype OpenCV warps exactly, the fill in it, and the per-channel map back.

    Returns ``(work, work_fill, mid, scale)``; ``mid`` and ``scale`` are
    ``None`` unless the values were shifted and scaled (``work * scale + mid``
    gives them back). ``fill`` is ``None`` when the border uses no fill.
    """
    dtype = img.dtype
    if dtype in _WARP_NATIVE:
        return img, fill, None, None
    if dtype in _WARP_VIA_F32:
        return img.astype(_F32), fill, None, None
    hwc = _as_hwc(img)
    if dtype.kind == "f":
        finite = np.isfinite(hwc)
        lo = np.where(finite, hwc, np.inf).min(axis=(0, 1))
        hi = np.where(finite, hwc, -np.inf).max(axis=(0, 1))
        none = lo > hi  # no finite value at all
        lo[none], hi[none] = 0.0, 0.0
    else:  # exact integer extremes, then float64
        lo = hwc.min(axis=(0, 1)).astype(_F64)
        hi = hwc.max(axis=(0, 1)).astype(_F64)
    if fill is not None:
        lo = np.minimum(lo, fill)
        hi = np.maximum(hi, fill)
    mid = lo / 2 + hi / 2  # halves first: no overflow near the float64 limit
    half = hi / 2 - lo / 2
    # A power of two at least ``half``: dividing by it is exact.
    scale = np.array([math.ldexp(1.0, min(math.frexp(h)[1], 1023)) if h > 0 else 1.0 for h in half])
    work = ((hwc.astype(_F64) - mid) / scale).astype(_F32)
    work_fill = None if fill is None else tuple(float(v) for v in (np.asarray(fill) - mid) / scale)
    return (work if img.ndim == 3 else work[:, :, 0]), work_fill, mid, scale


def _smooth_back(
    out: np.ndarray, dtype: np.dtype, mid: np.ndarray | None, scale: np.ndarray | None
) -> np.ndarray:
    if mid is not None and scale is not None:
        out = out.astype(_F64)
        out = out * scale + mid if out.ndim == 3 else out * scale[0] + mid[0]
    return _cast_back(out, dtype)


# --------------------------------------------------------------------------- kernels


def warp_affine(
    img: np.ndarray,
    inverse: np.ndarray,
    out_hw: tuple[int, int],
    interpolation: str,
    border: str,
    fill: tuple[float, ...],
) -> np.ndarray:
    """``out[y, x] = img[inverse @ (x, y, 1)]`` resampled by OpenCV's ``warpAffine``.

    ``inverse`` is the 2x3 map from output to input pixel indices, ``fill``
    holds one value per channel (used by the constant border).
    """
    cv = cv2()
    dtype = img.dtype
    dsize = (int(out_hw[1]), int(out_hw[0]))
    bmode = _BORDERS[border]
    nearest = interpolation == "nearest" or dtype.kind == "b"
    flags = _INTERP["nearest" if nearest else interpolation] | _WARP_INVERSE_MAP

    def run(part: np.ndarray, f: tuple[float, ...]) -> np.ndarray:
        return _warp(cv, part, inverse, dsize, flags, bmode, f)

    if nearest:
        words = _nearest_work(img)
        return _from_words(_chunked(run, words, _fill_words(fill, dtype)), img)
    work, work_fill, mid, scale = _smooth_work(img, fill if border == "constant" else None)
    if interpolation == "bicubic" and border == "reflect" and 1 in work.shape[:2]:
        # OpenCV 5.0 never returns from a bicubic REFLECT_101 warp of an image one
        # pixel high or wide. Repeating that pixel row / column changes nothing:
        # every index reflects onto identical values, and row / column 0 keeps
        # its index, so the same inverse map applies.
        work = np.repeat(work, 2, axis=0) if work.shape[0] == 1 else work
        work = np.repeat(work, 2, axis=1) if work.shape[1] == 1 else work
    out = _chunked(run, work, fill if work_fill is None else work_fill)
    return _smooth_back(out, dtype, mid, scale)


# cvtColor's RGB <-> RGBA conversions exist for these depths.
_FOUR_CHANNEL_DEPTHS = frozenset(np.dtype(t) for t in (np.uint8, np.uint16, np.float32))


def _warp(
    cv: Any,
    part: np.ndarray,
    inverse: np.ndarray,
    dsize: tuple[int, int],
    flags: int,
    bmode: int,
    fill: tuple[float, ...],
) -> np.ndarray:
    """``cv2.warpAffine``, taking three-channel images through its four-channel kernel.

    OpenCV vectorises nearest and bilinear warps for 1 and 4 channels but not
    for 3: adding an alpha channel (cvtColor, a cheap SIMD copy), warping and
    dropping it again gives the same values bit for bit and is faster on
    uint8 / uint16 / float32 (OpenCV 5.0, one thread, this project's machine:
    about 1.1-1.4x at 224x224 and 2-4x at 512x512 for uint8 bilinear; bicubic
    gains nothing and keeps the direct call).
    """
    if (
        part.ndim == 3
        and part.shape[2] == 3
        and flags & 7 in (0, 1)
        and part.dtype in _FOUR_CHANNEL_DEPTHS
    ):
        four = cv.cvtColor(part, 0)  # COLOR_BGR2BGRA: the order of channels is irrelevant here
        out4 = cv.warpAffine(
            four, inverse, dsize, flags=flags, borderMode=bmode, borderValue=_cv_value(fill)
        )
        return cv.cvtColor(out4, 1)  # type: ignore[no-any-return]  # COLOR_BGRA2BGR
    return cv.warpAffine(  # type: ignore[no-any-return]
        part, inverse, dsize, flags=flags, borderMode=bmode, borderValue=_cv_value(fill)
    )


def area_weights(n_in: int, n_out: int, coverage: bool) -> np.ndarray:
    """OpenCV's ``INTER_AREA`` along one axis as an ``(n_out, n_in)`` float64 matrix.

    With ``coverage`` (OpenCV's case when neither axis grows), output pixel
    ``j`` is the mean of the input over its footprint ``[j*s, (j+1)*s)``,
    ``s = n_in / n_out``: an input pixel weighs the length it shares with the
    footprint (OpenCV ignores slivers of at most 1e-3 pixel) over the
    footprint's length. Without (when either axis grows), OpenCV interpolates
    *both* axes with two taps, ``i = floor(j*s)`` and ``i + 1``, the second
    weighing ``f = (j+1) - (i+1)/s`` when positive (its fractional part),
    which equals the footprint's overlap whenever it spans at most two input
    pixels.
    """
    j = np.arange(n_out)
    inv_scale = n_out / n_in
    scale = 1.0 / inv_scale  # as OpenCV computes it: 1 / (36 / 40) is not 36 / 40
    if coverage:
        lo = j * scale
        width = np.minimum(scale, n_in - lo)
        k = np.arange(n_in)
        overlap = np.minimum(lo[:, None] + scale, k + 1) - np.maximum(lo[:, None], k)
        overlap = np.where(overlap > 1e-3, overlap, 0.0)
        weights: np.ndarray = overlap / width[:, None]
        return weights
    first = np.floor(j * scale).astype(np.int64)
    f = ((j + 1) - (first + 1) * inv_scale).astype(np.float32)  # OpenCV's float
    f = np.where(f <= 0, 0.0, f - np.floor(f)).astype(np.float64)
    last = first >= n_in - 1
    first = np.minimum(first, n_in - 1)
    f[last] = 0.0
    weights = np.zeros((n_out, n_in))
    weights[j, first] = 1.0 - f
    weights[j[~last], first[~last] + 1] = f[~last]
    return weights


def resize(img: np.ndarray, out_hw: tuple[int, int], interpolation: str) -> np.ndarray:
    """``img`` resized to ``out_hw``: nearest by :func:`nearest_indices`, else ``cv2.resize``."""
    h, w = int(out_hw[0]), int(out_hw[1])
    dtype = img.dtype
    if interpolation == "nearest" or dtype.kind == "b":
        rows = nearest_indices(img.shape[0], h)
        cols = nearest_indices(img.shape[1], w)
        return np.take(np.take(img, rows, axis=0), cols, axis=1)
    cv = cv2()
    flag = _INTERP[interpolation]

    def run(part: np.ndarray, f: tuple[float, ...]) -> np.ndarray:
        return cv.resize(part, (w, h), interpolation=flag)  # type: ignore[no-any-return]

    if dtype in _RESIZE_NATIVE:
        work = img
    else:
        work = img.astype(_F32 if dtype in _WARP_VIA_F32 else _F64)
    return _cast_back(_chunked(run, work, ()), dtype)


def flip(img: np.ndarray, axis: int) -> np.ndarray:
    """A C-contiguous flipped copy: ``axis=1`` left-right, ``axis=0`` up-down.

    ``cv2.flip`` copies several times faster than numpy copies a reversed
    view; numpy does the dtypes and channel counts OpenCV cannot.
    """
    if img.dtype in _FLIP_NATIVE and (img.ndim == 2 or img.shape[2] <= _MAX_CHANNELS):
        out: np.ndarray = (_CV2 or cv2()).flip(img, axis)
        return out if out.ndim == img.ndim else out[:, :, None]
    view = img[:, ::-1] if axis == 1 else img[::-1]
    return view.copy()  # not ascontiguousarray: a 1-pixel-wide view is already contiguous


def contiguous_copy(img: np.ndarray) -> np.ndarray:
    """A C-contiguous copy that shares no memory with ``img`` (typically a crop view).

    ``cv2.copyTo`` copies a strided window of a large image markedly faster
    than numpy when the source is not in cache (about 30 vs 50 us for a
    384x384x3 window of a 512x512 image here); numpy takes the dtypes and
    channel counts OpenCV would convert.
    """
    if img.dtype in _FLIP_NATIVE and (img.ndim == 2 or img.shape[2] <= _MAX_CHANNELS):
        out: np.ndarray = (_CV2 or cv2()).copyTo(img, None)
        return out if out.ndim == img.ndim else out[:, :, None]
    return img.copy()


def crop(
    img: np.ndarray,
    top: int,
    left: int,
    height: int,
    width: int,
    fill: tuple[float, ...],
) -> np.ndarray:
    """A new array holding the window ``[top, top+height) x [left, left+width)`` of ``img``.

    For windows that reach outside the image (padding): what lies outside is
    ``fill``. Windows inside the image are plain slices, taken by the caller.
    """
    h, w = img.shape[:2]
    shape = (height, width, *img.shape[2:])
    out = np.empty(shape, dtype=img.dtype)
    out[...] = fill_array(fill[:1] if img.ndim == 2 else fill, img.dtype)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, h), min(left + width, w)
    if y1 > y0 and x1 > x0:
        out[y0 - top : y1 - top, x0 - left : x1 - left] = img[y0:y1, x0:x1]
    return out
