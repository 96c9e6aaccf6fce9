"""Every benchmark script still runs (``--quick``), from a copy so results/ stays untouched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_all_benchmarks_run_in_quick_mode(tmp_path: Path) -> None:
    copy = tmp_path / "benchmarks"
    copy.mkdir()
    for script in (ROOT / "benchmarks").glob("*.py"):
        shutil.copy(script, copy / script.name)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "AUGKIT_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, str(copy / "run_all.py"), "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    scripts = sorted(p.name for p in copy.glob("*.py") if not p.name.startswith(("_", "run_all")))
    assert len(scripts) >= 5
    for name in scripts:
        assert f"== {name}" in proc.stdout
    # Each printed at least one markdown table.
    assert proc.stdout.count("|---") >= len(scripts)
