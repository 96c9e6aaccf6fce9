"""Random insertion: add words at random word boundaries (EDA's random insertion).

>>> from augkit.text import RandomInsertion, Vocabulary
>>> op = RandomInsertion(Vocabulary(["really", "quite"]), rate=0.2)
>>> op("The film was good.", seed=4)
'The film was really good.'

How many words: ``n = max(min_words, round(rate * n_words))`` (rounded half
up), at most ``max_words``; a text without words (empty, whitespace, only
punctuation or emoji) comes back unchanged. Where: each word goes to a slot
drawn uniformly from the ``n_words + 1`` word boundaries (before each word or
after the last), never inside a word; the rest of the text keeps its exact
whitespace and punctuation (see :mod:`augkit.text.tokenize`). What: a
pluggable word source (:class:`Vocabulary`, :class:`Synonyms`,
:class:`MaskedLM`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from ..base import TextAugmenter
from ..protocol import Params
from ..registry import register
from ..seeding import BatchStream, Rng
from ..validation import check_fraction, check_int
from .tokenize import insert_words, word_spans
from .wordsources import (
    ENGLISH_STOPWORDS,
    MaskedLM,
    Synonyms,
    Vocabulary,
    WordSource,
    word_source_from_dict,
)

__all__ = [
    "ENGLISH_STOPWORDS",
    "MaskedLM",
    "RandomInsertion",
    "Synonyms",
    "Vocabulary",
    "WordSource",
    "n_insertions",
]


def n_insertions(n_words: int, rate: float, min_words: int, max_words: int | None) -> int:
    """``max(min_words, round_half_up(rate * n_words))`` capped by ``max_words``; 0 without words."""
    if n_words <= 0:
        return 0
    n = max(min_words, math.floor(rate * n_words + 0.5))
    return n if max_words is None else min(n, max_words)


@register("random_insertion")
class RandomInsertion(TextAugmenter):
    """Insert words from ``source`` at random word boundaries.

    ``source`` is a :class:`Vocabulary`, :class:`Synonyms` (the default,
    EDA's choice; needs WordNet data installed locally) or :class:`MaskedLM`,
    or the dict one of them serialises to. ``rate`` (in [0, 1]) is the number
    of insertions per word of the text, ``min_words`` a floor (EDA uses 1)
    and ``max_words`` an optional cap.

    Parameters (the trace) hold the chosen ``slots`` and ``words``; for a
    :class:`MaskedLM` source, ``slots`` and one uniform number ``u`` per slot,
    which the model turns into words in :meth:`apply_batch` (one forward pass
    for all insertion points of a batch).
    """

    magnitude_params = ("rate",)

    def __init__(
        self,
        source: WordSource | Mapping[str, Any] | None = None,
        rate: float = 0.1,
        min_words: int = 1,
        max_words: int | None = None,
    ) -> None:
        if source is None:
            source = Synonyms()
        elif isinstance(source, Mapping):
            source = word_source_from_dict(source)
        if not isinstance(source, WordSource):
            raise TypeError(
                "source must be a Vocabulary, Synonyms, MaskedLM (a WordSource) or its dict, "
                f"got {type(source).__name__}"
            )
        self.source: WordSource = source
        self.rate = check_fraction("rate", rate)
        self.min_words = check_int("min_words", min_words, low=0)
        if max_words is not None:
            max_words = check_int("max_words", max_words, low=0)
            if max_words < self.min_words:
                raise ValueError(
                    f"max_words must be in [min_words={self.min_words}, inf] or None, "
                    f"got {max_words}"
                )
        self.max_words = max_words

    # -- configuration ---------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        # The source is an object; configs hold its dict, which __init__ accepts.
        return {
            "source": self.source.to_dict(),
            "rate": self.rate,
            "min_words": self.min_words,
            "max_words": self.max_words,
        }

    def __repr__(self) -> str:
        return (
            f"RandomInsertion(source={self.source!r}, rate={self.rate}, "
            f"min_words={self.min_words}, max_words={self.max_words})"
        )

    def n_insertions(self, text: str) -> int:
        """How many words this operator inserts into ``text`` (before the source has its say:
        :class:`Synonyms` inserts none into a text none of whose words has a synonym)."""
        return n_insertions(len(word_spans(text)), self.rate, self.min_words, self.max_words)

    # -- the two halves ----------------------------------------------------
    def sample_params(self, x: str, rng: Rng) -> Params:
        spans = word_spans(x)
        n = n_insertions(len(spans), self.rate, self.min_words, self.max_words)
        if self.source.contextual:
            if n == 0:
                return {"slots": [], "u": []}
            slots = _uniform_slots(rng, n, len(spans) + 1)
            return {"slots": slots, "u": rng.random(n).tolist()}
        if n == 0:
            return {"slots": [], "words": []}
        chosen = self.source.choose([x[a:b] for a, b in spans], n, rng)
        return {"slots": _uniform_slots(rng, len(chosen), len(spans) + 1), "words": list(chosen)}

    def sample_params_batch(self, xs: list[str], rngs: BatchStream) -> list[Params]:
        """:meth:`sample_params` for a whole group: each draw of every item in one call
        (``counts`` per item), the words through the source's ``choose_batch``."""
        spans = [word_spans(x) for x in xs]
        rate, lo, hi = self.rate, self.min_words, self.max_words
        n = np.array([n_insertions(len(s), rate, lo, hi) for s in spans], dtype=np.int64)
        n_slots = np.array([len(s) + 1 for s in spans], dtype=np.int64)
        if self.source.contextual:
            slots = _uniform_slots_batch(rngs, n, n_slots)
            u = BatchStream.split(rngs.random(n).tolist(), n)
            return [{"slots": s, "u": v} for s, v in zip(slots, u)]
        words = self.source.choose_batch(_TextWords(xs, spans), n, rngs)
        counts = np.array([len(w) for w in words], dtype=np.int64)
        slots = _uniform_slots_batch(rngs, counts, n_slots)
        return [{"slots": s, "words": w} for s, w in zip(slots, words)]

    def apply(self, x: str, params: Params) -> str:
        if "u" in params:
            return self._apply_batch([x], [params])[0]
        slots, new_words = _slots_and(params, "words")
        return insert_words(x, slots, new_words)

    def _apply_batch(self, xs: list[str], params: list[Params]) -> list[str]:
        """Masked-LM parameters (``u``) of all items go to the model in one call."""
        contextual = [i for i, p in enumerate(params) if "u" in p]
        if not contextual:
            return [self.apply(x, p) for x, p in zip(xs, params)]
        if not isinstance(self.source, MaskedLM):
            raise ValueError(
                f"parameters with 'u' need a MaskedLM source, this operator has {self.source!r}"
            )
        out: list[str] = [""] * len(xs)
        requests: list[tuple[str, int, float]] = []
        plan: list[tuple[int, list[int]]] = []
        for i, (x, p) in enumerate(zip(xs, params)):
            if "u" not in p:
                out[i] = self.apply(x, p)
                continue
            slots, us = _slots_and(p, "u")
            spans = word_spans(x)
            for s, u in zip(slots, us):
                if not 0 <= s <= len(spans):
                    raise ValueError(f"slot must be in [0, {len(spans)}], got {s}")
                if not isinstance(u, (int, float)) or not 0.0 <= float(u) <= 1.0:
                    raise ValueError(f"u must be numbers in [0, 1], got {u!r}")
                pos = spans[s][0] if s < len(spans) else spans[-1][1]
                requests.append((x, pos, float(u)))
            plan.append((i, slots))
        # Every insertion point of every item in one call: the source batches
        # them through the model (batch_size rows per forward pass).
        filled = self.source.fill(requests)
        k = 0
        for i, slots in plan:
            new_words = filled[k : k + len(slots)]
            k += len(slots)
            out[i] = insert_words(xs[i], slots, new_words)
        return out


def _uniform_slots(rng: Rng, n: int, n_slots: int) -> list[int]:
    """``n`` slots uniform in ``[0, n_slots)``: floats scaled down, which is several times
    cheaper per call than ``Generator.integers(size=n)``."""
    if n == 0:
        return []
    return [min(int(u * n_slots), n_slots - 1) for u in rng.random(n)]


def _uniform_slots_batch(
    rngs: BatchStream, n: NDArray[np.int64], n_slots: NDArray[np.int64]
) -> list[list[int]]:
    """:func:`_uniform_slots` for every item of a group: ``n[i]`` slots in ``[0, n_slots[i])``."""
    size = np.repeat(n_slots, n)
    flat = np.minimum((rngs.random(n) * size).astype(np.int64), size - 1)
    return BatchStream.split(flat.tolist(), n)


class _TextWords(Sequence[list[str]]):
    """The words of each text of a group, built only if a word source reads them."""

    def __init__(self, texts: list[str], spans: list[tuple[tuple[int, int], ...]]) -> None:
        self._texts, self._spans = texts, spans

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, i: int) -> list[str]: ...
    @overload
    def __getitem__(self, i: slice) -> list[list[str]]: ...
    def __getitem__(self, i: int | slice) -> list[str] | list[list[str]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        x = self._texts[i]
        return [x[a:b] for a, b in self._spans[i]]


def _slots_and(params: Params, key: str) -> tuple[list[int], list[Any]]:
    """``params["slots"]`` and ``params[key]``, checked (lists after a JSON round trip)."""
    try:
        slots = params["slots"]
        other = params[key]
    except KeyError as exc:
        raise ValueError(
            f"random_insertion parameters need 'slots' and {key!r}, missing {exc}"
        ) from None
    if not isinstance(slots, list | tuple) or not isinstance(other, list | tuple):
        raise TypeError(f"'slots' and {key!r} must be lists")
    if len(slots) != len(other):
        raise ValueError(f"'slots' has {len(slots)} entries but {key!r} has {len(other)}")
    out = []
    for s in slots:
        if isinstance(s, bool) or not isinstance(s, int | np.integer):
            raise TypeError(f"slots must be integers, got {type(s).__name__}")
        out.append(int(s))
    return out, list(other)
