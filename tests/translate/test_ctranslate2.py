"""The CTranslate2 backend: same model converted (int8), cached on disk, same interface."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from augkit import Pipeline, item_rng

from .conftest import SHORT

pytestmark = pytest.mark.xdist_group("translate")

pytest.importorskip("ctranslate2")


@pytest.fixture(scope="module")
def ct2_op(make_bt: Any, ct2_cache: str) -> Any:
    return make_bt(backend="ctranslate2").load()


def test_outputs_are_strings_in_input_order(ct2_op: Any) -> None:
    texts = [SHORT[1], "", SHORT[2], "  ", SHORT[3], SHORT[0]]
    out = ct2_op.augment_batch(texts, seed=0)
    assert len(out) == len(texts) and all(isinstance(o, str) for o in out)
    assert out[1] == "" and out[3] == "  "
    assert out == [ct2_op(x, rng=item_rng(0, 0, i)) for i, x in enumerate(texts)]
    for i, o in enumerate(out):
        if texts[i].strip():
            overlap = [len(set(o.split()) & set(t.split())) for t in texts]
            assert overlap[i] == max(overlap)


def test_deterministic_and_independent_of_batch_size(make_bt: Any, ct2_op: Any) -> None:
    a = ct2_op.augment_batch(SHORT, seed=0)
    assert ct2_op.augment_batch(SHORT, seed=5) == a
    small = make_bt(backend="ctranslate2", batch_size=2)
    assert small.augment_batch(SHORT[::-1], seed=0)[::-1] == a


def test_greedy_output_matches_torch_closely(make_bt: Any, ct2_op: Any) -> None:
    from augkit.testing.marian import sample_sentences

    texts = sample_sentences(24, seed=31)
    torch_out = make_bt().augment_batch(texts, seed=0)
    ct2_out = ct2_op.augment_batch(texts, seed=0)
    same = sum(a == b for a, b in zip(torch_out, ct2_out))
    # int8 weights change a few near-tied greedy choices, not the model's answers.
    assert same >= 0.6 * len(texts)
    words = sum(len(set(a.split()) & set(b.split())) for a, b in zip(torch_out, ct2_out))
    total = sum(len(set(a.split())) for a in torch_out)
    assert words >= 0.85 * total


def test_conversion_is_cached_per_model_and_quantisation(marian_dir: str, ct2_cache: str) -> None:
    from augkit.text._translate_ct2 import converted_model

    int8 = converted_model(marian_dir, "int8")
    assert int8.is_dir() and (int8 / "model.bin").is_file()
    assert Path(ct2_cache) in int8.parents
    mtime = (int8 / "model.bin").stat().st_mtime_ns
    assert converted_model(marian_dir, "int8") == int8  # not converted again
    assert (int8 / "model.bin").stat().st_mtime_ns == mtime
    full = converted_model(marian_dir, None)
    assert full != int8 and (full / "model.bin").is_file()
    assert (full / "model.bin").stat().st_size > (int8 / "model.bin").stat().st_size


def test_float32_compute_type_runs(make_bt: Any) -> None:
    op = make_bt(backend="ctranslate2", dtype="float32")
    out = op.augment_batch(SHORT[:3], seed=0)
    assert len(out) == 3 and all(o.strip() for o in out)


def test_long_input_split_with_ctranslate2(make_bt: Any) -> None:
    from augkit.testing.marian import sample_sentences

    text = " ".join(sample_sentences(10, seed=12))
    op = make_bt(backend="ctranslate2", max_input_tokens=30)
    out = op(text, seed=0)
    assert len(out) > 0.6 * len(text)


def test_paraphrases_with_beams(ct2_op: Any) -> None:
    paras = ct2_op.paraphrases(SHORT[:3], 3, seed=0)
    for x, ps in zip(SHORT, paras):
        assert 1 <= len(ps) <= 3 and len(set(ps)) == len(ps) and x not in ps


def test_pickles_and_runs_in_a_pipeline(ct2_op: Any) -> None:
    clone = pickle.loads(pickle.dumps(ct2_op))
    assert clone._hops is None and clone.backend == "ctranslate2"
    pipe = Pipeline.sometimes(clone, p=0.5)
    again = Pipeline.from_dict(pipe.to_dict())
    out = pipe.augment_batch(SHORT, seed=3)
    assert out == again.augment_batch(SHORT, seed=3)
    assert out == [pipe.augment(x, seed=3, index=i) for i, x in enumerate(SHORT)]


def test_home_relative_model_directory_converts(
    marian_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "~/models/m" is a local directory: it must be converted from there, not
    # looked up on the hub (the fingerprint and the converter once disagreed).
    from augkit.text._translate_ct2 import converted_model

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m").symlink_to(marian_dir, target_is_directory=True)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AUGKIT_CACHE", str(tmp_path / "cache"))  # a conversion, not a cache hit
    path = converted_model("~/models/m", "int8")
    assert (path / "model.bin").is_file()
    source = json.loads((path / "augkit-source.json").read_text())["source"]
    assert source["dir"] == str(Path(marian_dir).resolve())
