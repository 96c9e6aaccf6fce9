"""Sharded corpus output (augkit.corpus.sharded) with the in-process engine: no Ray needed.

The Ray engine's tests (tests/integration/test_ray_command.py) check that
the engine gives the same records; here, the shards, the manifest and
resuming.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from augkit import Pipeline
from augkit.corpus import ResumeError, augment_corpus
from augkit.corpus.readers import Record
from augkit.corpus.runner import LineWriter, RecordLines
from augkit.corpus.sharded import MANIFEST, augment_corpus_sharded, local_engine, shard_name
from tests.integration._ops import FailOn
from tests.ops import AppendToken, DropChar


def pipe() -> Pipeline:
    return Pipeline.markov(
        [AppendToken(), DropChar()], [0.6, 0.3], [[0.2, 0.4], [0.4, 0.2]], max_steps=4
    )


def write_input(path: Path, count: int, bad: tuple[int, ...] = ()) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            if i in bad:
                f.write("{not json\n")
            else:
                row = {"id": i, "text": f"review {i}: \u00e9t\u00e9 ok", "label": i % 2}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def shuffled_engine(writer: LineWriter, records: list[Record], batch_size: int) -> Any:
    """Batches in a random order, as a distributed engine returns them."""
    results = list(local_engine(writer, records, batch_size))
    random.Random(3).shuffle(results)
    return iter(results)


def concatenated(outdir: Path) -> bytes:
    manifest = json.loads((outdir / MANIFEST).read_text())
    assert manifest["complete"]
    return b"".join((outdir / s["name"]).read_bytes() for s in manifest["shards"])


def test_shards_read_in_order_are_the_single_process_output(tmp_path: Path) -> None:
    src = write_input(tmp_path / "in.jsonl", 53, bad=(7,))
    options: dict[str, Any] = dict(n=3, seed=4, keep_original=True, skip_bad=True, batch_size=8)
    single = augment_corpus(src, tmp_path / "single.jsonl", pipe(), **options)
    summary = augment_corpus_sharded(
        src, tmp_path / "out", pipe(), engine=shuffled_engine, shard_size=10, **options
    )
    assert concatenated(tmp_path / "out") == (tmp_path / "single.jsonl").read_bytes()
    assert summary.shards == 6 and summary.shards_kept == 0
    assert (summary.inputs, summary.records_written) == (single.inputs, single.records_written)
    assert (summary.variants, summary.unchanged) == (single.variants, single.unchanged)
    assert [b.line for b in summary.skipped] == [8]
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert [s["name"] for s in manifest["shards"]] == [shard_name(k) for k in range(6)]
    assert [s["records"] for s in manifest["shards"]] == [10, 10, 10, 10, 10, 2]
    assert manifest["fingerprint"]["shard_size"] == 10
    assert manifest["shards"][0]["first_index"] == 0 and manifest["shards"][0]["last_index"] == 10


def test_a_rerun_redoes_only_missing_or_changed_shards(tmp_path: Path) -> None:
    src = write_input(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out"
    augment_corpus_sharded(src, out, pipe(), shard_size=10, n=2)
    first = concatenated(out)
    again = augment_corpus_sharded(src, out, pipe(), shard_size=10, n=2)
    assert again.already_complete and again.shards_kept == 4
    (out / shard_name(1)).unlink()
    (out / shard_name(3)).write_bytes(b"edited\n")
    stats = {k: (out / shard_name(k)).stat() for k in (0, 2)}
    calls: list[int] = []

    def counting(writer: LineWriter, records: list[Record], batch_size: int) -> Any:
        calls.append(len(records))
        return local_engine(writer, records, batch_size)

    summary = augment_corpus_sharded(src, out, pipe(), engine=counting, shard_size=10, n=2)
    assert calls == [20]  # the records of shards 1 and 3, nothing else
    assert summary.shards_kept == 2 and summary.resumed_from == 20
    for k, st in stats.items():  # kept shards are not rewritten
        now = (out / shard_name(k)).stat()
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns)
    assert concatenated(out) == first


def test_a_failed_run_keeps_its_shards_and_resumes(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    rows = [{"text": f"line {i}" + (" BOOM" if i == 25 else "")} for i in range(30)]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    failing = Pipeline.sequence([FailOn()])
    out = tmp_path / "out"
    with pytest.raises(Exception, match="line 26"):
        augment_corpus_sharded(src, out, failing, shard_size=10, n=1, batch_size=5)
    manifest = json.loads((out / MANIFEST).read_text())
    assert [s["complete"] for s in manifest["shards"]] == [True, True, False]
    assert not manifest["complete"]
    with pytest.raises(ResumeError, match=r"interrupted run with different settings:\n  --n: 1"):
        augment_corpus_sharded(src, out, failing, shard_size=10, n=2)
    # As with one output file, --skip-bad continues the same job (it is not in the fingerprint).
    summary = augment_corpus_sharded(src, out, failing, shard_size=10, n=1, skip_bad=True)
    assert summary.shards_kept == 2 and [b.line for b in summary.skipped] == [26]
    assert summary.records_written == 29
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["shards"][2]["skipped"][0]["line"] == 26
    again = augment_corpus_sharded(src, out, failing, shard_size=10, n=1, skip_bad=True)
    assert again.already_complete and [b.line for b in again.skipped] == [26]


def test_outdir_problems_are_reported(tmp_path: Path) -> None:
    src = write_input(tmp_path / "in.jsonl", 5)
    (tmp_path / "file").write_text("x")
    with pytest.raises(Exception, match="is a file"):
        augment_corpus_sharded(src, tmp_path / "file", pipe())
    with pytest.raises(Exception, match="does not exist"):
        augment_corpus_sharded(src, tmp_path / "no" / "out", pipe())
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "part-00000.jsonl").write_text("{}\n")
    with pytest.raises(ResumeError, match=r"no manifest\.json"):
        augment_corpus_sharded(src, stray, pipe())
    (stray / "notes.txt").write_text("mine")
    augment_corpus_sharded(src, stray, pipe(), restart=True)
    assert (stray / "notes.txt").read_text() == "mine"  # only part-* files are removed
    with pytest.raises(ResumeError, match="--shard-size: 10000 then, 2 now"):
        augment_corpus_sharded(src, stray, pipe(), shard_size=2)
    with pytest.raises(ValueError, match="shard_size"):
        augment_corpus_sharded(src, stray, pipe(), shard_size=0)


def test_an_empty_input_gives_a_complete_empty_manifest(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("")
    summary = augment_corpus_sharded(src, tmp_path / "out", pipe())
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["complete"] and manifest["shards"] == [] and summary.inputs == 0


def test_a_lost_record_is_an_error_not_a_short_shard(tmp_path: Path) -> None:
    src = write_input(tmp_path / "in.jsonl", 12)

    def lossy(writer: LineWriter, records: list[Record], batch_size: int) -> list[RecordLines]:
        return list(local_engine(writer, records, batch_size))[:-1]

    with pytest.raises(RuntimeError, match=r"too few records for part-00001\.jsonl"):
        augment_corpus_sharded(src, tmp_path / "out", pipe(), engine=lossy, shard_size=6)
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert [s["complete"] for s in manifest["shards"]] == [True, False]
