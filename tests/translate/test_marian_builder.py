"""The offline tiny-Marian builder: opus-mt layout, a model that stops, one build per cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from augkit.testing.marian import BUILDER_VERSION, sample_sentences

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


@pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")
def test_loads_through_auto_classes_and_stops_on_its_own(marian_dir: str) -> None:
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(marian_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(marian_dir)
    assert type(tok).__name__ == "MarianTokenizer"
    assert float(model.get_input_embeddings().weight[tok.pad_token_id].detach().abs().sum()) == 0.0
    texts = sample_sentences(8, seed=5)
    enc = tok(texts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        out = model.generate(**enc, num_beams=1, max_length=120)
    for row, src in zip(out, enc["input_ids"]):
        n_src = int((src != tok.pad_token_id).sum())
        assert (row == tok.eos_token_id).any()  # it emits </s>
        assert int((row != tok.pad_token_id).sum()) < 2 * n_src  # well before the limit
    decoded = tok.batch_decode(out, skip_special_tokens=True)
    # near-copies: most words of the input come back
    kept = sum(len(set(a.split()) & set(b.split())) for a, b in zip(texts, decoded))
    assert kept >= 0.5 * sum(len(set(a.split())) for a in texts)


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
        "p = tiny_marian(sys.argv[1], steps=3)\n"
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
