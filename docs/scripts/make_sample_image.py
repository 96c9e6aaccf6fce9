"""Make the bundled sample (augkit/data/sample_*): how it was made, so it can be checked and rebuilt.

    python docs/scripts/make_sample_image.py [--out DIR]

A synthetic 160x120 scene (sky and ground gradients, a sun, a house, a tree)
drawn with Pillow, its label mask (0 background, 1 sun, 2 house, 3 tree), the
boxes of the labelled regions in pascal_voc and four named keypoints. The
shapes are asymmetric on purpose so that flips and rotations are obvious.
``augkit.image.preview.load_sample()`` reads the files; this script (test
data, not part of the package) rewrites them, by default into augkit/data.
tests/image/test_preview.py checks that the bundled files are what it makes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "augkit" / "data"

WIDTH, HEIGHT = 160, 120
LABELS = {0: "background", 1: "sun", 2: "house", 3: "tree"}
KEYPOINTS = {"roof": (55, 34), "door": (55, 90), "sun": (128, 26), "treetop": (107, 57)}


def make_sample() -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Image (HxWx3 uint8), mask (HxW uint8) and the annotation dict, built from scratch."""
    from PIL import Image, ImageDraw

    y, x = np.meshgrid(np.linspace(0.0, 1.0, HEIGHT), np.linspace(0.0, 1.0, WIDTH), indexing="ij")
    sky = np.stack([70 + 90 * y + 20 * x, 130 + 80 * y, 230 - 30 * y], axis=-1)
    ground = np.stack([60 + 40 * x, 140 - 50 * y, 50 + 0 * x], axis=-1)
    horizon = 96
    pixels = np.where(np.arange(HEIGHT)[:, None, None] < horizon, sky, ground)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    mask = Image.new("L", (WIDTH, HEIGHT), 0)
    di, dm = ImageDraw.Draw(image), ImageDraw.Draw(mask)

    def both(shape: str, xy: Any, colour: tuple[int, int, int], label: int) -> None:
        getattr(di, shape)(xy, fill=colour)
        getattr(dm, shape)(xy, fill=label)

    both("ellipse", [114, 12, 142, 40], (255, 215, 40), 1)  # sun
    both("rectangle", [30, 58, 80, 99], (190, 80, 60), 2)  # house body
    both("polygon", [(26, 58), (55, 34), (84, 58)], (120, 40, 40), 2)  # roof
    di.rectangle([50, 80, 60, 99], fill=(70, 45, 30))  # door (still house)
    di.rectangle([36, 66, 46, 74], fill=(200, 230, 255))  # window
    both("rectangle", [104, 78, 110, 103], (100, 60, 30), 3)  # trunk
    both("ellipse", [93, 57, 121, 85], (40, 130, 50), 3)  # crown
    img = np.asarray(image).copy()
    msk = np.asarray(mask).copy()
    boxes = []
    for label in (1, 2, 3):
        rows, cols = np.nonzero(msk == label)
        boxes.append(
            [
                int(cols.min()),
                int(rows.min()),
                int(cols.max()) + 1,
                int(rows.max()) + 1,
                LABELS[label],
            ]
        )
    annotations = {
        "bbox_format": "pascal_voc",
        "bboxes": boxes,
        "keypoints": [[float(px), float(py), name] for name, (px, py) in KEYPOINTS.items()],
        "mask_labels": {str(k): v for k, v in LABELS.items()},
        "note": (
            "synthetic scene made by docs/scripts/make_sample_image.py; "
            "keypoints are pixel indices"
        ),
    }
    return img, msk, annotations


def write_sample(directory: Path) -> None:
    """Write sample_image.png, sample_mask.png and sample_annotations.json to ``directory``."""
    from PIL import Image

    img, msk, ann = make_sample()
    directory.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img, "RGB").save(directory / "sample_image.png", optimize=True)
    Image.fromarray(msk, "L").save(directory / "sample_mask.png", optimize=True)
    (directory / "sample_annotations.json").write_text(_dumps(ann), encoding="utf-8")


def _dumps(ann: dict[str, Any]) -> str:
    """JSON with one box / keypoint per line (readable and diff-friendly)."""
    lines = ["{"]
    items = list(ann.items())
    for i, (key, value) in enumerate(items):
        end = "," if i < len(items) - 1 else ""
        if isinstance(value, list):
            rows = ",\n".join(f"    {json.dumps(row)}" for row in value)
            lines.append(f'  "{key}": [\n{rows}\n  ]{end}')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{end}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write")
    args = parser.parse_args(argv)
    write_sample(args.out)
    print(f"wrote the sample to {args.out}")
    out: Path = args.out
    return out


if __name__ == "__main__":
    main()
