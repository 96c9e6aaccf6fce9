"""Geometric image operators: rotate, crops, resized crop and flips.

Every operator takes

* a numpy array ``HxW`` or ``HxWxC`` (any channel count; bool, integer or
  float dtypes), a PIL image, or a torch tensor ``HxW``, ``CxHxW`` or
  ``NxCxHxW`` (on any device, any real dtype), and returns the same kind,
  dtype, layout and device. An ``NxCxHxW`` tensor is *one* item: its N images
  share the sampled geometry (use ``augment_batch`` on a list for one draw
  per image). A 3-d numpy array whose first axis is 1, 3 or 4 and whose last
  is longer than 4 looks like ``CxHxW`` and is refused (``np.moveaxis(x, 0,
  -1)`` converts it), as is a 3-d tensor that looks like ``HxWxC``;
* or a dict item ``{"image": ..., "mask": ..., "bboxes": ..., "keypoints": ...}``
  (all but ``"image"`` optional, other keys passed through). The same sampled
  geometry moves every target: the mask with nearest-neighbour sampling,
  boxes in the operator's ``bbox_format`` (``"pascal_voc"``, ``"coco"`` or
  ``"yolo"``) transformed, clipped and dropped below ``min_visibility``,
  keypoints ``(x, y, *extras)`` in pixel indices moved exactly and, once outside
  the image, dropped (``outside_keypoints="drop"``) or kept and flagged False in
  ``item["keypoints_visible"]`` (``"mark"``). Keypoints already flagged False
  are carried along with their flag by every operator. Boxes and keypoints may
  be lists of rows, numpy arrays or torch tensors and come back as such.

Resampling is done by OpenCV (``warpAffine``, ``resize``) for numpy inputs
and PIL images (resampled as their numpy arrays, so bit-identical to them),
and by ``torch.nn.functional.grid_sample`` / ``interpolate`` / a matmul for
tensors. The two paths share their conventions, and a channel's result never
depends on the other channels, so for the same parameters:

* crops, flips, quarter turns and nearest-neighbour resizes are identical bit
  for bit on every path, for every dtype and channel count. Nearest resize
  takes source pixel ``floor((j + 0.5) * in / out)``, computed exactly (ties
  to the second pixel; torch's "nearest-exact" rule without its float error);
* a nearest-neighbour rotation is bit-exact on both paths and picks the same
  source pixels, except where a source position lies within float32 rounding
  (about 1e-7 x the image size, in pixels) of a pixel boundary;
* bilinear, bicubic and area results agree to
  ``|numpy - torch| <= 1e-6 * max(H, W, 16) * R + c * M``, ``H``, ``W`` being
  the larger of the input and output sizes, ``R`` the value range of the
  channel (max - min over the image and a constant fill), ``M`` its largest
  magnitude, ``c`` 1e-5 for the dtypes sampled in float32 as they are (uint8,
  uint16, int8, int16, float16, float32) and 1e-12 for the others; integer
  dtypes may differ by one more level (rounding), float16 / bfloat16 by one
  more unit in the last place. That is float32 arithmetic: the numpy path
  samples float64 and 32/64-bit integers in float32 (each channel shifted and
  scaled into [-1, 1]; OpenCV's own float64 warps use a 1/32-pixel grid and
  its float64 bicubic saturates at the int32 range), the torch path in
  float64. Area is OpenCV's ``INTER_AREA`` on both paths (the tensor path
  applies its weights as matrices). docs/image_operators.md gives the reasons.

Crops are slices.

Floating-point images may hold NaN: ``nan_policy="propagate"`` (default) lets
NaN flow through (resampling spreads it to the output pixels whose
interpolation footprint touches it), ``"raise"`` rejects such images with
``ValueError`` in ``validate_input``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..base import BaseAugmenter
from ..protocol import IMAGE
from ..registry import register
from ..validation import check_choice, check_fraction, check_int, check_number
from . import _cv
from ._arrays import (
    NUMPY,
    PIL_NEAREST_ONLY,
    TORCH,
    check_image,
    fill_vector,
    image_hw,
    image_kind,
    is_tensor,
    normalize_fill,
    pil_from_numpy,
    pil_to_numpy,
    swapped_layout,
)
from ._targets import (
    BBOX_FORMATS,
    KEYPOINT_POLICIES,
    VISIBLE_KEY,
    check_targets,
    transform_boxes,
    transform_keypoints,
)

__all__ = [
    "CenterCrop",
    "HorizontalFlip",
    "RandomCrop",
    "RandomResizedCrop",
    "Rotate",
    "VerticalFlip",
]

Params = dict[str, Any]

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
BORDERS = ("constant", "reflect", "replicate", "wrap")
NAN_POLICIES = ("propagate", "raise")
TARGET_KEYS = frozenset({"image", "mask", "bboxes", "keypoints", VISIBLE_KEY})


def _size(name: str, value: Any) -> tuple[int, int]:
    """``int`` or ``(height, width)``, each >= 1."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}")
        return check_int(f"{name}[0]", value[0], low=1), check_int(f"{name}[1]", value[1], low=1)
    s = check_int(name, value, low=1)
    return s, s


