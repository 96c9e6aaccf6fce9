"""The augkit command: augment (formats, rule, bad input, resume checks), describe, replay."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from augkit import Pipeline
from augkit.cli import main
from augkit.corpus import augment_corpus, done_path_for, paths_for
from tests.integration import _ops  # noqa: F401  (registers test_slow_upper, test_fail_on)
from tests.ops import AppendToken, DropChar

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
operators:
  - type: test_append_token
  - type: test_drop_char
chain:
  start: [0.6, 0.3]
  transitions: [[0.2, 0.4], [0.4, 0.2]]
  max_steps: 4
"""


def pipe() -> Pipeline:
    return Pipeline.markov(
        [AppendToken(), DropChar()], [0.6, 0.3], [[0.2, 0.4], [0.4, 0.2]], max_steps=4
    )


def texts(n: int) -> list[str]:
    return [f"review {i}: it works, mostly \u00e9t\u00e9 ok" for i in range(n)]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "cfg.yaml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def augment(work: Path, inp: Path, out: str = "out.jsonl", *extra: str) -> int:
    return run(
        "augment", inp, "-o", work / out, "-c", work / "cfg.yaml", "--import", "tests.ops",
        "--quiet", *extra,
    )  # fmt: skip


def no_outputs(work: Path, name: str = "out.jsonl") -> bool:
    return not any(p.exists() for p in paths_for(work / name))


# ----------------------------------------------------------------- augment: the rule and formats


def test_jsonl_records_follow_the_seeding_rule_and_replay(work: Path) -> None:
    rows = [{"text": t, "label": i % 2, "other": "x"} for i, t in enumerate(texts(7))]
    inp = write_jsonl(work / "in.jsonl", rows)
    assert augment(work, inp, "out.jsonl", "--n", "3", "--seed", "5", "--label-field", "label") == 0
    out = read_jsonl(work / "out.jsonl")
    assert [(r["source_index"], r["variant"]) for r in out] == [
        (i, v) for i in range(7) for v in range(3)
    ]
    p = pipe()
    for r in out:
        i, v = r["source_index"], r["variant"]
        # The input record, its text augmented, between provenance and trace.
        assert list(r) == ["source_index", "variant", "text", "label", "other", "trace"]
        assert (r["label"], r["other"]) == (i % 2, "x")
        # Variant v is the variant coordinate of the record: (seed, epoch 0, index i, variant v).
        expected, traces = p.augment(rows[i], seed=5, epoch=0, index=i, n=3, return_trace=True)
        assert {k: r[k] for k in rows[i]} == expected[v]
        assert r["trace"] == traces[v].to_dict()
        assert (r["trace"]["epoch"], r["trace"].get("variant", 0)) == (0, v)
        assert r["text"] == p.augment(rows[i]["text"], seed=5, index=i, n=3)[v]
        assert p.replay(rows[i]["text"], r["trace"]) == r["text"]
    assert len({r["text"] for r in out}) > 7  # the variants are not all the same
    assert no_outputs(work, "out.jsonl") is False
    assert not paths_for(work / "out.jsonl")[1].exists()  # .partial renamed
    assert not paths_for(work / "out.jsonl")[2].exists()  # progress record removed


def test_output_does_not_depend_on_batch_size(work: Path) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(23)])
    assert augment(work, inp, "a.jsonl", "--batch-size", "1", "--n", "2") == 0
    assert augment(work, inp, "b.jsonl", "--batch-size", "64", "--n", "2") == 0
    assert augment(work, inp, "c.jsonl", "--batch-size", "5", "--n", "2") == 0
    a = (work / "a.jsonl").read_bytes()
    assert a == (work / "b.jsonl").read_bytes() == (work / "c.jsonl").read_bytes()
    assert a.count(b"\n") == 46


def test_keep_original_writes_each_input_first(work: Path) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(3)])
    assert augment(work, inp, "out.jsonl", "--n", "2", "--keep-original") == 0
    out = read_jsonl(work / "out.jsonl")
    assert [(r["source_index"], r["variant"]) for r in out] == [
        (0, None), (0, 0), (0, 1), (1, None), (1, 0), (1, 1), (2, None), (2, 0), (2, 1)
    ]  # fmt: skip
    for r in out[::3]:
        assert r["text"] == texts(3)[r["source_index"]] and r["trace"] is None


def test_csv_tsv_and_text_inputs(work: Path) -> None:
    rows = [
        {"id": str(i), "body": t, "y": "pos" if i % 2 else "neg"} for i, t in enumerate(texts(4))
    ]
    rows[2]["body"] = 'a "quoted",\nmulti-line review'
    for fmt, delim in (("csv", ","), ("tsv", "\t")):
        path = work / f"in.{fmt}"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["id", "body", "y"], delimiter=delim)
            w.writeheader()
            w.writerows(rows)
        args = ("--field", "body", "--label-field", "y", "--n", "2")
        assert augment(work, path, f"{fmt}.jsonl", *args) == 0
        out = read_jsonl(work / f"{fmt}.jsonl")
        assert len(out) == 8
        for r in out:
            i, v = r["source_index"], r["variant"]
            # Rows are records of strings: every column passes through.
            assert (r["id"], r["y"]) == (rows[i]["id"], rows[i]["y"])
            assert r["body"] == pipe().augment(rows[i]["body"], seed=0, index=i, n=2)[v]
    # Plain text: one item per line, blank lines skipped but counted in the index.
    (work / "in.txt").write_text("first line\n\nthird line\n", encoding="utf-8")
    assert augment(work, work / "in.txt", "txt.jsonl", "--n", "1") == 0
    out = read_jsonl(work / "txt.jsonl")
    assert [r["source_index"] for r in out] == [0, 2]
    assert [list(r) for r in out] == [["source_index", "variant", "text", "trace"]] * 2
    assert out[1]["text"] == pipe().augment("third line", seed=0, epoch=0, index=2)


