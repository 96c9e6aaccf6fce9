"""The image benchmark's quick mode runs and records what it measured (and what not)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_writes_its_table_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = runpy.run_path(str(ROOT / "benchmarks" / "image_ops.py"))
    out = tmp_path / "image_ops.json"
    assert ns["main"](["--quick", "--rounds", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    ops = {(r["op"], r["size"]) for r in data["results"]}
    assert ops == {
        (op, size)
        for op in ("rotate", "random_crop", "random_resized_crop", "horizontal_flip")
        for size in ("224x224", "512x512")
    }
    for r in data["results"]:
        speeds = r["images_per_s"]
        assert (
            speeds["augkit"] > 0 and speeds["albumentations"] > 0 and speeds["augkit (torch)"] > 0
        )
        assert r["ratios"]["augkit/albumentations"] == pytest.approx(
            speeds["augkit"] / speeds["albumentations"]
        )
    assert "| rotate | 224x224 |" in printed
    if data["meta"]["torchvision"] is None:
        # Not importable here: the run says so, and why, instead of inventing numbers.
        assert "torchvision not measured" in data["meta"]["torchvision_note"]
        assert "torchvision not measured" in printed
        assert all(g["met"] is None for g in data["goals"] if g["vs"] == "torchvision")
    assert data["meta"]["threads"].startswith("1")