def _range(
    name: str, value: Any, *, low: float | None = None, low_inclusive: bool = True
) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise ValueError(f"{name} must be a (min, max) pair, got {value!r}")
    lo = check_number(f"{name}[0]", value[0], low=low, low_inclusive=low_inclusive)
    hi = check_number(f"{name}[1]", value[1], low=low, low_inclusive=low_inclusive)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} must have min <= max, got {value!r}")
    return lo, hi


def _uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """``rng.uniform(low, high)``: the same value from the same stream, a third of the cost.

    ``Generator.uniform`` computes ``low + (high - low) * random()``; called
    for one scalar its argument handling costs 3x the draw itself, which shows
    on operators that take microseconds.
    """
    return low + (high - low) * rng.random()


def _randint(rng: np.random.Generator, n: int) -> int:
    """A uniform integer in ``[0, n)`` as ``floor(n * random())``.

    Three times cheaper than a scalar ``Generator.integers`` call; the bias
    (at most ``n / 2**53``) is far below anything a crop position can show.
    """
    return min(int(n * rng.random()), n - 1)


def _channels_np(a: np.ndarray) -> int:
    return 1 if a.ndim == 2 else int(a.shape[2])


def _channels_t(t: Any) -> int:
    return 1 if t.ndim == 2 else int(t.shape[-3])


