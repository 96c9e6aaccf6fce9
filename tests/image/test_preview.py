"""The bundled sample, the preview grid and the docs script that draws it."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augkit.image import CenterCrop, HorizontalFlip, Rotate
from augkit.image.preview import _PALETTE, load_sample, render_item, save_preview_grid

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "scripts" / "make_image_grid.py"
SAMPLE_SCRIPT = ROOT / "docs" / "scripts" / "make_sample_image.py"


def test_sample_loads_and_is_consistent() -> None:
    item = load_sample()
    img, mask = item["image"], item["mask"]
    assert img.shape == (120, 160, 3) and img.dtype == np.uint8
    assert mask.shape == (120, 160) and set(np.unique(mask).tolist()) == {0, 1, 2, 3}
    labels = {1: "sun", 2: "house", 3: "tree"}
    for box in item["bboxes"]:
        x0, y0, x1, y1, name = box
        label = next(k for k, v in labels.items() if v == name)
        rows, cols = np.nonzero(mask == label)
        assert [x0, y0, x1, y1] == [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
    for x, y, name in item["keypoints"]:
        assert 0 <= x < 160 and 0 <= y < 120 and isinstance(name, str)
    # The operators take the sample as it is, targets included.
    out = Rotate(30)(item, seed=0)
    assert out["image"].shape == img.shape and len(out["keypoints"]) <= 4


def test_bundled_files_match_their_generator() -> None:
    # The generator is test data, not package code (issue 10): docs/scripts.
    img, mask, ann = runpy.run_path(str(SAMPLE_SCRIPT))["make_sample"]()
    item = load_sample()
    assert np.array_equal(item["image"], img) and np.array_equal(item["mask"], mask)
    data = json.loads((ROOT / "augkit" / "data" / "sample_annotations.json").read_text())
    assert data == json.loads(json.dumps(ann))


def test_sample_script_rewrites_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(SAMPLE_SCRIPT), "--out", str(tmp_path)])
    runpy.run_path(str(SAMPLE_SCRIPT), run_name="__main__")
    data = ROOT / "augkit" / "data"
    name = "sample_annotations.json"
    assert (tmp_path / name).read_bytes() == (data / name).read_bytes()
    for name in ("sample_image.png", "sample_mask.png"):
        with Image.open(tmp_path / name) as new, Image.open(data / name) as old:
            assert new.mode == old.mode and np.array_equal(np.asarray(new), np.asarray(old))


def test_the_sample_generator_left_the_package() -> None:
    import importlib.util

    assert importlib.util.find_spec("augkit.image._sample") is None


def test_grid_script_writes_a_png(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "sub" / "grid.png"
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), "--out", str(out), "--seed", "3"])
    runpy.run_path(str(SCRIPT), run_name="__main__")
    with Image.open(out) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        grid = np.asarray(im)
    # 9 tiles (the original and 8 operators) in a 3x3 grid of equal cells.
    ns = runpy.run_path(str(SCRIPT))
    assert len(ns["operators"]()) == 8
    assert grid.shape[0] > 3 * 240 and grid.shape[1] > 3 * 320
    assert len(np.unique(grid.reshape(-1, 3), axis=0)) > 200  # pictures, not blank cells
    committed = ROOT / "docs" / "img" / "image_operators.png"
    with Image.open(committed) as im:
        assert im.size == (grid.shape[1], grid.shape[0])


def test_grid_tiles_show_the_operator_results(tmp_path: Path) -> None:
    item = load_sample()
    path = save_preview_grid(item, [("flip", HorizontalFlip())], tmp_path / "g.png", seed=0)
    grid = np.asarray(Image.open(path))
    colours = {b[4]: _PALETTE[i + 1] for i, b in enumerate(item["bboxes"])}
    original = np.asarray(render_item(item, box_colours=colours))
    flipped = np.asarray(render_item(HorizontalFlip()(item), box_colours=colours))
    h, w = original.shape[:2]
    gap = 6
    # Two tiles side by side: the original, then the flip, captions underneath.
    assert np.array_equal(grid[gap : gap + h, gap : gap + w], original)
    assert np.array_equal(grid[gap : gap + h, 2 * gap + w : 2 * gap + 2 * w], flipped)
    # The flip tile mirrors the original (keypoint dots aside, which are drawn unmirrored).
    assert np.mean(flipped == original[:, ::-1]) > 0.98


def test_boxes_keep_their_colour_when_others_are_dropped() -> None:
    item = load_sample()
    colours = {"sun": (255, 0, 0), "house": (0, 255, 0), "tree": (0, 0, 255)}
    window = {"top": 0, "left": 0, "height": 120, "width": 90}
    left = CenterCrop((120, 90)).apply(item, window)  # the left part: the house only
    assert [b[4] for b in left["bboxes"]] == ["house"]
    tile = np.asarray(render_item(left, box_colours=colours))
    x0, y0 = (int(v) * 2 for v in left["bboxes"][0][:2])
    assert tile[y0 + 20, x0].tolist() == [0, 255, 0]  # the house's left edge is green


def test_grid_rejects_items_without_an_image(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'image'"):
        save_preview_grid({"mask": np.zeros((2, 2))}, [], tmp_path / "x.png")
