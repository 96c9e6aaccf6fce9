"""Run every benchmark in this folder, one after another, and collect their tables.

Each benchmark prints a markdown table and writes results/<name>.json; this
script runs them in separate processes (so one library's threads or caches
cannot slow another's) with one thread each, and writes results/SUMMARY.md.

``randomness.py`` (the statistical battery, ``make randomness``) runs here
only with ``--quick``.

Usage: python benchmarks/run_all.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-run every benchmark")
    args = parser.parse_args(argv)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    # randomness.py's full battery takes an hour or more: it has its own target
    # (make randomness); here it runs only in --quick mode, as a smoke test.
    skip = {"run_all.py"} | (set() if args.quick else {"randomness.py"})
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name not in skip and not p.name.startswith("_")
    )
    sections = []
    failed = []
    for script in scripts:
        cmd = [sys.executable, str(script), *(["--quick"] if args.quick else [])]
        print(f"== {script.name}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        print(proc.stdout)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            failed.append(script.name)
        sections.append(f"## {script.stem}\n\n({elapsed:.0f} s)\n\n{proc.stdout.strip()}\n")
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "SUMMARY.md").write_text("# Benchmark results\n\n" + "\n".join(sections))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
