"""Bounding boxes and keypoints under an affine map of the image plane.

Two coordinate conventions, the usual ones:

* **Boxes** use continuous image coordinates: the image covers ``[0, W] x [0, H]``
  and pixel ``(row i, column j)`` is the unit square ``[j, j+1) x [i, i+1)``.
  A pascal_voc box ``(x_min, y_min, x_max, y_max)`` with integer corners covers
  exactly ``image[y_min:y_max, x_min:x_max]``.
* **Keypoints** use pixel indices, as COCO and albumentations do: ``(x, y)`` is
  the centre of pixel ``image[y, x]``; a keypoint is inside the image when
  ``-0.5 <= x <= W - 0.5`` and ``-0.5 <= y <= H - 0.5``.

The operators give a 3x3 matrix ``A`` that maps continuous input coordinates to
continuous output coordinates; keypoints are shifted by half a pixel on the way
in and out. A box maps to the axis-aligned box around its four transformed
corners, is clipped to the output image and dropped when nothing of it is left
or when the clipped area is less than ``min_visibility`` of the unclipped one.

Keypoint visibility (``item["keypoints_visible"]``, one flag per keypoint) is
carried through every operator: a keypoint flagged False stays in the list
with its flag, wherever it lies, so indices stay aligned (skeletons). A
visible keypoint that the operator moves out of the image is dropped
(``"drop"``) or kept and flagged False (``"mark"``).

Boxes and keypoints are lists of rows, numpy arrays or torch tensors, and come
back as the same kind (arrays and tensors of a floating dtype keep it, others
become float64; a tensor keeps its device).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._arrays import is_tensor

__all__ = [
    "BBOX_FORMATS",
    "KEYPOINT_POLICIES",
    "check_targets",
    "transform_boxes",
    "transform_keypoints",
]

BBOX_FORMATS = ("pascal_voc", "coco", "yolo")
KEYPOINT_POLICIES = ("drop", "mark")
VISIBLE_KEY = "keypoints_visible"


def _tolerance(hw: tuple[int, int]) -> float:
    # Coordinates that went through a yolo/coco conversion carry rounding
    # error; a millionth of the image size is far below any annotation's precision.
    return 1e-6 * max(hw[0], hw[1], 1)


# --------------------------------------------------------------------------- containers


def _tensor_rows(rows: Any, what: str) -> np.ndarray:
    """A tensor of rows as a float64 numpy array (any device, any real dtype)."""
    import torch  # already imported: ``rows`` is a tensor

    if rows.dtype.is_complex or rows.dtype == torch.bool:
        raise TypeError(f"{what} must be a numeric tensor, got dtype {rows.dtype}")
    out: np.ndarray = rows.detach().cpu().double().numpy()
    return out


def _split(rows: Any, width: int, what: str) -> tuple[np.ndarray, Any]:
    """Coordinates (N, width) as float64 and the rest of each row (extras, e.g. labels)."""
    if is_tensor(rows):
        rows = _tensor_rows(rows, what)
    if isinstance(rows, np.ndarray):
        if rows.ndim != 2 or rows.shape[1] < width:
            if rows.size == 0:
                return np.zeros((0, width)), rows.reshape(0, max(rows.shape[-1] - width, 0))
            raise ValueError(f"{what} must have shape (N, >={width}), got {rows.shape}")
        if rows.dtype.kind not in "iuf":
            raise TypeError(f"{what} must be a numeric array, got dtype {rows.dtype}")
        return rows[:, :width].astype(np.float64), rows[:, width:]
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise TypeError(
            f"{what} must be a sequence of rows, an (N, {width}+) array or tensor, got "
            f"{type(rows).__name__}"
        )
    coords = np.empty((len(rows), width), dtype=np.float64)
    extras = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, (Sequence, np.ndarray)):
            raise TypeError(f"{what}[{i}] must be a sequence, got {type(row).__name__}")
        if len(row) < width:
            raise ValueError(f"{what}[{i}] has {len(row)} values, needs at least {width}")
        for k in range(width):
            v = row[k]
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise TypeError(f"{what}[{i}][{k}] must be a number, got {type(v).__name__}")
            coords[i, k] = float(v)
        extras.append(list(row[width:]))
    return coords, extras


def _join(coords: np.ndarray, extras: Any, keep: np.ndarray, like: Any) -> Any:
    """Rebuild the caller's container: arrays and tensors stay so, lists of rows stay lists."""
    if isinstance(like, np.ndarray) or is_tensor(like):
        rows = np.concatenate([coords[keep], np.asarray(extras)[keep].astype(np.float64)], axis=1)
        if isinstance(like, np.ndarray):
            return rows.astype(like.dtype if like.dtype.kind == "f" else np.float64)
        import torch

        dtype = like.dtype if like.dtype.is_floating_point else torch.float64
        return torch.from_numpy(rows).to(device=like.device, dtype=dtype)
    return [[*(float(v) for v in coords[i]), *extras[i]] for i in range(len(coords)) if keep[i]]


