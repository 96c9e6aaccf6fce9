"""augkit.text.tokenize: word spans into the original text, insertion at word boundaries."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit.text.tokenize import insert_words, is_cjk_char, is_word, word_spans, words

from .conftest import VOCAB_WORDS, any_text, tricky_text


def is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


def expected_words(text: str, slots: list[int], new: list[str]) -> list[str]:
    """The word sequence an insertion must produce, computed independently of insert_words."""
    orig = words(text)
    out: list[str] = []
    for k in range(len(orig) + 1):
        for s, w in zip(slots, new):
            if s == k:
                out.extend(words(w))  # a CJK entry is one word per character
        if k < len(orig):
            out.append(orig[k])
    return out


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", ["Hello", "world"]),
        (
            "Don't stop state-of-the-art e.g. things",
            ["Don't", "stop", "state-of-the-art", "e.g", "things"],
        ),
        ("pi is 3.14, not 1,000 or 10:30", ["pi", "is", "3.14", "not", "1,000", "or", "10:30"]),
        ("apples,oranges", ["apples", "oranges"]),  # ',' joins digits only
        ("a--b a...b", ["a", "b", "a", "b"]),  # a run of joiners separates
        ("我爱你 love我", ["我", "爱", "你", "love", "我"]),  # CJK: one word per character
        ("カタカナとひらがな", list("カタカナとひらがな")),
        ("ภาษาไทย ok", ["ภาษาไทย", "ok"]),  # Thai: a run is one word (no segmenter)
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),  # vowel signs stay inside words
        ("e\u0301te\u0301 \u0301x", ["e\u0301te\u0301", "x"]),  # a mark never starts a word
        ("می\u200cخواهم", ["می\u200cخواهم"]),  # Persian zero-width non-joiner inside a word
        ("👍🏽 hi 👨\u200d👩\u200d👧 ❤\ufe0f", ["hi"]),  # emoji are not words
        ("", []),
        (" \t\n\u3000 ", []),
    ],
)
def test_documented_word_rule(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_non_str_raises_type_error() -> None:
    with pytest.raises(TypeError):
        word_spans(b"bytes")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_spans_partition_the_text(text: str) -> None:
    spans = word_spans(text)
    pos = 0
    for a, b in spans:
        assert pos <= a < b <= len(text)
        assert is_word(text[a:b])
        # What lies between words holds no word of its own.
        assert words(text[pos:a]) == []
        pos = b
    assert words(text[pos:]) == []


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_words_are_stable_under_retokenisation(text: str) -> None:
    for w in words(text):
        assert words(w) == [w]
        assert is_word(w)
        if is_cjk_char(w[0]):
            assert all(not is_cjk_char(c) for c in w[1:])  # one character (plus marks)


# --------------------------------------------------------------------------- insertion


@st.composite
def insertion_case(draw: st.DrawFn) -> tuple[str, list[int], list[str]]:
    text = draw(any_text)
    n = len(word_spans(text))
    if n == 0:
        return text, [], []
    k = draw(st.integers(0, 6))
    slots = draw(st.lists(st.integers(0, n), min_size=k, max_size=k))
    new = draw(st.lists(st.sampled_from(VOCAB_WORDS), min_size=k, max_size=k))
    return text, slots, new


@settings(max_examples=400, deadline=None)
@given(insertion_case())
def test_insertion_only_adds_the_words(case: tuple[str, list[int], list[str]]) -> None:
    text, slots, new = case
    out = insert_words(text, slots, new)
    assert isinstance(out, str)
    # The word sequence is the original one with the new words spliced in ...
    assert words(out) == expected_words(text, slots, new)
    # ... and the characters are the original ones plus the new words and
    # separating spaces: nothing of the input was changed or moved.
    assert is_subsequence(text, out)
    extra = Counter(out) - Counter(text)  # exactly the added characters
    spaces = extra.pop(" ", 0)
    assert extra == Counter("".join(new))
    assert spaces <= 2 * len(new)


@settings(max_examples=200, deadline=None)
@given(tricky_text)
def test_no_slots_no_change(text: str) -> None:
    assert insert_words(text, [], []) == text


def test_separators_keep_words_apart() -> None:
    assert insert_words("love我", [1], ["cat"]) == "love cat 我"
    assert insert_words("我爱你", [1], ["猫"]) == "我猫爱你"  # no spaces in Chinese
    assert insert_words("1,a", [1], ["5"]) == "1, 5 a"  # "1,5" would fuse into one number
    assert insert_words('"Hello," she said.', [0, 3], ["big", "loudly"]) == (
        '"big Hello," she said loudly.'
    )
    assert insert_words("a b", [1, 1], ["x", "y"]) == "a x y b"  # same slot: given order


def test_insertion_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match="slot must be in"):
        insert_words("a b", [3], ["x"])
    with pytest.raises(ValueError, match="not a single word"):
        insert_words("a b", [0], ["two words"])
    with pytest.raises(ValueError, match="no words"):
        insert_words("   ", [0], ["x"])
    with pytest.raises(ValueError, match="slots but"):
        insert_words("a b", [0, 1], ["x"])


@pytest.mark.parametrize(
    ("s", "ok"),
    [("cat", True), ("don't", True), ("猫咪", True), ("猫a", False), ("New York", False),
     ("!", False), ("", False), ("\u0301a", False), ("-x", False), ("😀", False)],
)  # fmt: skip
def test_is_word(s: str, ok: bool) -> None:
    assert is_word(s) is ok


def test_long_text_is_exact() -> None:
    # Exact on long input; no speed is asserted (a timed test fails on a busy machine).
    rng = np.random.default_rng(0)
    alphabet = list("abcdefgh  ,.猫é\u0301👍-'")
    text = "".join(rng.choice(alphabet, size=100_000))
    spans = word_spans(text)
    slots = [0, len(spans) // 2, len(spans)]
    out = insert_words(text, slots, ["x", "y", "z"], spans)
    assert words(out) == expected_words(text, slots, ["x", "y", "z"])
    assert is_subsequence(text, out)
    # A single 100k-character word and 100k CJK characters.
    assert len(word_spans("a" * 100_000)) == 1
    assert len(word_spans("猫" * 100_000)) == 100_000
