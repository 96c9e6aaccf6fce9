"""The pure geometry of augkit's image operators: one public function per operation.

Each image function takes

* a numpy array ``HxW`` or ``HxWxC`` (any channel count; bool, integer or
  float dtypes), a PIL image, or a torch tensor ``HxW``, ``CxHxW`` or
  ``NxCxHxW`` (any device, any real dtype), and returns the same kind,
  dtype, layout and device; numpy is resampled by OpenCV, PIL images as
  their numpy arrays (bit-identical to them), tensors by
  ``torch.nn.functional``;
* or a :class:`~augkit.image.TargetItem`, the canonical image item an
  :class:`~augkit.image.ImageTargets` pipeline hands its operators: the
  image, every mask (nearest, ``mask_fill`` at constant borders), the boxes
  and keypoints move by the same geometry, by the item's spec.

No randomness and no validation beyond the input kind: the operator classes
(:mod:`augkit.image.geometry`) check their inputs, draw the parameters and
make one call here, as torchvision's classes call
``transforms.v2.functional``.

>>> import numpy as np
>>> from augkit.image import functional as F
>>> img = np.arange(12, dtype=np.uint8).reshape(3, 4)
>>> F.hflip(img).tolist()
[[3, 2, 1, 0], [7, 6, 5, 4], [11, 10, 9, 8]]
>>> F.crop(img, 1, 1, 2, 2).tolist()
[[5, 6], [9, 10]]
>>> F.rotate(img, 180).tolist() == img[::-1, ::-1].tolist()
True

The target functions work on plain arrays: each ``*_matrix`` function gives
the 3x3 map of continuous image coordinates of an operation and its output
size, :func:`affine_boxes` and :func:`affine_keypoints` move pascal_voc
boxes and pixel-index keypoints by it, :func:`convert_boxes` changes box
formats:

>>> m, out_hw = F.hflip_matrix((3, 4))
>>> F.affine_boxes([[0, 0, 1, 3]], m, (3, 4), out_hw)[0].tolist()
[[3.0, 0.0, 4.0, 3.0]]

Numerical agreement of the paths (crops, flips, quarter turns and nearest
resizes identical everywhere; smooth resampling within
``1e-6 * max(H, W, 16) * R + c * M``) is stated in
:mod:`augkit.image.geometry` and docs/image_operators.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..validation import check_choice
from . import _cv, _torch
from ._arrays import (
    PIL_NEAREST_ONLY,
    fill_vector,
    image_hw,
    image_kind,
    is_pil,
    is_tensor,
    pil_from_numpy,
    pil_to_numpy,
)
from ._targets import affine_boxes, affine_keypoints, convert_boxes
from .targets import TargetItem

__all__ = [
    "affine_boxes",
    "affine_keypoints",
    "convert_boxes",
    "crop",
    "crop_matrix",
    "hflip",
    "hflip_matrix",
    "resize",
    "resized_crop",
    "resized_crop_matrix",
    "rotate",
    "rotate_matrix",
    "vflip",
    "vflip_matrix",
]

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
RESIZE_INTERPOLATIONS = (*INTERPOLATIONS, "area")
BORDERS = ("constant", "reflect", "replicate", "wrap")

Fill = float | Sequence[float]


def _channels_np(a: np.ndarray) -> int:
    return 1 if a.ndim == 2 else int(a.shape[2])


def _channels_t(t: Any) -> int:
    return 1 if t.ndim == 2 else int(t.shape[-3])


def _by_kind(
    img: Any,
    interpolation: str,
    on_array: Callable[[np.ndarray, str], np.ndarray],
    on_tensor: Callable[[Any, str], Any],
) -> Any:
    """Run the numpy or the torch kernel; a PIL image goes through its numpy array.

    Palette and 1-bit PIL images are resampled with nearest: their values
    are indices, which cannot be blended.
    """
    if isinstance(img, np.ndarray):
        return on_array(img, interpolation)
    if is_tensor(img):
        return on_tensor(img, interpolation)
    if is_pil(img):
        interp = "nearest" if img.mode in PIL_NEAREST_ONLY else interpolation
        return pil_from_numpy(on_array(pil_to_numpy(img), interp), img)
    image_kind(img)  # raises the TypeError that names the kinds
    raise AssertionError("unreachable")  # pragma: no cover


def _size(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, Sequence):
        return int(size[0]), int(size[1])
    return int(size), int(size)


# --------------------------------------------------------------------------- flips


def hflip_matrix(hw: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """The 3x3 map (continuous coordinates) of a left-right mirror of an ``hw`` image, and ``hw``."""
    return np.array([[-1.0, 0.0, hw[1]], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), hw


def vflip_matrix(hw: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """The 3x3 map of a top-bottom mirror of an ``hw`` image, and ``hw``."""
    return np.array([[1.0, 0.0, 0.0], [0.0, -1.0, hw[0]], [0.0, 0.0, 1.0]]), hw


def hflip(img: Any) -> Any:
    """Mirror left-right; numpy results are fresh C-contiguous arrays (``cv2.flip``).

    >>> hflip(np.array([[1, 2, 3]])).tolist()
    [[3, 2, 1]]
    """
    if type(img) is np.ndarray:  # the common case, without the generic dispatch
        return _cv.flip(img, 1)
    if isinstance(img, TargetItem):
        return img.transform(hflip, hflip, *hflip_matrix(img.hw))
    return _by_kind(img, "nearest", lambda a, _: _cv.flip(a, 1), lambda t, _: _torch.flip(t, 1))


def vflip(img: Any) -> Any:
    """Mirror top-bottom (see :func:`hflip`).

    >>> vflip(np.array([[1], [2]])).tolist()
    [[2], [1]]
    """
    if type(img) is np.ndarray:
        return _cv.flip(img, 0)
    if isinstance(img, TargetItem):
        return img.transform(vflip, vflip, *vflip_matrix(img.hw))
    return _by_kind(img, "nearest", lambda a, _: _cv.flip(a, 0), lambda t, _: _torch.flip(t, 0))


# --------------------------------------------------------------------------- rotate


def _rotation(
    angle: float, hw: tuple[int, int], expand: bool
) -> tuple[float, float, tuple[int, int]]:
    """``cos``, ``sin`` (exact for multiples of 90 degrees) and the output size."""
    a = float(angle) % 360.0
    if a in (0.0, 90.0, 180.0, 270.0):
        c, s = {0.0: (1.0, 0.0), 90.0: (0.0, 1.0), 180.0: (-1.0, 0.0), 270.0: (0.0, -1.0)}[a]
    else:
        r = math.radians(angle)
        c, s = math.cos(r), math.sin(r)
    h, w = hw
    if not expand:
        return c, s, hw
    ow = w * abs(c) + h * abs(s)
    oh = w * abs(s) + h * abs(c)
    # The 1e-6 keeps 90-degree multiples (and float noise around them) from growing by one.
    return c, s, (max(1, math.ceil(oh - 1e-6)), max(1, math.ceil(ow - 1e-6)))


def _rotation_inverse(
    angle: float, hw: tuple[int, int], expand: bool
) -> tuple[np.ndarray, tuple[int, int]]:
    """2x3 map from output pixel indices to input pixel indices, and the output size.

    The image turns about its centre, which in continuous coordinates is
    ``(W/2, H/2)`` and in pixel indices ``((W-1)/2, (H-1)/2)``; positive angles
    turn counter-clockwise as displayed (OpenCV's and torchvision's sense).
    With this centre a quarter turn of a square image maps pixel centres onto
    pixel centres, so it equals ``np.rot90`` exactly.
    """
    c, s, out = _rotation(angle, hw, expand)
    cix, ciy = hw[1] / 2, hw[0] / 2
    cox, coy = out[1] / 2, out[0] / 2
    ix = c * (0.5 - cox) - s * (0.5 - coy) + cix - 0.5
    iy = s * (0.5 - cox) + c * (0.5 - coy) + ciy - 0.5
    return np.array([[c, -s, ix], [s, c, iy]]), out


def _quarter_turns(angle: float, hw: tuple[int, int], expand: bool) -> int | None:
    """``k`` when the rotation is exactly ``np.rot90(x, k)``, else ``None``.

    A multiple of 90 degrees maps pixel centres onto pixel centres whenever
    the output has the rotated shape (always for 0 and 180 degrees; for 90
    and 270 with a square image or ``expand``). It is then a permutation of
    pixels: done without resampling, so even bilinear / bicubic and the
    float32 grid of the torch path give exact results.
    """
    a = float(angle) % 360.0
    if a not in (0.0, 90.0, 180.0, 270.0):
        return None
    k = int(a // 90)
    if k % 2 and not (expand or hw[0] == hw[1]):
        return None
    return k


def rotate_matrix(
    angle: float, hw: tuple[int, int], expand: bool = False
) -> tuple[np.ndarray, tuple[int, int]]:
    """The 3x3 map of :func:`rotate` on an ``hw`` image, and its output size.

    >>> m, out_hw = rotate_matrix(90, (2, 4), expand=True)
    >>> out_hw, (m @ [4.0, 0.0, 1.0]).round(9).tolist()  # the top-right corner
    ((4, 2), [0.0, 0.0, 1.0])
    """
    c, s, out = _rotation(angle, hw, expand)
    cix, ciy = hw[1] / 2, hw[0] / 2
    cox, coy = out[1] / 2, out[0] / 2
    tx = cox - (c * cix + s * ciy)
    ty = coy - (-s * cix + c * ciy)
    return np.array([[c, s, tx], [-s, c, ty], [0.0, 0.0, 1.0]]), out


def rotate(
    img: Any,
    angle: float,
    interpolation: str = "bilinear",
    border: str = "constant",
    fill: Fill = 0.0,
    expand: bool = False,
    *,
    mask_fill: Fill = 0.0,
) -> Any:
    """``img`` turned by ``angle`` degrees (counter-clockwise positive) about its centre.

    ``interpolation``: ``"nearest"``, ``"bilinear"`` or ``"bicubic"``.
    ``border``: ``"constant"`` (``fill``: a number or one per channel),
    ``"reflect"`` (OpenCV's REFLECT_101), ``"replicate"`` or ``"wrap"``.
    ``expand``: enlarge the canvas so that nothing is cut off. A multiple of
    90 degrees whose output has the rotated shape is a permutation of pixels,
    done without resampling. On a :class:`TargetItem` masks use nearest and
    ``mask_fill``.

    >>> square = np.arange(9).reshape(3, 3)
    >>> bool((rotate(square, 90, "nearest") == np.rot90(square)).all())
    True
    """
    angle = float(angle)
    if isinstance(img, TargetItem):
        return img.transform(
            lambda x: rotate(x, angle, interpolation, border, fill, expand),
            lambda m: rotate(m, angle, "nearest", border, mask_fill, expand),
            *rotate_matrix(angle, img.hw, expand),
        )
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    check_choice("border", border, BORDERS)

    def on_array(a: np.ndarray, interp: str) -> np.ndarray:
        hw = (a.shape[0], a.shape[1])
        k = _quarter_turns(angle, hw, expand)
        if k is not None:
            return np.rot90(a, k).copy() if k else a.copy()
        inverse, out_hw = _rotation_inverse(angle, hw, expand)
        vec = fill_vector(fill, _channels_np(a))
        return _cv.warp_affine(a, inverse, out_hw, interp, border, vec)

    def on_tensor(t: Any, interp: str) -> Any:
        hw = (int(t.shape[-2]), int(t.shape[-1]))
        k = _quarter_turns(angle, hw, expand)
        if k is not None:
            return _torch.rot90(t, k) if k else t.clone()
        inverse, out_hw = _rotation_inverse(angle, hw, expand)
        vec = fill_vector(fill, _channels_t(t))
        return _torch.warp_affine(t, [inverse], out_hw, interp, border, vec)

    return _by_kind(img, interpolation, on_array, on_tensor)


def _rotate_tensors(
    ts: Sequence[Any], angles: Sequence[float], interpolation: str, border: str, fill: Fill
) -> list[Any] | None:
    """:func:`rotate` (``expand=False``) of tensors of one shape, dtype and device in one
    ``grid_sample`` call, equal to one call each; ``None`` when they do not qualify."""
    first = ts[0]
    if first.ndim not in (2, 3, 4) or any(
        t.shape != first.shape or t.dtype != first.dtype or t.device != first.device for t in ts
    ):
        return None
    hw = (int(first.shape[-2]), int(first.shape[-1]))
    if any(_quarter_turns(a, hw, False) is not None for a in angles):
        return None
    import torch

    per = first.shape[0] if first.ndim == 4 else 1
    inverses = []
    for a in angles:
        inverse, _ = _rotation_inverse(a, hw, False)
        inverses.extend([inverse] * per)
    if first.ndim == 4:
        batch = torch.cat(list(ts))
    elif first.ndim == 3:
        batch = torch.stack(list(ts))
    else:
        batch = torch.stack(list(ts))[:, None]
    vec = fill_vector(fill, _channels_t(batch))
    out = _torch.warp_affine(batch, inverses, hw, interpolation, border, vec)
    if first.ndim == 4:
        return list(out.split(per))
    if first.ndim == 3:
        return list(out.unbind(0))
    return list(out[:, 0].unbind(0))


# --------------------------------------------------------------------------- crops


def crop_matrix(top: int, left: int, height: int, width: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The 3x3 map of :func:`crop` (a shift), and the window's size."""
    m = np.array([[1.0, 0.0, -float(left)], [0.0, 1.0, -float(top)], [0.0, 0.0, 1.0]])
    return m, (int(height), int(width))


def _inside(hw: tuple[int, int], top: int, left: int, height: int, width: int) -> bool:
    return top >= 0 and left >= 0 and top + height <= hw[0] and left + width <= hw[1]


def _crop_np(
    a: np.ndarray, top: int, left: int, height: int, width: int, fill: Fill, copy: bool
) -> np.ndarray:
    if _inside((a.shape[0], a.shape[1]), top, left, height, width):
        view = a[top : top + height, left : left + width]
        return _cv.contiguous_copy(view) if copy else view
    return _cv.crop(a, top, left, height, width, fill_vector(fill, _channels_np(a)))


def _crop_t(t: Any, top: int, left: int, height: int, width: int, fill: Fill, copy: bool) -> Any:
    inside = _inside((int(t.shape[-2]), int(t.shape[-1])), top, left, height, width)
    vec = None if inside else fill_vector(fill, _channels_t(t))
    return _torch.crop(t, top, left, height, width, vec, copy)


def crop(
    img: Any,
    top: int,
    left: int,
    height: int,
    width: int,
    fill: Fill = 0.0,
    *,
    copy: bool = False,
    mask_fill: Fill = 0.0,
) -> Any:
    """The window ``[top, top + height) x [left, left + width)`` of ``img``.

    Inside the image the result is a slice (a numpy / torch view; ``copy=True``
    gives a C-contiguous copy; PIL crops are always copies). What lies outside
    the image is ``fill`` (a number or one per channel; ``mask_fill`` for the
    masks of a :class:`TargetItem`).

    >>> crop(np.arange(6).reshape(2, 3), 1, 2, 2, 2, fill=-1).tolist()
    [[5, -1], [-1, -1]]
    """
    if type(img) is np.ndarray:
        return _crop_np(img, top, left, height, width, fill, copy)
    if isinstance(img, TargetItem):
        return img.transform(
            lambda x: crop(x, top, left, height, width, fill, copy=copy),
            lambda m: crop(m, top, left, height, width, mask_fill, copy=copy),
            *crop_matrix(top, left, height, width),
        )
    return _by_kind(
        img,
        "nearest",
        lambda a, _: _crop_np(a, top, left, height, width, fill, copy),
        lambda t, _: _crop_t(t, top, left, height, width, fill, copy),
    )


def resized_crop_matrix(
    top: int, left: int, height: int, width: int, size: int | Sequence[int]
) -> tuple[np.ndarray, tuple[int, int]]:
    """The 3x3 map of :func:`resized_crop` (a shift and a scale), and ``size``."""
    out = _size(size)
    sy, sx = out[0] / height, out[1] / width
    m = np.array([[sx, 0.0, -left * sx], [0.0, sy, -top * sy], [0.0, 0.0, 1.0]])
    return m, out


def resized_crop(
    img: Any,
    top: int,
    left: int,
    height: int,
    width: int,
    size: int | Sequence[int],
    interpolation: str = "bilinear",
) -> Any:
    """The window of :func:`crop` resized to ``size`` (``int`` or ``(height, width)``).

    ``interpolation``: ``"nearest"`` (source pixel ``floor((j + 0.5) * in / out)``,
    computed exactly), ``"bilinear"``, ``"bicubic"`` or ``"area"`` (OpenCV's
    ``INTER_AREA``, the tensor path applying its weights as matrices); no
    antialiasing except through ``"area"``. The result is always a new array
    or tensor. On a :class:`TargetItem` masks use nearest.

    >>> resized_crop(np.arange(16).reshape(4, 4), 0, 0, 2, 2, 4, "nearest").tolist()[0]
    [0, 0, 1, 1]
    """
    out_hw = _size(size)
    if isinstance(img, TargetItem):
        return img.transform(
            lambda x: resized_crop(x, top, left, height, width, out_hw, interpolation),
            lambda m: resized_crop(m, top, left, height, width, out_hw, "nearest"),
            *resized_crop_matrix(top, left, height, width, out_hw),
        )
    check_choice("interpolation", interpolation, RESIZE_INTERPOLATIONS)

    def on_array(a: np.ndarray, interp: str) -> np.ndarray:
        view = _crop_np(a, top, left, height, width, 0.0, False)
        if (view.shape[0], view.shape[1]) == out_hw:
            return _cv.contiguous_copy(view)
        return _cv.resize(view, out_hw, interp)

    def on_tensor(t: Any, interp: str) -> Any:
        view = _crop_t(t, top, left, height, width, 0.0, False)
        if (int(view.shape[-2]), int(view.shape[-1])) == out_hw:
            return view.clone()
        return _torch.resize(view, out_hw, interp)

    return _by_kind(img, interpolation, on_array, on_tensor)


def resize(img: Any, size: int | Sequence[int], interpolation: str = "bilinear") -> Any:
    """``img`` resized to ``size``: :func:`resized_crop` of the whole image.

    >>> resize(np.arange(4).reshape(2, 2), (2, 4), "nearest").tolist()
    [[0, 0, 1, 1], [2, 2, 3, 3]]
    """
    h, w = img.hw if isinstance(img, TargetItem) else image_hw(img)
    return resized_crop(img, 0, 0, h, w, size, interpolation)
