"""Look at what image operators do: the bundled sample item and a PNG grid of results.

>>> from augkit.image.preview import load_sample
>>> item = load_sample()
>>> item["image"].shape, item["mask"].shape, len(item["bboxes"]), len(item["keypoints"])
((120, 160, 3), (120, 160), 3, 4)
"""

from __future__ import annotations

import json
import os
import pathlib
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from ..protocol import Augmenter
from ..seeding import item_rng
from ._arrays import is_pil

__all__ = ["load_sample", "render_item", "save_preview_grid"]

# Overlay colours per mask label / box index (label 0 = background stays clear).
_PALETTE = [
    (230, 25, 75),
    (255, 225, 25),
    (0, 130, 200),
    (60, 180, 75),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
]
_SCALE = 2
_CAPTION = 16
_GAP = 6


def load_sample() -> dict[str, Any]:
    """The bundled sample: ``{"image", "mask", "bboxes", "keypoints"}``.

    ``image`` is a 120x160x3 uint8 synthetic scene (a sun, a house, a tree),
    ``mask`` its HxW uint8 label map (0 background, 1 sun, 2 house, 3 tree),
    ``bboxes`` pascal_voc boxes ``[x_min, y_min, x_max, y_max, label]`` and
    ``keypoints`` ``[x, y, name]`` in pixel indices. The files are made by
    docs/scripts/make_sample_image.py (in the source tree, not the package).
    """
    from PIL import Image

    data = resources.files("augkit") / "data"
    with (data / "sample_image.png").open("rb") as fh:
        image = np.asarray(Image.open(fh).convert("RGB")).copy()
    with (data / "sample_mask.png").open("rb") as fh:
        mask = np.asarray(Image.open(fh).convert("L")).copy()
    ann = json.loads((data / "sample_annotations.json").read_text(encoding="utf-8"))
    return {
        "image": image,
        "mask": mask,
        "bboxes": [list(b) for b in ann["bboxes"]],
        "keypoints": [list(k) for k in ann["keypoints"]],
    }


def _to_rgb(image: Any) -> np.ndarray:
    """An HxWx3 uint8 view of an operator's output (numpy, PIL or torch)."""
    if is_pil(image):
        return np.asarray(image.convert("RGB"))
    if not isinstance(image, np.ndarray):  # torch CxHxW
        arr = image.detach().cpu().numpy()
        image = np.moveaxis(arr, 0, -1) if arr.ndim == 3 else arr
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr * (255.0 if arr.dtype.kind == "f" else 1.0), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return arr[:, :, :3]


def _labels(mask: Any) -> np.ndarray:
    """An HxW label array from a numpy (HxW / HxWxK), PIL or torch (HxW / KxHxW) mask."""
    if isinstance(mask, np.ndarray):
        return mask if mask.ndim == 2 else mask[:, :, 0]
    if is_pil(mask):
        return np.asarray(mask)
    arr: np.ndarray = mask.detach().cpu().numpy()
    return arr if arr.ndim == 2 else arr[0]


def _box_key(box: Any, i: int) -> Any:
    """What identifies a box across tiles: its label (5th value) if it has one, else its index."""
    return box[4] if len(box) > 4 and isinstance(box[4], (str, int)) else i


def render_item(
    item: dict[str, Any],
    scale: int = _SCALE,
    box_colours: dict[Any, tuple[int, int, int]] | None = None,
) -> Any:
    """The item's image as a PIL image, ``scale`` times enlarged, with mask, boxes, keypoints.

    ``box_colours`` maps a box's label (or index) to its outline colour, so a
    box keeps its colour in every tile even when others were dropped.
    """
    from PIL import Image, ImageDraw

    rgb = _to_rgb(item["image"]).astype(np.float32)
    mask = item.get("mask")
    if mask is not None:
        labels = _labels(mask)
        for value in np.unique(labels):
            if value == 0:
                continue
            colour = np.array(_PALETTE[int(value) % len(_PALETTE)], dtype=np.float32)
            sel = labels == value
            rgb[sel] = 0.6 * rgb[sel] + 0.4 * colour
    h, w = rgb.shape[:2]
    img = Image.fromarray(rgb.astype(np.uint8), "RGB").resize(
        (w * scale, h * scale), Image.Resampling.NEAREST
    )
    draw = ImageDraw.Draw(img)
    for i, box in enumerate(item.get("bboxes") or []):
        x0, y0, x1, y1 = (float(v) * scale for v in box[:4])
        outline = (box_colours or {}).get(_box_key(box, i), _PALETTE[(i + 1) % len(_PALETTE)])
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=outline, width=2)
    for kp in item.get("keypoints") or []:
        cx, cy = (float(kp[0]) + 0.5) * scale, (float(kp[1]) + 0.5) * scale
        r = 2.5
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 255, 255), outline=(0, 0, 0))
    return img


def save_preview_grid(
    item: dict[str, Any],
    operators: Sequence[tuple[str, Augmenter]],
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
) -> pathlib.Path:
    """Write a PNG grid: ``item`` and its result under each ``(caption, operator)``.

    ``item`` has ``"image"`` (HxWx3 uint8) and optionally ``"mask"``,
    ``"bboxes"`` (pascal_voc) and ``"keypoints"``. Operator ``k`` is called on
    the whole item with ``rng=augkit.item_rng(seed, 0, k)``, so the picture is
    reproducible. Tiles are drawn twice the image size with the mask overlaid,
    boxes outlined, keypoints dotted and the caption underneath. Returns the
    path written.
    """
    from PIL import Image, ImageDraw

    if not isinstance(item, dict) or "image" not in item:
        raise ValueError("item must be a dict with an 'image' entry")
    colours = {
        _box_key(box, i): _PALETTE[(i + 1) % len(_PALETTE)]
        for i, box in enumerate(item.get("bboxes") or [])
    }
    tiles = [("original", render_item(item, box_colours=colours))]
    for k, (caption, op) in enumerate(operators):
        # The protocol's call: any operator, with or without __call__.
        source = dict(item)
        out = op.apply(source, op.sample_params(source, item_rng(seed, 0, k)))
        if not isinstance(out, dict):
            raise TypeError(f"operator {caption!r} returned {type(out).__name__}, not a dict item")
        tiles.append((str(caption), render_item(out, box_colours=colours)))
    cell_w = max(t.width for _, t in tiles)
    cell_h = max(t.height for _, t in tiles) + _CAPTION
    cols = min(len(tiles), max(1, int(np.ceil(np.sqrt(len(tiles))))))
    rows = -(-len(tiles) // cols)
    grid = Image.new(
        "RGB",
        (cols * cell_w + (cols + 1) * _GAP, rows * cell_h + (rows + 1) * _GAP),
        (255, 255, 255),
    )
    draw = ImageDraw.Draw(grid)
    for i, (caption, tile) in enumerate(tiles):
        r, c = divmod(i, cols)
        x0 = _GAP + c * (cell_w + _GAP)
        y0 = _GAP + r * (cell_h + _GAP)
        draw.rectangle([x0, y0, x0 + cell_w - 1, y0 + cell_h - _CAPTION - 1], fill=(235, 235, 235))
        grid.paste(
            tile, (x0 + (cell_w - tile.width) // 2, y0 + (cell_h - _CAPTION - tile.height) // 2)
        )
        draw.text((x0 + 2, y0 + cell_h - _CAPTION + 2), caption, fill=(0, 0, 0))
    out_path = pathlib.Path(path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(out_path, format="PNG", optimize=True)
    return out_path
