"""Image targets declared once: :class:`ImageTargets`, the item lens of image pipelines.

An image item is a mapping ``{"image": ..., "mask": ..., "bboxes": ...,
"keypoints": ..., ...}``. How its targets are to be read (box format, which
keys hold per-box labels, when a box is dropped, what happens to keypoints
that leave the image, which extra keys are masks) is declared once, for the
whole pipeline, as albumentations declares it on ``Compose(bbox_params=...,
keypoint_params=...)``::

    Pipeline.sequence(ops, targets=ImageTargets(bbox_format="coco", label_fields=["labels"]))

The lens (:meth:`ImageTargets.split`) checks an item once, at entry, and
converts it into a :class:`TargetItem`: the image, the masks by name, boxes
as an ``(N, 4)`` float64 pascal_voc array with the row each box came from,
keypoints as ``(K, 2)`` pixel indices with visibility flags. Every operator
sees that canonical form, so no operator can read a box in the wrong format.
``put`` converts the result back into the user's format and containers and
filters the label fields by the boxes (and keypoints) that survived.

This module owns the item model and knows nothing of particular operators;
the geometry that moves a :class:`TargetItem` is in
:mod:`augkit.image.functional`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from dataclasses import replace as _dc_replace
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..items import split_tuple, values_equal
from ..registry import register_lens
from ..validation import check_choice, check_number
from ._arrays import check_image, image_hw, is_tensor
from ._targets import (
    BBOX_FORMATS,
    KEYPOINT_POLICIES,
    VISIBLE_KEY,
    affine_boxes,
    affine_keypoints,
    check_boxes,
    check_keypoints,
    from_pascal,
    join_rows,
    split_rows,
    to_pascal,
    visible_flags,
)

__all__ = [
    "BBOX_FORMATS",
    "IMAGE_KEYS",
    "KEYPOINT_POLICIES",
    "V1_TARGET_PARAMS",
    "ImageTargets",
    "TargetItem",
]

#: The keys every image item may hold, whatever the spec declares.
IMAGE_KEYS = ("image", "mask", "masks", "bboxes", "keypoints", VISIBLE_KEY)

# Keys people write for the known ones (the error names the intended key).
_ALIASES = {
    "boxes": "bboxes",
    "bbox": "bboxes",
    "bboxs": "bboxes",
    "bounding_boxes": "bboxes",
    "keypoint": "keypoints",
    "kps": "keypoints",
    "points": "keypoints",
    "landmarks": "keypoints",
    "img": "image",
    "segmentation": "mask",
    "seg": "mask",
    "visible": VISIBLE_KEY,
    "visibility": VISIBLE_KEY,
}


# Words in a key that suggest a label (the error then says where labels are declared).
_LABEL_WORDS = frozenset(
    {"label", "labels", "class", "classes", "cls", "category", "categories", "id", "ids"}
    | {"score", "scores", "name", "names", "target", "targets", "y"}
)


def _names(param: str, value: Any) -> tuple[str, ...]:
    """Item keys given as one name or a list of names, checked."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f"{param} must be a list of item keys (non-empty str), got {value!r}")
    names = tuple(value)
    for name in names:
        if name in IMAGE_KEYS:
            raise ValueError(
                f"{param} may not name {name!r}: it is one of the keys every image item may "
                f"hold ({', '.join(map(repr, IMAGE_KEYS))})"
            )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{param} names {dupes} more than once")
    return names


