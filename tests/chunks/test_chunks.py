"""ChunkRecombination: chunking, shuffle/splice/drop/repeat invariants, seeding, traces, configs."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from augkit import ConfigError, Pipeline, Trace, item_rng
from augkit.items import Labelled
from augkit.registry import get_operator_class
from augkit.text import ChunkRecombination
from augkit.text.chunks import DEFAULT_SEPARATORS, chunk_spans, split_chunks


def run_labelled(op: ChunkRecombination, item: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """A label-aware operator alone on a mapping item: the text and label in, the text back."""
    return {**item, "text": op(Labelled(item["text"], item["label"]), **kw)}


# ----------------------------------------------------------------- strategies

WORDS = ["alpha", "Beta", "gamma", "3.5", "Dr.", "e.g.", "café", "naïve", "😀", "שלום", "x", "中文"]
words = st.sampled_from(WORDS)
sentences = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(words, min_size=1, max_size=6),
    st.sampled_from([".", "!", "?", "."]),
)
gaps = st.sampled_from([" ", "  ", "\n", " \t"])


@st.composite
def prose(draw: Any, max_sentences: int = 7) -> str:
    """Sentences with varied whitespace, sometimes a blank line (paragraph break) between."""
    ss = draw(st.lists(sentences, min_size=0, max_size=max_sentences))
    out = draw(st.sampled_from(["", " ", "\n"]))
    for i, s in enumerate(ss):
        if i:
            out += draw(st.one_of(gaps, st.just("\n\n"), st.just("\n \n\n")))
        out += s
    return out + draw(st.sampled_from(["", " ", "\n"]))


# Arbitrary unicode (hypothesis' text() excludes surrogates) plus scripts and
# marks that break naive tokenisers.
SPECIAL = [
    "",
    " ",
    "\n\n\n",
    "😀🎉👍🏽 family: 👨‍👩‍👧. Flags 🇫🇷🇩🇪!",
    "שלום עולם. مرحبا بالعالم! עוד משפט.",
    "e\u0301 a\u0308 n\u0303. Z\u0336a\u0336l\u0336g\u0336o\u0336.",
    "中文句子。第二句！第三句？",
    "\u200f\u202eRTL override. \u200d\u200b zero width.",
    "\x00\x01\x7f. control chars.\r\n\r\nNext paragraph.",
]
any_text = st.one_of(st.text(max_size=200), st.sampled_from(SPECIAL), prose())
seeds = st.integers(0, 2**64)
units = st.sampled_from(["sentence", "paragraph", "window"])


def make_op(unit: str, **kw: Any) -> ChunkRecombination:
    return ChunkRecombination(unit, window_size=kw.pop("window_size", 2), **kw)


# ----------------------------------------------------------------- helpers


def decompose(
    body: str, sep: str, chunks: Sequence[str], counts: Counter[str] | None
) -> list[str] | None:
    """A sequence of ``chunks`` joined by ``sep`` that spells ``body``.

    With ``counts``, each chunk is used exactly as often as counted (a
    permutation); without, any chunk any number of times. Backtracking, for
    the small texts the tests generate.
    """
    distinct = sorted(set(chunks), key=len, reverse=True)

    def go(pos: int, left: Counter[str] | None) -> list[str] | None:
        for c in distinct:
            if left is not None and left[c] == 0:
                continue
            if not body.startswith(c, pos):
                continue
            end = pos + len(c)
            if end == len(body):
                if left is None or sum(left.values()) == 1:
                    return [c]
                continue
            if not body.startswith(sep, end):
                continue
            rest_left = None
            if left is not None:
                rest_left = left.copy()
                rest_left[c] -= 1
            rest = go(end + len(sep), rest_left)
            if rest is not None:
                return [c, *rest]
        return None

    if counts is not None and sum(counts.values()) == 0:
        return [] if body == "" else None
    return go(0, counts)


def body_of(text: str, out: str) -> str:
    """``out`` without the leading/trailing whitespace it shares with ``text``."""
    lead = len(text) - len(text.lstrip())
    trail = len(text) - len(text.rstrip())
    assert out[:lead] == text[:lead], "leading whitespace must be kept"
    assert out[len(out) - trail :] == text[len(text) - trail :], "trailing whitespace must be kept"
    return out[lead : len(out) - trail]


# ----------------------------------------------------------------- chunking


@settings(max_examples=150, deadline=None)
@given(text=any_text, unit=units, window_size=st.integers(1, 5))
def test_chunks_are_slices_without_surrounding_whitespace(
    text: str, unit: str, window_size: int
) -> None:
    spans = chunk_spans(text, unit, window_size=window_size)
    prev_end = 0
    for a, b in spans:
        assert prev_end <= a < b <= len(text)
        chunk = text[a:b]
        assert chunk == chunk.strip() and chunk
        assert text[prev_end:a].strip() == "" or unit == "sentence" or prev_end == 0
        prev_end = b
    # Nothing but whitespace outside the chunks for paragraphs and windows.
    if unit != "sentence":
        covered = "".join(text[a:b] for a, b in spans)
        assert "".join(text.split()) == "".join(covered.split())
    if not text.strip():
        assert spans == []


def test_chunking_rules() -> None:
    text = "Dr. Smith paid $3.50 for it. Then he left!\nSame para.\n \n\tSecond para here.\n\n\n"
    assert split_chunks(text, "sentence") == [
        "Dr. Smith paid $3.50 for it.",
        "Then he left!",
        "Same para.",
        "Second para here.",
    ]
    assert split_chunks(text, "paragraph") == [
        "Dr. Smith paid $3.50 for it. Then he left!\nSame para.",
        "Second para here.",
    ]
    assert split_chunks("a  b c\td e", "window", window_size=2) == ["a  b", "c\td", "e"]
    assert split_chunks("a\r\n\r\nb", "paragraph") == ["a", "b"]


@settings(max_examples=80, deadline=None)
@given(text=any_text, window_size=st.integers(1, 4))
def test_window_chunks_hold_window_size_words(text: str, window_size: int) -> None:
    chunks = split_chunks(text, "window", window_size=window_size)
    sizes = [len(c.split()) for c in chunks]
    assert all(s == window_size for s in sizes[:-1])
    assert not sizes or 1 <= sizes[-1] <= window_size
    assert [w for c in chunks for w in c.split()] == text.split()


# ----------------------------------------------------------------- shuffle


@settings(max_examples=150, deadline=None)
@given(text=prose(), unit=units, seed=seeds, keep_first=st.booleans())
def test_shuffle_is_a_permutation_of_chunks(
    text: str, unit: str, seed: int, keep_first: bool
) -> None:
    op = make_op(unit, keep_first=keep_first)
    chunks = op.chunks(text)
    out = op(text, seed=seed)
    assert isinstance(out, str)
    if len(chunks) - keep_first < 2:
        assert out == text  # nothing can move
        return
    seq = decompose(body_of(text, out), DEFAULT_SEPARATORS[unit], chunks, Counter(chunks))
    assert seq is not None, f"{out!r} is not a permutation of {chunks!r}"
    assert Counter(seq) == Counter(chunks)
    if keep_first:
        assert seq[0] == chunks[0]
    # The sampled order is a permutation and never the identity (the output
    # alone can be ambiguous when one chunk is a prefix of another).
    order = op.sample_params(text, item_rng(seed))["order"]
    assert sorted(order) == list(range(len(chunks))) and order != sorted(order)
    if len(set(chunks)) == len(chunks) and all(
        a not in b for a in chunks for b in chunks if a != b
    ):
        assert seq != chunks


@settings(max_examples=60, deadline=None)
@given(text=prose(), seed=seeds)
def test_paragraph_output_resplits_into_the_same_multiset(text: str, seed: int) -> None:
    op = ChunkRecombination("paragraph")
    chunks = op.chunks(text)
    out = op(text, seed=seed)
    if len(chunks) < 2:
        assert out == text
    else:
        assert sorted(op.chunks(out)) == sorted(chunks)
        assert "\n\n".join(op.chunks(out)) == out.strip()


def test_shuffle_is_uniform_over_non_identity_permutations() -> None:
    op = ChunkRecombination()
    text = "One. Two. Three."
    counts = Counter(op(text, seed=s) for s in range(1000))
    # 3! - 1 = 5 non-identity orders, each with probability 1/5.
    assert text not in counts
    assert len(counts) == 5
    assert all(150 <= c <= 250 for c in counts.values()), counts


def test_separator_option() -> None:
    op = ChunkRecombination(separator="")
    assert op("中文句子。第二句！", seed=0) == "第二句！中文句子。"
    with pytest.raises(TypeError, match="separator"):
        ChunkRecombination(separator=3)  # type: ignore[arg-type]


# ----------------------------------------------------------------- splice

LABELS = [0, 1, 2]


def labelled_sentence(label: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda i, ws: f"Lab{label} n{i} {' '.join(ws)}.",
        st.integers(0, 30),
        st.lists(st.sampled_from(["a", "b", "c"]), min_size=0, max_size=3),
    )


@st.composite
def labelled_dataset(draw: Any) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    for _ in range(draw(st.integers(1, 8))):
        lab = draw(st.sampled_from(LABELS))
        ss = draw(st.lists(labelled_sentence(lab), min_size=1, max_size=3))
        texts.append(" ".join(ss))
        labels.append(lab)
    return texts, labels


@st.composite
def labelled_item(draw: Any) -> dict[str, Any]:
    lab = draw(st.sampled_from(LABELS))
    ss = draw(st.lists(labelled_sentence(lab), min_size=1, max_size=5))
    return {"text": " ".join(ss), "label": lab, "id": draw(st.integers(0, 9))}


@settings(max_examples=150, deadline=None)
@given(
    data=labelled_dataset(),
    item=labelled_item(),
    seed=seeds,
    splice=st.sampled_from(["replace", "append"]),
    rate=st.floats(0, 1),
    drop=st.sampled_from([0.0, 0.3]),
    repeat=st.sampled_from([0.0, 0.3]),
)
def test_splice_uses_only_same_label_donors(
    data: tuple[list[str], list[int]],
    item: dict[str, Any],
    seed: int,
    splice: str,
    rate: float,
    drop: float,
    repeat: float,
) -> None:
    texts, labels = data
    op = ChunkRecombination.from_dataset(
        texts, labels, splice=splice, rate=rate, drop=drop, repeat=repeat
    )
    before = dict(item)
    out = run_labelled(op, item, seed=seed)
    assert item == before, "the input item is not modified"
    assert out == {**item, "text": out["text"]}, "fields other than the text pass through"
    assert isinstance(out["text"], str)
    # Every marker in the output names the item's own label.
    assert set(re.findall(r"Lab(\d)", out["text"])) <= {str(item["label"])}
    same = [c for t, lab in zip(texts, labels) if lab == item["label"] for c in op.chunks(t)]
    allowed = op.chunks(item["text"]) + same
    assert decompose(out["text"], " ", allowed, None) is not None


@settings(max_examples=100, deadline=None)
@given(
    n_item=st.integers(2, 8),
    seed=seeds,
    rate=st.floats(0.01, 1),
    keep_first=st.booleans(),
)
def test_replace_and_append_counts(n_item: int, seed: int, rate: float, keep_first: bool) -> None:
    text = " ".join(f"Item {i}." for i in range(n_item))
    pool = ["Pool one. Pool two. Pool three."]
    chunks = [f"Item {i}." for i in range(n_item)]
    donors = ChunkRecombination().chunks(pool[0])

    op = ChunkRecombination(mode="splice", pool=pool, rate=rate, keep_first=keep_first)
    seq = decompose(op(text, seed=seed), " ", chunks + donors, None)
    assert seq is not None and len(seq) == n_item
    eligible = n_item - keep_first
    expected = min(eligible, max(1, math.floor(rate * eligible + 0.5)))
    replaced = [i for i, c in enumerate(seq) if c in donors]
    assert len(replaced) == expected
    assert all(seq[i] == chunks[i] for i in range(n_item) if i not in replaced)
    if keep_first:
        assert 0 not in replaced

    op = ChunkRecombination(mode="splice", splice="append", pool=pool, rate=rate)
    seq = decompose(op(text, seed=seed), " ", chunks + donors, None)
    assert seq is not None
    assert seq[:n_item] == chunks
    assert len(seq) - n_item == max(1, math.floor(rate * n_item + 0.5))
    assert all(c in donors for c in seq[n_item:])


def test_label_without_donors_is_left_alone() -> None:
    op = ChunkRecombination.from_dataset(["Pos one. Pos two."], ["pos"], rate=1.0)
    item = {"text": "Neg one. Neg two. Neg three.", "label": "neg"}
    assert run_labelled(op, item, seed=1) == item
    out = run_labelled(op, {"text": "Neg one. Neg two. Neg three.", "label": "pos"}, seed=1)
    assert set(op.chunks(out["text"])) <= {"Pos one.", "Pos two."}


def test_replay_needs_no_pool() -> None:
    """Donor chunks are recorded by text: params replay with any pool."""
    op = ChunkRecombination(mode="splice", pool=["Donor here. Another donor."], rate=1.0)
    text = "First. Second. Third."
    params = op.sample_params(text, item_rng(3))
    other = ChunkRecombination(mode="splice", pool=["Unrelated."], rate=1.0)
    assert other.apply(text, json.loads(json.dumps(params))) == op.apply(text, params)
    assert any(isinstance(r, str) for r in params["order"])


# ----------------------------------------------------------------- drop / repeat


@settings(max_examples=100, deadline=None)
@given(
    text=prose(),
    unit=units,
    seed=seeds,
    drop=st.floats(0, 1),
    repeat=st.floats(0, 1),
    keep_first=st.booleans(),
)
def test_drop_and_repeat_only_reuse_own_chunks(
    text: str, unit: str, seed: int, drop: float, repeat: float, keep_first: bool
) -> None:
    op = make_op(unit, drop=drop, repeat=repeat, keep_first=keep_first)
    chunks = op.chunks(text)
    out = op(text, seed=seed)
    if len(chunks) < 2:
        assert out == text
        return
    if out == text:
        return  # the sampled order was the identity: the input comes back as it was
    body = body_of(text, out)
    assert body.strip(), "never drops every chunk"
    seq = decompose(body, DEFAULT_SEPARATORS[unit], chunks, None)
    assert seq is not None
    have, orig = Counter(seq), Counter(chunks)
    assert all(have[c] <= 2 * orig[c] for c in have)
    if keep_first:
        assert seq[0] == chunks[0]


def test_drop_all_keeps_one_and_repeat_all_doubles() -> None:
    text = "One. Two. Three. Four."
    for s in range(20):
        out = ChunkRecombination(drop=1.0)(text, seed=s)
        assert out in {"One.", "Two.", "Three.", "Four."}
        assert ChunkRecombination(drop=1.0, keep_first=True)(text, seed=s) == "One."
        doubled = ChunkRecombination(repeat=1.0, keep_first=True)(text, seed=s).split(" ")
        assert doubled[0] == doubled[1] == "One." and len(doubled) == 8
        assert all(doubled[i] == doubled[i + 1] for i in range(0, 8, 2))


# ----------------------------------------------------------------- seeding, batches, traces

op_configs = st.sampled_from(
    [
        {"unit": "sentence"},
        {"unit": "paragraph", "keep_first": True},
        {"unit": "window", "window_size": 3, "drop": 0.2, "repeat": 0.2},
        {"unit": "sentence", "mode": "splice", "pool": ["Donor one. Donor two!"], "rate": 0.5},
        {"unit": "window", "mode": "splice", "splice": "append", "pool": ["d1 d2 d3 d4"]},
    ]
)


@settings(max_examples=80, deadline=None)
@given(text=any_text, config=op_configs, seed=seeds)
def test_seeded_determinism_and_unicode(text: str, config: dict[str, Any], seed: int) -> None:
    op = ChunkRecombination(**config)
    out = op(text, seed=seed)
    assert isinstance(out, str)
    assert out == op(text, seed=seed)
    assert out == ChunkRecombination(**config)(text, seed=seed)
    if len(op.chunks(text)) < 2:
        assert out == text


@pytest.mark.parametrize("unit", ["sentence", "paragraph", "window"])
def test_very_long_text(unit: str) -> None:
    piece = "Sentence with émoji 😀 and שלום. Dr. Who paid 3.50!\n\nNext para e\u0301 "
    text = (piece * (100_000 // len(piece) + 1))[:100_000]
    op = ChunkRecombination(unit)
    out = op(text, seed=1)
    assert isinstance(out, str) and out != text and out == op(text, seed=1)
    # Shuffling moves whole chunks: the non-whitespace characters are the same.
    assert Counter("".join(out.split())) == Counter("".join(text.split()))
    op = ChunkRecombination(unit, drop=0.1, repeat=0.1)
    assert isinstance(op(text, seed=2), str)


@settings(max_examples=40, deadline=None)
@given(xs=st.lists(any_text, max_size=6), config=op_configs, seed=seeds)
def test_batch_equals_per_item(xs: list[str], config: dict[str, Any], seed: int) -> None:
    op = ChunkRecombination(**config)
    outs = op.augment_batch(xs, seed=seed)
    assert outs == [op(x, rng=item_rng(seed, 0, i)) for i, x in enumerate(xs)]

    pipe = Pipeline.sequence([op], key="text")
    items = [{"text": x, "i": i} for i, x in enumerate(xs)]
    batch = pipe.augment_batch(items, seed=seed)
    assert batch == [pipe.augment(it, seed=seed, index=i) for i, it in enumerate(items)]
    assert [b["i"] for b in batch] == list(range(len(xs)))


@settings(max_examples=40, deadline=None)
@given(
    data=labelled_dataset(),
    items=st.lists(labelled_item(), min_size=1, max_size=5),
    seed=seeds,
)
def test_labelled_pipeline_batch_replay_and_config(
    data: tuple[list[str], list[int]], items: list[dict[str, Any]], seed: int
) -> None:
    texts, labels = data
    op = ChunkRecombination.from_dataset(texts, labels, rate=0.5, drop=0.1)
    # Label-aware splicing and a plain shuffle share one pipeline: the lens
    # gives the first the label and both the text.
    pipe = Pipeline.markov([op, ChunkRecombination()], [0.6, 0.4], [[0, 0.5], [0.5, 0]])
    outs, traces = pipe.augment_batch(items, seed=seed, return_traces=True)
    for i, it in enumerate(items):
        assert pipe.augment(it, seed=seed, index=i) == outs[i]
        assert pipe.replay(it, traces[i]) == outs[i]
        assert pipe.replay(it, Trace.from_json(traces[i].to_json())) == outs[i]
        assert outs[i]["label"] == it["label"] and outs[i]["id"] == it["id"]
    assert pipe.replay_batch(items, traces) == outs
    restored = Pipeline.from_json(pipe.to_json())
    assert restored.augment_batch(items, seed=seed) == outs


@settings(max_examples=40, deadline=None)
@given(text=any_text, config=op_configs, seed=seeds)
def test_trace_replay_and_config_round_trip(text: str, config: dict[str, Any], seed: int) -> None:
    pipe = Pipeline.sequence([ChunkRecombination(**config)])
    out, trace = pipe.augment(text, seed=seed, return_trace=True)
    assert pipe.replay(text, trace) == out
    assert pipe.replay(text, Trace.from_json(trace.to_json())) == out
    for restored in (Pipeline.from_dict(pipe.to_dict()), Pipeline.from_json(pipe.to_json())):
        assert restored.augment(text, seed=seed) == out


def test_operator_config_round_trip() -> None:
    op = ChunkRecombination.from_dataset(
        ["Good one. Good two.", "Bad one."], ["good", "bad"], unit="sentence", rate=0.4, repeat=0.1
    )
    d = op.to_dict()
    assert d["type"] == "chunk_recombination"
    assert d["params"]["pool"] == ["Good one. Good two.", "Bad one."]
    assert d["params"]["pool_labels"] == ["good", "bad"]
    again = get_operator_class("chunk_recombination").from_dict(json.loads(json.dumps(d)))
    assert again.to_dict() == d
    item = {"text": "A. B. C.", "label": "good"}
    assert [run_labelled(again, item, seed=s) for s in range(10)] == [
        run_labelled(op, item, seed=s) for s in range(10)
    ]
    assert "pool=<2 texts>" in repr(op)


def test_unserialisable_labels_fail_clearly() -> None:
    op = ChunkRecombination.from_dataset(["A. B."], [("tuple", object())])
    with pytest.raises(ConfigError, match="cannot be serialised"):
        op.to_dict()


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"unit": "word"}, r"unit must be one of 'sentence', 'paragraph', 'window'"),
        ({"mode": "mix"}, r"mode must be one of 'shuffle', 'splice'"),
        ({"splice": "insert"}, r"splice must be one of 'replace', 'append'"),
        ({"window_size": 0}, r"window_size must be an integer in \[1, inf\]"),
        ({"rate": 1.5}, r"rate must be in \[0.0, 1.0\]"),
        ({"drop": -0.1}, r"drop must be in \[0.0, 1.0\]"),
        ({"repeat": float("nan")}, r"repeat must be in \[0.0, 1.0\]"),
        ({"mode": "splice"}, r"mode='splice' needs a pool"),
        ({"pool_labels": [1]}, r"pool_labels needs a pool"),
        ({"pool": ["a", "b"], "pool_labels": [1]}, r"1 labels for 2 pool texts"),
        ({"language": ""}, r"language"),
    ],
)
def test_invalid_parameters(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ChunkRecombination(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keep_first": 1},
        {"window_size": 2.0},
        {"pool": "one text"},
        {"pool": ["ok", 3]},
        {"pool": ["a"], "pool_labels": "x"},
        {"rate": "0.5"},
    ],
)
def test_invalid_parameter_types(kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        ChunkRecombination(**kwargs)


def test_invalid_inputs() -> None:
    op = ChunkRecombination()
    for bad in (None, 3, b"bytes", ["a"], {"text": "a"}):
        with pytest.raises(TypeError, match="takes str"):
            op(bad, seed=0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        op.augment_batch(["ok", 1], seed=0)  # type: ignore[list-item]
    labelled = ChunkRecombination.from_dataset(["C. D."], [1])
    assert labelled.needs_label and not op.needs_label
    with pytest.raises(TypeError, match="Labelled"):
        labelled("A. B.", seed=0)
    with pytest.raises(ValueError, match="needs each item's label"):
        labelled(Labelled("A. B.", None), seed=0)
    with pytest.raises(TypeError, match="takes str, got int"):
        labelled(Labelled(5, 1), seed=0)
    # In a pipeline the label comes from the item; a plain text has none.
    pipe = Pipeline.sequence([labelled])
    assert pipe({"text": "A. B.", "label": 1}, seed=0)["label"] == 1
    assert pipe(("A. B.", 1), seed=0)[1] == 1
    with pytest.raises(ValueError, match="needs each item's label"):
        pipe("A. B.", seed=0)
    with pytest.raises(ValueError, match="needs each item's label"):
        Pipeline.sequence([labelled], label="y")({"text": "A. B.", "label": 1}, seed=0)
    with pytest.raises(TypeError):
        chunk_spans(3)  # type: ignore[arg-type]


def test_params_from_another_text_are_rejected() -> None:
    op = ChunkRecombination()
    params = op.sample_params("One. Two. Three.", item_rng(0))
    with pytest.raises(ValueError, match="3 chunk"):
        op.apply("Only one.", params)
    with pytest.raises(ValueError, match="chunk indices"):
        op.apply("One. Two.", {"n_chunks": 2, "order": [1, 7]})


@settings(max_examples=30, deadline=None)
@given(text=prose(), seed=seeds, unit=units)
def test_params_are_json_and_hold_the_order(text: str, seed: int, unit: str) -> None:
    op = make_op(unit, drop=0.2)
    params = op.sample_params(text, item_rng(seed))
    assert json.loads(json.dumps(params)) == params
    assert params["n_chunks"] == len(op.chunks(text))
    assert all(isinstance(r, int) and 0 <= r < params["n_chunks"] for r in params["order"])
    assume(params["n_chunks"] >= 2)
    assert op.apply(text, params) == op(text, rng=item_rng(seed))
    assert np.all(np.asarray(params["order"]) >= 0)


def test_numpy_pool_and_labels() -> None:
    """Labels from numpy arrays match plain ints, also after a JSON round trip."""
    texts = np.array(["Pos one. Pos two.", "Neg one. Neg two."])
    op = ChunkRecombination.from_dataset(texts, np.array([1, 0]), rate=1.0)
    pipe = Pipeline.sequence([op], label="y")
    item = {"text": "Item one. Item two.", "y": 1}
    out = pipe(item, seed=0)["text"]
    assert set(op.chunks(out)) <= {"Pos one.", "Pos two."}
    again = Pipeline.from_dict(json.loads(json.dumps(pipe.to_dict())))
    assert again.ops[0].to_dict()["params"]["pool_labels"] == [1, 0]
    assert again(item, seed=0)["text"] == out
    assert again({**item, "y": np.int64(1)}, seed=0)["text"] == out
