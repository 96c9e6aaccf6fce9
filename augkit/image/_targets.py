"""Bounding boxes and keypoints as arrays: parsing rows, box formats, and one affine map.

This module works on plain arrays and knows nothing of items or specs
(:mod:`augkit.image.targets` builds the item model on it;
:mod:`augkit.image.functional` re-exports the public functions).

Two coordinate conventions, the usual ones:

* **Boxes** use continuous image coordinates: the image covers ``[0, W] x [0, H]``
  and pixel ``(row i, column j)`` is the unit square ``[j, j+1) x [i, i+1)``.
  A pascal_voc box ``(x_min, y_min, x_max, y_max)`` with integer corners covers
  exactly ``image[y_min:y_max, x_min:x_max]``.
* **Keypoints** use pixel indices, as COCO and albumentations do: ``(x, y)`` is
  the centre of pixel ``image[y, x]``; a keypoint is inside the image when
  ``-0.5 <= x <= W - 0.5`` and ``-0.5 <= y <= H - 0.5``.

A geometry is a 3x3 matrix ``A`` mapping continuous input coordinates to
continuous output coordinates; keypoints are shifted by half a pixel on the
way in and out. A box maps to the axis-aligned box around its four
transformed corners, is clipped to the output image and dropped when nothing
of it is left, when the clipped area is less than ``min_visibility`` of the
unclipped one, or less than ``min_area`` pixels.

A visible keypoint that the map moves out of the image is dropped
(``"drop"``) or kept and flagged invisible (``"mark"``); a keypoint already
flagged invisible is kept with its flag wherever it lands, so indices stay
aligned (skeletons).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._arrays import is_tensor

BBOX_FORMATS = ("pascal_voc", "coco", "yolo")
KEYPOINT_POLICIES = ("drop", "mark")
VISIBLE_KEY = "keypoints_visible"


def tolerance(hw: tuple[int, int]) -> float:
    """How far (pixels) a coordinate may stray from the image before it counts as outside.

    Coordinates that went through a yolo / coco conversion carry rounding
    error; a millionth of the image size is far below any annotation's precision.
    """
    return 1e-6 * max(hw[0], hw[1], 1)


# --------------------------------------------------------------------------- containers


def _tensor_rows(rows: Any, what: str) -> np.ndarray:
    """A tensor of rows as a float64 numpy array (any device, any real dtype)."""
    import torch  # already imported: ``rows`` is a tensor

    if rows.dtype.is_complex or rows.dtype == torch.bool:
        raise TypeError(f"{what} must be a numeric tensor, got dtype {rows.dtype}")
    out: np.ndarray = rows.detach().cpu().double().numpy()
    return out


def split_rows(rows: Any, width: int, what: str) -> tuple[np.ndarray, Any]:
    """Coordinates ``(N, width)`` as float64 and the rest of each row (extras, e.g. labels).

    ``rows`` is a sequence of rows, an ``(N, width+)`` numpy array or a
    tensor. The extras are an ``(N, k)`` array for arrays and tensors, a list
    of lists for rows.
    """
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


def join_rows(coords: np.ndarray, extras: Any, ids: np.ndarray, like: Any) -> Any:
    """Rows ``coords[i] + extras[ids[i]]`` in the container ``like`` came in.

    Arrays and tensors stay so (floating dtypes kept, others float64; a
    tensor keeps its device), lists of rows stay lists.
    """
    if isinstance(like, np.ndarray) or is_tensor(like):
        rows = np.concatenate([coords, np.asarray(extras)[ids].astype(np.float64)], axis=1)
        if isinstance(like, np.ndarray):
            return rows.astype(like.dtype if like.dtype.kind == "f" else np.float64)
        import torch

        dtype = like.dtype if like.dtype.is_floating_point else torch.float64
        return torch.from_numpy(rows).to(device=like.device, dtype=dtype)
    return [[*(float(v) for v in coords[k]), *extras[i]] for k, i in enumerate(ids.tolist())]


# --------------------------------------------------------------------------- box formats


def to_pascal(c: np.ndarray, fmt: str, hw: tuple[int, int]) -> np.ndarray:
    """``(N, 4)`` float64 boxes in ``fmt`` as pascal_voc corners (no validation)."""
    h, w = hw
    if fmt == "pascal_voc":
        return c
    if fmt == "coco":
        return np.stack([c[:, 0], c[:, 1], c[:, 0] + c[:, 2], c[:, 1] + c[:, 3]], axis=1)
    # yolo: normalized centre and size
    cx, cy, bw, bh = c[:, 0] * w, c[:, 1] * h, c[:, 2] * w, c[:, 3] * h
    return np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)


def from_pascal(p: np.ndarray, fmt: str, hw: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`to_pascal`."""
    h, w = hw
    if fmt == "pascal_voc":
        return p
    bw, bh = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    if fmt == "coco":
        return np.stack([p[:, 0], p[:, 1], bw, bh], axis=1)
    return np.stack([(p[:, 0] + bw / 2) / w, (p[:, 1] + bh / 2) / h, bw / w, bh / h], axis=1)