@register_lens("image_targets")
@dataclass(frozen=True)
class ImageTargets:
    """What an image item holds besides the image, declared once for a whole pipeline.

    ``bbox_format``: how ``item["bboxes"]`` rows are written: ``"pascal_voc"``
    ``[x_min, y_min, x_max, y_max]`` in pixels, ``"coco"`` ``[x_min, y_min,
    width, height]`` in pixels or ``"yolo"`` ``[x_center, y_center, width,
    height]`` as fractions of the image size. Anything after the four numbers
    (a class id, a score) is carried along.

    ``label_fields``: item keys holding one entry per box (class names, ids,
    scores). When a box is dropped its entries go too, in order; lists,
    tuples, numpy arrays and tensors keep their type.

    ``min_visibility`` (fraction) and ``min_area`` (pixels): after each
    step, a box is dropped when its part inside the image is less than
    ``min_visibility`` of its transformed area, or less than ``min_area``
    pixels (albumentations' ``BboxParams`` rule).

    ``keypoints``: what happens to a visible keypoint that a step moves out
    of the image: ``"drop"`` it, or ``"mark"`` it (kept, flagged False in
    ``item["keypoints_visible"]``, so the list keeps its length and order).
    Keypoints already flagged False are always carried along.
    ``keypoint_label_fields``: item keys holding one entry per keypoint,
    filtered like ``label_fields``.

    ``masks``: names of extra per-pixel targets besides ``"mask"`` (a depth
    map, an instance map), each moved with the image by nearest sampling.
    An item may also hold ``"masks"``, a list of masks.

    ``passthrough``: other keys the items hold (``"id"``, ``"meta"``), passed
    through untouched. Any key not known nor declared is an error naming the
    known and declared keys.

    A frozen value: compare with ``==``, derive with :meth:`replace`,
    serialise with :meth:`to_dict` (``Pipeline.to_dict()`` stores it under
    ``"targets"``).

    >>> from augkit.image import ImageTargets
    >>> spec = ImageTargets(bbox_format="coco", label_fields=["labels"])
    >>> value, label, put = spec.split({"image": np.zeros((4, 8)), "bboxes": [[1, 1, 2, 2]],
    ...                                 "labels": ["cat"]})
    >>> value.boxes.tolist()  # canonical: pascal_voc corners
    [[1.0, 1.0, 3.0, 3.0]]
    """

    bbox_format: str = "pascal_voc"
    _: KW_ONLY
    label_fields: Sequence[str] = ()
    min_visibility: float = 0.0
    min_area: float = 0.0
    keypoints: str = "drop"
    keypoint_label_fields: Sequence[str] = ()
    masks: Sequence[str] = ()
    passthrough: Sequence[str] = ()

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put("bbox_format", check_choice("bbox_format", self.bbox_format, BBOX_FORMATS))
        put("keypoints", check_choice("keypoints", self.keypoints, KEYPOINT_POLICIES))
        put(
            "min_visibility", check_number("min_visibility", self.min_visibility, low=0.0, high=1.0)
        )
        area = check_number("min_area", self.min_area, low=0.0)
        if area == float("inf"):
            raise ValueError("min_area must be a finite number of pixels, got inf")
        put("min_area", area)
        seen: dict[str, str] = {}
        for param in ("label_fields", "keypoint_label_fields", "masks", "passthrough"):
            names = _names(param, getattr(self, param))
            for name in names:
                if name in seen:
                    raise ValueError(
                        f"{name!r} is declared in both {seen[name]} and {param}; "
                        "an item key has one role"
                    )
                seen[name] = param
            put(param, names)

    # ------------------------------------------------------------------ the lens
    def split(self, item: Any) -> tuple[Any, Any, Callable[[Any], Any]]:
        """``(value, label, put)``: the item in canonical form, its label, and the way back.

        A mapping becomes a :class:`TargetItem` (checked: an unknown key, a
        box outside the image, a mask of another size are ``ValueError``\\ s);
        a tuple ``(image_or_mapping, y, ...)`` has its label in ``y``; a bare
        image is passed as it is. ``put(result)`` rebuilds the item in the
        user's format and containers.
        """
        if isinstance(item, tuple):
            head, label, put_tuple = split_tuple(item)
            if isinstance(head, Mapping):
                value, origin = self._canonical(head)
                return value, label, lambda new: put_tuple(origin.put(new))
            return head, label, put_tuple
        if isinstance(item, Mapping):
            value, origin = self._canonical(item)
            return value, None, origin.put
        return item, None, _same

    def to_dict(self) -> dict[str, Any]:
        """``{"type": "image_targets", ...}``: every parameter, JSON-ready."""
        return {
            "type": "image_targets",
            "bbox_format": self.bbox_format,
            "label_fields": list(self.label_fields),
            "min_visibility": self.min_visibility,
            "min_area": self.min_area,
            "keypoints": self.keypoints,
            "keypoint_label_fields": list(self.keypoint_label_fields),
            "masks": list(self.masks),
            "passthrough": list(self.passthrough),
        }

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> ImageTargets:
        """Inverse of :meth:`to_dict` (the ``"type"`` may be left out)."""
        params = {k: v for k, v in config.items() if k != "type"}
        try:
            return cls(**params)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad image targets {dict(config)!r}: {exc}") from None

    def replace(self, **changes: Any) -> ImageTargets:
        """A copy with some parameters changed (validated again)."""
        return _dc_replace(self, **changes)

    @property
    def declared(self) -> tuple[str, ...]:
        """Every item key this spec declares (label fields, masks, passthrough)."""
        return (
            *self.label_fields,
            *self.keypoint_label_fields,
            *self.masks,
            *self.passthrough,
        )

    # ------------------------------------------------------------------ canonical form
    def _canonical(self, item: Mapping[str, Any]) -> tuple[TargetItem, _Origin]:
        self._check_keys(item)
        if "image" not in item:
            raise ValueError(
                "an image item needs an 'image' entry (it may also hold "
                f"{', '.join(map(repr, IMAGE_KEYS[1:]))}); got keys {sorted(map(str, item))}"
            )
        image = item["image"]
        check_image(image, "item['image']")
        hw = image_hw(image)
        masks: dict[str, Any] = {}
        for name in ("mask", *self.masks):
            mask = item.get(name)
            if mask is not None:
                _check_mask(mask, f"item[{name!r}]", hw)
                masks[name] = mask
        mask_list = item.get("masks")
        if mask_list is not None:
            if not isinstance(mask_list, (list, tuple)):
                raise TypeError(
                    f"item['masks'] must be a list of masks, got {type(mask_list).__name__} "
                    "(a stack of masks: list(masks); one mask goes in item['mask'])"
                )
            for i, mask in enumerate(mask_list):
                _check_mask(mask, f"item['masks'][{i}]", hw)
            mask_list = tuple(mask_list)
        origin = _Origin(self, item)
        boxes = box_ids = None
        if item.get("bboxes") is not None:
            raw, origin.box_extras = split_rows(item["bboxes"], 4, "bboxes")
            p = to_pascal(raw, self.bbox_format, hw)
            check_boxes(p, raw, self.bbox_format, hw)
            boxes = np.clip(p, 0.0, [hw[1], hw[0], hw[1], hw[0]])
            box_ids = np.arange(len(boxes))
            origin.boxes, origin.box_ids = boxes, box_ids
        _check_label_fields(item, self.label_fields, 0 if boxes is None else len(boxes), "box")
        points = point_ids = visible = None
        if item.get("keypoints") is not None:
            points, origin.point_extras = split_rows(item["keypoints"], 2, "keypoints")
            visible = visible_flags(item.get(VISIBLE_KEY), len(points))
            check_keypoints(points, visible, hw)
            point_ids = np.arange(len(points))
            origin.points, origin.point_ids, origin.visible = points, point_ids, visible
        elif item.get(VISIBLE_KEY) is not None:
            raise ValueError(f"item[{VISIBLE_KEY!r}] is given but the item has no 'keypoints'")
        n_points = 0 if points is None else len(points)
        _check_label_fields(item, self.keypoint_label_fields, n_points, "keypoint")
        value = TargetItem(
            self,
            image=image,
            masks=masks,
            mask_list=mask_list,
            boxes=boxes,
            box_ids=box_ids,
            keypoints=points,
            keypoint_ids=point_ids,
            visible=visible,
            origin=origin,
        )
        return value, origin

    def _check_keys(self, item: Mapping[str, Any]) -> None:
        known = set(IMAGE_KEYS) | set(self.declared)
        unknown = [k for k in item if k not in known]
        if not unknown:
            return
        names = sorted(map(repr, unknown))
        hints = []
        for key in unknown:
            text = str(key)
            close = _ALIASES.get(text.lower()) or next(
                iter(difflib.get_close_matches(text, sorted(known), n=1, cutoff=0.75)), None
            )
            if close is not None:
                hints.append(f"{text!r}: did you mean {close!r}?")
            if _LABEL_WORDS & set(re.split(r"[^a-z]+", text.lower())):
                hints.append(
                    f"{text!r}: one value for the whole image goes in passthrough=[{text!r}], "
                    f"one entry per box in label_fields=[{text!r}]"
                )
        declared = ", ".join(
            f"{p}={list(getattr(self, p))}"
            for p in ("label_fields", "keypoint_label_fields", "masks", "passthrough")
            if getattr(self, p)
        )
        raise ValueError(
            f"image item has unknown key(s) {', '.join(names)}"
            + (f" ({'; '.join(hints)})" if hints else "")
            + f". An image item holds {', '.join(map(repr, IMAGE_KEYS))}"
            + (f" and the keys its ImageTargets declares ({declared})" if declared else "")
            + "; declare other keys on the pipeline's ImageTargets: passthrough=[...] to carry "
            "them along untouched, label_fields=[...] for one entry per box, masks=[...] "
            "for per-pixel targets"
        )


