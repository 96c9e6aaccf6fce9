"""RandomInsertion with a Vocabulary source: the operator's invariants, properties and configs."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import augkit
from augkit import Pipeline, Trace, item_rng
from augkit.text import RandomInsertion, Vocabulary
from augkit.text.insertion import n_insertions
from augkit.text.tokenize import words

from .conftest import VOCAB_WORDS, any_text, tricky_text
from .test_tokenize import expected_words, is_subsequence

SEEDS = st.integers(0, 2**32 - 1)
rates = st.floats(0.0, 1.0, allow_nan=False)


def make_op(rate: float = 0.3, min_words: int = 1, max_words: int | None = None) -> RandomInsertion:
    return RandomInsertion(
        Vocabulary(VOCAB_WORDS), rate=rate, min_words=min_words, max_words=max_words
    )


def expected_count(n_words: int, rate: float, min_words: int, max_words: int | None) -> int:
    """EDA's count, written out independently of the implementation."""
    if n_words == 0:
        return 0
    n = max(min_words, math.floor(rate * n_words + 0.5))
    return n if max_words is None else min(n, max_words)


# --------------------------------------------------------------------------- core properties


@settings(max_examples=150, deadline=None)
@given(any_text, SEEDS, rates, st.integers(0, 3), st.one_of(st.none(), st.integers(3, 8)))
def test_adds_exactly_the_expected_words_and_nothing_else(
    text: str, seed: int, rate: float, min_words: int, max_words: int | None
) -> None:
    op = make_op(rate, min_words, max_words)
    params = op.sample_params(text, item_rng(seed))
    out = op.apply(text, params)
    assert isinstance(out, str)
    n = expected_count(len(words(text)), rate, min_words, max_words)
    assert len(params["slots"]) == len(params["words"]) == n
    assert all(w in VOCAB_WORDS for w in params["words"])
    # Removing the inserted words gives back the original word sequence.
    assert words(out) == expected_words(text, params["slots"], params["words"])
    assert is_subsequence(text, out)
    extra = Counter(out) - Counter(text)
    extra.pop(" ", None)
    assert extra == Counter("".join(params["words"]))


@settings(max_examples=100, deadline=None)
@given(any_text, SEEDS)
def test_seeded_determinism(text: str, seed: int) -> None:
    op = make_op()
    assert op(text, seed=seed) == op(text, seed=seed)
    assert op(text, rng=item_rng(seed)) == op(text, seed=seed)


@settings(max_examples=60, deadline=None)
@given(st.lists(any_text, max_size=8), SEEDS)
def test_batch_equals_per_item(xs: list[str], seed: int) -> None:
    op = make_op()
    batch = op.augment_batch(xs, seed=seed)
    assert batch == [op(x, rng=item_rng(seed, 0, i)) for i, x in enumerate(xs)]


@settings(max_examples=40, deadline=None)
@given(st.lists(any_text, min_size=1, max_size=6), SEEDS)
def test_pipeline_batch_equals_per_item_and_replays(xs: list[str], seed: int) -> None:
    other = RandomInsertion(Vocabulary(["alpha", "beta"], weights=[1, 3]), rate=0.5, min_words=0)
    pipe = Pipeline.markov(
        [make_op(), other], start=[0.6, 0.4], transitions=[[0.2, 0.5], [0.5, 0.0]], max_steps=3
    )
    outs, traces = pipe.augment_batch(xs, seed=seed, return_traces=True)
    assert outs == [pipe.augment(x, seed=seed, index=i) for i, x in enumerate(xs)]
    for x, out, trace in zip(xs, outs, traces):
        assert pipe.replay(x, trace) == out
        assert pipe.replay(x, Trace.from_json(trace.to_json())) == out
    assert pipe.replay_batch(xs, [Trace.from_json(t.to_json()) for t in traces]) == outs


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200), SEEDS)
def test_arbitrary_unicode_never_raises(text: str, seed: int) -> None:
    out = make_op(rate=1.0)(text, seed=seed)
    assert isinstance(out, str)
    assert is_subsequence(text, out)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["", " ", "   ", "\t\n", "\u3000", "!!!", "👍🏽", "…", "\u200f"]), SEEDS)
def test_texts_without_words_come_back_unchanged(text: str, seed: int) -> None:
    op = make_op(rate=1.0, min_words=3)
    assert op(text, seed=seed) == text
    assert op.augment_batch([text, text], seed=seed) == [text, text]