class _Geometry(BaseAugmenter):
    """Shared machinery: input kinds, dict items, targets and validation.

    Subclasses implement ``_np`` (numpy), ``_tt`` (torch) and ``_map`` (the
    continuous-coordinate forward matrix and the output size, for boxes and
    keypoints); PIL images go through ``_np``.
    """

    modality: str = IMAGE
    nan_policy: str = "propagate"
    bbox_format: str = "pascal_voc"
    min_visibility: float = 0.0
    outside_keypoints: str = "drop"

    def _init_targets(
        self, bbox_format: str, min_visibility: float, outside_keypoints: str, nan_policy: str
    ) -> None:
        self.bbox_format = check_choice("bbox_format", bbox_format, BBOX_FORMATS)
        self.min_visibility = check_fraction("min_visibility", min_visibility)
        self.outside_keypoints = check_choice(
            "outside_keypoints", outside_keypoints, KEYPOINT_POLICIES
        )
        self.nan_policy = check_choice("nan_policy", nan_policy, NAN_POLICIES)

    # ------------------------------------------------------------------ hooks
    def _np(self, a: np.ndarray, params: Params, interpolation: str, fill: Any) -> np.ndarray:
        raise NotImplementedError

    def _tt(self, t: Any, params: Params, interpolation: str, fill: Any) -> Any:
        raise NotImplementedError

    def _map(self, params: Params, hw: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
        raise NotImplementedError

    def _check_hw(self, hw: tuple[int, int]) -> None:
        """Raise ``ValueError`` when an image of size ``hw`` cannot be processed."""

    def _image_interp_fill(self) -> tuple[str, Any]:
        return "nearest", 0.0

    def _mask_fill(self) -> Any:
        return 0.0

    # ------------------------------------------------------------------ protocol
    def validate_input(self, x: Any) -> None:
        """Check the input kind, shape, dtype, NaN (per ``nan_policy``), targets and size."""
        if (
            type(x) is np.ndarray
            and x.ndim in (2, 3)
            and x.size
            and x.dtype.kind in "biuf"
            and x.dtype.itemsize <= 8
            and self.nan_policy == "propagate"
            and not swapped_layout(x.shape, tensor=False)
        ):
            self._check_hw((x.shape[0], x.shape[1]))  # the common case, kept cheap
            return
        reject_nan = self.nan_policy == "raise"
        if isinstance(x, Mapping):
            self._validate_item(x, reject_nan)
            return
        check_image(x, "image", reject_nan=reject_nan)
        self._check_hw(image_hw(x))

    def _validate_item(self, item: Mapping[str, Any], reject_nan: bool) -> None:
        if "image" not in item:
            raise ValueError(
                f"a dict item needs an 'image' entry (it may also hold 'mask', 'bboxes', "
                f"'keypoints'); got keys {sorted(map(str, item))}"
            )
        check_image(item["image"], "item['image']", reject_nan=reject_nan)
        hw = image_hw(item["image"])
        mask = item.get("mask")
        if mask is not None:
            check_image(mask, "item['mask']")
            if image_hw(mask) != hw:
                raise ValueError(
                    f"item['mask'] is {image_hw(mask)[0]}x{image_hw(mask)[1]} but the image is "
                    f"{hw[0]}x{hw[1]}; they must have the same height and width"
                )
        check_targets(item, hw, self.bbox_format)
        self._check_hw(hw)

    def _size_of(self, x: Any) -> tuple[int, int]:
        if isinstance(x, np.ndarray):
            return int(x.shape[0]), int(x.shape[1])
        if isinstance(x, Mapping):
            image = x.get("image")
            if image is None:
                raise ValueError("a dict item needs an 'image' entry")
            return image_hw(image)
        image_kind(x)
        return image_hw(x)

    def apply(self, x: Any, params: Params) -> Any:
        if type(x) is np.ndarray:
            interp, fill = self._image_interp_fill()
            return self._np(x, params, interp, fill)
        if isinstance(x, Mapping):
            return self._apply_item(x, params)
        return self._apply_image(x, params, mask=False)

    def _apply_image(self, x: Any, params: Params, *, mask: bool) -> Any:
        if mask:
            interp, fill = "nearest", self._mask_fill()
        else:
            interp, fill = self._image_interp_fill()
        kind = image_kind(x, "mask" if mask else "image")
        if kind == NUMPY:
            return self._np(x, params, interp, fill)
        if kind == TORCH:
            return self._tt(x, params, interp, fill)
        if x.mode in PIL_NEAREST_ONLY:
            interp = "nearest"  # palette indices and 1-bit pixels cannot be blended
        return pil_from_numpy(self._np(pil_to_numpy(x), params, interp, fill), x)

    def _apply_item(self, item: Mapping[str, Any], params: Params) -> dict[str, Any]:
        if "image" not in item:
            raise ValueError(
                f"a dict item needs an 'image' entry; got keys {sorted(map(str, item))}"
            )
        out = dict(item)
        image = item["image"]
        hw = image_hw(image)
        out["image"] = self._apply_image(image, params, mask=False)
        if item.get("mask") is not None:
            out["mask"] = self._apply_image(item["mask"], params, mask=True)
        boxes = item.get("bboxes")
        kps = item.get("keypoints")
        if boxes is not None or kps is not None:
            matrix, out_hw = self._map(params, hw)
            if boxes is not None:
                out["bboxes"] = transform_boxes(
                    boxes, self.bbox_format, matrix, hw, out_hw, self.min_visibility
                )
            if kps is not None:
                moved, visible = transform_keypoints(
                    kps, item.get(VISIBLE_KEY), matrix, hw, out_hw, self.outside_keypoints
                )
                out["keypoints"] = moved
                if visible is not None:
                    out[VISIBLE_KEY] = visible
        return out


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


@register("rotate")
class Rotate(_Geometry):
    """Rotate by an angle drawn uniformly from ``degrees`` (counter-clockwise positive).

    ``degrees``: ``d`` means ``(-d, d)``; or a ``(min, max)`` pair.
    ``interpolation``: ``"nearest"``, ``"bilinear"`` or ``"bicubic"`` (masks always nearest).
    ``border``: ``"constant"`` (``fill``; ``mask_fill`` for masks), ``"reflect"``
    (mirror without repeating the edge pixel, OpenCV's REFLECT_101),
    ``"replicate"`` or ``"wrap"``.
    ``expand``: enlarge the canvas so that nothing is cut off (the output size
    then depends on the angle).
    """

    def __init__(
        self,
        degrees: float | Sequence[float] = (-30.0, 30.0),
        interpolation: str = "bilinear",
        border: str = "constant",
        fill: float | Sequence[float] = 0.0,
        expand: bool = False,
        *,
        mask_fill: float | Sequence[float] = 0.0,
        bbox_format: str = "pascal_voc",
        min_visibility: float = 0.0,
        outside_keypoints: str = "drop",
        nan_policy: str = "propagate",
    ) -> None:
        if isinstance(degrees, Sequence) and not isinstance(degrees, str):
            self.degrees: tuple[float, float] = _range("degrees", degrees)
        else:
            d = check_number("degrees", degrees, low=0.0)
            if not math.isfinite(d):
                raise ValueError(f"degrees must be finite, got {degrees!r}")
            self.degrees = (-d, d)
        self.interpolation = check_choice("interpolation", interpolation, INTERPOLATIONS)
        self.border = check_choice("border", border, BORDERS)
        self.fill = normalize_fill("fill", fill)
        if not isinstance(expand, bool):
            raise TypeError(f"expand must be a bool, got {type(expand).__name__}")
        self.expand = expand
        self.mask_fill = normalize_fill("mask_fill", mask_fill)
        self._init_targets(bbox_format, min_visibility, outside_keypoints, nan_policy)

    def sample_params(self, x: Any, rng: np.random.Generator) -> Params:
        lo, hi = self.degrees
        return {"angle": _uniform(rng, lo, hi)}

    def _image_interp_fill(self) -> tuple[str, Any]:
        return self.interpolation, self.fill

    def _mask_fill(self) -> Any:
        return self.mask_fill

    def _quarter_turns(self, angle: float, hw: tuple[int, int]) -> int | None:
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
        if k % 2 and not (self.expand or hw[0] == hw[1]):
            return None
        return k

    def _np(self, a: np.ndarray, params: Params, interpolation: str, fill: Any) -> np.ndarray:
        hw = (a.shape[0], a.shape[1])
        k = self._quarter_turns(params["angle"], hw)
        if k is not None:
            return np.rot90(a, k).copy() if k else a.copy()
        inverse, out_hw = _rotation_inverse(params["angle"], hw, self.expand)
        return _cv.warp_affine(
            a, inverse, out_hw, interpolation, self.border, fill_vector(fill, _channels_np(a))
        )

    def _tt(self, t: Any, params: Params, interpolation: str, fill: Any) -> Any:
        from . import _torch

        hw = (int(t.shape[-2]), int(t.shape[-1]))
        k = self._quarter_turns(params["angle"], hw)
        if k is not None:
            return _torch.rot90(t, k) if k else t.clone()
        inverse, out_hw = _rotation_inverse(params["angle"], hw, self.expand)
        return _torch.warp_affine(
            t, [inverse], out_hw, interpolation, self.border, fill_vector(fill, _channels_t(t))
        )

    def _map(self, params: Params, hw: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
        c, s, out = _rotation(params["angle"], hw, self.expand)
        cix, ciy = hw[1] / 2, hw[0] / 2
        cox, coy = out[1] / 2, out[0] / 2
        tx = cox - (c * cix + s * ciy)
        ty = coy - (-s * cix + c * ciy)
        return np.array([[c, s, tx], [-s, c, ty], [0.0, 0.0, 1.0]]), out

    def _apply_batch(self, xs: list[Any], params: list[Params]) -> list[Any]:
        """Tensors of one shape, dtype and device go through a single ``grid_sample`` call."""
        if len(xs) < 2 or self.expand or not all(is_tensor(x) for x in xs):
            return super()._apply_batch(xs, params)
        first = xs[0]
        if first.ndim not in (2, 3, 4) or any(
            x.shape != first.shape or x.dtype != first.dtype or x.device != first.device for x in xs
        ):
            return super()._apply_batch(xs, params)
        import torch

        from . import _torch

        hw = (int(first.shape[-2]), int(first.shape[-1]))
        if any(self._quarter_turns(p["angle"], hw) is not None for p in params):
            return super()._apply_batch(xs, params)
        per = first.shape[0] if first.ndim == 4 else 1
        inverses = []
        for p in params:
            inverse, _ = _rotation_inverse(p["angle"], hw, False)
            inverses.extend([inverse] * per)
        if first.ndim == 4:
            batch = torch.cat(list(xs))
        elif first.ndim == 3:
            batch = torch.stack(list(xs))
        else:
            batch = torch.stack(list(xs))[:, None]
        out = _torch.warp_affine(
            batch,
            inverses,
            hw,
            self.interpolation,
            self.border,
            fill_vector(self.fill, _channels_t(batch)),
        )
        if first.ndim == 4:
            return list(out.split(per))
        if first.ndim == 3:
            return list(out.unbind(0))
        return list(out[:, 0].unbind(0))


# --------------------------------------------------------------------------- crops


class _Crop(_Geometry):
    """A window ``params = {top, left, height, width}`` cut out, padded where it leaves the image."""

    pad_if_needed: bool = False
    fill: float | tuple[float, ...] = 0.0
    mask_fill: float | tuple[float, ...] = 0.0
    copy: bool = False

    def _init_crop(self, pad_if_needed: bool, fill: Any, mask_fill: Any, copy: bool) -> None:
        if not isinstance(pad_if_needed, bool):
            raise TypeError(f"pad_if_needed must be a bool, got {type(pad_if_needed).__name__}")
        if not isinstance(copy, bool):
            raise TypeError(f"copy must be a bool, got {type(copy).__name__}")
        self.pad_if_needed = pad_if_needed
        self.fill = normalize_fill("fill", fill)
        self.mask_fill = normalize_fill("mask_fill", mask_fill)
        self.copy = copy

    def _image_interp_fill(self) -> tuple[str, Any]:
        return "nearest", self.fill

    def _mask_fill(self) -> Any:
        return self.mask_fill

    def _np(self, a: np.ndarray, params: Params, interpolation: str, fill: Any) -> np.ndarray:
        top, left, h, w = params["top"], params["left"], params["height"], params["width"]
        H, W = a.shape[0], a.shape[1]
        if top >= 0 and left >= 0 and top + h <= H and left + w <= W:
            view = a[top : top + h, left : left + w]
            return _cv.contiguous_copy(view) if self.copy else view
        return _cv.crop(a, top, left, h, w, self._checked_fill(fill, _channels_np(a), (H, W)))

    def _checked_fill(self, fill: Any, channels: int, hw: tuple[int, int]) -> tuple[float, ...]:
        if not self.pad_if_needed:
            self._check_hw(hw)
            raise ValueError(f"crop window leaves the {hw[0]}x{hw[1]} image")
        return fill_vector(fill, channels)

    def _tt(self, t: Any, params: Params, interpolation: str, fill: Any) -> Any:
        from . import _torch

        top, left, h, w = params["top"], params["left"], params["height"], params["width"]
        H, W = int(t.shape[-2]), int(t.shape[-1])
        inside = top >= 0 and left >= 0 and top + h <= H and left + w <= W
        vec = None if inside else self._checked_fill(fill, _channels_t(t), (H, W))
        return _torch.crop(t, top, left, h, w, vec, self.copy)

    def _map(self, params: Params, hw: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
        m = np.array([[1.0, 0.0, -params["left"]], [0.0, 1.0, -params["top"]], [0.0, 0.0, 1.0]])
        return m, (int(params["height"]), int(params["width"]))


class _FixedSizeCrop(_Crop):
    """A crop of a fixed ``size``; subclasses choose where."""

    def __init__(
        self,
        size: int | Sequence[int],
        pad_if_needed: bool = False,
        fill: float | Sequence[float] = 0.0,
        *,
        mask_fill: float | Sequence[float] = 0.0,
        copy: bool = False,
        bbox_format: str = "pascal_voc",
        min_visibility: float = 0.0,
        outside_keypoints: str = "drop",
        nan_policy: str = "propagate",
    ) -> None:
        self.size = _size("size", size)
        self._init_crop(pad_if_needed, fill, mask_fill, copy)
        self._init_targets(bbox_format, min_visibility, outside_keypoints, nan_policy)

    def _check_hw(self, hw: tuple[int, int]) -> None:
        h, w = self.size
        if not self.pad_if_needed and (h > hw[0] or w > hw[1]):
            raise ValueError(
                f"crop size {h}x{w} (height x width) is larger than the {hw[0]}x{hw[1]} image; "
                "pass pad_if_needed=True to pad the image with fill"
            )

    def _offset(self, rng: np.random.Generator, slack: int) -> int:
        """Where the window starts along an axis the image exceeds by ``slack >= 0`` pixels."""
        raise NotImplementedError

    def sample_params(self, x: Any, rng: np.random.Generator) -> Params:
        H, W = self._size_of(x)
        self._check_hw((H, W))
        h, w = self.size
        top = self._offset(rng, H - h) if H >= h else -((h - H) // 2)
        left = self._offset(rng, W - w) if W >= w else -((w - W) // 2)
        return {"top": top, "left": left, "height": h, "width": w}


@register("random_crop")
class RandomCrop(_FixedSizeCrop):
    """A ``size`` window (``int`` or ``(height, width)``) at a uniformly random position.

    The result is a slice of the input (a numpy / torch view; ``copy=True``
    gives a C-contiguous copy). A crop larger than the image is an error unless
    ``pad_if_needed=True``: then the image is centred on a canvas of at least
    the crop size, filled with ``fill`` (``mask_fill`` for masks), with any odd
    pixel of padding at the bottom / right.
    """

    def _offset(self, rng: np.random.Generator, slack: int) -> int:
        return _randint(rng, slack + 1)


@register("center_crop")
class CenterCrop(_FixedSizeCrop):
    """The centred ``size`` window (odd leftovers go to the bottom / right); no randomness."""

    def _offset(self, rng: np.random.Generator, slack: int) -> int:
        return slack // 2


@register("random_resized_crop")
class RandomResizedCrop(_Crop):
    """A random window of random area and aspect ratio, resized to ``size``.

    Sampling follows torchvision's ``RandomResizedCrop.get_params``: up to ten
    times, draw an area fraction uniformly from ``scale`` and an aspect ratio
    (width / height) log-uniformly from ``ratio``, round
    ``w = sqrt(area * ratio)`` and ``h = sqrt(area / ratio)`` to integers and
    accept them if the window fits, placing it uniformly at random. If no draw
    fits, **fall back** to a centred crop of the whole image, narrowed to the
    nearest allowed ratio when the image is more extreme than ``ratio``
    allows (width ``round(H * max(ratio))`` for wide images, height
    ``round(W / min(ratio))`` for tall ones). ``params["fallback"]`` says which
    happened. Resizing uses OpenCV / ``torch.nn.functional.interpolate`` with
    ``interpolation`` (``"nearest"``: source pixel ``floor((j + 0.5) * in / out)``,
    computed exactly; ``"bilinear"``, ``"bicubic"``; ``"area"``: OpenCV's
    ``INTER_AREA``, the tensor path applying its weights as matrices; no
    antialiasing except through ``"area"``); masks use nearest.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        scale: Sequence[float] = (0.08, 1.0),
        ratio: Sequence[float] = (3 / 4, 4 / 3),
        interpolation: str = "bilinear",
        *,
        bbox_format: str = "pascal_voc",
        min_visibility: float = 0.0,
        outside_keypoints: str = "drop",
        nan_policy: str = "propagate",
    ) -> None:
        self.size = _size("size", size)
        self.scale = _range("scale", scale, low=0.0, low_inclusive=False)
        if self.scale[1] > 1.0:
            raise ValueError(f"scale must lie in (0, 1], got {scale!r}")
        self.ratio = _range("ratio", ratio, low=0.0, low_inclusive=False)
        self.interpolation = check_choice("interpolation", interpolation, (*INTERPOLATIONS, "area"))
        self._init_crop(False, 0.0, 0.0, False)
        self._init_targets(bbox_format, min_visibility, outside_keypoints, nan_policy)

    def sample_params(self, x: Any, rng: np.random.Generator) -> Params:
        H, W = self._size_of(x)
        area = H * W
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        for _ in range(10):
            target = area * _uniform(rng, self.scale[0], self.scale[1])
            aspect = math.exp(_uniform(rng, log_lo, log_hi))
            w = round(math.sqrt(target * aspect))
            h = round(math.sqrt(target / aspect))
            if 0 < w <= W and 0 < h <= H:
                top = _randint(rng, H - h + 1)
                left = _randint(rng, W - w + 1)
                return {"top": top, "left": left, "height": h, "width": w, "fallback": False}
        in_ratio = W / H
        if in_ratio < self.ratio[0]:
            w, h = W, round(W / self.ratio[0])
        elif in_ratio > self.ratio[1]:
            h, w = H, round(H * self.ratio[1])
        else:
            w, h = W, H
        h, w = max(1, min(h, H)), max(1, min(w, W))
        return {
            "top": (H - h) // 2,
            "left": (W - w) // 2,
            "height": h,
            "width": w,
            "fallback": True,
        }

    def _image_interp_fill(self) -> tuple[str, Any]:
        return self.interpolation, 0.0

    def _np(self, a: np.ndarray, params: Params, interpolation: str, fill: Any) -> np.ndarray:
        view = super()._np(a, params, interpolation, fill)
        if (view.shape[0], view.shape[1]) == self.size:
            return _cv.contiguous_copy(view)
        return _cv.resize(view, self.size, interpolation)

    def _tt(self, t: Any, params: Params, interpolation: str, fill: Any) -> Any:
        from . import _torch

        view = super()._tt(t, params, interpolation, fill)
        if (int(view.shape[-2]), int(view.shape[-1])) == self.size:
            return view.clone()
        return _torch.resize(view, self.size, interpolation)

    def _map(self, params: Params, hw: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
        sy = self.size[0] / params["height"]
        sx = self.size[1] / params["width"]
        m = np.array(
            [[sx, 0.0, -params["left"] * sx], [0.0, sy, -params["top"] * sy], [0.0, 0.0, 1.0]]
        )
        return m, self.size


# --------------------------------------------------------------------------- flips


class _Flip(_Geometry):
    """A mirror image, of the pixels and of every target.

    A flip never moves a box or keypoint out of the image; it takes the same
    target parameters as the other operators all the same (so one declaration
    fits every operator) and carries ``keypoints_visible`` along.
    """

    axis: int = 1

    def __init__(
        self,
        *,
        bbox_format: str = "pascal_voc",
        min_visibility: float = 0.0,
        outside_keypoints: str = "drop",
        nan_policy: str = "propagate",
    ) -> None:
        self._init_targets(bbox_format, min_visibility, outside_keypoints, nan_policy)

    def apply(self, x: Any, params: Params) -> Any:
        if type(x) is np.ndarray:  # the common case, without the generic dispatch
            return _cv.flip(x, self.axis)
        return super().apply(x, params)

    def _np(self, a: np.ndarray, params: Params, interpolation: str, fill: Any) -> np.ndarray:
        return _cv.flip(a, self.axis)

    def _tt(self, t: Any, params: Params, interpolation: str, fill: Any) -> Any:
        from . import _torch

        return _torch.flip(t, self.axis)

    def _map(self, params: Params, hw: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
        if self.axis == 1:
            return np.array([[-1.0, 0.0, hw[1]], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), hw
        return np.array([[1.0, 0.0, 0.0], [0.0, -1.0, hw[0]], [0.0, 0.0, 1.0]]), hw


@register("horizontal_flip")
class HorizontalFlip(_Flip):
    """Mirror left-right. No randomness: wrap it in ``Pipeline.sometimes(op, p)`` for a coin flip.

    numpy results are fresh C-contiguous arrays (``cv2.flip``), never
    negative-stride views, so they go straight into ``torch.from_numpy``.
    """

    axis = 1


@register("vertical_flip")
class VerticalFlip(_Flip):
    """Mirror top-bottom. No randomness (see :class:`HorizontalFlip`)."""

    axis = 0
