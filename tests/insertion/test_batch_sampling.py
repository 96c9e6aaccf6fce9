"""RandomInsertion's ``sample_params_batch`` draws what ``sample_params`` draws per item.

The number of slots depends on each text (its words, ``rate``, ``min_words``,
``max_words``), so the draws are ragged: every source's words (Vocabulary,
weighted or not; Synonyms; a custom source through the default
``choose_batch``), then the slots, or for MaskedLM the slots, then ``u``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import item_rng
from augkit.seeding import Rng
from augkit.text import MaskedLM, RandomInsertion, Synonyms, Vocabulary
from augkit.text.insertion import WordSource
from tests.batch_sampling import assert_batch_draws_as_items

from .conftest import VOCAB_WORDS, any_text

SEEDS = st.integers(0, 2**32 - 1)
ENGLISH = st.lists(
    st.sampled_from(["the", "film", "was", "good", "happy", "dog", "ran", "fast", "x", "."]),
    max_size=30,
).map(" ".join)
texts = st.lists(st.one_of(any_text, ENGLISH), max_size=60)


class EveryOther(WordSource):
    """A source without a batched draw: words of the text itself, by integers."""

    type: ClassVar[str] = "test_every_other"

    def choose(self, text_words: Sequence[str], n: int, rng: Rng) -> list[str]:
        return [text_words[int(rng.integers(len(text_words)))] for _ in range(n // 2 + 1)]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type}


@st.composite
def operators(draw: Any) -> RandomInsertion:
    kind = draw(st.sampled_from(["vocabulary", "weighted", "masked_lm", "custom"]))
    if kind == "vocabulary":
        source: WordSource = Vocabulary(VOCAB_WORDS)
    elif kind == "weighted":
        weights = draw(st.lists(st.floats(0, 5), min_size=len(VOCAB_WORDS), max_size=10))
        source = Vocabulary(VOCAB_WORDS, weights if sum(weights) > 0 else None)
    elif kind == "masked_lm":
        source = MaskedLM("no-such-model")  # sample_params never loads it
    else:
        source = EveryOther()
    min_words = draw(st.integers(0, 3))
    max_words = draw(st.one_of(st.none(), st.integers(min_words, 6)))
    rate = draw(st.floats(0, 1))
    return RandomInsertion(source, rate=rate, min_words=min_words, max_words=max_words)


@settings(max_examples=150)
@given(op=operators(), xs=texts, seed=SEEDS)
def test_the_hook_draws_as_per_item(op: RandomInsertion, xs: list[str], seed: int) -> None:
    assert_batch_draws_as_items(op, xs, seed)


@pytest.mark.skipif(not Synonyms.available(), reason="WordNet data not installed")
@settings(max_examples=40, deadline=None)  # the first example loads WordNet
@given(xs=st.lists(ENGLISH, max_size=40), rate=st.floats(0, 1), seed=SEEDS)
def test_synonyms_draw_as_per_item(xs: list[str], rate: float, seed: int) -> None:
    # Texts without a word that has synonyms draw nothing and get no slots.
    assert_batch_draws_as_items(RandomInsertion(Synonyms(), rate=rate), xs, seed)


def test_augment_batch_through_the_hook_equals_per_item_calls() -> None:
    op = RandomInsertion(Vocabulary(VOCAB_WORDS), rate=0.4)
    xs = [" ".join(["word"] * k) for k in range(30)]  # 30 items: the hook's path
    outs = op.augment_batch(xs, seed=3)
    assert outs == [op(x, rng=item_rng(3, 0, i)) for i, x in enumerate(xs)]
