"""Draw docs/img/image_operators.png: the bundled sample under each geometry operator.

    python docs/scripts/make_image_grid.py [--out PATH] [--seed N]

The picture is reproducible: each operator draws its parameters from
``augkit.item_rng(seed, 0, k)``. tests/image/test_preview.py runs this script.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "docs" / "img" / "image_operators.png"


def operators() -> list[tuple[str, object]]:
    """(caption, operator) pairs shown in the grid; every target follows the image."""
    from augkit.image import (
        CenterCrop,
        HorizontalFlip,
        RandomCrop,
        RandomResizedCrop,
        Rotate,
        VerticalFlip,
    )

    return [
        ("Rotate(30)", Rotate(30)),
        ("Rotate(30, border='reflect')", Rotate(30, border="reflect")),
        ("Rotate(45, expand=True)", Rotate((45, 45), expand=True)),
        ("RandomCrop((90, 120))", RandomCrop((90, 120))),
        ("CenterCrop(80)", CenterCrop(80)),
        ("RandomResizedCrop((120, 160))", RandomResizedCrop((120, 160), scale=(0.2, 0.6))),
        ("HorizontalFlip()", HorizontalFlip()),
        ("VerticalFlip()", VerticalFlip()),
    ]


def main(argv: list[str] | None = None) -> pathlib.Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="PNG file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the operators' parameters")
    args = parser.parse_args(argv)
    from augkit.image.preview import load_sample, save_preview_grid

    path = save_preview_grid(load_sample(), operators(), args.out, seed=args.seed)  # type: ignore[arg-type]
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing
    main()
