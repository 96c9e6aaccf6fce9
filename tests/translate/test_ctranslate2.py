"""The CTranslate2 backend: same model converted (int8), cached on disk, same interface."""

from __future__ import annotations

import itertools
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from augkit import Pipeline, item_rng

from . import margins
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
    # Each item alone gives its own output: the length sort was undone.
    assert out == [ct2_op(x, rng=item_rng(0, 0, i)) for i, x in enumerate(texts)]


def test_deterministic_and_independent_of_batch_size(make_bt: Any, ct2_op: Any) -> None:
    a = ct2_op.augment_batch(SHORT, seed=0)
    assert ct2_op.augment_batch(SHORT, seed=5) == a
    small = make_bt(backend="ctranslate2", batch_size=2)
    assert small.augment_batch(SHORT[::-1], seed=0)[::-1] == a


@pytest.fixture(scope="module")
def hops(make_bt: Any, ct2_op: Any) -> dict[str, Any]:
    """The first hop of each backend: the same tiny model, three ways."""
    return {
        "torch": make_bt().load()._get_hops()[0],
        "int8": ct2_op._get_hops()[0],
        "float32": make_bt(backend="ctranslate2", dtype="float32").load()._get_hops()[0],
    }


def _greedy_pair(hops: dict[str, Any], name: str, text: str) -> tuple[list[int], list[int]]:
    """Token ids of torch's and backend ``name``'s greedy output, checked against the hops."""
    ref_hop, hop = hops["torch"], hops[name]
    ref, out = margins.torch_greedy(ref_hop, text), margins.ct2_greedy(hop, text)
    # The helpers decode exactly what the backends return, so the token-level
    # checks below are about the operator's own outputs.
    decode = ref_hop.tokenizer.decode
    assert decode(ref, skip_special_tokens=True).strip() == ref_hop.translate([text], None)[0][0]
    assert decode(out, skip_special_tokens=True).strip() == hop.translate([text], None)[0][0]
    return ref, out


def test_float32_conversion_is_the_same_model(hops: dict[str, Any]) -> None:
    """CTranslate2 float32 scores torch's own greedy output as torch does, and decodes like it.

    A conversion that lost a weight, the vocabulary order or the zero <pad>
    row the decoder starts from shows up as whole nats here; float32
    rounding is ~1e-5 whatever the build.
    """
    from augkit.testing.marian import sample_sentences

    for text in sample_sentences(24, seed=31):
        ref, out = _greedy_pair(hops, "float32", text)
        lf = margins.reference_log_probs(hops["torch"], text, ref)
        scores = margins.ct2_scores(hops["float32"], text, ref)
        assert len(scores) == len(ref)
        assert max(abs(float(lf[t, tok]) - s) for t, (tok, s) in enumerate(zip(ref, scores))) < 1e-3
        d = margins.divergence(hops["torch"], hops["float32"], text, ref, out)
        # Equal outputs, or a parting of ways at a tie of the model itself.
        assert d is None or d.reference_margin <= d.deviation + 1e-4 < 2e-3


def test_int8_departs_from_torch_only_where_quantisation_explains_it(
    hops: dict[str, Any],
) -> None:
    """Where int8 and float32 greedy outputs differ, the float model's margin is within int8's error.

    int8 weights flip every choice the float model makes by less than the
    quantisation moves its scores; how many choices that is depends on how
    confident a build is, so no agreement rate is asserted (see margins.py).
    """
    from augkit.testing.marian import sample_sentences

    for text in sample_sentences(24, seed=31):
        ref, out = _greedy_pair(hops, "int8", text)
        d = margins.divergence(hops["torch"], hops["int8"], text, ref, out)
        if d is not None:
            assert d.reference_margin >= -1e-4  # torch took the float model's best token
            assert d.reference_margin <= d.deviation + 1e-4


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
    hop = op.load()._get_hops()[0]
    spans = op._split(text, hop, "en")
    assert len(spans) > 1
    # Every piece translated on its own, rejoined with the original separators:
    # nothing truncated, whatever the model makes of each piece.
    expected = op(text[spans[0][0] : spans[0][1]], seed=0)
    for (_, b), (a, end) in itertools.pairwise(spans):
        expected += text[b:a] + op(text[a:end], seed=0)
    assert op(text, seed=0) == expected


def test_paraphrases_with_beams(ct2_op: Any) -> None:
    paras = ct2_op.paraphrases(SHORT[:3], 3, seed=0)
    for x, ps in zip(SHORT, paras):
        # Beams are distinct token sequences, which may decode to one string
        # or to the input itself: at most three, distinct, never the input.
        assert len(ps) <= 3 and len(set(ps)) == len(ps) and x not in ps


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