def convert_boxes(boxes: Any, source: str, target: str, hw: tuple[int, int]) -> np.ndarray:
    """``(N, 4)`` boxes of an ``hw`` (height, width) image from one format to another.

    Formats: ``"pascal_voc"`` ``[x_min, y_min, x_max, y_max]`` in pixels,
    ``"coco"`` ``[x_min, y_min, width, height]`` in pixels, ``"yolo"``
    ``[x_center, y_center, width, height]`` as fractions of the image size.
    Returns float64; conversions invert each other up to float rounding.

    >>> convert_boxes([[10, 10, 100, 100]], "coco", "pascal_voc", (300, 400)).tolist()
    [[10.0, 10.0, 110.0, 110.0]]
    >>> convert_boxes([[10, 10, 110, 110]], "pascal_voc", "yolo", (200, 400)).tolist()
    [[0.15, 0.3, 0.25, 0.5]]
    """
    for name, fmt in (("source", source), ("target", target)):
        if fmt not in BBOX_FORMATS:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, BBOX_FORMATS))}")
    arr = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if source == target:
        return arr.copy()
    return from_pascal(to_pascal(arr, source, hw), target, hw)


def check_boxes(p: np.ndarray, raw: np.ndarray, fmt: str, hw: tuple[int, int]) -> None:
    """``ValueError`` naming the first box (``raw``, as given) that is not inside the image."""
    h, w = hw
    tol = tolerance(hw)
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


# --------------------------------------------------------------------------- the affine map