def _same(new: Any) -> Any:
    return new


def _check_mask(mask: Any, what: str, hw: tuple[int, int]) -> None:
    check_image(mask, what)
    mhw = image_hw(mask)
    if mhw != hw:
        raise ValueError(
            f"{what} is {mhw[0]}x{mhw[1]} but the image is {hw[0]}x{hw[1]}; "
            "they must have the same height and width"
        )


def _check_label_fields(item: Mapping[str, Any], fields: Sequence[str], n: int, what: str) -> None:
    for name in fields:
        values = item.get(name)
        if values is None:
            continue
        shape = getattr(values, "shape", None)
        if (
            isinstance(values, (str, bytes, Mapping))
            or not hasattr(values, "__len__")
            or (shape is not None and len(shape) == 0)
        ):
            raise TypeError(
                f"item[{name!r}] (a label field) must be a list, array or tensor with one entry "
                f"per {what}, got {type(values).__name__}"
            )
        count = int(shape[0]) if shape is not None else len(values)
        if count != n:
            raise ValueError(
                f"label field {name!r} has {count} entries but the item has {n} {what}(s); "
                f"a label field holds one entry per {what}, in order"
            )


def _take(values: Any, ids: np.ndarray) -> Any:
    """The entries ``ids`` of a label field, in its own container."""
    if isinstance(values, np.ndarray):
        return values[ids]
    if is_tensor(values):
        import torch

        return values[torch.as_tensor(ids, dtype=torch.int64, device=values.device)]
    picked = [values[i] for i in ids.tolist()]
    return tuple(picked) if isinstance(values, tuple) else picked


