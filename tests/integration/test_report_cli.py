"""``augkit report`` and ``augkit augment --filter``: tables, plots, filtered traces, errors.

The encoder is the tiny BERT built offline (the ``tiny_mlm_dir`` fixture),
so each command takes a second or two; a dozen records per file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from augkit.cli import main
from augkit.cli.report import group_name

CONFIG = """\
operators:
  - type: test_append_token
  - type: test_drop_char
chain:
  start: [0.5, 0.5]
  transitions: [[0.0, 0.5], [0.5, 0.0]]
"""

GOOD = "good great fine lovely superb nice".split()
BAD = "bad awful poor nasty dreadful grim".split()
PNG = b"\x89PNG\r\n\x1a\n"


def rows(n: int = 12) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(n):
        words = GOOD if i % 2 else BAD
        out.append(
            {"text": f"the film was {words[i % 6]} and {words[(i + 1) % 6]}", "label": i % 2}
        )
    return out


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "ops.yaml").write_text(CONFIG, encoding="utf-8")
    write_jsonl(tmp_path / "train.jsonl", rows())
    return tmp_path


def augment(work: Path, out: str, *extra: str) -> int:
    argv = [
        "augment", str(work / "train.jsonl"), "-o", str(work / out), "-c", str(work / "ops.yaml"),
        "--import", "tests.ops", "--n", "2", "--quiet", *extra,
    ]  # fmt: skip
    return main(argv)


def report(work: Path, model: Path | str, *extra: str, aug: str = "aug.jsonl") -> int:
    argv = [
        "report", str(work / aug), "--input", str(work / "train.jsonl"), "--model", str(model),
        *extra,
    ]  # fmt: skip
    return main(argv)


def write_filter(work: Path, model: Path, **keys: object) -> Path:
    spec = {"model": str(model), "metric": "cosine", "reference": "class", "quantile": 0.9,
            "max_tries": 3, **keys}  # fmt: skip
    path = work / "filter.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


# ---------------------------------------------------------------------- report
def test_report_prints_a_row_per_operator_group_and_writes_json_and_plots(
    work: Path, tiny_mlm_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert augment(work, "aug.jsonl") == 0
    records = read_jsonl(work / "aug.jsonl")
    expected = {group_name(r["trace"], "ops") for r in records}  # type: ignore[arg-type]
    assert len(expected) >= 2, "the chain should give several operator groups"
    capsys.readouterr()
    assert report(work, tiny_mlm_dir, "-o", str(work / "rep")) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| group | samples | mean_distance")
    assert "label_flip_rate" in table[0] and "distinct_2" in table[0]
    assert "self_similarity" in table[0]
    names = {line.split(" | ")[0][2:] for line in table[1:]}
    assert names == expected | {"all"}
    doc = json.loads((work / "rep" / "report.json").read_text())
    assert set(doc["summary"]) == expected | {"all"}
    assert doc["summary"]["all"]["samples"] == len(records) == doc["records"] == 24
    assert sum(v["samples"] for k, v in doc["summary"].items() if k != "all") == 24
    for r, item in zip(records, doc["items"]):
        assert (item["source_index"], item["variant"]) == (r["source_index"], r["variant"])
        assert item["group"] == group_name(r["trace"], "ops")  # type: ignore[arg-type]
        assert item["distance"] >= 0
    assert doc["label_check"] is True and doc["originals"] == 12
    assert doc["plots"] == {"distances": "distances.png", "projection": "projection.png"}
    for name in ("distances.png", "projection.png"):
        data = (work / "rep" / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5000


def test_report_group_by_path_and_class_reference(
    work: Path, tiny_mlm_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert augment(work, "aug.jsonl") == 0
    records = read_jsonl(work / "aug.jsonl")
    paths = {" > ".join(s["op"] for s in r["trace"]["steps"]) for r in records}  # type: ignore[index]
    capsys.readouterr()
    assert (
        report(
            work, tiny_mlm_dir, "--group-by", "path", "--metric", "euclidean",
            "--reference", "class", "--no-label-check", "-o", str(work / "rep"), "--no-plot",
        )
        == 0
    )  # fmt: skip
    doc = json.loads((work / "rep" / "report.json").read_text())
    assert set(doc["summary"]) == paths | {"all"}
    assert doc["metric"] == "euclidean" and doc["reference"] == "class"
    assert "label_flip_rate" not in doc["summary"]["all"]
    assert not (work / "rep" / "distances.png").exists()
    assert "euclidean distance to class" in capsys.readouterr().out


def test_report_skips_kept_originals(work: Path, tiny_mlm_dir: Path) -> None:
    assert augment(work, "aug.jsonl", "--keep-original") == 0
    assert report(work, tiny_mlm_dir, "-o", str(work / "rep"), "--no-plot", "-q") == 0
    doc = json.loads((work / "rep" / "report.json").read_text())
    assert doc["records"] == 24 and all(i["variant"] is not None for i in doc["items"])


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"source_index": 0, "variant": 0, "text": "x"}], "no field 'trace'"),
        ([{"variant": 0, "text": "x", "trace": {"steps": []}}], "no field 'source_index'"),
        ([{"source_index": 0, "variant": 0, "trace": {"steps": []}}], "no field 'text'"),
        (
            [{"source_index": 99, "variant": 0, "text": "x", "trace": {"steps": []}}],
            "source_index 99",
        ),
        (
            [{"source_index": 0, "variant": 0, "text": "x", "trace": "no"}],
            "trace must be an object",
        ),
        (["[1, 2]"], "expected a JSON object"),
        ([], "holds no augmented records"),
    ],
)
def test_report_bad_augmented_records(
    work: Path, records: list[object], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_jsonl(work / "bad.jsonl", records)
    assert report(work, "unused/model", aug="bad.jsonl") == 2
    assert message in capsys.readouterr().err


def test_report_missing_files_and_labels(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report(work, "unused/model", aug="nope.jsonl") == 2
    assert "augmented file" in capsys.readouterr().err
    assert augment(work, "aug.jsonl") == 0
    assert main(["report", str(work / "aug.jsonl"), "--input", str(work / "nope.jsonl")]) == 2
    assert "--input" in capsys.readouterr().err
    assert report(work, "./no/such/dir") == 2
    assert "no such model directory" in capsys.readouterr().err
    assert report(work, "unused/model", "--reference", "class", "--label-field", "y") == 2
    assert "needs labels" in capsys.readouterr().err


# ---------------------------------------------------------------------- augment --filter
def test_filtered_augment_records_quality_and_is_reproducible(
    work: Path, tiny_mlm_dir: Path
) -> None:
    spec = write_filter(work, tiny_mlm_dir)
    assert augment(work, "a.jsonl", "--filter", str(spec), "--label-field", "label") == 0
    assert augment(work, "b.jsonl", "--filter", str(spec), "--label-field", "label") == 0
    assert (work / "a.jsonl").read_bytes() == (work / "b.jsonl").read_bytes()
    records = read_jsonl(work / "a.jsonl")
    assert len(records) == 24
    originals = {i: r["text"] for i, r in enumerate(rows())}
    tries = []
    for r in records:
        q = r["trace"]["quality"]  # type: ignore[index]
        assert q["metric"] == "cosine" and 1 <= len(q["tries"]) <= 3
        for t in q["tries"]:
            assert set(t) >= {"attempt", "distance", "accepted", "reason"}
        tries.append(len(q["tries"]))
        if q["accepted"]:
            assert q["tries"][-1]["accepted"] is True
        else:  # fallback original: the input itself
            assert r["text"] == originals[r["source_index"]]  # type: ignore[index]
    assert max(tries) > 1, "some outputs should have been redrawn"
    # a different seed gives a different file; the unfiltered run has no quality
    assert (
        augment(work, "c.jsonl", "--filter", str(spec), "--seed", "1", "--label-field", "label")
        == 0
    )
    assert (work / "c.jsonl").read_bytes() != (work / "a.jsonl").read_bytes()
    assert augment(work, "plain.jsonl") == 0
    assert all("quality" not in r["trace"] for r in read_jsonl(work / "plain.jsonl"))  # type: ignore[operator]
    # the report reads a filtered output too
    assert (
        report(work, tiny_mlm_dir, "-q", "-o", str(work / "rep"), "--no-plot", aug="a.jsonl") == 0
    )


def test_filtered_augment_fallback_last_and_rejecting_everything(
    work: Path, tiny_mlm_dir: Path
) -> None:
    # min_distance huge: every output is a near-copy, so every one is rejected
    spec = write_filter(work, tiny_mlm_dir, reference="original", min_distance=10.0,
                        fallback="last", max_tries=2)  # fmt: skip
    assert augment(work, "a.jsonl", "--filter", str(spec)) == 0
    originals = [r["text"] for r in rows()]
    records = read_jsonl(work / "a.jsonl")
    assert all(r["trace"]["quality"]["accepted"] is False for r in records)  # type: ignore[index]
    assert all(len(r["trace"]["quality"]["tries"]) == 2 for r in records)  # type: ignore[index]
    assert any(r["text"] != originals[r["source_index"]] for r in records)  # type: ignore[index]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"metric": "cosine", "colour": 1}', "unknown key(s) 'colour'"),
        ('{"metric": "hamming", "model": "unused/model"}', "metric"),
        ('{"max_tries": 0}', "max_tries must be an integer >= 1"),
        ('{"fallback": "drop"}', "fallback must be one of"),
        ('{"batch_size": "x"}', "batch_size must be an integer >= 1"),
        ("[1, 2]", "must hold a mapping"),
        ("{not json", "not valid YAML/JSON"),
    ],
)
def test_filter_file_errors(
    work: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "filter.json").write_text(content, encoding="utf-8")
    assert augment(work, "a.jsonl", "--filter", str(work / "filter.json")) == 2
    assert message in capsys.readouterr().err
    assert not (work / "a.jsonl").exists()


def test_filter_missing_file_and_ray_engine(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert augment(work, "a.jsonl", "--filter", str(work / "nope.yaml")) == 2
    assert "does not exist" in capsys.readouterr().err
    (work / "filter.yaml").write_text("metric: cosine\n", encoding="utf-8")
    assert augment(work, "shards", "--filter", str(work / "filter.yaml"), "--engine", "ray") == 2
    assert "--filter is not available with --engine ray" in capsys.readouterr().err


def test_the_filter_is_part_of_the_run_fingerprint(
    work: Path, tiny_mlm_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_filter(work, tiny_mlm_dir)
    assert augment(work, "a.jsonl", "--filter", str(spec), "--label-field", "label") == 0
    before = (work / "a.jsonl").read_bytes()
    capsys.readouterr()
    # the same command again: already complete, nothing rewritten
    assert augment(work, "a.jsonl", "--filter", str(spec), "--label-field", "label") == 0
    assert (work / "a.jsonl").read_bytes() == before
    # without the filter it is another run: refused without --overwrite
    assert augment(work, "a.jsonl", "--label-field", "label") == 2
    assert capsys.readouterr().err
    assert (work / "a.jsonl").read_bytes() == before