# --------------------------------------------------------------------------- boxes


def _to_pascal(c: np.ndarray, fmt: str, hw: tuple[int, int]) -> np.ndarray:
    h, w = hw
    if fmt == "pascal_voc":
        return c
    if fmt == "coco":
        return np.stack([c[:, 0], c[:, 1], c[:, 0] + c[:, 2], c[:, 1] + c[:, 3]], axis=1)
    # yolo: normalized centre and size
    cx, cy, bw, bh = c[:, 0] * w, c[:, 1] * h, c[:, 2] * w, c[:, 3] * h
    return np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)


def _from_pascal(p: np.ndarray, fmt: str, hw: tuple[int, int]) -> np.ndarray:
    h, w = hw
    if fmt == "pascal_voc":
        return p
    bw, bh = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    if fmt == "coco":
        return np.stack([p[:, 0], p[:, 1], bw, bh], axis=1)
    return np.stack([(p[:, 0] + bw / 2) / w, (p[:, 1] + bh / 2) / h, bw / w, bh / h], axis=1)


def _check_boxes(p: np.ndarray, raw: np.ndarray, fmt: str, hw: tuple[int, int]) -> None:
    h, w = hw
    tol = _tolerance(hw)
    for i in range(len(p)):
        x0, y0, x1, y1 = p[i]
        box = [float(v) for v in raw[i]]
        if not all(math.isfinite(v) for v in box):
            raise ValueError(f"bboxes[{i}] = {box} ({fmt}) is not finite")
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"bboxes[{i}] = {box} ({fmt}) has zero or negative width or height")
        if x0 < -tol or y0 < -tol or x1 > w + tol or y1 > h + tol:
            raise ValueError(
                f"bboxes[{i}] = {box} ({fmt}) lies outside the image (width {w}, height {h}); "
                "boxes must be inside the image they annotate"
            )


def _boxes_in(boxes: Any, fmt: str, hw: tuple[int, int]) -> tuple[np.ndarray, Any]:
    """Validated boxes as pascal_voc corners, and the rest of each row."""
    raw, extras = _split(boxes, 4, "bboxes")
    p = _to_pascal(raw, fmt, hw)
    _check_boxes(p, raw, fmt, hw)
    return p, extras


def transform_boxes(
    boxes: Any,
    fmt: str,
    matrix: np.ndarray,
    in_hw: tuple[int, int],
    out_hw: tuple[int, int],
    min_visibility: float,
) -> Any:
    """Boxes of an input image mapped by ``matrix`` (continuous coordinates) and filtered."""
    p, extras = _boxes_in(boxes, fmt, in_hw)
    p = np.clip(p, 0.0, [in_hw[1], in_hw[0], in_hw[1], in_hw[0]])
    if len(p) == 0:
        return _join(p, extras, np.zeros(0, dtype=bool), boxes)
    xs = p[:, [0, 2, 2, 0]]
    ys = p[:, [1, 1, 3, 3]]
    tx = matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2]
    ty = matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]
    env = np.stack([tx.min(axis=1), ty.min(axis=1), tx.max(axis=1), ty.max(axis=1)], axis=1)
    ho, wo = out_hw
    clipped = np.clip(env, 0.0, [wo, ho, wo, ho])
    area = (env[:, 2] - env[:, 0]) * (env[:, 3] - env[:, 1])
    cw, ch = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    # A box cut down to a rounding-error sliver (yolo / coco coordinates come
    # back from a division) is as gone as one cut to nothing.
    tol = _tolerance(out_hw)
    keep = (cw > tol) & (ch > tol) & (cw * ch >= min_visibility * area)
    return _join(_from_pascal(clipped, fmt, out_hw), extras, keep, boxes)