def test_pipeline_key_is_the_default_field(work: Path) -> None:
    (work / "cfg.yaml").write_text("key: body\n" + CONFIG, encoding="utf-8")
    inp = write_jsonl(work / "in.jsonl", [{"body": t} for t in texts(2)])
    assert augment(work, inp, "out.jsonl", "--n", "1") == 0
    out = read_jsonl(work / "out.jsonl")
    assert out[1]["body"] == pipe().augment(texts(2)[1], seed=0, epoch=0, index=1)


def test_python_api_matches_the_command(work: Path) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(5)])
    assert augment(work, inp, "cmd.jsonl", "--n", "2", "--seed", "3") == 0
    summary = augment_corpus(inp, work / "api.jsonl", pipe(), n=2, seed=3, batch_size=2)
    assert summary.records_written == 10 and summary.inputs == 5
    assert (work / "api.jsonl").read_bytes() == (work / "cmd.jsonl").read_bytes()


# ----------------------------------------------------------------- bad input and config


def assert_user_error(capsys: pytest.CaptureFixture[str], code: int, *needles: str) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert err.startswith("augkit: error: ")
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.parametrize(
    ("line", "needles"),
    [
        ('{"text": "fine", ', ("line 3", "malformed JSON")),
        ('{"body": "no text field"}', ("line 3", "no field 'text'")),
        ('{"text": 42}', ("line 3", "field 'text' is a number")),
        ('{"text": null}', ("line 3", "null")),
        ('["text", "an array"]', ("line 3", "expected a JSON object")),
    ],
)
def test_bad_jsonl_lines_stop_before_writing_or_are_skipped(
    work: Path, capsys: pytest.CaptureFixture[str], line: str, needles: tuple[str, ...]
) -> None:
    good = [json.dumps({"text": t}) for t in texts(4)]
    inp = write_jsonl(work / "in.jsonl", [good[0], good[1], line, good[2], good[3]])
    assert_user_error(capsys, augment(work, inp, "out.jsonl", "--n", "2"), *needles, "--skip-bad")
    assert no_outputs(work)
    assert augment(work, inp, "out.jsonl", "--n", "2", "--skip-bad") == 0
    assert [r["source_index"] for r in read_jsonl(work / "out.jsonl")] == [0, 0, 1, 1, 3, 3, 4, 4]


def test_invalid_utf8_line_is_a_bad_record(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "in.txt").write_bytes(b"good line\nbad \xff\xfe line\nlast\n")
    assert_user_error(capsys, augment(work, work / "in.txt"), "line 2", "UTF-8")
    assert augment(work, work / "in.txt", "out.jsonl", "--skip-bad", "--n", "1") == 0
    assert [r["source_index"] for r in read_jsonl(work / "out.jsonl")] == [0, 2]


def test_missing_label_field_and_csv_column(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": "a", "label": 1}, {"text": "b"}])
    code = augment(work, inp, "out.jsonl", "--label-field", "label")
    assert_user_error(capsys, code, "line 2", "no label field 'label'")
    (work / "in.csv").write_text("title,review\nx,good\n", encoding="utf-8")
    assert_user_error(capsys, augment(work, work / "in.csv"), "no column 'text'", "title, review")
    (work / "short.csv").write_text("text,label\nfine,1\nonly one value\n", encoding="utf-8")
    code = augment(work, work / "short.csv", "out.jsonl", "--label-field", "label")
    assert_user_error(capsys, code, "row 3", "fewer values")
    assert no_outputs(work)


def test_unreadable_inputs(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_user_error(capsys, augment(work, work / "missing.jsonl"), "does not exist")
    assert_user_error(capsys, augment(work, work), "is a directory")
    if os.geteuid() != 0:  # root reads anything
        locked = work / "locked.jsonl"
        locked.write_text('{"text": "a"}\n')
        locked.chmod(0)
        assert_user_error(capsys, augment(work, locked), "cannot read")
    assert no_outputs(work)


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ("operators: [", "invalid YAML"),
        ("operators:\n  - type: no_such_op\nchain: {start: [1.0], transitions: [[0]]}", "no_such_op"),
        ("operators:\n  - type: test_append_token\nchain: {start: [0.5, 0.5], transitions: [[0]]}",
         "start"),
        ("operators:\n  - type: test_append_token\nchain: {start: [1.2], transitions: [[0]]}",
         "sums to"),
        ("operators:\n  - type: test_scale\n    params: {low: 3, high: 1}\n"
         "chain: {start: [1.0], transitions: [[0]]}", "low must be <= high"),
        ("operators:\n  - type: test_append_token\n    params: {nope: 1}\n"
         "chain: {start: [1.0], transitions: [[0]]}", "nope"),
        ("just a string", "must be a mapping"),
    ],
)  # fmt: skip
def test_invalid_configs(
    work: Path, capsys: pytest.CaptureFixture[str], config: str, needle: str
) -> None:
    (work / "cfg.yaml").write_text(config, encoding="utf-8")
    inp = write_jsonl(work / "in.jsonl", [{"text": "a"}])
    assert_user_error(capsys, augment(work, inp), "cfg.yaml", needle)
    assert no_outputs(work)
    assert_user_error(capsys, run("describe", work / "cfg.yaml", "--import", "tests.ops"), needle)


