"""``augkit demo``, the example configs, and the shell commands shown in the docs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from importlib import resources
from pathlib import Path

import pytest

from augkit.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
BASH_BLOCK = re.compile(r"^```bash[^\n]*\n(.*?)^```", re.M | re.S)


def sample_rows() -> list[dict[str, str]]:
    text = (resources.files("augkit") / "data" / "sample_texts.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_sample_texts_are_labelled_reviews() -> None:
    rows = sample_rows()
    assert 15 <= len(rows) <= 40
    assert {r["label"] for r in rows} == {"pos", "neg"}
    assert all(isinstance(r["text"], str) and len(r["text"].split()) >= 5 for r in rows)
    assert len({r["text"] for r in rows}) == len(rows)


# ----------------------------------------------------------------- demo


@pytest.mark.slow
def test_demo_runs_offline_and_writes_its_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("augkit.text.chunks")
    pytest.importorskip("augkit.image.geometry")
    monkeypatch.delenv("AUGKIT_MARIAN_DIR", raising=False)
    monkeypatch.delenv("AUGKIT_MLM_DIR", raising=False)
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # Model-backed operators are named as skipped, with how to enable them.
    assert "skipped: BackTranslation: no local MarianMT model (pass --marian-dir" in printed
    assert "skipped: RandomInsertion(MaskedLM): no local masked-LM model" in printed
    # The chains are printed with their expectations.
    assert printed.count("expected length: ") == 2
    assert printed.count("expected applications per operator: ") == 2

    rows = sample_rows()
    records = [json.loads(line) for line in (out / "texts.jsonl").read_text().splitlines()]
    assert len(records) == 2 * len(rows)
    changed = 0
    for rec in records:
        src = rows[rec["source_index"]]
        assert rec["label"] == src["label"]
        assert isinstance(rec["trace"], dict)
        if rec["variant"] == 0:
            # Before, after and the trace of each text are printed.
            block = f"  before: {src['text']}\n  after:  {rec['text']}\n  trace:  "
            assert block in printed
        changed += rec["text"] != src["text"]
    assert changed >= len(records) // 2

    from PIL import Image

    with Image.open(out / "image_grid.png") as grid:
        assert grid.format == "PNG" and grid.width > 300 and grid.height > 200
    traces = (out / "image_traces.jsonl").read_text().splitlines()
    assert len(traces) == 5 and all("steps" in json.loads(t)["trace"] for t in traces)
    assert printed.count("[sample ") == 5


@pytest.mark.slow
def test_demo_uses_local_models_when_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("augkit.text.backtranslation")
    pytest.importorskip("augkit.image.geometry")
    from augkit.testing.marian import tiny_marian
    from augkit.testing.masked_lm import tiny_masked_lm

    marian = tmp_path / "marian"
    marian.mkdir()
    model = tiny_marian()
    (marian / "opus-mt-en-de").symlink_to(model, target_is_directory=True)
    (marian / "opus-mt-de-en").symlink_to(model, target_is_directory=True)
    monkeypatch.setenv("AUGKIT_MLM_DIR", str(tiny_masked_lm()))
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--marian-dir", str(marian)]) == 0
    printed = capsys.readouterr().out
    assert "skipped: BackTranslation" not in printed
    assert "skipped: RandomInsertion(MaskedLM)" not in printed
    assert "BackTranslation(" in printed and "MaskedLM(" in printed
    records = [json.loads(line) for line in (out / "texts.jsonl").read_text().splitlines()]
    used = {s["op"] for r in records for s in r["trace"]["steps"]}
    assert "back_translation" in used


def test_demo_reports_a_missing_model_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from augkit.cli.demo import _text_ops

    monkeypatch.delenv("AUGKIT_MLM_DIR", raising=False)
    texts = [r["text"] for r in sample_rows()]
    ops, skipped = _text_ops(texts, str(tmp_path / "nowhere"), str(tmp_path / "no_mlm"), "fr")
    assert ops  # the operators that need no model are still there
    assert any("opus-mt-en-fr" in s and "no model directory" in s for s in skipped)
    assert any("no_mlm" in s for s in skipped)


def test_demo_output_path_that_is_a_file_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from augkit.cli import main

    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    assert main(["demo", "--out", str(blocker / "demo")]) == 2
    err = capsys.readouterr().err
    assert "cannot create the folder" in err and "Traceback" not in err


# ----------------------------------------------------------------- example configs


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_load_and_describe(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = config.read_text()
    if "synonyms" in text:
        from augkit.text import Synonyms

        if not Synonyms.available():
            pytest.skip("WordNet data is not installed here")
    for op in re.findall(r"type: (\w+)", text):
        if op in ("rotate", "random_resized_crop", "horizontal_flip"):
            pytest.importorskip("augkit.image.geometry")
        if op == "back_translation":
            pytest.importorskip("augkit.text.backtranslation")
    code = main(["describe", str(config)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "expected length: " in captured.out


def test_text_example_augments_the_sample(tmp_path: Path) -> None:
    pytest.importorskip("augkit.text.chunks")
    from augkit.cli import load_pipeline

    src = tmp_path / "reviews.jsonl"
    shutil.copy(resources.files("augkit") / "data" / "sample_texts.jsonl", src)
    config = ROOT / "examples" / "text_pipeline.yaml"
    out = tmp_path / "aug.jsonl"
    args = ["augment", str(src), "-o", str(out), "-c", str(config), "--n", "2", "--quiet"]
    assert main([*args, "--label-field", "label"]) == 0
    pipe = load_pipeline(config)  # its key is "text": records and plain texts alike
    rows = sample_rows()
    for line in out.read_text().splitlines():
        rec = json.loads(line)
        i, v = rec["source_index"], rec["variant"]
        assert rec["text"] == pipe.augment(rows[i]["text"], seed=0, index=i, n=2)[v]
        assert {k: rec[k] for k in rows[i]} == pipe.augment(rows[i], seed=0, index=i, n=2)[v]
        assert pipe.replay(rows[i]["text"], rec["trace"]) == rec["text"]


@pytest.mark.slow
def test_demo_counts_unchanged_variants_and_distinct_redraws_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("augkit.text.chunks")
    monkeypatch.delenv("AUGKIT_MARIAN_DIR", raising=False)
    monkeypatch.delenv("AUGKIT_MLM_DIR", raising=False)
    shares = {}
    for flag in ([], ["--distinct"]):
        out = tmp_path / ("distinct" if flag else "plain")
        assert main(["demo", "--out", str(out), *flag]) == 0
        printed = capsys.readouterr().out
        records = [json.loads(line) for line in (out / "texts.jsonl").read_text().splitlines()]
        unchanged = sum(r["trace"]["changed"] is False for r in records)
        not_distinct = sum(r["trace"].get("distinct") is False for r in records)
        share = 100 * unchanged / len(records)
        line = f"unchanged: {unchanged} of {len(records)} variants ({share:.1f} %)"
        assert line in printed, printed
        if flag:
            assert f"; {not_distinct} could not be made distinct" in printed
            assert "--distinct" in printed.split("the same as: ")[1].splitlines()[0]
        shares[bool(flag)] = unchanged
    assert shares[False] > 0  # the bundled sample has one-sentence texts and short chains
    assert shares[True] < shares[False]


# ----------------------------------------------------------------- commands shown in the docs


def doc_commands(path: Path) -> list[str]:
    """The ``augkit ...`` command lines of the ```bash blocks (continuations joined)."""
    commands = []
    for block in BASH_BLOCK.findall(path.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            # The synopsis line (INPUT, [--options]) is not a command to run.
            if line.startswith("augkit ") and "INPUT" not in line and "[--" not in line:
                commands.append(line)
    return commands


@pytest.mark.slow
@pytest.mark.parametrize("doc", ["cli.md", "training.md"])
def test_commands_in_the_docs_run(
    doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("augkit.text.chunks")
    commands = doc_commands(ROOT / "docs" / doc)
    assert commands, f"no augkit commands found in {doc}"
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copy(
        resources.files("augkit") / "data" / "sample_texts.jsonl", tmp_path / "reviews.jsonl"
    )
    monkeypatch.chdir(tmp_path)
    ran = 0
    for command in commands:
        argv = shlex.split(command)[1:]
        if argv[0] == "demo":
            assert argv == ["demo", "--out", "out/demo"]  # run by the demo test above
            continue
        if argv[0] == "augment" and Path(argv[argv.index("-o") + 1]).exists():
            argv.append("--overwrite")  # the same command shown twice on a page
        code = main(argv)
        captured = capsys.readouterr()
        assert code == 0, f"{command!r} exited with {code}:\n{captured.err}"
        if argv[0] == "replay":
            assert "all match" in captured.out
        ran += 1
    assert ran >= 1
    if doc == "cli.md":
        # The output record shown on the page is line 5 of the augment command's output.
        shown = re.search(r"^```json\n(.*?)^```", (ROOT / "docs" / doc).read_text(), re.M | re.S)
        assert shown is not None
        line5 = (tmp_path / "reviews.aug.jsonl").read_text(encoding="utf-8").splitlines()[4]
        assert json.loads(shown.group(1)) == json.loads(line5)