# --------------------------------------------------------------------------- keypoints


def _inside(pts: np.ndarray, hw: tuple[int, int], tol: float) -> np.ndarray:
    h, w = hw
    x, y = pts[:, 0], pts[:, 1]
    return (x >= -0.5 - tol) & (x <= w - 0.5 + tol) & (y >= -0.5 - tol) & (y <= h - 0.5 + tol)


def _visible_in(visible: Any, n: int) -> np.ndarray:
    if visible is None:
        return np.ones(n, dtype=bool)
    vis = np.asarray(visible.detach().cpu() if is_tensor(visible) else visible)
    if vis.shape != (n,):
        raise ValueError(
            f"{VISIBLE_KEY} must hold one flag per keypoint ({n}), got shape {vis.shape}"
        )
    return vis.astype(bool)


def _check_keypoints(pts: np.ndarray, visible: np.ndarray, hw: tuple[int, int]) -> None:
    if not np.isfinite(pts).all():
        i = int(np.flatnonzero(~np.isfinite(pts).all(axis=1))[0])
        raise ValueError(f"keypoints[{i}] = {pts[i].tolist()} is not finite")
    outside = visible & ~_inside(pts, hw, _tolerance(hw))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"keypoints[{i}] = {pts[i].tolist()} lies outside the image (width {hw[1]}, "
            f"height {hw[0]}; keypoints are pixel indices, inside means -0.5 <= x <= width-0.5); "
            f"mark it invisible in item[{VISIBLE_KEY!r}] to carry it along"
        )


def _keypoints_in(
    keypoints: Any, visible: Any, hw: tuple[int, int]
) -> tuple[np.ndarray, Any, np.ndarray]:
    """Validated keypoints, the rest of each row and the incoming visibility flags."""
    pts, extras = _split(keypoints, 2, "keypoints")
    vis = _visible_in(visible, len(pts))
    _check_keypoints(pts, vis, hw)
    return pts, extras, vis


def transform_keypoints(
    keypoints: Any,
    visible: Any,
    matrix: np.ndarray,
    in_hw: tuple[int, int],
    out_hw: tuple[int, int],
    policy: str,
) -> tuple[Any, list[bool] | None]:
    """Keypoints mapped exactly by ``matrix``; visible ones leaving the image dropped or marked.

    ``visible`` holds the flags the item already had (``None``: all visible).
    Keypoints flagged False are kept, flag and all, wherever they land. A
    visible keypoint that leaves the image is dropped (``policy="drop"``) or
    kept and flagged False (``"mark"``). Returns the keypoints and the flags
    of those kept, or ``None`` for flags when there were none and none were
    needed (``"drop"``).
    """
    pts, extras, vis = _keypoints_in(keypoints, visible, in_hw)
    u = pts + 0.5
    x = matrix[0, 0] * u[:, 0] + matrix[0, 1] * u[:, 1] + matrix[0, 2] - 0.5
    y = matrix[1, 0] * u[:, 0] + matrix[1, 1] * u[:, 1] + matrix[1, 2] - 0.5
    moved = np.stack([x, y], axis=1)
    now = vis & _inside(moved, out_hw, _tolerance(out_hw))
    keep = now | ~vis if policy == "drop" else np.ones(len(moved), dtype=bool)
    flags = None if visible is None and policy == "drop" else [bool(v) for v in now[keep]]
    return _join(moved, extras, keep, keypoints), flags


def check_targets(item: Mapping[str, Any], hw: tuple[int, int], fmt: str) -> None:
    """Validate an item's boxes and keypoints against its image size."""
    boxes = item.get("bboxes")
    if boxes is not None:
        _boxes_in(boxes, fmt, hw)
    kps = item.get("keypoints")
    if kps is not None:
        _keypoints_in(kps, item.get(VISIBLE_KEY), hw)
