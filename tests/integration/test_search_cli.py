"""``augkit search``: a policy searched for a labelled JSONL file, its outputs, its errors.

The encoder is the tiny BERT built offline (the ``tiny_mlm_dir`` fixture), so
a search takes a second or two; the real all-MiniLM-L6-v2 runs in
benchmarks/policy_efficacy.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from augkit import Pipeline
from augkit.cli import main

CONFIG = """\
operators:
  - type: test_append_token
  - type: test_drop_char
chain:
  start: [0.5, 0.5]
  transitions: [[0.0, 0.0], [0.0, 0.0]]
"""

GOOD = "good great fine lovely superb nice".split()
BAD = "bad awful poor nasty dreadful grim".split()


def rows(n: int = 12, key: str = "text", label: str = "label") -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(n):
        words = GOOD if i % 2 else BAD
        out.append({key: f"the film was {words[i % 6]} and {words[(i + 1) % 6]}", label: i % 2})
    return out


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "ops.yaml").write_text(CONFIG, encoding="utf-8")
    write_jsonl(tmp_path / "train.jsonl", rows())
    return tmp_path


def search(work: Path, embedder: Path | str, *extra: str, inp: str = "train.jsonl") -> int:
    argv = [
        "search", str(work / inp), "-c", str(work / "ops.yaml"), "-o", str(work / "policy.yaml"),
        "--import", "tests.ops", "--embedder", str(embedder), "--budget", "5", "--folds", "3",
        "--quiet", *extra,
    ]  # fmt: skip
    return main(argv)


def test_search_writes_a_loadable_config_history_and_plot(
    work: Path, tiny_mlm_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert search(work, tiny_mlm_dir) == 0
    pipe = Pipeline.load(work / "policy.yaml")
    config = Pipeline.load(work / "ops.yaml")
    assert [type(op) for op in pipe.ops] == [type(op) for op in config.ops]
    history = json.loads((work / "policy.history.json").read_text())
    assert history["operators"] == ["test_append_token", "test_drop_char"]
    assert history["evaluations"] <= 5
    assert 0.0 <= history["baseline"] <= 1.0 and 0.0 <= history["score"] <= 1.0
    assert history["gain"] == pytest.approx(history["score"] - history["baseline"])
    assert history["rounds"], "at least one round"
    for r in history["rounds"]:
        assert len(r["paths"]) == len(r["scores"])
        assert r["best_score"] == max(r["scores"])
    assert history["chain"] == pipe.chain.to_dict()
    png = (work / "policy.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # The searched config drives augment as any other config does.
    assert main([
        "augment", str(work / "train.jsonl"), "-o", str(work / "out.jsonl"),
        "-c", str(work / "policy.yaml"), "--import", "tests.ops", "--quiet", "--n", "2",
    ]) == 0  # fmt: skip
    assert len((work / "out.jsonl").read_text().splitlines()) == 24


def test_search_is_deterministic_for_a_seed(work: Path, tiny_mlm_dir: Path) -> None:
    assert search(work, tiny_mlm_dir, "--seed", "3", "--no-plot") == 0
    first = (work / "policy.yaml").read_text()
    h1 = json.loads((work / "policy.history.json").read_text())
    assert not (work / "policy.png").exists()
    assert search(work, tiny_mlm_dir, "--seed", "3", "--no-plot", "--overwrite") == 0
    h2 = json.loads((work / "policy.history.json").read_text())
    assert (work / "policy.yaml").read_text() == first
    assert [r["scores"] for r in h1["rounds"]] == [r["scores"] for r in h2["rounds"]]


def test_search_reads_other_fields_and_writes_where_told(
    work: Path, tiny_mlm_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_jsonl(work / "reviews.jsonl", rows(key="review", label="stars"))
    argv = [
        "search", str(work / "reviews.jsonl"), "-c", str(work / "ops.yaml"),
        "-o", str(work / "out" / "p.json"), "--import", "tests.ops",
        "--embedder", str(tiny_mlm_dir), "--budget", "3", "--folds", "2",
        "--key", "review", "--label", "stars", "--history", str(work / "h.json"),
        "--plot", str(work / "score.png"), "--time-limit", "60",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "no augmentation:" in out and "searched policy:" in out
    assert Pipeline.load(work / "out" / "p.json").chain.n_states == 2
    assert json.loads((work / "h.json").read_text())["budget"] == 3
    assert (work / "score.png").exists()


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"text": "a", "label": 0}] * 6 + [{"text": "b", "label": 1}] * 2,
         "--folds 3 needs at least 3 examples of every class; too few for '1': 2"),
        ([{"text": "a", "label": 0}] * 6, "one class"),
        ([{"text": "a"}], "line 1: no field 'label'"),
        ([{"text": "a", "label": 0}, {"body": "b", "label": 1}], "line 2: no field 'text'"),
        ([{"text": 3, "label": 0}], "field 'text' must be a string"),
        ([{"text": "a", "label": [1]}], "label 'label' must be a string, integer or boolean"),
        (["[1, 2]"], "line 1: expected a JSON object"),
        (["{not json"], "line 1"),
        ([], "holds no records"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error(
    work: Path, records: list[object], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_jsonl(work / "bad.jsonl", records)
    assert search(work, "unused-model", inp="bad.jsonl") == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert not (work / "policy.yaml").exists()


def test_other_usage_errors(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert search(work, "unused", inp="missing.jsonl") == 2
    assert "does not exist" in capsys.readouterr().err
    argv = ["search", str(work / "train.jsonl"), "-c", str(work / "ops.yaml"),
            "-o", str(work / "p.txt"), "--import", "tests.ops"]  # fmt: skip
    assert main(argv) == 2
    assert "suffix must be one of" in capsys.readouterr().err
    (work / "policy.yaml").write_text("x")
    assert search(work, "unused") == 2
    assert "use --overwrite" in capsys.readouterr().err
    (work / "policy.yaml").unlink()
    assert search(work, "unused", "--budget", "1") == 2
    assert "--budget must be at least 2" in capsys.readouterr().err
    assert search(work, work / "no-model") == 2
    assert "no such model directory" in capsys.readouterr().err
    assert main(["search", str(work / "train.jsonl"), "-c", str(work / "nope.yaml"),
                 "-o", str(work / "p.yaml")]) == 2  # fmt: skip
    assert "nope.yaml" in capsys.readouterr().err


MAGNITUDE_CONFIG = """\
operators:
  - type: chunk_recombination
    params: {unit: window, window_size: 1, mode: splice, pool: [], rate: 0.0, drop: 0.2}
  - type: test_append_token
chain:
  start: [0.5, 0.5]
  transitions: [[0.0, 0.0], [0.0, 0.0]]
"""


def test_search_over_magnitudes_writes_one_operator_per_level(
    work: Path, tiny_mlm_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "ops.yaml").write_text(MAGNITUDE_CONFIG, encoding="utf-8")
    assert search(work, tiny_mlm_dir, "--magnitudes", "0.5", "1", "--no-plot") == 0
    pipe = Pipeline.load(work / "policy.yaml")
    assert [op.name for op in pipe.ops] == ["chunk_recombination"] * 2 + ["test_append_token"]
    assert [op.drop for op in pipe.ops[:2]] == [0.1, 0.2]
    assert pipe.chain.n_states == 3
    history = json.loads((work / "policy.history.json").read_text())
    assert history["operators"] == [
        "chunk_recombination@0.5",
        "chunk_recombination@1",
        "test_append_token",
    ]
    assert history["magnitudes"] == [0.5, 1.0]
    with pytest.raises(SystemExit) as exc:  # argparse refuses it before the command runs
        search(work, "unused", "--magnitudes", "2", "--overwrite")
    assert exc.value.code == 2
    assert "expected a magnitude in (0, 1], got '2'" in capsys.readouterr().err
