"""MaskedLM: contextual insertion with a real (tiny, random-weight) BERT loaded like a hub model."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import augkit
from augkit import Pipeline, item_rng
from augkit.models import load_pretrained
from augkit.testing.masked_lm import corpus_sentences
from augkit.text import MaskedLM, RandomInsertion
from augkit.text.tokenize import words

from .conftest import tricky_text
from .test_tokenize import expected_words, is_subsequence

SEEDS = st.integers(0, 2**32 - 1)
TEXTS = [
    *corpus_sentences(6, seed=99),
    "",
    "   ",
    "我爱你 and 猫",
    "Ünïcödé ✓ مرحبا بالعالم 👍🏽",
    "one",
]


def make_op(model_dir: Path, **kwargs: Any) -> RandomInsertion:
    rate = kwargs.pop("rate", 0.3)
    return RandomInsertion(MaskedLM(str(model_dir), device="cpu", **kwargs), rate=rate)


def loaded(model_dir: Path) -> tuple[Any, Any]:
    """The model and tokenizer exactly as MaskedLM loads them (shared per process)."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    model = load_pretrained(AutoModelForMaskedLM.from_pretrained, str(model_dir), device="cpu")
    tok = load_pretrained(AutoTokenizer.from_pretrained, str(model_dir))
    return model, tok


@contextmanager
def count_forwards(model: Any) -> Iterator[list[int]]:
    """Count real forward passes of ``model`` (batch size of each) with a torch hook."""
    calls: list[int] = []

    def hook(module: Any, args: Any, kwargs: Any, output: Any) -> None:
        calls.append(int(kwargs["input_ids"].shape[0]))

    handle = model.register_forward_hook(hook, with_kwargs=True)
    try:
        yield calls
    finally:
        handle.remove()


def test_inserts_real_whole_words(tiny_mlm_dir: Path) -> None:
    _, tok = loaded(tiny_mlm_dir)
    vocab = tok.get_vocab()
    special = set(tok.all_special_tokens)
    op = make_op(tiny_mlm_dir, rate=1.0, top_k=400)  # all candidates: the filter must do the work
    seen: set[str] = set()
    for i, text in enumerate(TEXTS):
        params = op.sample_params(text, item_rng(5, 0, i))
        out = op.apply(text, params)
        added = expected_added(text, out, params["slots"])
        assert len(added) == op.n_insertions(text)
        for w in added:
            assert w in vocab and w not in special and not w.startswith("##")
            assert w not in {"[MASK]", "[PAD]", "[UNK]", "[CLS]", "[SEP]"}
            assert w.isalnum()  # no punctuation pieces either
        seen.update(added)
    assert len(seen) > 10  # sampling, not one fixed word


def expected_added(text: str, out: str, slots: list[int]) -> list[str]:
    """The inserted words, read off the output, after checking nothing else changed."""
    out_words = words(out)
    orig = words(text)
    assert len(out_words) == len(orig) + len(slots)
    # Positions of inserted words in the output, from the slots (stable order).
    order = sorted(range(len(slots)), key=lambda j: (slots[j], j))
    new_pos = [slots[j] + rank for rank, j in enumerate(order)]
    added_in_order = [out_words[p] for p in new_pos]
    added = [""] * len(slots)
    for j, w in zip(order, added_in_order):
        added[j] = w
    assert words(out) == expected_words(text, slots, added)
    assert is_subsequence(text, out)
    return added


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(TEXTS), tricky_text), max_size=6), SEEDS)
def test_count_invariant_and_batch_equals_per_item(
    tiny_mlm_dir: Path, xs: list[str], seed: int
) -> None:
    op = make_op(tiny_mlm_dir, top_k=10)
    batch = op.augment_batch(xs, seed=seed)
    singles = [op(x, rng=item_rng(seed, 0, i)) for i, x in enumerate(xs)]
    assert batch == singles
    for i, (x, out) in enumerate(zip(xs, batch)):
        params = op.sample_params(x, item_rng(seed, 0, i))
        assert len(params["slots"]) == len(params["u"]) == op.n_insertions(x)
        expected_added(x, out, params["slots"])


