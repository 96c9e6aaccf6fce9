"""``augkit augment --engine ray``: the single-process command's records, in shards, resumable.

Shares the session's local Ray cluster (``ray_cluster``) and the "ray" xdist
group with tests/integration/test_ray.py. The manifest and resume rules are
tested without Ray in tests/integration/test_sharded.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from augkit.cli import main
from augkit.corpus.sharded import MANIFEST

pytestmark = pytest.mark.xdist_group("ray")

CONFIG = """\
operators:
  - type: test_append_token
  - type: test_drop_char
  - type: test_fail_on
  - type: test_fail_while_file
    params: {{path: {path}, delay: 1.0}}
# Every item meets test_fail_while_file, then test_fail_on, then a random walk.
chain:
  start: [0.0, 0.0, 0.0, 1.0]
  transitions: [[0.2, 0.4, 0.0, 0.0], [0.4, 0.2, 0.0, 0.0], [0.5, 0.3, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]
  max_steps: 4
"""
IMPORTS = ["--import", "tests.ops", "--import", "tests.integration._ops"]


@pytest.fixture
def job(tmp_path: Path) -> dict[str, Path]:
    switch = tmp_path / "fail-now"
    (tmp_path / "cfg.yaml").write_text(CONFIG.format(path=json.dumps(str(switch))))
    with (tmp_path / "in.jsonl").open("w", encoding="utf-8") as f:
        for i in range(60):
            text = (
                f"review {i}: \u00e9t\u00e9 ok FAIL" if i == 57 else f"review {i}: \u00e9t\u00e9 ok"
            )
            if i == 13:
                text += " BOOM"  # test_fail_on raises: skipped with --skip-bad
            f.write(json.dumps({"id": i, "text": text, "label": ["a", "b"][i % 2]}) + "\n")
    return {"dir": tmp_path, "switch": switch}


def augment(job: dict[str, Path], out: str, *extra: str) -> int:
    d = job["dir"]
    argv = [
        "augment", str(d / "in.jsonl"), "-o", str(d / out), "-c", str(d / "cfg.yaml"),
        *IMPORTS, "--n", "2", "--seed", "9", "--skip-bad", "--keep-original",
        "--label-field", "label", "--batch-size", "4", "-q", *extra,
    ]  # fmt: skip
    return main(argv)


def shards(outdir: Path) -> bytes:
    manifest = json.loads((outdir / MANIFEST).read_text())
    assert manifest["complete"]
    return b"".join((outdir / s["name"]).read_bytes() for s in manifest["shards"])


def test_engine_ray_writes_the_single_process_records_in_shards(
    ray_cluster: Any, job: dict[str, Path]
) -> None:
    assert augment(job, "single.jsonl") == 0
    single = (job["dir"] / "single.jsonl").read_bytes()
    assert augment(job, "out", "--engine", "ray", "--concurrency", "2", "--shard-size", "16") == 0
    outdir = job["dir"] / "out"
    assert shards(outdir) == single  # byte for byte, every record, in order
    manifest = json.loads((outdir / MANIFEST).read_text())
    assert [s["records"] for s in manifest["shards"]] == [16, 16, 16, 12]
    assert manifest["shards"][0]["skipped"][0]["line"] == 14  # the BOOM item, skipped
    lines = single.decode().splitlines()
    assert len(lines) == 59 * 3  # all but the skipped item: the original and 2 variants


def test_a_failed_ray_run_redoes_only_the_missing_shards(
    ray_cluster: Any, job: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert augment(job, "single.jsonl") == 0
    single = (job["dir"] / "single.jsonl").read_bytes()
    outdir = job["dir"] / "out"
    job["switch"].write_text("")  # record 57 now fails (an error that --skip-bad does not skip)
    ray_args = ["--engine", "ray", "--concurrency", "1", "--shard-size", "10"]
    assert augment(job, "out", *ray_args) == 2
    assert "fail-now exists" in capsys.readouterr().err
    manifest = json.loads((outdir / MANIFEST).read_text())
    written = [k for k, s in enumerate(manifest["shards"]) if s["complete"]]
    assert 5 not in written and len(written) >= 1, manifest
    before = {k: (outdir / f"part-{k:05d}.jsonl").stat() for k in written}
    job["switch"].unlink()
    assert augment(job, "out", *ray_args) == 0
    for k, st in before.items():  # the shards written before the failure are kept as they were
        now = (outdir / f"part-{k:05d}.jsonl").stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    assert shards(outdir) == single


def test_ray_options_need_engine_ray(
    job: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert augment(job, "x.jsonl", "--address", "auto", "--concurrency", "3") == 2
    assert "--address, --concurrency only apply with --engine ray" in capsys.readouterr().err