def test_long_text() -> None:
    rng = np.random.default_rng(1)
    text = "".join(rng.choice(list("abcde fgh,. 猫é👍'-"), size=100_000))
    op = make_op(rate=0.01)
    params = op.sample_params(text, item_rng(3))
    out = op.apply(text, params)
    assert len(params["words"]) == expected_count(len(words(text)), 0.01, 1, None) > 100
    assert words(out) == expected_words(text, params["slots"], params["words"])


# --------------------------------------------------------------------------- count rule


@pytest.mark.parametrize(
    ("n_words", "rate", "min_words", "max_words", "n"),
    [
        (0, 0.5, 3, None, 0),  # no words, no insertion, whatever min_words says
        (10, 0.0, 1, None, 1),  # EDA's floor of one
        (10, 0.0, 0, None, 0),
        (10, 0.15, 0, None, 2),  # 1.5 rounds half up
        (10, 0.14, 0, None, 1),
        (5, 0.1, 0, None, 1),  # 0.5 rounds up, not to even
        (25, 0.1, 0, None, 3),  # 2.5 -> 3
        (100, 1.0, 1, 7, 7),  # capped
        (3, 1.0, 5, 6, 5),  # floor above rate * n_words
    ],
)
def test_count_rule(
    n_words: int, rate: float, min_words: int, max_words: int | None, n: int
) -> None:
    assert n_insertions(n_words, rate, min_words, max_words) == n
    text = " ".join(["w"] * n_words)
    op = make_op(rate, min_words, max_words)
    assert op.n_insertions(text) == n
    params = op.sample_params(text, item_rng(0))
    assert len(params["slots"]) == len(params["words"]) == n
    # Each inserted entry adds its own words (a CJK entry such as 猫咪 is two).
    added = sum(len(words(w)) for w in params["words"])
    assert len(words(op.apply(text, params))) == n_words + added


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"rate": 1.5}, ValueError, r"rate must be in \[0.0, 1.0\]"),
        ({"rate": -0.1}, ValueError, r"rate must be in \[0.0, 1.0\]"),
        ({"rate": float("nan")}, ValueError, "rate"),
        ({"rate": "0.1"}, TypeError, "rate must be a number"),
        ({"min_words": -1}, ValueError, r"min_words must be an integer in \[0, inf\]"),
        ({"min_words": 1.5}, TypeError, "min_words must be an integer"),
        ({"max_words": -2}, ValueError, r"max_words must be an integer in \[0, inf\]"),
        (
            {"min_words": 3, "max_words": 2},
            ValueError,
            r"max_words must be in \[min_words=3, inf\]",
        ),
    ],
)
def test_parameter_validation(kwargs: dict[str, object], exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        RandomInsertion(Vocabulary(["x"]), **kwargs)  # type: ignore[arg-type]


def test_bad_source_and_inputs() -> None:
    with pytest.raises(TypeError, match="source must be"):
        RandomInsertion(["not", "a", "source"])  # type: ignore[arg-type]
    op = make_op()
    for bad in (None, 3, b"bytes", ["a list"]):
        with pytest.raises(TypeError, match="takes str"):
            op(bad, seed=0)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            op.augment_batch(["fine", bad], seed=0)  # type: ignore[list-item]
        with pytest.raises(TypeError):
            op.apply(bad, {"slots": [], "words": []})  # type: ignore[arg-type]


def test_apply_rejects_parameters_that_do_not_fit() -> None:
    op = make_op()
    with pytest.raises(ValueError, match="slot must be in"):
        op.apply("two words", {"slots": [5], "words": ["x"]})
    with pytest.raises(ValueError, match="'slots' has 2 entries"):
        op.apply("two words", {"slots": [0, 1], "words": ["x"]})
    with pytest.raises(ValueError, match="need 'slots'"):
        op.apply("two words", {"words": ["x"]})
    with pytest.raises(ValueError, match="not a single word"):
        op.apply("two words", {"slots": [0], "words": ["not one"]})


@pytest.mark.parametrize(
    ("words_", "weights", "exc", "match"),
    [
        ([], None, ValueError, "at least one word"),
        ("word", None, TypeError, "list of str"),
        (["ok", 3], None, TypeError, "hold str"),
        (["two words"], None, ValueError, "not a single word"),
        (["!"], None, ValueError, "not a single word"),
        (["a", "b"], [1.0], ValueError, "one entry per word"),
        (["a", "b"], [1.0, -1.0], ValueError, ">= 0"),
        (["a", "b"], [0.0, 0.0], ValueError, "not all zero"),
        (["a", "b"], [1.0, float("inf")], ValueError, "finite"),
    ],
)
def test_vocabulary_validation(
    words_: object, weights: object, exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        Vocabulary(words_, weights)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- vocabulary


def test_weights_set_the_sampling_frequencies() -> None:
    vocab = Vocabulary(["rare", "common", "never"], weights=[1.0, 9.0, 0.0])
    drawn = Counter(vocab.choose([], 20_000, np.random.default_rng(0)))
    assert drawn["never"] == 0
    assert abs(drawn["common"] / 20_000 - 0.9) < 0.01  # 4+ standard deviations
    uniform = Counter(Vocabulary(["a", "b", "c", "d"]).choose([], 20_000, np.random.default_rng(1)))
    assert all(abs(c / 20_000 - 0.25) < 0.015 for c in uniform.values())


def test_from_corpus_counts_words() -> None:
    texts = ["The film was great, great fun.", "A great film!", "the plot was thin", "Film. Film."]
    vocab = Vocabulary.from_corpus(texts, min_count=2)
    # 'the', 'was', 'a' are stopwords; 'fun', 'plot', 'thin' occur once; ties
    # keep the order of first occurrence.
    assert vocab.words == ["great", "film", "Film"]
    assert vocab.weights == [3.0, 2.0, 2.0]
    lower = Vocabulary.from_corpus(texts, min_count=2, lowercase=True)
    assert lower.words == ["film", "great"] and lower.weights == [4.0, 3.0]
    everything = Vocabulary.from_corpus(texts, min_count=1, stopwords=None, max_size=3)
    assert everything.words == ["great", "film", "was"]
    custom = Vocabulary.from_corpus(texts, min_count=2, stopwords=["GREAT"], lowercase=True)
    assert custom.words == ["film", "the", "was"]
    cjk = Vocabulary.from_corpus(["我爱猫", "猫爱我"], min_count=2)
    assert sorted(cjk.words) == ["我", "爱", "猫"]


def test_from_corpus_validation() -> None:
    with pytest.raises(ValueError, match="min_count=5"):
        Vocabulary.from_corpus(["one two"], min_count=5)
    with pytest.raises(ValueError, match=r"min_count must be an integer in \[1, inf\]"):
        Vocabulary.from_corpus(["one two"], min_count=0)
    with pytest.raises(TypeError, match="not a single str"):
        Vocabulary.from_corpus("one two")
    with pytest.raises(TypeError, match="hold str"):
        Vocabulary.from_corpus(["ok", 1])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="stopwords must be"):
        Vocabulary.from_corpus(["a a"], stopwords="french")


# --------------------------------------------------------------------------- configs


@settings(max_examples=30, deadline=None)
@given(st.lists(tricky_text, min_size=1, max_size=5), SEEDS)
def test_config_round_trip_gives_identical_outputs(xs: list[str], seed: int) -> None:
    op = RandomInsertion(
        Vocabulary(["really", "猫"], weights=[2.0, 1.0]), rate=0.4, min_words=0, max_words=5
    )
    pipe = Pipeline.sequence([op, make_op(0.2)])
    again = Pipeline.from_dict(json.loads(json.dumps(pipe.to_dict())))
    assert again.augment_batch(xs, seed=seed) == pipe.augment_batch(xs, seed=seed)
    assert Pipeline.from_json(pipe.to_json()).to_dict() == pipe.to_dict()


def test_to_dict_serialises_the_source() -> None:
    op = RandomInsertion(Vocabulary(["a", "b"], weights=[1, 2]), rate=0.25, max_words=4)
    d = op.to_dict()
    assert d == {
        "type": "random_insertion",
        "params": {
            "source": {"type": "vocabulary", "words": ["a", "b"], "weights": [1.0, 2.0]},
            "rate": 0.25,
            "min_words": 1,
            "max_words": 4,
        },
    }
    again = augkit.BaseAugmenter.from_dict(d)
    assert isinstance(again, RandomInsertion) and again.source == op.source
    assert again("a b c d", seed=5) == op("a b c d", seed=5)
    assert "Vocabulary(['a', 'b'], weighted)" in repr(op)
    with pytest.raises(augkit.ConfigError, match="unknown word source type 'nope'"):
        RandomInsertion({"type": "nope"})
    with pytest.raises(augkit.ConfigError, match="bad parameters for word source"):
        RandomInsertion({"type": "vocabulary", "wrds": ["a"]})


def test_registered_and_exported() -> None:
    import augkit.text
    import augkit.text.insertion as ins

    assert "random_insertion" in augkit.registered_operators()
    assert augkit.registry.get_operator_class("random_insertion") is RandomInsertion
    for name in ("RandomInsertion", "Vocabulary", "Synonyms", "MaskedLM"):
        assert getattr(augkit.text, name) is getattr(ins, name)
