"""Every benchmark script still runs (``--quick``), from a copy so results/ stays untouched.

One test per script, so the two xdist workers share them (run in series they
were the suite's longest test).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith(("_", "run_all")))


def test_there_are_benchmarks_and_run_all_finds_them() -> None:
    assert len(SCRIPTS) >= 5
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCHMARKS))
    assert Path(run_all.HERE) == BENCHMARKS


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_in_quick_mode(script: str, tmp_path: Path) -> None:
    copy = tmp_path / "benchmarks"
    copy.mkdir()
    for path in BENCHMARKS.glob("*.py"):
        shutil.copy(path, copy / path.name)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "AUGKIT_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, str(copy / script), "--quick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "|---" in proc.stdout  # it printed a markdown table