def _flags_like(flags: np.ndarray, like: Any) -> Any:
    """Keypoint flags in the container the item gave them in (a list of bools if none)."""
    if isinstance(like, np.ndarray):
        return flags.astype(like.dtype)
    if is_tensor(like):
        import torch

        return torch.from_numpy(flags.copy()).to(device=like.device, dtype=like.dtype)
    out = [bool(v) for v in flags]
    return tuple(out) if isinstance(like, tuple) else out


class _Origin:
    """What ``put`` needs of the item as given: its containers, extras, and the first arrays.

    A target whose array is still the one made at entry was moved by no
    operator and goes back exactly as given (a photometric step leaves boxes
    untouched to the bit, and a yolo box is not rewritten through floats).
    """

    __slots__ = (
        "box_extras",
        "box_ids",
        "boxes",
        "item",
        "point_extras",
        "point_ids",
        "points",
        "spec",
        "visible",
    )

    def __init__(self, spec: ImageTargets, item: Mapping[str, Any]) -> None:
        self.spec = spec
        self.item = item
        self.boxes: np.ndarray | None = None
        self.box_ids: np.ndarray | None = None
        self.box_extras: Any = None
        self.points: np.ndarray | None = None
        self.point_ids: np.ndarray | None = None
        self.point_extras: Any = None
        self.visible: np.ndarray | None = None

    def put(self, new: Any) -> dict[str, Any]:
        if not isinstance(new, TargetItem):
            raise TypeError(
                f"an operator returned {type(new).__name__} for an image item; in a "
                "Pipeline(targets=ImageTargets(...)) operators receive and return "
                "augkit.image.TargetItem (change the image with item.replace(image=...))"
            )
        item, spec = self.item, self.spec
        out = dict(item)
        out["image"] = new.image
        out.update(new.masks)
        if new.mask_list is not None:
            given = item["masks"]
            out["masks"] = new.mask_list if isinstance(given, tuple) else list(new.mask_list)
        hw = image_hw(new.image)
        if new.boxes is not None and new.boxes is not self.boxes:
            assert new.box_ids is not None
            coords = from_pascal(new.boxes, spec.bbox_format, hw)
            out["bboxes"] = join_rows(coords, self.box_extras, new.box_ids, item["bboxes"])
        if new.box_ids is not None and new.box_ids is not self.box_ids:
            for name in spec.label_fields:
                if item.get(name) is not None:
                    out[name] = _take(item[name], new.box_ids)
        if new.keypoints is not None and new.keypoints is not self.points:
            assert new.keypoint_ids is not None and new.visible is not None
            ids = new.keypoint_ids
            out["keypoints"] = join_rows(new.keypoints, self.point_extras, ids, item["keypoints"])
            flags = item.get(VISIBLE_KEY)
            if flags is not None or spec.keypoints == "mark":
                out[VISIBLE_KEY] = _flags_like(new.visible, flags)
            if ids is not self.point_ids:
                for name in spec.keypoint_label_fields:
                    if item.get(name) is not None:
                        out[name] = _take(item[name], ids)
        return out