def test_usage_errors(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": "a", "source_index": 1}])
    assert_user_error(capsys, augment(work, inp, "out.csv"), "JSONL")
    assert_user_error(capsys, augment(work, inp, "out.jsonl", "--field", "variant"), "reserved")
    assert_user_error(capsys, augment(work, work / "missing.yaml"), "does not exist")
    code = run("augment", inp, "-o", work / "o.jsonl", "-c", work / "nope.yaml")
    assert_user_error(capsys, code, "nope.yaml", "does not exist")
    code = run("describe", work / "cfg.yaml", "--import", "no_such_module_xyz")
    assert_user_error(capsys, code, "no_such_module_xyz")
    (work / "in.txt").write_text("a\n")
    code = augment(work, work / "in.txt", "out.jsonl", "--label-field", "label")
    assert_user_error(capsys, code, "plain-text")
    with pytest.raises(SystemExit) as exc:  # argparse: exit code 2 with usage
        run("augment", inp, "-o", work / "o.jsonl", "-c", work / "cfg.yaml", "--n", "0")
    assert exc.value.code == 2
    assert "expected an integer >= 1, got 0" in capsys.readouterr().err


def test_an_item_the_pipeline_cannot_take(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "cfg.yaml").write_text(
        "operators: [{type: test_fail_on}]\nchain: {start: [1.0], transitions: [[0.0]]}\n"
    )
    rows = [{"text": f"item {i}" + (" BOOM" if i == 5 else "")} for i in range(8)]
    inp = write_jsonl(work / "in.jsonl", rows)
    imp = ("--import", "tests.integration._ops", "--batch-size", "2", "--n", "1")
    err = assert_user_error(capsys, augment(work, inp, "out.jsonl", *imp), "line 6", "BOOM")
    assert "resumes" in err
    out, partial, progress = paths_for(work / "out.jsonl")
    assert not out.exists()  # never presented as complete
    assert len(read_jsonl(partial)) == 4 and progress.exists()  # the batches before it are kept
    assert augment(work, inp, "out.jsonl", *imp, "--skip-bad") == 0
    assert [r["source_index"] for r in read_jsonl(out)] == [0, 1, 2, 3, 4, 6, 7]


# ----------------------------------------------------------------- resume rules


def test_rerunning_a_completed_command_is_safe(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 9: the same command again exits 0 ("already complete"), a different one says what
    differs, and --overwrite replaces."""
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(3)])
    assert augment(work, inp, "out.jsonl", "--n", "1") == 0
    out = work / "out.jsonl"
    first = out.read_bytes()
    assert done_path_for(out).exists() and not paths_for(out)[2].exists()
    capsys.readouterr()
    cmd = ("augment", inp, "-o", out, "-c", work / "cfg.yaml", "--import", "tests.ops", "--n", "1")
    assert run(*cmd) == 0
    assert "is already complete" in capsys.readouterr().err
    assert out.read_bytes() == first
    assert augment(work, inp, "out.jsonl", "--n", "1") == 0  # and again, quietly
    # A different seed, n or config over the finished output: an error naming what differs.
    code = augment(work, inp, "out.jsonl", "--n", "1", "--seed", "4")
    assert_user_error(capsys, code, "different settings", "--seed: 0 then, 4 now", "--overwrite")
    code = augment(work, inp, "out.jsonl", "--n", "2")
    assert_user_error(capsys, code, "--n: 1 then, 2 now")
    (work / "cfg.yaml").write_text(CONFIG.replace("max_steps: 4", "max_steps: 2"))
    assert_user_error(capsys, augment(work, inp, "out.jsonl", "--n", "1"), "pipeline config")
    (work / "cfg.yaml").write_text(CONFIG)
    write_jsonl(inp, [{"text": t} for t in texts(4)])
    assert_user_error(capsys, augment(work, inp, "out.jsonl", "--n", "1"), "input file content")
    write_jsonl(inp, [{"text": t} for t in texts(3)])
    assert out.read_bytes() == first  # refusing touched nothing
    # An output changed after it was written is not "complete" any more.
    out.write_bytes(first[:-10] + b"edited!!}\n")
    assert_user_error(capsys, augment(work, inp, "out.jsonl", "--n", "1"), "was changed")
    # Without a record of the run that wrote it, an existing file is not touched.
    done_path_for(out).unlink()
    assert_user_error(capsys, augment(work, inp, "out.jsonl", "--n", "1"), "--overwrite")
    assert augment(work, inp, "out.jsonl", "--n", "2", "--overwrite") == 0
    assert len(read_jsonl(out)) == 6
    assert augment(work, inp, "out.jsonl", "--n", "2") == 0  # complete again, for the new run


class Crash(BaseException):
    """Stands for the process dying (BaseException: nothing in augkit catches it)."""


def crash_after_progress_writes(monkeypatch: pytest.MonkeyPatch, k: int) -> None:
    """Die on the k-th progress update: the batch is in OUTPUT.partial, not yet recorded."""
    from augkit.corpus import journal

    real = journal.write_json_atomic
    calls = {"n": 0}

    def write(path: Path, data: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] == k:
            raise Crash
        real(path, data)

    monkeypatch.setattr(journal, "write_json_atomic", write)


def test_resume_drops_unrecorded_records_and_a_torn_line(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(20)])
    args = ("--n", "3", "--batch-size", "3", "--seed", "9")
    assert augment(work, inp, "ref.jsonl", *args) == 0
    reference = (work / "ref.jsonl").read_bytes()

    with monkeypatch.context() as m:
        crash_after_progress_writes(m, 4)  # 1 initial record + 2 batches, dies after batch 3
        with pytest.raises(Crash):
            augment(work, inp, "out.jsonl", *args)
    out, partial, progress = paths_for(work / "out.jsonl")
    recorded = json.loads(progress.read_text())
    assert recorded["records"] == 6 and recorded["lines"] == 18
    assert partial.stat().st_size > recorded["bytes"]  # batch 3 written but not recorded
    with partial.open("ab") as f:  # and a write torn in the middle of a line
        f.write(b'{"source_index": 9, "variant": 0, "text": "half a rec')
    assert not out.exists()
    assert augment(work, inp, "out.jsonl", *args) == 0
    assert out.read_bytes() == reference
    assert not partial.exists() and not progress.exists()


def test_resume_refuses_different_settings(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(9)])
    with monkeypatch.context() as m:
        crash_after_progress_writes(m, 3)
        with pytest.raises(Crash):
            augment(work, inp, "out.jsonl", "--n", "2", "--batch-size", "2")
    partial = paths_for(work / "out.jsonl")[1]
    kept = partial.read_bytes()
    code = augment(work, inp, "out.jsonl", "--n", "2", "--seed", "1")
    assert_user_error(capsys, code, "different settings", "--seed: 0 then, 1 now", "--restart")
    code = augment(work, inp, "out.jsonl", "--n", "3")
    assert_user_error(capsys, code, "--n: 2 then, 3 now")
    (work / "cfg.yaml").write_text(CONFIG.replace("max_steps: 4", "max_steps: 3"))
    assert_user_error(capsys, augment(work, inp, "out.jsonl", "--n", "2"), "pipeline config")
    (work / "cfg.yaml").write_text(CONFIG)
    write_jsonl(inp, [{"text": t} for t in texts(10)])
    assert_user_error(capsys, augment(work, inp, "out.jsonl", "--n", "2"), "input file content")
    assert partial.read_bytes() == kept  # refusing touched nothing
    # A different batch size is fine (it does not change the output), and so is --restart.
    write_jsonl(inp, [{"text": t} for t in texts(9)])
    assert augment(work, inp, "out.jsonl", "--n", "2", "--batch-size", "4") == 0
    assert augment(work, inp, "ref.jsonl", "--n", "2") == 0
    assert (work / "out.jsonl").read_bytes() == (work / "ref.jsonl").read_bytes()


def test_partial_without_progress_and_corrupt_progress(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(4)])
    out, partial, progress = paths_for(work / "out.jsonl")
    partial.write_text('{"source_index": 0}\n')
    assert_user_error(capsys, augment(work, inp), "without a progress record", "--restart")
    progress.write_text("{not json")
    assert_user_error(capsys, augment(work, inp), "unreadable", "--restart")
    assert augment(work, inp, "out.jsonl", "--restart", "--n", "1") == 0
    assert len(read_jsonl(out)) == 4


def test_crash_while_tidying_up_a_finished_run(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from augkit.corpus import journal

    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(4)])
    out, partial, progress = paths_for(work / "out.jsonl")
    real_replace = os.replace

    def replace(a: Any, b: Any) -> None:
        if Path(b) == out:
            raise Crash
        real_replace(a, b)

    with monkeypatch.context() as m:
        m.setattr(journal.os, "replace", replace)
        with pytest.raises(Crash):
            augment(work, inp, "out.jsonl", "--n", "1")
    assert json.loads(progress.read_text())["complete"] and partial.exists() and not out.exists()
    assert augment(work, inp, "out.jsonl", "--n", "1") == 0
    assert len(read_jsonl(out)) == 4 and not partial.exists() and not progress.exists()


# ----------------------------------------------------------------- describe and replay


def test_describe_prints_the_chain(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("describe", work / "cfg.yaml", "--import", "tests.ops") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{work / 'cfg.yaml'}: valid")
    assert "0: AppendToken(" in out and "1: DropChar()" in out
    assert f"expected length: {pipe().expected_length():.4g}" in out
    freqs = ", ".join(f"{v:.4g}" for v in pipe().visit_frequencies())
    assert f"expected applications per operator: [{freqs}]" in out


def test_replay_checks_every_record(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(6)])
    assert augment(work, inp, "out.jsonl", "--n", "2", "--keep-original") == 0
    capsys.readouterr()
    base = ("replay", work / "out.jsonl", "--input", inp, "-c", work / "cfg.yaml")
    assert run(*base, "--import", "tests.ops") == 0
    assert "replayed 18 record(s): all match" in capsys.readouterr().out
    assert run(*base, "--import", "tests.ops", "--lines", "2,5-6") == 0
    shown = capsys.readouterr().out
    assert shown.count("line ") == 3 and "replayed 3 record(s)" in shown
    # Tamper with one record: replay finds it.
    lines = (work / "out.jsonl").read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[4])
    rec["text"] += " tampered"
    lines[4] = json.dumps(rec, ensure_ascii=False)
    (work / "out.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run(*base, "--import", "tests.ops") == 1
    assert "line 5" in (o := capsys.readouterr().out) and "MISMATCH" in o and "1 mismatch" in o


def test_console_script_runs(work: Path) -> None:
    exe = shutil.which("augkit", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the augkit console script is not installed in this environment")
    proc = subprocess.run(
        [exe, "describe", str(work / "cfg.yaml")], capture_output=True, text=True, timeout=60
    )
    # Without --import the test operators are unknown: a clear message, exit code 2.
    assert proc.returncode == 2, proc.stderr
    assert "unknown operator type 'test_append_token'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("augkit ")


def test_an_image_pipeline_is_refused_for_text(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("augkit.image.geometry")
    inp = write_jsonl(work / "in.jsonl", [{"text": "a"}])
    code = run("augment", inp, "-o", work / "o.jsonl", "-c", ROOT / "examples/image_pipeline.yaml")
    assert_user_error(capsys, code, "'image'", "works on text")
    assert no_outputs(work, "o.jsonl")


# ----------------------------------------------------------------- issue 9: found by a new user

# Characters str.splitlines() breaks at (JSON leaves the last three raw inside strings).
LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def test_replay_reads_texts_with_line_separators(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"text": f"line one{c}line two {i}", "label": c} for i, c in enumerate(LINE_BREAKS)]
    inp = write_jsonl(work / "in.jsonl", rows)
    code = augment(work, inp, "out.jsonl", "--n", "2", "--keep-original", "--label-field", "label")
    assert code == 0
    data = (work / "out.jsonl").read_bytes()
    # Written escaped: every tool that splits lines sees one record per line.
    assert len(data.decode("utf-8").splitlines()) == 3 * len(rows)
    assert not any(c.encode("utf-8") in data for c in "\x85\u2028\u2029")
    records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert [r["label"] for r in records[::3]] == list(LINE_BREAKS)
    capsys.readouterr()
    base = ("replay", work / "out.jsonl", "--input", inp, "-c", work / "cfg.yaml")
    assert run(*base, "--import", "tests.ops") == 0, capsys.readouterr().err
    assert f"replayed {3 * len(rows)} record(s): all match" in capsys.readouterr().out
    # An output written raw by another tool (only "\n" ends a record) reads the same.
    raw = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    assert "\u2028" in raw
    (work / "out.jsonl").write_text(raw, encoding="utf-8")
    assert run(*base, "--import", "tests.ops", "--lines", "1-3") == 0, capsys.readouterr().err


def test_text_input_lines_end_at_newline_only(work: Path) -> None:
    (work / "in.txt").write_bytes("a\u2028b\r\nc\x85d\n".encode())
    assert augment(work, work / "in.txt", "out.jsonl", "--n", "1", "--keep-original") == 0
    originals = [r["text"] for r in read_jsonl(work / "out.jsonl") if r["variant"] is None]
    assert originals == ["a\u2028b", "c\x85d"]


def test_nan_label_is_a_bad_record(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Python's json reads NaN and Infinity; JSON has neither, so they cannot be written out.
    lines = [
        '{"text": "a", "label": 1}',
        '{"text": "b", "label": NaN}',
        '{"text": "c", "label": [-Infinity]}',
    ]
    inp = write_jsonl(work / "in.jsonl", lines)
    code = augment(work, inp, "out.jsonl", "--label-field", "label", "--n", "1")
    assert_user_error(
        capsys, code, "line 2: label field 'label' is NaN", "line 3: label field 'label' at [0]"
    )
    assert no_outputs(work)
    assert augment(work, inp, "out.jsonl", "--label-field", "label", "--n", "1", "--skip-bad") == 0
    data = (work / "out.jsonl").read_text(encoding="utf-8")
    assert "NaN" not in data and "Infinity" not in data
    assert [r["label"] for r in read_jsonl(work / "out.jsonl")] == [1]


def test_field_that_no_record_has(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t, "label": 1} for t in texts(30)])
    err = assert_user_error(
        capsys, augment(work, inp, "out.jsonl", "--field", "body"),
        "no record in", "has the field 'body' (--field)", "fields: text, label",
    )  # fmt: skip
    assert err.count("line ") == 1  # one message, not one line per record
    assert_user_error(
        capsys, augment(work, inp, "out.jsonl", "--field", "body", "--skip-bad"), "--field"
    )
    code = augment(work, inp, "out.jsonl", "--label-field", "y")
    assert_user_error(capsys, code, "has the field 'y' (--label-field)")
    assert no_outputs(work)


def test_empty_input_warns_and_writes_an_empty_output(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inp = work / "in.jsonl"
    inp.write_text("\n\n", encoding="utf-8")
    assert augment(work, inp, "out.jsonl") == 0  # --quiet does not hide it
    err = capsys.readouterr().err
    assert f"augkit: warning: no records in {str(inp)!r}" in err and "is empty" in err
    assert (work / "out.jsonl").read_bytes() == b""
    inp.write_text('{"text": 1}\n', encoding="utf-8")
    assert augment(work, inp, "out2.jsonl", "--skip-bad") == 0
    assert "all 1 were bad and skipped" in capsys.readouterr().err


def _bt_config(work: Path, model: str) -> Path:
    cfg = work / "bt.yaml"
    cfg.write_text(
        "operators:\n"
        f"  - type: back_translation\n    params: {{forward_model: {json.dumps(model)}, "
        f"backward_model: {json.dumps(model)}, device: cpu}}\n"
        "chain: {start: [1.0], transitions: [[0.0]]}\n",
        encoding="utf-8",
    )
    return cfg


@pytest.mark.parametrize("kind", ["directory", "hub name"])
def test_missing_model_is_reported_before_any_output_file(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = str(work / "models" / "opus-mt-en-de") if kind == "directory" else "augkit-test/nope"
    cfg = _bt_config(work, model)
    inp = write_jsonl(work / "in.jsonl", [{"text": "A sentence."}])
    code = run("augment", inp, "-o", work / "out.jsonl", "-c", cfg, "--quiet")
    err = assert_user_error(capsys, code, model)
    assert no_outputs(work)  # checked before OUT.partial and OUT.progress.json exist
    assert "operator 0 (back_translation): forward_model, backward_model: " in err
    if kind == "hub name":
        assert f"hf download {model} --local-dir" in err and "huggingface-cli" not in err
    # describe: the config is valid; that the model is missing here is a warning.
    assert run("describe", cfg) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{cfg}: valid")
    assert "augkit: warning:" in captured.err and model in captured.err


def test_a_run_that_fails_in_its_first_batch_leaves_nothing(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "cfg.yaml").write_text(
        "operators: [{type: test_fail_on}]\nchain: {start: [1.0], transitions: [[0.0]]}\n"
    )
    inp = write_jsonl(work / "in.jsonl", [{"text": "BOOM first"}, {"text": "fine"}])
    code = augment(work, inp, "out.jsonl", "--import", "tests.integration._ops")
    assert_user_error(capsys, code, "line 1", "BOOM")
    assert no_outputs(work)


def test_config_file_suffix_decides_the_format(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe().save(work / "cfg.json")
    (work / "cfg.yml").write_text(CONFIG, encoding="utf-8")
    for name in ("cfg.json", "cfg.yml"):
        assert run("describe", work / name, "--import", "tests.ops") == 0
        assert f"expected length: {pipe().expected_length():.4g}" in capsys.readouterr().out
    (work / "cfg.conf").write_text(CONFIG, encoding="utf-8")
    code = run("describe", work / "cfg.conf", "--import", "tests.ops")
    assert_user_error(capsys, code, "cfg.conf", ".json (JSON), .yaml (YAML), .yml (YAML)")


def _command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "augkit", *map(str, args)]


def test_replay_into_a_pipe_that_closes_early_exits_quietly(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(300)])
    assert augment(work, inp, "out.jsonl", "--n", "4") == 0
    replay = _command(
        "replay", work / "out.jsonl", "--input", inp, "-c", work / "cfg.yaml",
        "--import", "tests.ops", "--lines", "1-1200",
    )  # fmt: skip
    # `augkit replay ... | head -1`: head exits after one line, long before replay is done.
    producer = subprocess.Popen(replay, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert producer.stdout is not None and producer.stderr is not None
    head = subprocess.run(["head", "-1"], stdin=producer.stdout, capture_output=True, timeout=120)
    producer.stdout.close()
    err = producer.stderr.read().decode()
    assert producer.wait(timeout=120) == 141, err  # 128 + SIGPIPE, like other Unix tools
    assert head.stdout.decode().startswith("line 1: source 0, variant 0")
    assert "internal error" not in err and "BrokenPipe" not in err and err == ""


def test_describe_into_a_closed_pipe_exits_quietly(work: Path) -> None:
    # A reader that is gone before describe writes: every write fails (EPIPE), every time,
    # where `describe | head` only sometimes loses the race.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            _command("describe", work / "cfg.yaml", "--import", "tests.ops"),
            cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, timeout=120,
        )  # fmt: skip
    finally:
        os.close(write_end)
    err = proc.stderr.decode()
    assert proc.returncode == 141, err
    assert err == "", err


# ----------------------------------------------------------------- issue 10: records kept whole


def test_every_field_passes_through(work: Path) -> None:
    rows = [
        {
            "id": f"r{i}",
            "text": t,
            "rating": i + 0.5,
            "votes": i,
            "verified": i % 2 == 0,
            "note": None,
            "meta": {"source": "shop", "tags": ["a", i], "nested": {"k": [1.5, None]}},
        }
        for i, t in enumerate(texts(4))
    ]
    inp = write_jsonl(work / "in.jsonl", rows)
    assert augment(work, inp, "out.jsonl", "--n", "2", "--keep-original") == 0
    out = read_jsonl(work / "out.jsonl")
    assert len(out) == 12
    for r in out:
        src = rows[r["source_index"]]
        assert list(r) == ["source_index", "variant", *src, "trace"]
        assert {
            k: v for k, v in r.items() if k not in ("source_index", "variant", "trace", "text")
        } == {k: v for k, v in src.items() if k != "text"}
        if r["variant"] is None:
            assert r["text"] == src["text"] and r["trace"] is None
    # The Python API says the same, and the record went through the pipeline's lens whole.
    p = pipe()
    r = out[2]
    assert {k: r[k] for k in rows[0]} == p.augment(rows[0], seed=0, index=0, n=2)[1]


@pytest.mark.parametrize(
    "options",
    [
        ("--label-field", "a", "--label-field", "b"),
        ("--label-field", "a,b"),
        ("--label-field", " a, b "),
    ],
    ids=["repeated", "comma-separated", "spaces"],
)
def test_several_label_fields_are_the_label(
    work: Path, capsys: pytest.CaptureFixture[str], options: tuple[str, ...]
) -> None:
    (work / "cfg.yaml").write_text(
        "operators: [{type: test_label_echo}]\nchain: {start: [1.0], transitions: [[0.0]]}\n"
    )
    rows = [{"text": f"item {i}", "a": f"x{i}", "b": i, "c": "kept"} for i in range(3)]
    inp = write_jsonl(work / "in.jsonl", rows)
    imp = ("--import", "tests.integration._ops", "--n", "1")
    assert augment(work, inp, "out.jsonl", *imp, *options) == 0
    out = read_jsonl(work / "out.jsonl")
    # Both fields are the label (a tuple of their values, JSON: a list), and both are kept.
    assert [r["text"] for r in out] == [f'item {i} ["x{i}", {i}]' for i in range(3)]
    assert all((r["a"], r["b"], r["c"]) == (f"x{i}", i, "kept") for i, r in enumerate(out))
    # Every spelling is the same run: the other spellings find the output complete.
    for other in (("--label-field", "a", "--label-field", "b"), ("--label-field", "a,b")):
        capsys.readouterr()
        assert run(*augment_args(work, inp, "out.jsonl"), *imp, *other) == 0
        assert "is already complete" in capsys.readouterr().err
    # Each label field must be there: a record without b is a bad record that names it.
    write_jsonl(inp, [*rows, {"text": "no b", "a": "x"}])
    code = augment(work, inp, "out2.jsonl", *imp, *options)
    assert_user_error(capsys, code, "line 4: no label field 'b'")
    assert no_outputs(work, "out2.jsonl")


def augment_args(work: Path, inp: Path, out: str) -> tuple[str | Path, ...]:
    """``augment`` without --quiet, so that its messages can be read."""
    return ("augment", inp, "-o", work / out, "-c", work / "cfg.yaml", "--import", "tests.ops")


def test_the_config_label_is_the_default_label(work: Path) -> None:
    (work / "cfg.yaml").write_text(
        "label: stars\noperators: [{type: test_label_echo}]\n"
        "chain: {start: [1.0], transitions: [[0.0]]}\n"
    )
    inp = write_jsonl(work / "in.jsonl", [{"text": "fine", "stars": 4}])
    assert augment(work, inp, "out.jsonl", "--import", "tests.integration._ops", "--n", "1") == 0
    assert read_jsonl(work / "out.jsonl")[0]["text"] == "fine 4"


def test_drop_field(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"text": t, "label": 1, "email": "a@b.c", "raw": float("nan"), "id": i}
        for i, t in enumerate(texts(3))
    ]
    inp = write_jsonl(work / "in.jsonl", [json.dumps(r) for r in rows])  # NaN, as Python writes it
    # A NaN is not JSON: the record cannot be written as it is ...
    code = augment(work, inp, "out.jsonl", "--n", "1")
    assert_user_error(capsys, code, "line 1: field 'raw' is NaN", "--drop-field")
    # ... unless that field is dropped.
    for options in (
        ("--drop-field", "email", "--drop-field", "raw"),
        ("--drop-field", "email,raw"),
    ):
        assert augment(work, inp, "out.jsonl", "--n", "1", "--overwrite", *options) == 0
        out = read_jsonl(work / "out.jsonl")
        assert [list(r) for r in out] == [
            ["source_index", "variant", "text", "label", "id", "trace"]
        ] * 3
    # The augmented field and the label fields cannot be dropped; a name no record has is said.
    code = augment(work, inp, "x.jsonl", "--drop-field", "text")
    assert_user_error(capsys, code, "--drop-field text", "the field to augment")
    code = augment(work, inp, "x.jsonl", "--label-field", "label", "--drop-field", "raw,label")
    assert_user_error(capsys, code, "--drop-field label", "--label-field")
    assert no_outputs(work, "x.jsonl")
    capsys.readouterr()
    options = ("--n", "1", "--drop-field", "raw,emial")
    assert run(*augment_args(work, inp, "y.jsonl"), *options) == 0
    assert "--drop-field emial: no record has this field" in capsys.readouterr().err
    assert "email" in read_jsonl(work / "y.jsonl")[0]
    (work / "in.txt").write_text("a line\n")
    code = augment(work, work / "in.txt", "t.jsonl", "--drop-field", "x")
    assert_user_error(capsys, code, "plain-text", "--drop-field")


@pytest.mark.parametrize("name", ["source_index", "variant", "trace"])
def test_reserved_field_names(work: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    rows = [{"text": t, name: "mine"} for t in texts(2)]
    inp = write_jsonl(work / "in.jsonl", rows)
    code = augment(work, inp, "out.jsonl", "--n", "1", "--skip-bad")  # not a record to skip
    assert_user_error(
        capsys, code, f"line 1: the record has a field {name!r}", f"--drop-field {name}"
    )
    assert no_outputs(work)
    assert augment(work, inp, "out.jsonl", "--n", "1", "--drop-field", name) == 0
    out = read_jsonl(work / "out.jsonl")
    assert [(r["source_index"], r["variant"], type(r["trace"])) for r in out] == [
        (0, 0, dict),
        (1, 0, dict),
    ]
    # A CSV column of that name is found in the header.
    (work / "in.csv").write_text(f"text,{name}\nhello,1\n", encoding="utf-8")
    code = augment(work, work / "in.csv", "csv.jsonl", "--n", "1")
    assert_user_error(capsys, code, f"has a column {name!r}", f"--drop-field {name}")
    assert augment(work, work / "in.csv", "csv.jsonl", "--n", "1", "--drop-field", name) == 0
    # As the augmented or the label field it is refused at once.
    assert_user_error(capsys, augment(work, inp, "o.jsonl", "--label-field", name), "reserved")


# ----------------------------------------------------------------- issue 10: distinct variants

DISTINCT_CONFIG = """\
operators:
  - type: test_append_token
    params: {tokens: [t00, t01, t02, t03, t04, t05, t06, t07, t08, t09, t10, t11]}
chain: {start: [0.5], transitions: [[0.0]]}
"""


def summary_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("augkit: wrote ")]
    assert len(lines) == 1, err
    return lines[0]


def test_distinct_redraws_unchanged_and_repeated_variants(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Half of the variants are left alone by this chain; --distinct redraws them all."""
    (work / "cfg.yaml").write_text(DISTINCT_CONFIG)
    rows = [{"text": t, "id": i} for i, t in enumerate(texts(20))]
    inp = write_jsonl(work / "in.jsonl", rows)
    cmd = (*augment_args(work, inp, "plain.jsonl"), "--n", "3")
    capsys.readouterr()
    assert run(*cmd) == 0
    plain = read_jsonl(work / "plain.jsonl")
    unchanged = [r for r in plain if r["text"] == rows[r["source_index"]]["text"]]
    assert unchanged and all(r["trace"]["changed"] is False for r in unchanged)
    assert sum(r["trace"]["changed"] is False for r in plain) == len(unchanged)
    share = 100 * len(unchanged) / 60
    line = summary_line(capsys.readouterr().err)
    assert line.endswith(f"; {len(unchanged)} of 60 variants unchanged ({share:.1f} %)"), line
    assert "made distinct" not in line and all("distinct" not in r["trace"] for r in plain)

    cmd = (
        *augment_args(work, inp, "distinct.jsonl"),
        "--n",
        "3",
        "--distinct",
        "--max-tries",
        "40",
    )
    assert run(*cmd) == 0
    line = summary_line(capsys.readouterr().err)
    assert line.endswith("; 0 of 60 variants unchanged (0.0 %), 0 could not be made distinct"), line
    out = read_jsonl(work / "distinct.jsonl")
    assert len(out) == 60
    p = Pipeline.from_yaml(DISTINCT_CONFIG)
    for i, row in enumerate(rows):
        mine = out[3 * i : 3 * i + 3]
        assert len({row["text"], *(r["text"] for r in mine)}) == 4  # input and 3 distinct variants
        assert all(r["trace"]["distinct"] is True and r["trace"]["changed"] for r in mine)
        assert all(r["id"] == i for r in mine)
        expected, traces = p.augment(
            row, seed=0, epoch=0, index=i, n=3, distinct=True, max_tries=40, return_trace=True
        )
        assert [{k: r[k] for k in row} for r in mine] == expected
        assert [r["trace"] for r in mine] == [t.to_dict() for t in traces]
    assert any(r["trace"].get("attempt", 0) > 0 for r in out)  # some were redrawn
    # The Python API counts the same.
    summary = augment_corpus(inp, work / "api.jsonl", p, n=3, distinct=True, max_tries=40)
    assert (summary.variants, summary.unchanged, summary.not_distinct) == (60, 0, 0)
    summary = augment_corpus(inp, work / "api2.jsonl", p, n=3)
    assert (summary.variants, summary.unchanged, summary.not_distinct) == (60, len(unchanged), 0)


def test_distinct_flags_what_cannot_be_made_distinct(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A one-word text cannot be shuffled: its variants stay, flagged, never dropped."""
    pytest.importorskip("augkit.text.chunks")
    (work / "cfg.yaml").write_text(
        "operators: [{type: chunk_recombination, params: {unit: sentence, mode: shuffle}}]\n"
        "chain: {start: [1.0], transitions: [[0.0]]}\n"
    )
    rows = [
        {"text": "One. Two. Three. Four. Five."},
        {"text": "Word"},
        {"text": "Red. Green. Blue. Yellow. White."},
    ]
    inp = write_jsonl(work / "in.jsonl", rows)
    capsys.readouterr()
    cmd = (*augment_args(work, inp, "out.jsonl"), "--n", "3", "--distinct", "--max-tries", "30")
    assert run(*cmd) == 0
    line = summary_line(capsys.readouterr().err)
    assert line.endswith("; 3 of 9 variants unchanged (33.3 %), 3 could not be made distinct"), line
    out = read_jsonl(work / "out.jsonl")
    assert [r["source_index"] for r in out] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    for r in out:
        t = r["trace"]
        if r["source_index"] == 1:
            assert r["text"] == "Word"
            assert (t["changed"], t["distinct"], t["attempt"]) == (False, False, 29)
        else:
            assert t["changed"] is True and t["distinct"] is True
    for i in (0, 2):
        assert len({rows[i]["text"], *(r["text"] for r in out if r["source_index"] == i)}) == 4


def test_distinct_and_max_tries_are_part_of_the_run(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "cfg.yaml").write_text(DISTINCT_CONFIG)
    inp = write_jsonl(work / "in.jsonl", [{"text": t, "y": 1, "z": 2} for t in texts(9)])
    with monkeypatch.context() as m:
        crash_after_progress_writes(m, 3)
        with pytest.raises(Crash):
            augment(work, inp, "out.jsonl", "--n", "2", "--batch-size", "2")
    kept = paths_for(work / "out.jsonl")[1].read_bytes()
    code = augment(work, inp, "out.jsonl", "--n", "2", "--distinct")
    assert_user_error(capsys, code, "different settings", "--distinct: false then, true now")
    code = augment(work, inp, "out.jsonl", "--n", "2", "--label-field", "y")
    assert_user_error(capsys, code, '--label-field: [] then, ["y"] now')
    code = augment(work, inp, "out.jsonl", "--n", "2", "--drop-field", "z")
    assert_user_error(capsys, code, '--drop-field: [] then, ["z"] now')
    # Without --distinct, --max-tries changes nothing: the run resumes.
    assert augment(work, inp, "out.jsonl", "--n", "2", "--max-tries", "9") == 0
    assert paths_for(work / "out.jsonl")[0].read_bytes().startswith(kept)
    assert augment(work, inp, "d.jsonl", "--n", "2", "--distinct") == 0
    code = augment(work, inp, "d.jsonl", "--n", "2", "--distinct", "--max-tries", "9")
    assert_user_error(capsys, code, "already exists", "--max-tries: 4 then, 9 now")
    with pytest.raises(SystemExit):
        augment(work, inp, "d.jsonl", "--max-tries", "0")
    assert "expected an integer >= 1, got 0" in capsys.readouterr().err


# ----------------------------------------------------------------- issue 10: replay


def test_replay_reads_records_written_by_augkit_0_1(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """augkit 0.1 wrote variant v with epoch=v, traces without variant or "changed"."""
    rows = [{"text": t, "label": i % 2} for i, t in enumerate(texts(4))]
    inp = write_jsonl(work / "in.jsonl", rows)
    p = pipe()
    old = []
    for i, row in enumerate(rows):
        old.append(
            {
                "source_index": i,
                "variant": None,
                "text": row["text"],
                "label": row["label"],
                "trace": None,
            }
        )
        for v in range(3):
            text, trace = p.augment(row["text"], seed=0, epoch=v, index=i, return_trace=True)
            t = trace.to_dict()
            t.pop("changed")
            t.pop("streams")  # 0.1 drew with Philox (streams 1) and did not say so
            for s in t["steps"]:
                s.pop("changed")
            assert set(t) == {"seed", "epoch", "index", "steps"} and t["epoch"] == v
            old.append(
                {"source_index": i, "variant": v, "text": text, "label": row["label"], "trace": t}
            )
    write_jsonl(work / "old.jsonl", old)
    capsys.readouterr()
    base = (
        "replay",
        work / "old.jsonl",
        "--input",
        inp,
        "-c",
        work / "cfg.yaml",
        "--import",
        "tests.ops",
    )
    assert run(*base) == 0
    assert "replayed 16 record(s): all match" in capsys.readouterr().out
    # And a 0.1 record that was changed since is still found out.
    old[2]["text"] += "!"
    write_jsonl(work / "old.jsonl", old)
    assert run(*base) == 1
    assert "line 3" in (o := capsys.readouterr().out) and "MISMATCH" in o


def test_replay_gives_label_aware_operators_the_label(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "cfg.yaml").write_text(
        "operators: [{type: test_label_echo}]\nchain: {start: [1.0], transitions: [[0.0]]}\n"
    )
    rows = [{"body": f"item {i}", "a": i, "b": "x"} for i in range(3)]
    inp = write_jsonl(work / "in.jsonl", rows)
    imp = ("--import", "tests.integration._ops")
    opts = ("--field", "body", "--label-field", "a,b")
    assert augment(work, inp, "out.jsonl", *imp, "--n", "2", *opts) == 0
    capsys.readouterr()
    base = ("replay", work / "out.jsonl", "--input", inp, "-c", work / "cfg.yaml", *imp)
    assert run(*base, *opts) == 0
    assert "replayed 6 record(s): all match" in capsys.readouterr().out
    # Without the label fields the operator has no label to replay with: a clear error.
    code = run(*base, "--field", "body")
    assert_user_error(capsys, code, "cannot replay this trace", "needs the item's label")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n": 2**24}, r"n must be an integer in \[1, 16777215\]"),
     ({"max_tries": 70_000, "distinct": True}, r"max_tries must be an integer in \[1, 65536\]")],
)  # fmt: skip
def test_out_of_range_arguments_are_not_blamed_on_a_record(
    work: Path, kwargs: dict[str, Any], match: str
) -> None:
    inp = write_jsonl(work / "in.jsonl", [{"text": t} for t in texts(3)])
    with pytest.raises(ValueError, match=match):
        augment_corpus(inp, work / "out.jsonl", pipe(), skip_bad=True, **kwargs)
    assert not list(work.glob("out.jsonl*"))  # nothing written, no record skipped
