"""numpy kernels of the geometry operators, on OpenCV.

OpenCV does the resampling (``warpAffine``, ``resize``, ``flip``), as in
albumentations. What this module adds is what OpenCV leaves to the caller:
single-channel ``HxWx1`` arrays (OpenCV drops the channel axis), more than
four channels (its border value holds four numbers and bicubic / area accept at
most four channels), and dtypes it cannot resample (it silently turns int64
into int32, and rejects bool and float16). Every function returns an array of
the input's dtype and shape layout.

Coordinates are pixel indices: pixel ``(row i, column j)`` has its centre at
``(x=j, y=i)``; matrices map output indices to input indices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["contiguous_copy", "crop", "fill_array", "flip", "resize", "warp_affine"]

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
_NEAREST_EXACT = 6  # cv2.INTER_NEAREST_EXACT: pixel-centre aligned nearest for resize
_WARP_INVERSE_MAP = 16

# dtypes OpenCV interpolates natively (bilinear / bicubic / area) ...
_SMOOTH_NATIVE = frozenset(
    np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64)
)
# ... and those it copies exactly with nearest-neighbour, flip and resize-nearest.
_NEAREST_NATIVE = _SMOOTH_NATIVE | {np.dtype(np.int8), np.dtype(np.int32)}
# Same-size stand-ins for the rest: nearest-neighbour only moves whole pixels,
# so a bit-for-bit view with a native dtype gives the exact result.
_NEAREST_VIEW: dict[np.dtype[Any], np.dtype[Any]] = {
    np.dtype(np.bool_): np.dtype(np.uint8),
    np.dtype(np.float16): np.dtype(np.uint16),
    np.dtype(np.uint32): np.dtype(np.int32),
}
_FLIP_NATIVE = _NEAREST_NATIVE | frozenset(_NEAREST_VIEW)
_MAX_CHANNELS = 4


def _as_hwc(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 3 else img[:, :, None]


def _restore(out: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Give ``out`` the layout of ``like`` (OpenCV drops a trailing channel axis of 1)."""
    if like.ndim == 3 and out.ndim == 2:
        return out[:, :, None]
    return out


def _fill_in_dtype(fill: tuple[float, ...], dtype: np.dtype, view: np.dtype) -> tuple[float, ...]:
    """Fill values as the bit patterns of ``view`` that encode them in ``dtype``."""
    if dtype == view:
        return fill
    if dtype.kind == "b":
        return tuple(float(bool(v)) for v in fill)
    enc = fill_array(fill, dtype).view(view)
    return tuple(float(v) for v in enc.reshape(-1))


def _chunked(fn: Any, img: np.ndarray, fill: tuple[float, ...]) -> np.ndarray:
    """Run ``fn(chunk, chunk_fill)`` on groups of at most four channels and restack."""
    if img.ndim == 2 or img.shape[2] <= _MAX_CHANNELS:
        return _restore(fn(img, fill), img)
    c = img.shape[2]
    parts = []
    for s in range(0, c, _MAX_CHANNELS):
        part = img[:, :, s : s + _MAX_CHANNELS]
        parts.append(_restore(fn(part, fill[s : s + _MAX_CHANNELS]), part))
    return np.concatenate(parts, axis=2)


def _cv_value(fill: tuple[float, ...]) -> tuple[float, float, float, float]:
    v = (*fill, 0.0, 0.0, 0.0, 0.0)
    return (v[0], v[1], v[2], v[3])


def _cast_back(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float results back to ``dtype``: integers are rounded and clipped, never wrapped."""
    if out.dtype == dtype:
        return out
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(dtype)


def fill_array(fill: tuple[float, ...], dtype: np.dtype) -> np.ndarray:
    """Fill values in ``dtype``, saturated to its range as OpenCV does (never wrapped)."""
    arr = np.asarray(fill, dtype=np.float64)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        arr = np.clip(np.rint(arr), info.min, info.max)
    elif dtype.kind == "b":
        arr = arr != 0
    return arr.astype(dtype)


def _nearest_work(img: np.ndarray) -> tuple[np.ndarray, np.dtype]:
    """``img`` in a dtype that OpenCV moves exactly with nearest-neighbour, and that dtype."""
    dtype = img.dtype
    if dtype in _NEAREST_NATIVE:
        return img, dtype
    if dtype in _NEAREST_VIEW:
        view = _NEAREST_VIEW[dtype]
        return img.view(view), view
    # 8-byte types: each pixel as two int32 words (moved together by nearest)
    view = np.dtype(np.int32)
    return np.ascontiguousarray(_as_hwc(img)).view(view), view


def _from_view(out: np.ndarray, img: np.ndarray, view: np.dtype) -> np.ndarray:
    """Undo :func:`_nearest_work` on a result: ``img``'s dtype and layout."""
    dtype = img.dtype
    if view == dtype:
        return out
    if dtype.itemsize != view.itemsize:
        out = np.ascontiguousarray(out).view(dtype)
        return out if img.ndim == 3 else out[:, :, 0]
    return out.view(dtype)


def _work_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype OpenCV interpolates in for a dtype it cannot interpolate natively."""
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(np.float64)


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
        work, view = _nearest_work(img)
        return _from_view(_chunked(run, work, _fill_in_dtype(fill, dtype, view)), img, view)
    work = img if dtype in _SMOOTH_NATIVE else img.astype(_work_dtype(dtype))
    if interpolation == "bicubic" and border == "reflect" and 1 in work.shape[:2]:
        # OpenCV 5.0 never returns from a bicubic REFLECT_101 warp of an image one
        # pixel high or wide. Repeating that pixel row / column changes nothing:
        # every index reflects onto identical values, and row / column 0 keeps
        # its index, so the same inverse map applies.
        work = np.repeat(work, 2, axis=0) if work.shape[0] == 1 else work
        work = np.repeat(work, 2, axis=1) if work.shape[1] == 1 else work
    return _cast_back(_chunked(run, work, fill), dtype)


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


def resize(img: np.ndarray, out_hw: tuple[int, int], interpolation: str) -> np.ndarray:
    """``img`` resized to ``out_hw`` by ``cv2.resize`` (nearest is pixel-centre aligned)."""
    cv = cv2()
    dtype = img.dtype
    dsize = (int(out_hw[1]), int(out_hw[0]))
    nearest = interpolation == "nearest" or dtype.kind == "b"
    flag = _NEAREST_EXACT if nearest else _INTERP[interpolation]

    def run(part: np.ndarray, f: tuple[float, ...]) -> np.ndarray:
        return cv.resize(part, dsize, interpolation=flag)  # type: ignore[no-any-return]

    if nearest:
        work, view = _nearest_work(img)
        return _from_view(_chunked(run, work, ()), img, view)
    work = img if dtype in _SMOOTH_NATIVE else img.astype(_work_dtype(dtype))
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
