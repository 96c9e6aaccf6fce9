"""Every ```python block in README.md and docs/*.md runs, in order, one namespace per file.

Blocks fenced as ```python no-run (for example, ones that need a model from
the hub) are shown but not executed. Blocks fenced as ```python ray need a Ray
cluster: they run, with the other blocks of their file, on the test session's
local cluster in tests/integration/test_ray.py (one cluster for all Ray tests).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\S*)([^\n]*)\n(.*?)^```", re.M | re.S)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks(path: Path, *, ray: bool = False) -> list[str]:
    """The runnable python blocks of ``path``, in order; ``ray`` blocks only when ``ray``."""
    blocks = []
    for lang, info, body in FENCE.findall(path.read_text(encoding="utf-8")):
        tags = info.split()
        if lang == "python" and "no-run" not in tags and (ray or "ray" not in tags):
            blocks.append(body)
    return blocks


@pytest.mark.parametrize("path", [p for p in DOCS if p.exists()], ids=lambda p: p.name)
def test_doc_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(path)
    if not blocks:
        pytest.skip(f"{path.name} has no runnable python blocks")
    run_blocks(path, blocks, tmp_path, monkeypatch)


def run_blocks(
    path: Path, blocks: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run ``blocks`` of ``path`` in order, in one namespace, in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"doc_{path.stem}"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{path.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the failure message is the point
            raise AssertionError(f"{path.name} block {i} failed:\n{block}") from exc