def test_determinism_and_seeds_matter(tiny_mlm_dir: Path) -> None:
    op = make_op(tiny_mlm_dir)
    a = op.augment_batch(TEXTS, seed=1)
    assert op.augment_batch(TEXTS, seed=1) == a
    assert op.augment_batch(TEXTS, seed=2) != a
    # A fresh operator (same config) gives the same result: nothing is kept between calls.
    assert make_op(tiny_mlm_dir).augment_batch(TEXTS, seed=1) == a


def test_one_forward_pass_serves_a_batch(tiny_mlm_dir: Path) -> None:
    model, _ = loaded(tiny_mlm_dir)
    xs = corpus_sentences(12, seed=3)
    op = make_op(tiny_mlm_dir, batch_size=256)
    params = [op.sample_params(x, item_rng(0, 0, i)) for i, x in enumerate(xs)]
    positions = sum(len(p["slots"]) for p in params)
    assert positions > len(xs)  # several insertion points per item
    with count_forwards(model) as calls:
        out = op.apply_batch(xs, params)
    assert calls == [positions]  # all points of all items, one pass
    small = make_op(tiny_mlm_dir, batch_size=4)
    with count_forwards(model) as calls:
        assert small.apply_batch(xs, params) == out
    assert len(calls) == math.ceil(positions / 4) and max(calls) == 4
    # Texts without words cost no forward pass at all.
    with count_forwards(model) as calls:
        assert op.augment_batch(["", "  ", "!!"], seed=0) == ["", "  ", "!!"]
    assert calls == []


def test_pipeline_batches_and_replays(tiny_mlm_dir: Path) -> None:
    model, _ = loaded(tiny_mlm_dir)
    op = make_op(tiny_mlm_dir, batch_size=512)
    pipe = Pipeline.markov([op], start=[1.0], transitions=[[0.5]], max_steps=3)
    xs = corpus_sentences(10, seed=4)
    with count_forwards(model) as calls:
        outs, traces = pipe.augment_batch(xs, seed=9, return_traces=True)
    assert len(calls) == max(len(t) for t in traces)  # one pass per pipeline step
    assert outs == [pipe.augment(x, seed=9, index=i) for i, x in enumerate(xs)]
    replayed = pipe.replay_batch(xs, [augkit.Trace.from_json(t.to_json()) for t in traces])
    assert replayed == outs
    again = Pipeline.from_dict(json.loads(json.dumps(pipe.to_dict())))
    assert again.augment_batch(xs, seed=9) == outs


def test_temperature_and_top_k(tiny_mlm_dir: Path) -> None:
    text = "The old teacher reads a book."
    greedy = make_op(tiny_mlm_dir, temperature=0.0)
    top1 = make_op(tiny_mlm_dir, top_k=1)
    wide = make_op(tiny_mlm_dir, top_k=400, temperature=5.0)
    lows = {"slots": [2, 2, 2], "u": [0.0, 0.5, 0.999]}
    out_greedy = greedy.apply(text, lows)
    assert len(set(words(out_greedy)[2:5])) == 1  # u does not matter when greedy
    assert top1.apply(text, lows) == out_greedy
    assert len(set(words(wide.apply(text, lows))[2:5])) == 3  # it does when sampling widely


def test_greedy_matches_transformers_fill_mask(tiny_mlm_dir: Path) -> None:
    """Independent check: the greedy pick is the best whole word by transformers' own pipeline."""
    from transformers import pipeline

    model, tok = loaded(tiny_mlm_dir)
    fill = pipeline("fill-mask", model=model, tokenizer=tok, device="cpu")
    op = make_op(tiny_mlm_dir, temperature=0.0)
    for text in corpus_sentences(5, seed=7):
        preds = fill(f"{tok.mask_token} {text}", top_k=len(tok))
        best = next(
            p["token_str"]
            for p in preds
            if p["token_str"].isalnum() and not p["token_str"].startswith("##")
        )
        out = op.apply(text, {"slots": [0], "u": [0.5]})
        assert out == f"{best} {text}"


