"""Geometric image operators: rotate, crops, resized crop and flips.

Each operator is thin: ``sample_params`` draws the geometry (an angle, a
window), ``apply`` is one call into :mod:`augkit.image.functional`, where
the kernels live. Every operator takes

* a numpy array ``HxW`` or ``HxWxC`` (any channel count; bool, integer or
  float dtypes), a PIL image, or a torch tensor ``HxW``, ``CxHxW`` or
  ``NxCxHxW`` (on any device, any real dtype), and returns the same kind,
  dtype, layout and device. An ``NxCxHxW`` tensor is *one* item: its N images
  share the sampled geometry (use ``augment_batch`` on a list for one draw
  per image). A 3-d numpy array whose first axis is 1, 3 or 4 and whose last
  is longer than 4 looks like ``CxHxW`` and is refused (``np.moveaxis(x, 0,
  -1)`` converts it), as is a 3-d tensor that looks like ``HxWxC``;
* a :class:`~augkit.image.TargetItem`, the canonical image item that a
  ``Pipeline(..., targets=ImageTargets(...))`` hands its operators: the same
  sampled geometry moves the image, every mask (nearest-neighbour sampling),
  the boxes (clipped, dropped by the spec's ``min_visibility`` and
  ``min_area``) and the keypoints (dropped or marked by the spec's
  ``keypoints`` policy);
* or a dict item ``{"image": ..., "mask": ..., "bboxes": ..., "keypoints": ...}``
  when an operator is called alone: it is read with the default
  ``ImageTargets()`` (pascal_voc boxes, keypoints dropped when they leave,
  no other keys). Box format, ``min_visibility`` and the keypoint policy are
  not operator parameters: they are declared once, on the pipeline.

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

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..base import BaseAugmenter
from ..protocol import IMAGE
from ..registry import register
from ..seeding import BatchStream, Rng, Stream
from ..validation import check_choice, check_int, check_number
from . import functional as F
from ._arrays import check_image, image_hw, image_kind, is_tensor, normalize_fill, swapped_layout
from .functional import BORDERS, INTERPOLATIONS, RESIZE_INTERPOLATIONS
from .targets import V1_TARGET_PARAMS, ImageTargets, TargetItem

__all__ = [
    "CenterCrop",
    "HorizontalFlip",
    "RandomCrop",
    "RandomResizedCrop",
    "Rotate",
    "VerticalFlip",
]

Params = dict[str, Any]

NAN_POLICIES = ("propagate", "raise")

#: How an operator called alone reads a dict item (a pipeline declares its own).
ALONE = ImageTargets()


def _refuse_moved(cls: str, kwargs: Mapping[str, Any]) -> None:
    """A ``TypeError`` for keyword arguments the operator does not take, with the migration."""
    moved = [k for k in kwargs if k in V1_TARGET_PARAMS]
    if moved:
        spec = ", ".join(f"{V1_TARGET_PARAMS[k][0]}={kwargs[k]!r}" for k in moved)
        raise TypeError(
            f"{cls} no longer takes {', '.join(moved)}: declare targets once: "
            f"Pipeline(..., targets=ImageTargets({spec})) (augkit.image.ImageTargets; an "
            "operator called alone on a dict item reads it with ImageTargets())"
        )
    if kwargs:
        raise TypeError(f"{cls}() got an unexpected keyword argument {next(iter(kwargs))!r}")


def _size(name: str, value: Any, low: int = 1) -> tuple[int, int]:
    """``int`` or ``(height, width)``, each >= ``low``."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}")
        return (
            check_int(f"{name}[0]", value[0], low=low),
            check_int(f"{name}[1]", value[1], low=low),
        )
    s = check_int(name, value, low=low)
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


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def _uniform(rng: Rng, low: float, high: float) -> float:
    """``rng.uniform(low, high)``: the same value from the same stream, a third of the cost.

    ``Generator.uniform`` computes ``low + (high - low) * random()``; called
    for one scalar its argument handling costs 3x the draw itself, which shows
    on operators that take microseconds.
    """
    return low + (high - low) * rng.random()


def _randint(rng: Rng, n: int) -> int:
    """A uniform integer in ``[0, n)`` as ``floor(n * random())``.

    Three times cheaper than a scalar ``Generator.integers`` call; the bias
    (at most ``n / 2**53``) is far below anything a crop position can show.
    """
    return min(int(n * rng.random()), n - 1)