_FIELDS = (
    "image",
    "masks",
    "mask_list",
    "boxes",
    "box_ids",
    "keypoints",
    "keypoint_ids",
    "visible",
)


class TargetItem:
    """An image item in canonical form: what operators of an image pipeline receive.

    ``image``: the image (numpy, PIL or torch). ``masks``: the per-pixel
    targets by item key (``"mask"`` and the spec's ``masks``), ``mask_list``:
    the masks of ``item["masks"]`` (or ``None``). ``boxes``: ``(N, 4)``
    float64 pascal_voc corners in pixels (``None``: the item has no boxes),
    ``box_ids``: the row of the item's ``"bboxes"`` each box came from.
    ``keypoints``: ``(K, 2)`` float64 pixel indices, ``keypoint_ids`` their
    rows, ``visible`` their flags. ``spec``: the :class:`ImageTargets`
    that made it.

    Operators never change one: they return a new one, from
    :meth:`transform` (one geometry for every target) or :meth:`replace`
    (a photometric operator: ``item.replace(image=new_image)``).
    """

    __slots__ = ("_origin", "spec", *_FIELDS)

    def __init__(
        self,
        spec: ImageTargets,
        *,
        image: Any,
        masks: Mapping[str, Any] | None = None,
        mask_list: Sequence[Any] | None = None,
        boxes: np.ndarray | None = None,
        box_ids: np.ndarray | None = None,
        keypoints: np.ndarray | None = None,
        keypoint_ids: np.ndarray | None = None,
        visible: np.ndarray | None = None,
        origin: _Origin | None = None,
    ) -> None:
        self.spec = spec
        self.image = image
        self.masks: dict[str, Any] = dict(masks or {})
        self.mask_list: tuple[Any, ...] | None = None if mask_list is None else tuple(mask_list)
        self.boxes = boxes
        self.box_ids = box_ids
        self.keypoints = keypoints
        self.keypoint_ids = keypoint_ids
        self.visible = visible
        self._origin = origin

    @property
    def hw(self) -> tuple[int, int]:
        """Height and width of the image."""
        return image_hw(self.image)

    def replace(self, **changes: Any) -> TargetItem:
        """A new item with some fields replaced (``image=``, ``masks=``, ``boxes=``, ...)."""
        unknown = set(changes) - set(_FIELDS)
        if unknown:
            raise TypeError(f"TargetItem has no field(s) {sorted(unknown)}; fields: {_FIELDS}")
        fields = {f: changes[f] if f in changes else getattr(self, f) for f in _FIELDS}
        return TargetItem(self.spec, origin=self._origin, **fields)

    def transform(
        self,
        image_fn: Callable[[Any], Any],
        mask_fn: Callable[[Any], Any],
        matrix: np.ndarray,
        out_hw: tuple[int, int],
    ) -> TargetItem:
        """Every target moved by one geometry.

        ``image_fn`` resamples the image, ``mask_fn`` each mask (nearest);
        ``matrix`` is the geometry's 3x3 map of continuous coordinates and
        ``out_hw`` the output size, which move the boxes (dropped by the
        spec's ``min_visibility`` and ``min_area``) and the keypoints (by its
        ``keypoints`` policy).
        """
        spec, in_hw = self.spec, self.hw
        boxes, box_ids = self.boxes, self.box_ids
        if boxes is not None and box_ids is not None:
            boxes, keep = affine_boxes(
                boxes,
                matrix,
                in_hw,
                out_hw,
                min_visibility=spec.min_visibility,
                min_area=spec.min_area,
            )
            if not keep.all():
                box_ids = box_ids[keep]
        points, point_ids, visible = self.keypoints, self.keypoint_ids, self.visible
        if points is not None and point_ids is not None:
            points, visible, keep = affine_keypoints(
                points, matrix, out_hw, visible=visible, policy=spec.keypoints
            )
            if not keep.all():
                point_ids = point_ids[keep]
        return TargetItem(
            spec,
            image=image_fn(self.image),
            masks={name: mask_fn(m) for name, m in self.masks.items()},
            mask_list=None if self.mask_list is None else [mask_fn(m) for m in self.mask_list],
            boxes=boxes,
            box_ids=box_ids,
            keypoints=points,
            keypoint_ids=point_ids,
            visible=visible,
            origin=self._origin,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TargetItem):
            return NotImplemented
        return self.spec == other.spec and all(
            values_equal(getattr(self, f), getattr(other, f)) for f in _FIELDS
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        h, w = self.hw
        parts = [f"image={type(self.image).__name__} {h}x{w}"]
        if self.masks:
            parts.append(f"masks={sorted(self.masks)}")
        if self.mask_list is not None:
            parts.append(f"mask_list={len(self.mask_list)}")
        if self.boxes is not None:
            parts.append(f"boxes={len(self.boxes)}")
        if self.keypoints is not None:
            parts.append(f"keypoints={len(self.keypoints)}")
        return f"TargetItem({', '.join(parts)})"


# --------------------------------------------------------------------------- configs, version 1

#: Target parameters that augkit 0.1 put on every image operator:
#: version-1 operator parameter -> (ImageTargets parameter, version-1 default).
V1_TARGET_PARAMS: dict[str, tuple[str, Any]] = {
    "bbox_format": ("bbox_format", "pascal_voc"),
    "min_visibility": ("min_visibility", 0.0),
    "outside_keypoints": ("keypoints", "drop"),
}