def affine_boxes(
    boxes: Any,
    matrix: Any,
    in_hw: tuple[int, int],
    out_hw: tuple[int, int],
    *,
    min_visibility: float = 0.0,
    min_area: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """pascal_voc boxes of an ``in_hw`` image under ``matrix``: ``(kept boxes, keep mask)``.

    ``boxes`` is ``(N, 4)`` ``[x_min, y_min, x_max, y_max]`` in continuous
    pixel coordinates, ``matrix`` the 3x3 map of the geometry (see
    :func:`augkit.image.functional.rotate_matrix` and friends). Each box
    becomes the axis-aligned box around its transformed corners, clipped to
    the ``out_hw`` image; it is dropped when less than a rounding sliver of
    it is left, when its clipped area is below ``min_visibility`` times its
    unclipped area, or below ``min_area`` pixels. Returns the kept boxes
    ``(M, 4)`` float64 and the boolean mask ``(N,)`` of which were kept.

    >>> import numpy as np
    >>> flip = np.array([[-1.0, 0, 10], [0, 1, 0], [0, 0, 1]])  # mirror a 10-wide image
    >>> kept, keep = affine_boxes([[1, 2, 4, 6]], flip, (8, 10), (8, 10))
    >>> kept.tolist(), keep.tolist()
    ([[6.0, 2.0, 9.0, 6.0]], [True])
    """
    p = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    m = np.asarray(matrix, dtype=np.float64)
    if len(p) == 0:
        return p.copy(), np.zeros(0, dtype=bool)
    p = np.clip(p, 0.0, [in_hw[1], in_hw[0], in_hw[1], in_hw[0]])
    xs = p[:, [0, 2, 2, 0]]
    ys = p[:, [1, 1, 3, 3]]
    tx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    ty = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    env = np.stack([tx.min(axis=1), ty.min(axis=1), tx.max(axis=1), ty.max(axis=1)], axis=1)
    ho, wo = out_hw
    clipped = np.clip(env, 0.0, [wo, ho, wo, ho])
    area = (env[:, 2] - env[:, 0]) * (env[:, 3] - env[:, 1])
    cw, ch = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
    # A box cut down to a rounding-error sliver (yolo / coco coordinates come
    # back from a division) is as gone as one cut to nothing.
    tol = tolerance(out_hw)
    kept_area = cw * ch
    keep = (cw > tol) & (ch > tol) & (kept_area >= min_visibility * area) & (kept_area >= min_area)
    return clipped[keep], keep


def inside(pts: np.ndarray, hw: tuple[int, int], tol: float) -> np.ndarray:
    """Which keypoints (pixel indices) lie inside an ``hw`` image, ``tol`` pixels of slack."""
    h, w = hw
    x, y = pts[:, 0], pts[:, 1]
    return (x >= -0.5 - tol) & (x <= w - 0.5 + tol) & (y >= -0.5 - tol) & (y <= h - 0.5 + tol)


def affine_keypoints(
    points: Any,
    matrix: Any,
    out_hw: tuple[int, int],
    *,
    visible: Any = None,
    policy: str = "drop",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keypoints ``(K, 2)`` (pixel indices) moved exactly by ``matrix``.

    ``visible`` holds a flag per keypoint (``None``: all visible). A
    keypoint flagged invisible is kept, flag and all, wherever it lands. A
    visible keypoint that leaves the ``out_hw`` image is dropped
    (``policy="drop"``) or kept and flagged invisible (``"mark"``). Returns
    the kept keypoints ``(M, 2)``, their flags ``(M,)`` and the boolean mask
    ``(K,)`` of which were kept.

    >>> import numpy as np
    >>> shift = np.array([[1.0, 0, -5], [0, 1, 0], [0, 0, 1]])  # a crop from column 5
    >>> pts, flags, keep = affine_keypoints([[2.0, 1.0], [7.0, 1.0]], shift, (4, 4), policy="mark")
    >>> pts.tolist(), flags.tolist(), keep.tolist()
    ([[-3.0, 1.0], [2.0, 1.0]], [False, True], [True, True])
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    m = np.asarray(matrix, dtype=np.float64)
    vis = np.ones(len(pts), dtype=bool) if visible is None else np.asarray(visible, dtype=bool)
    u = pts + 0.5
    x = m[0, 0] * u[:, 0] + m[0, 1] * u[:, 1] + m[0, 2] - 0.5
    y = m[1, 0] * u[:, 0] + m[1, 1] * u[:, 1] + m[1, 2] - 0.5
    moved = np.stack([x, y], axis=1)
    now = vis & inside(moved, out_hw, tolerance(out_hw))
    keep = now | ~vis if policy == "drop" else np.ones(len(moved), dtype=bool)
    return moved[keep], now[keep], keep


# --------------------------------------------------------------------------- keypoint checks


def visible_flags(flags: Any, n: int) -> np.ndarray:
    """Keypoint visibility flags (a list, array or tensor) as a bool array of length ``n``."""
    if flags is None:
        return np.ones(n, dtype=bool)
    vis = np.asarray(flags.detach().cpu() if is_tensor(flags) else flags)
    if vis.shape != (n,):
        raise ValueError(
            f"{VISIBLE_KEY} must hold one flag per keypoint ({n}), got shape {vis.shape}"
        )
    return vis.astype(bool)


def check_keypoints(pts: np.ndarray, visible: np.ndarray, hw: tuple[int, int]) -> None:
    """``ValueError`` naming the first keypoint that is not finite or, visible, outside."""
    if not np.isfinite(pts).all():
        i = int(np.flatnonzero(~np.isfinite(pts).all(axis=1))[0])
        raise ValueError(f"keypoints[{i}] = {pts[i].tolist()} is not finite")
    outside = visible & ~inside(pts, hw, tolerance(hw))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"keypoints[{i}] = {pts[i].tolist()} lies outside the image (width {hw[1]}, "
            f"height {hw[0]}; keypoints are pixel indices, inside means -0.5 <= x <= width-0.5); "
            f"mark it invisible in item[{VISIBLE_KEY!r}] to carry it along"
        )