def _randint_batch(n: NDArray[np.int64], u: NDArray[np.float64]) -> NDArray[np.int64]:
    """:func:`_randint` element by element, ``u`` being the draws of ``random()``: the same
    float product and truncation."""
    out: NDArray[np.int64] = np.minimum((n * u).astype(np.int64), n - 1)
    return out


#: The stream :class:`CenterCrop`'s batch hook hands ``sample_params``, which never draws from it.
_NO_DRAWS = Stream(0)


def _hw(x: Any) -> tuple[int, int]:
    return x.hw if isinstance(x, TargetItem) else image_hw(x)


class _Geometry(BaseAugmenter):
    """Shared machinery: input kinds, dict items and validation.

    Subclasses implement ``_apply(x, params)``, one call into
    :mod:`augkit.image.functional` for an image or a :class:`TargetItem`.
    """

    modality: str = IMAGE
    nan_policy: str = "propagate"
    #: Which version-1 target parameters had an effect on this operator.
    _v1_targets: tuple[str, ...] = tuple(V1_TARGET_PARAMS)

    @classmethod
    def from_v1_params(
        cls, params: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, tuple[Any, bool]]]:
        """Version-1 parameters without the target ones, and the targets they declared.

        ``Pipeline.from_dict`` collects the declarations of every operator of
        a version-1 config (they must agree) into the pipeline's targets.
        """
        declared = {}
        for old, (new, default) in V1_TARGET_PARAMS.items():
            given = old in params
            value = params.pop(old, default)
            if old in cls._v1_targets:
                declared[f"targets.{new}"] = (value, given)
        return params, declared

    def _init_nan_policy(self, nan_policy: str, moved: Mapping[str, Any]) -> None:
        _refuse_moved(type(self).__name__, moved)
        self.nan_policy = check_choice("nan_policy", nan_policy, NAN_POLICIES)

    # ------------------------------------------------------------------ hooks
    def _apply(self, x: Any, params: Params) -> Any:
        raise NotImplementedError

    def _check_hw(self, hw: tuple[int, int]) -> None:
        """Raise ``ValueError`` when an image of size ``hw`` cannot be processed."""

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
            x = ALONE.split(x)[0]  # checks the targets
        if isinstance(x, TargetItem):
            check_image(x.image, "item['image']", reject_nan=reject_nan)
            self._check_hw(x.hw)
            return
        check_image(x, "image", reject_nan=reject_nan)
        self._check_hw(image_hw(x))

    def _sizes(self, xs: list[Any]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Heights and widths of a batch's inputs, as :meth:`_size_of` reads each."""
        shapes = [x.shape[:2] if type(x) is np.ndarray else self._size_of(x) for x in xs]
        hw = np.fromiter(itertools.chain.from_iterable(shapes), np.int64, 2 * len(xs))
        return hw[0::2], hw[1::2]

    def _size_of(self, x: Any) -> tuple[int, int]:
        if isinstance(x, np.ndarray):
            return int(x.shape[0]), int(x.shape[1])
        if isinstance(x, TargetItem):
            return x.hw
        if isinstance(x, Mapping):
            image = x.get("image")
            if image is None:
                raise ValueError("a dict item needs an 'image' entry")
            return image_hw(image)
        image_kind(x)
        return image_hw(x)

    def apply(self, x: Any, params: Params) -> Any:
        if type(x) is not np.ndarray and isinstance(x, Mapping):
            value, _, put = ALONE.split(x)
            return put(self._apply(value, params))
        return self._apply(x, params)


# --------------------------------------------------------------------------- rotate


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

    Params: ``{"angle": float}`` (degrees); ``apply`` is
    :func:`augkit.image.functional.rotate`.
    """

    magnitude_params = ("degrees",)

    def __init__(
        self,
        degrees: float | Sequence[float] = (-30.0, 30.0),
        interpolation: str = "bilinear",
        border: str = "constant",
        fill: float | Sequence[float] = 0.0,
        expand: bool = False,
        *,
        mask_fill: float | Sequence[float] = 0.0,
        nan_policy: str = "propagate",
        **moved: Any,
    ) -> None:
        self._init_nan_policy(nan_policy, moved)
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
        self.expand = _bool("expand", expand)
        self.mask_fill = normalize_fill("mask_fill", mask_fill)

    def sample_params(self, x: Any, rng: Rng) -> Params:
        lo, hi = self.degrees
        return {"angle": _uniform(rng, lo, hi)}

    def sample_params_batch(self, xs: list[Any], rngs: BatchStream) -> list[Params]:
        """:meth:`sample_params` for a whole group: one word per item, as there."""
        lo, hi = self.degrees
        return [{"angle": a} for a in (lo + (hi - lo) * rngs.random()).tolist()]

    def _apply(self, x: Any, params: Params) -> Any:
        return F.rotate(
            x,
            params["angle"],
            self.interpolation,
            self.border,
            self.fill,
            self.expand,
            mask_fill=self.mask_fill,
        )

    def _apply_batch(self, xs: list[Any], params: list[Params]) -> list[Any]:
        """Tensors of one shape, dtype and device go through a single ``grid_sample`` call."""
        if len(xs) >= 2 and not self.expand and all(is_tensor(x) for x in xs):
            angles = [p["angle"] for p in params]
            out = F._rotate_tensors(xs, angles, self.interpolation, self.border, self.fill)
            if out is not None:
                return out
        return super()._apply_batch(xs, params)


# --------------------------------------------------------------------------- crops


class _FixedSizeCrop(_Geometry):
    """A crop of a fixed ``size``; subclasses choose where.

    A window that leaves the image (``padding``, ``pad_if_needed``) is filled
    with ``fill`` (``mask_fill`` for masks).
    """

    #: Pixels added on each side, ``(top and bottom, left and right)``, before the window
    #: is placed (only :class:`RandomCrop` takes it; a centred window does not move).
    _pad: tuple[int, int] = (0, 0)

    def __init__(
        self,
        size: int | Sequence[int],
        pad_if_needed: bool = False,
        fill: float | Sequence[float] = 0.0,
        *,
        mask_fill: float | Sequence[float] = 0.0,
        copy: bool = False,
        nan_policy: str = "propagate",
        **moved: Any,
    ) -> None:
        self._init_nan_policy(nan_policy, moved)
        self.size = _size("size", size)
        self.pad_if_needed = _bool("pad_if_needed", pad_if_needed)
        self.fill = normalize_fill("fill", fill)
        self.mask_fill = normalize_fill("mask_fill", mask_fill)
        self.copy = _bool("copy", copy)

    def _check_hw(self, hw: tuple[int, int]) -> None:
        h, w = self.size
        py, px = self._pad
        if not self.pad_if_needed and (h > hw[0] + 2 * py or w > hw[1] + 2 * px):
            padded = (
                f" padded by {py}x{px} to {hw[0] + 2 * py}x{hw[1] + 2 * px}" if py or px else ""
            )
            raise ValueError(
                f"crop size {h}x{w} (height x width) is larger than the {hw[0]}x{hw[1]} "
                f"image{padded}; pass pad_if_needed=True to pad the image with fill"
            )

    def _offset(self, rng: Rng, slack: int) -> int:
        """Where the window starts along an axis the image exceeds by ``slack >= 0`` pixels."""
        raise NotImplementedError

    def sample_params(self, x: Any, rng: Rng) -> Params:
        H, W = x.shape[:2] if type(x) is np.ndarray else self._size_of(x)
        h, w = self.size
        py, px = self._pad
        if H + 2 * py < h or W + 2 * px < w:
            self._check_hw((H, W))  # an error unless pad_if_needed
        # Positions on the padded canvas, given in the image's coordinates; a
        # canvas still smaller than the window is centred (on the image too).
        top = self._offset(rng, H + 2 * py - h) - py if H + 2 * py >= h else -((h - H) // 2)
        left = self._offset(rng, W + 2 * px - w) - px if W + 2 * px >= w else -((w - W) // 2)
        return {"top": top, "left": left, "height": h, "width": w}

    def _apply(self, x: Any, params: Params) -> Any:
        top, left, h, w = params["top"], params["left"], params["height"], params["width"]
        if not self.pad_if_needed:
            _check_window(x, top, left, h, w, self._pad, self._check_hw)
        return F.crop(x, top, left, h, w, self.fill, copy=self.copy, mask_fill=self.mask_fill)


def _check_window(
    x: Any,
    top: int,
    left: int,
    h: int,
    w: int,
    pad: tuple[int, int],
    check_hw: Callable[[tuple[int, int]], None],
) -> None:
    """``ValueError`` for a window (a replayed one) that leaves the image and its ``pad``
    without ``pad_if_needed``."""
    H, W = _hw(x)
    py, px = pad
    if not (top >= -py and left >= -px and top + h <= H + py and left + w <= W + px):
        check_hw((H, W))
        where = f"the {H}x{W} image" + (f" padded by {py}x{px}" if py or px else "")
        raise ValueError(f"crop window leaves {where}")


@register("random_crop")
class RandomCrop(_FixedSizeCrop):
    """A ``size`` window (``int`` or ``(height, width)``) at a uniformly random position.

    The result is a slice of the input (a numpy / torch view; ``copy=True``
    gives a C-contiguous copy) where the window lies inside the image.

    ``padding`` (``int`` or ``(top and bottom, left and right)``, pixels >= 0)
    first pads each side with ``fill`` (``mask_fill`` for masks), as
    torchvision's ``RandomCrop(padding=)``: ``RandomCrop(32, padding=4)`` on a
    32x32 image is the CIFAR shift of up to 4 pixels, ``RandomCrop(8,
    padding=1)`` on 8x8 digits a shift of at most one pixel each way. The
    window's ``top`` / ``left`` are then in ``[-padding, H + padding - size]``.

    A crop larger than the (padded) image is an error unless
    ``pad_if_needed=True``: then the image is centred on a canvas of at least
    the crop size, filled with ``fill``, with any odd pixel of padding at the
    bottom / right.

    Params: ``{"top", "left", "height", "width"}`` (the window, in the
    unpadded image's coordinates); ``apply`` is
    :func:`augkit.image.functional.crop`.

    >>> import numpy as np
    >>> img = np.arange(1, 10, dtype=np.uint8).reshape(3, 3)
    >>> RandomCrop(3, padding=1)(img, seed=3).tolist()  # shifted down one pixel
    [[0, 0, 0], [1, 2, 3], [4, 5, 6]]
    """

    magnitude_params = ("padding",)

    def __init__(
        self,
        size: int | Sequence[int],
        pad_if_needed: bool = False,
        fill: float | Sequence[float] = 0.0,
        *,
        padding: int | Sequence[int] = 0,
        mask_fill: float | Sequence[float] = 0.0,
        copy: bool = False,
        nan_policy: str = "propagate",
        **moved: Any,
    ) -> None:
        super().__init__(
            size,
            pad_if_needed,
            fill,
            mask_fill=mask_fill,
            copy=copy,
            nan_policy=nan_policy,
            **moved,
        )
        self._pad = _size("padding", padding, low=0)

    @property
    def padding(self) -> int | tuple[int, int]:
        """Pixels of ``fill`` on each side: an int when both axes agree."""
        py, px = self._pad
        return py if py == px else (py, px)

    def _offset(self, rng: Rng, slack: int) -> int:
        return _randint(rng, slack + 1)

    def sample_params_batch(self, xs: list[Any], rngs: BatchStream) -> list[Params]:
        """:meth:`sample_params` for a whole group: every item's top, then every item's left."""
        H, W = self._sizes(xs)
        h, w = self.size
        py, px = self._pad
        if not self.pad_if_needed:
            bad = np.flatnonzero((H + 2 * py < h) | (W + 2 * px < w))
            if len(bad):
                self._check_hw((int(H[bad[0]]), int(W[bad[0]])))  # the first item's error
        top = self._axis_offsets(rngs, H - h, py)
        left = self._axis_offsets(rngs, W - w, px)
        return [
            {"top": t, "left": lft, "height": h, "width": w}
            for t, lft in zip(top.tolist(), left.tolist())
        ]

    @staticmethod
    def _axis_offsets(rngs: BatchStream, slack: NDArray[np.int64], pad: int) -> NDArray[np.int64]:
        """Each item's window start along one axis (:meth:`_offset` for all at once) where
        the window fits the canvas padded by ``pad``, centred (no draw) where it does not."""
        padded = slack + 2 * pad
        inside = padded >= 0
        if inside.all():
            return _randint_batch(padded + 1, rngs.random()) - pad
        out = -((-slack) // 2)
        out[inside] = _randint_batch(padded[inside] + 1, rngs.random(inside)) - pad
        return out


@register("center_crop")
class CenterCrop(_FixedSizeCrop):
    """The centred ``size`` window (odd leftovers go to the bottom / right); no randomness.

    Params: ``{"top", "left", "height", "width"}`` (the window, recorded);
    ``apply`` is :func:`augkit.image.functional.crop`.
    """

    def _offset(self, rng: Rng, slack: int) -> int:
        return slack // 2

    def sample_params_batch(self, xs: list[Any], rngs: BatchStream) -> list[Params]:
        """Nothing to draw: each item's :meth:`sample_params`, without positioning a stream
        for it (in plain Python, which is faster here than numpy below thousands of items)."""
        sample = self.sample_params
        return [sample(x, _NO_DRAWS) for x in xs]


@register("random_resized_crop")
class RandomResizedCrop(_Geometry):
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

    Params: ``{"top", "left", "height", "width", "fallback"}``; ``apply`` is
    :func:`augkit.image.functional.resized_crop`.
    """

    def __init__(
        self,
        size: int | Sequence[int],
        scale: Sequence[float] = (0.08, 1.0),
        ratio: Sequence[float] = (3 / 4, 4 / 3),
        interpolation: str = "bilinear",
        *,
        nan_policy: str = "propagate",
        **moved: Any,
    ) -> None:
        self._init_nan_policy(nan_policy, moved)
        self.size = _size("size", size)
        self.scale = _range("scale", scale, low=0.0, low_inclusive=False)
        if self.scale[1] > 1.0:
            raise ValueError(f"scale must lie in (0, 1], got {scale!r}")
        self.ratio = _range("ratio", ratio, low=0.0, low_inclusive=False)
        self.interpolation = check_choice("interpolation", interpolation, RESIZE_INTERPOLATIONS)

    #: Windows drawn before the fallback (torchvision's number).
    TRIES = 10
    #: A batch's last few items finish their draws one by one (each round of
    #: numpy calls costs as much as a few items' scalar draws).
    SCALAR_TAIL = 8
    #: Tries looked ahead per round of the batch path.
    LOOK_AHEAD = 2

    def sample_params(self, x: Any, rng: Rng) -> Params:
        H, W = self._size_of(x)
        return self._window(rng, H, W, self.TRIES)

    def _window(self, rng: Rng, H: int, W: int, tries: int) -> Params:
        """The window of an ``H x W`` image with ``tries`` tries left (then the fallback)."""
        area = H * W
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        for _ in range(tries):
            target = area * _uniform(rng, self.scale[0], self.scale[1])
            aspect = math.exp(_uniform(rng, log_lo, log_hi))
            w = round(math.sqrt(target * aspect))
            h = round(math.sqrt(target / aspect))
            if 0 < w <= W and 0 < h <= H:
                return self._placed(rng, H, W, h, w)
        return self._fallback(H, W)

    @staticmethod
    def _placed(rng: Rng, H: int, W: int, h: int, w: int) -> Params:
        """An ``h x w`` window that fits, at a uniformly random position (two draws)."""
        top = _randint(rng, H - h + 1)
        left = _randint(rng, W - w + 1)
        return {"top": top, "left": left, "height": h, "width": w, "fallback": False}

    def sample_params_batch(self, xs: list[Any], rngs: BatchStream) -> list[Params]:
        """:meth:`sample_params` for a whole group, :attr:`LOOK_AHEAD` tries at a time.

        Each round looks ahead far enough on every item still without a window
        for ``LOOK_AHEAD`` tries and the top and left after the last of them
        (:meth:`BatchStream.ahead`), takes each item's first window that fits
        and moves its counter past the words that used (so past every try for
        an item none of them fits). With the default ``scale`` and ``ratio``
        about 98 % of items are placed in the first round. The last
        :attr:`SCALAR_TAIL` items go on through :meth:`_window` on their own
        streams. ``math.exp`` is applied per value (numpy's ``exp`` may round
        differently).
        """
        H, W = self._sizes(xs)
        n = len(xs)
        area = (H * W).astype(np.float64)
        s_lo, s_span = self.scale[0], self.scale[1] - self.scale[0]
        log_lo = math.log(self.ratio[0])
        log_span = math.log(self.ratio[1]) - log_lo
        window = np.zeros((4, n), np.int64)  # top, left, height, width
        placed = np.zeros(n, dtype=bool)
        pending = np.arange(n)  # no window yet, tries left
        tried = 0
        while len(pending) > self.SCALAR_TAIL and tried < self.TRIES:
            k = min(self.LOOK_AHEAD, self.TRIES - tried)
            u = rngs.ahead(2 * k + 2, pending)  # (area, aspect) k times, then top and left
            Hp, Wp = H[pending, None], W[pending, None]
            target = area[pending, None] * (s_lo + s_span * u[:, 0 : 2 * k : 2])
            log_aspect = (log_lo + log_span * u[:, 1 : 2 * k : 2]).ravel().tolist()
            aspect = np.fromiter(map(math.exp, log_aspect), np.float64, len(log_aspect))
            aspect = aspect.reshape(target.shape)
            w = np.rint(np.sqrt(target * aspect)).astype(np.int64)
            h = np.rint(np.sqrt(target / aspect)).astype(np.int64)
            fits = (w > 0) & (w <= Wp) & (h > 0) & (h <= Hp)
            fit = fits.any(axis=1)
            first = fits.argmax(axis=1)  # each item's first try that fits
            r = np.flatnonzero(fit)
            t = first[r]
            hr, wr = h[r, t], w[r, t]
            i = pending[r]
            window[0, i] = _randint_batch(Hp[r, 0] - hr + 1, u[r, 2 * t + 2])
            window[1, i] = _randint_batch(Wp[r, 0] - wr + 1, u[r, 2 * t + 3])
            window[2, i], window[3, i] = hr, wr
            placed[i] = True
            rngs.skip(np.where(fit, 2 * first + 4, 2 * k), pending)
            pending = pending[~fit]
            tried += k
        rest = {  # the tail, and the items ten tries gave no window (the fallback)
            k: self._window(rngs.stream(k), int(H[k]), int(W[k]), self.TRIES - tried)
            for k in pending.tolist()
        }
        return [
            {"top": top, "left": left, "height": h, "width": w, "fallback": False}
            if done
            else rest[k]
            for k, (top, left, h, w, done) in enumerate(zip(*window.tolist(), placed.tolist()))
        ]

    def _fallback(self, H: int, W: int) -> Params:
        """The centred window when no draw fits, narrowed to the nearest allowed ratio."""
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

    def _apply(self, x: Any, params: Params) -> Any:
        top, left, h, w = params["top"], params["left"], params["height"], params["width"]
        _check_window(x, top, left, h, w, (0, 0), self._check_hw)
        return F.resized_crop(x, top, left, h, w, self.size, self.interpolation)


# --------------------------------------------------------------------------- flips


class _Flip(_Geometry):
    """A mirror image, of the pixels and of every target (a flip never moves one out)."""

    # A flip cuts no box and moves no keypoint out: only the box format mattered.
    _v1_targets = ("bbox_format",)

    def __init__(self, *, nan_policy: str = "propagate", **moved: Any) -> None:
        self._init_nan_policy(nan_policy, moved)

    def sample_params_batch(self, xs: list[Any], rngs: BatchStream) -> list[Params]:
        """Nothing to draw (the coin flip, if any, is the chain's): an empty set per item."""
        return [{} for _ in xs]


@register("horizontal_flip")
class HorizontalFlip(_Flip):
    """Mirror left-right. No randomness: wrap it in ``Pipeline.sometimes(op, p)`` for a coin flip.

    numpy results are fresh C-contiguous arrays (``cv2.flip``), never
    negative-stride views, so they go straight into ``torch.from_numpy``.

    Params: ``{}``; ``apply`` is :func:`augkit.image.functional.hflip`.
    """

    def _apply(self, x: Any, params: Params) -> Any:
        return F.hflip(x)


@register("vertical_flip")
class VerticalFlip(_Flip):
    """Mirror top-bottom. No randomness (see :class:`HorizontalFlip`).

    Params: ``{}``; ``apply`` is :func:`augkit.image.functional.vflip`.
    """

    def _apply(self, x: Any, params: Params) -> Any:
        return F.vflip(x)