def test_config_round_trip_and_validation(tiny_mlm_dir: Path) -> None:
    op = make_op(tiny_mlm_dir, top_k=7, temperature=0.5, batch_size=3)
    d = op.to_dict()
    assert d["params"]["source"] == {
        "type": "masked_lm",
        "model": str(tiny_mlm_dir),
        "top_k": 7,
        "temperature": 0.5,
        "device": "cpu",
        "batch_size": 3,
        "context": 48,
        "dtype": None,
    }
    again = augkit.BaseAugmenter.from_dict(json.loads(json.dumps(d)))
    assert again.augment_batch(TEXTS, seed=4) == op.augment_batch(TEXTS, seed=4)
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"top_k": 0}, ValueError, r"top_k must be an integer in \[1, inf\]"),
        ({"temperature": -1.0}, ValueError, r"temperature must be in \[0.0, inf\]"),
        ({"temperature": float("inf")}, ValueError, "temperature"),
        ({"batch_size": 0}, ValueError, r"batch_size must be an integer in \[1, inf\]"),
        ({"device": "gpu"}, ValueError, "device must be"),
        ({"dtype": "int8"}, ValueError, "dtype must be"),
        ({"context": 0}, ValueError, r"context must be an integer in \[1, 1024\]"),
    ]
    for kwargs, exc, match in cases:
        with pytest.raises(exc, match=match):
            MaskedLM(str(tiny_mlm_dir), **kwargs)
    with pytest.raises(TypeError, match="model must be"):
        MaskedLM(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="u must be numbers in"):
        op.apply("a b", {"slots": [0], "u": [1.5]})


def test_missing_model_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    op = RandomInsertion(MaskedLM("augkit-test/no-such-model", device="cpu"), rate=0.5)
    with pytest.raises(augkit.ModelUnavailableError, match="no-such-model"):
        op("A text with words.", seed=0)


def test_long_text_uses_a_window(tiny_mlm_dir: Path) -> None:
    text = " ".join(corpus_sentences(2000, seed=1))  # about 100k characters
    assert len(text) > 90_000
    op = RandomInsertion(MaskedLM(str(tiny_mlm_dir), device="cpu"), rate=0.0, min_words=5)
    params = op.sample_params(text, item_rng(0))
    out = op.apply(text, params)
    expected_added(text, out, params["slots"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_batching_rules(tiny_mlm_dir: Path) -> None:
    op = RandomInsertion(MaskedLM(str(tiny_mlm_dir), device="cuda"), rate=0.3)
    xs = corpus_sentences(16, seed=8)
    batch = op.augment_batch(xs, seed=2)
    assert batch == [op(x, rng=item_rng(2, 0, i)) for i, x in enumerate(xs)]
    for i, (x, out) in enumerate(zip(xs, batch)):
        expected_added(x, out, op.sample_params(x, item_rng(2, 0, i))["slots"])


@pytest.mark.slow
def test_builder_weights_do_not_depend_on_cpu_kernels(tiny_mlm_dir: Path, tmp_path: Path) -> None:
    """The same weights with ATen's baseline kernels, two threads and MKL's compatible mode.

    torch's own normal_ gave different weights for AVX2 and baseline kernels
    from one seed; the builder draws from numpy instead (see masked_lm.py).
    """
    import subprocess
    import sys

    from tests.model_builds import build_seed, weights_digest

    code = (
        "import sys\n"
        "from augkit.testing.masked_lm import build_tiny_masked_lm\n"
        "build_tiny_masked_lm(sys.argv[1], seed=int(sys.argv[2]))\n"
    )
    env = {
        **os.environ,
        "ATEN_CPU_CAPABILITY": "default",
        "OMP_NUM_THREADS": "2",
        "MKL_CBWR": "COMPATIBLE",
    }
    out = tmp_path / "baseline-kernels"
    subprocess.run(
        [sys.executable, "-c", code, str(out), str(build_seed())],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert weights_digest(out) == weights_digest(tiny_mlm_dir)
