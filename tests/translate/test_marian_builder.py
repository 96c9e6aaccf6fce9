"""The offline tiny-Marian builder: opus-mt layout, a model that stops, one build per cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from augkit.testing.marian import BUILDER_VERSION, CONTRACT, PROBE, sample_sentences

pytestmark = pytest.mark.xdist_group("translate")


def test_vocabulary_has_the_opus_mt_layout(marian_dir: str) -> None:
    vocab = json.loads((Path(marian_dir) / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["</s>"] == 0 and vocab["<unk>"] == 1
    assert vocab["<pad>"] == len(vocab) - 1 == max(vocab.values())
    assert sorted(vocab.values()) == list(range(len(vocab)))
    config = json.loads((Path(marian_dir) / "config.json").read_text())
    assert config["model_type"] == "marian"
    assert config["pad_token_id"] == config["decoder_start_token_id"] == vocab["<pad>"]
    assert config["eos_token_id"] == 0 and config["d_model"] == 64
    assert config["encoder_layers"] == config["decoder_layers"] == 2
    for name in ("source.spm", "target.spm", "tokenizer_config.json"):
        assert (Path(marian_dir) / name).is_file()
    build = json.loads((Path(marian_dir) / "augkit-build.json").read_text())
    assert build["builder_version"] == BUILDER_VERSION
    assert f"-v{BUILDER_VERSION}-" in Path(marian_dir).name
    # The contract was measured at build time and met, however many rounds it took.
    assert build["contract"] == CONTRACT
    assert build["steps_trained"] >= build["steps"]
    assert all(build["probe_quality"][k] >= bound for k, bound in CONTRACT.items())


@pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")
def test_loads_through_auto_classes_and_keeps_its_contract(marian_dir: str) -> None:
    """Loaded as a hub model is, it still stops on its own and copies (the builder's contract).

    The bounds are the builder's promise for every build, not rates of one
    build: a machine whose training gave a weaker copier trained longer.
    """
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from augkit.testing.marian import copy_quality

    tok = AutoTokenizer.from_pretrained(marian_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(marian_dir)
    assert type(tok).__name__ == "MarianTokenizer"
    assert float(model.get_input_embeddings().weight[tok.pad_token_id].detach().abs().sum()) == 0.0
    quality = copy_quality(model, tok, sample_sentences(PROBE["n"], seed=PROBE["seed"]))
    assert all(quality[k] >= bound for k, bound in CONTRACT.items()), quality


def test_a_build_that_misses_the_contract_trains_on_then_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from augkit.testing import marian

    torch.set_num_threads(1)
    # Three steps cannot make a copier: one extra round of two steps, then the error.
    monkeypatch.setattr(marian, "MAX_EXTRA_ROUNDS", 1)
    monkeypatch.setattr(marian, "EXTRA_STEPS", 2)
    with pytest.raises(marian.ContractError, match=r"after 5 steps"):
        marian.build_tiny_marian(tmp_path / "weak", steps=3)
    # Without the contract the same build succeeds and reports what it measured.
    record = marian.build_tiny_marian(tmp_path / "any", steps=3, ensure_contract=False)
    assert record["steps_trained"] == 3
    assert set(record["probe_quality"]) == {"stops", "word_recall", "exact"}


def test_sentences_are_seeded_and_mixed_in_length() -> None:
    a = sample_sentences(50, seed=3)
    assert a == sample_sentences(50, seed=3) and a != sample_sentences(50, seed=4)
    lengths = [len(s.split()) for s in a]
    assert min(lengths) <= 6 and max(lengths) >= 15


@pytest.mark.slow
def test_concurrent_builders_build_once(tmp_path: Path) -> None:
    code = (
        "import json, sys, torch; torch.set_num_threads(1)\n"
        "from augkit.testing.marian import tiny_marian\n"
        "p = tiny_marian(sys.argv[1], steps=3, ensure_contract=False)\n"
        "print(p, json.loads((p / 'augkit-build.json').read_text())['built_by_pid'])\n"
    )
    env_cmd = [sys.executable, "-c", code, str(tmp_path)]
    procs = [
        subprocess.Popen(env_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(out.split())
    (path_a, pid_a), (path_b, pid_b) = results
    assert path_a == path_b
    assert pid_a == pid_b and int(pid_a) in {p.pid for p in procs}  # one of them built it
    leftovers = [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]
    assert leftovers == []
    # a third call finds it and builds nothing
    again = subprocess.run(env_cmd, capture_output=True, text=True, timeout=300, check=True)
    assert again.stdout.split() == [path_a, pid_a]
