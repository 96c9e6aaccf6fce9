"""ChunkRecombination: shuffle, splice, drop or repeat the sentences, paragraphs or word windows of a text.

A text is cut into *chunks* (``unit``), and the augmented text is a new
sequence of chunks joined by the unit's separator. Every chunk of the output
is a byte-identical slice of the input, or of a donor text from the pool
with the same label as the item: the operator rearranges text, it never
rewrites it.

Chunks never start or end with whitespace; the whitespace between chunks is
what the separator replaces. The text's own leading and trailing whitespace
is kept. When the sampled recombination is the identity (same chunks, same
order), the input comes back unchanged, original separators included.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..base import TextAugmenter
from ..items import Labelled
from ..registry import register
from ..seeding import BatchStream, Rng
from ..validation import check_choice, check_fraction, check_int
from .sentences import sentence_spans, strip_span

__all__ = [
    "DEFAULT_SEPARATORS",
    "MODES",
    "SPLICE_ACTIONS",
    "UNITS",
    "ChunkRecombination",
    "chunk_spans",
    "split_chunks",
]

UNITS = ("sentence", "paragraph", "window")
MODES = ("shuffle", "splice")
SPLICE_ACTIONS = ("replace", "append")

#: What each unit joins its chunks with, unless ``separator`` is given.
DEFAULT_SEPARATORS: dict[str, str] = {"sentence": " ", "paragraph": "\n\n", "window": " "}

_WORD = re.compile(r"\S+")
# A paragraph break is a line break followed by at least one whitespace-only
# line: two "\n" with nothing but whitespace between them ("\r\n" included).
_BLANK_LINE = re.compile(r"\n\s*\n")

# Key of the donor list of an unlabelled pool.
_ALL = object()


def chunk_spans(
    text: str, unit: str = "sentence", *, window_size: int = 8, language: str = "en"
) -> list[tuple[int, int]]:
    """``(start, end)`` of each chunk of ``text``; ``text[start:end]`` is the chunk as written.

    - ``"sentence"``: sentences from :func:`augkit.text.sentences.sentence_spans`
      (sentencex, rule-based: abbreviations and decimals do not end a sentence).
    - ``"paragraph"``: text separated by blank lines (a line break, then a
      whitespace-only line); single line breaks stay inside the paragraph.
    - ``"window"``: consecutive runs of ``window_size`` words (maximal runs of
      non-whitespace); the whitespace inside a window is kept as written.

    Chunks never start or end with whitespace; empty or whitespace-only text
    has no chunks.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    check_choice("unit", unit, UNITS)
    window_size = check_int("window_size", window_size, low=1)
    return list(_spans(text, unit, window_size, language))


def split_chunks(
    text: str, unit: str = "sentence", *, window_size: int = 8, language: str = "en"
) -> list[str]:
    """The chunks of ``text`` as strings (see :func:`chunk_spans`)."""
    spans = chunk_spans(text, unit, window_size=window_size, language=language)
    return [text[a:b] for a, b in spans]


# sample_params and apply both need the chunks of the same text; the cache
# makes the second split free. Batched execution samples every item of a
# batch before applying any, so it must hold a whole batch (as tokenize's does).
@lru_cache(maxsize=4096)
def _spans(text: str, unit: str, window_size: int, language: str) -> tuple[tuple[int, int], ...]:
    if unit == "sentence":
        return tuple(sentence_spans(text, language))
    if unit == "paragraph":
        out: list[tuple[int, int]] = []
        pos = 0
        for m in [*_BLANK_LINE.finditer(text), None]:
            end = len(text) if m is None else m.start()
            span = strip_span(text, pos, end)
            if span is not None:
                out.append(span)
            if m is not None:
                pos = m.end()
        return tuple(out)
    words = [m.span() for m in _WORD.finditer(text)]
    return tuple(
        (words[i][0], words[min(i + window_size, len(words)) - 1][1])
        for i in range(0, len(words), window_size)
    )


def _ragged_arange(n: NDArray[np.int64]) -> NDArray[np.int64]:
    """``arange(n[0]), arange(n[1]), ...`` concatenated."""
    out: NDArray[np.int64] = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(n) - n, n
    )
    return out


def _round_half_up(x: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
    """``math.floor(x + 0.5)`` element by element (how :meth:`sample_params` rounds counts)."""
    out: NDArray[np.int64] = np.floor(x + 0.5).astype(np.int64)
    return out


@register("chunk_recombination")
class ChunkRecombination(TextAugmenter):
    """Recombine the chunks (sentences, paragraphs or word windows) of a text.

    Parameters
    ----------
    unit:
        ``"sentence"`` (default), ``"paragraph"`` or ``"window"`` (see :func:`chunk_spans`).
    mode:
        ``"shuffle"``: a random permutation of the text's own chunks, never
        the identity when at least two chunks can move. ``"splice"``: chunks
        from donor texts of the ``pool`` replace chunks of the text
        (``splice="replace"``) or are appended after it (``splice="append"``).
    window_size:
        Words per chunk for ``unit="window"`` (>= 1).
    keep_first:
        Keep the first chunk first: it is not moved, replaced or dropped.
    splice:
        ``"replace"`` or ``"append"``, for ``mode="splice"``.
    rate:
        Fraction of the text's chunks replaced (or, for ``"append"``, the
        number of donor chunks appended as a fraction of the text's chunk
        count); at least one when ``rate > 0`` and donors exist. In [0, 1].
    pool, pool_labels:
        Donor texts and, for label-aware splicing, their labels (one per
        text). Both are plain lists, so they are part of :meth:`to_dict`.
        With ``pool_labels`` the operator is label-aware (``needs_label``):
        donors come only from pool texts whose label equals the item's. In a
        :class:`augkit.Pipeline` the item's label comes from the pipeline's
        lens (``label="label"`` by default: the ``"label"`` field of mapping
        items, the second element of ``(text, label)`` tuples); alone, call
        it with :class:`augkit.items.Labelled` ``(text, label)``. It returns
        the text either way.
    drop, repeat:
        Probability that each chunk of the result is dropped (never all of
        them) or repeated (appears twice in a row); in [0, 1].
    separator:
        What chunks are joined with; ``None`` uses the unit's default: one
        space for ``"sentence"`` and ``"window"``, a blank line (``"\\n\\n"``)
        for ``"paragraph"``. Use ``""`` for scripts written without spaces.
    language:
        Language code for the sentence splitter.

    A text with fewer than two chunks comes back unchanged in every mode.
    """

    def __init__(
        self,
        unit: str = "sentence",
        mode: str = "shuffle",
        *,
        window_size: int = 8,
        keep_first: bool = False,
        splice: str = "replace",
        rate: float = 0.3,
        pool: Iterable[str] | None = None,
        pool_labels: Iterable[Hashable] | None = None,
        drop: float = 0.0,
        repeat: float = 0.0,
        separator: str | None = None,
        language: str = "en",
        **moved: Any,
    ) -> None:
        for old, new in (("label_key", "label"), ("text_key", "key")):
            if old in moved:
                raise TypeError(
                    f"ChunkRecombination no longer takes {old}: the pipeline's item lens says "
                    f"which field holds it: Pipeline(..., {new}={moved[old]!r}); give "
                    "pool_labels to match donors by label"
                )
        if moved:
            raise TypeError(
                f"ChunkRecombination() got an unexpected keyword argument {next(iter(moved))!r}"
            )
        self.unit = check_choice("unit", unit, UNITS)
        self.mode = check_choice("mode", mode, MODES)
        self.splice = check_choice("splice", splice, SPLICE_ACTIONS)
        self.window_size = check_int("window_size", window_size, low=1)
        if not isinstance(keep_first, bool):
            raise TypeError(f"keep_first must be a bool, got {type(keep_first).__name__}")
        self.keep_first = keep_first
        self.rate = check_fraction("rate", rate)
        self.drop = check_fraction("drop", drop)
        self.repeat = check_fraction("repeat", repeat)
        if separator is not None and not isinstance(separator, str):
            raise TypeError(f"separator must be a str or None, got {type(separator).__name__}")
        self.separator = separator
        if not isinstance(language, str) or not language:
            raise ValueError(f"language must be a non-empty language code, got {language!r}")
        self.language = language

        self.pool: list[str] | None = None
        self.pool_labels: list[Hashable] | None = None
        if pool is not None:
            if isinstance(pool, (str, bytes, Mapping)) or not isinstance(pool, Iterable):
                raise TypeError("pool must be a sequence of str (the donor texts)")
            self.pool = list(pool)
            for i, t in enumerate(self.pool):
                if not isinstance(t, str):
                    raise TypeError(f"pool[{i}] must be str, got {type(t).__name__}")
        if pool_labels is not None:
            if self.pool is None:
                raise ValueError(
                    "pool_labels needs a pool: give pool=[...] with one text per label"
                )
            if isinstance(pool_labels, (str, bytes, Mapping)) or not isinstance(
                pool_labels, Iterable
            ):
                raise TypeError("pool_labels must be a sequence with one label per pool text")
            labels = list(pool_labels)
            if len(labels) != len(self.pool):
                raise ValueError(
                    f"pool_labels has {len(labels)} labels for {len(self.pool)} pool texts"
                )
            for i, lab in enumerate(labels):
                if not isinstance(lab, Hashable):
                    raise TypeError(f"pool_labels[{i}] must be hashable, got {type(lab).__name__}")
            self.pool_labels = labels
        # Labelled donors are matched to the item's label, which the pipeline passes along.
        self.needs_label = self.pool_labels is not None
        # The strengths this configuration uses: a shuffle without drops or repeats has none
        # (a policy search then gives it one state, not one per magnitude level).
        used = {"rate": self.mode == "splice" and self.rate > 0, "drop": self.drop > 0}
        used["repeat"] = self.repeat > 0
        self.magnitude_params = tuple(name for name, on in used.items() if on)
        if self.mode == "splice" and self.pool is None:
            raise ValueError(
                "mode='splice' needs a pool of donor texts: pass pool=[...] (and "
                "pool_labels=[...] to match donors by label) or use ChunkRecombination.from_dataset"
            )
        self._donor_cache: dict[Any, tuple[str, ...]] | None = None
        self._donor_table: tuple[dict[Any, int], np.ndarray] = ({}, np.array([], dtype=object))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_v1_params(
        cls, params: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, tuple[Any, bool]]]:
        """Version-1 parameters without ``label_key`` / ``text_key``, which become the
        pipeline's ``label`` / ``key`` (version 1 handed label-aware splicing the whole item)."""
        label_key = params.pop("label_key", None)
        text_key = params.pop("text_key", "text")
        if label_key is None:
            return params, {}
        return params, {"key": (text_key, True), "label": (label_key, True)}

    @classmethod
    def from_dataset(
        cls,
        texts: Iterable[str],
        labels: Iterable[Hashable] | None = None,
        **kwargs: Any,
    ) -> ChunkRecombination:
        """A splicing operator whose donor pool is a labelled (or unlabelled) data set.

        With ``labels`` it is label-aware (see the class docstring). ``mode``
        defaults to ``"splice"``.
        """
        kwargs.setdefault("mode", "splice")
        return cls(pool=list(texts), pool_labels=None if labels is None else list(labels), **kwargs)

    # ------------------------------------------------------------------ helpers
    @property
    def effective_separator(self) -> str:
        """The separator in use: ``separator``, or the unit's default."""
        return DEFAULT_SEPARATORS[self.unit] if self.separator is None else self.separator

    def chunks(self, text: str) -> list[str]:
        """The chunks this operator cuts ``text`` into."""
        return split_chunks(text, self.unit, window_size=self.window_size, language=self.language)

    def _spans_of(self, text: str) -> tuple[tuple[int, int], ...]:
        return _spans(text, self.unit, self.window_size, self.language)

    def _text_and_label(self, x: Any) -> tuple[str, Any]:
        if not self.needs_label:
            if not isinstance(x, str):
                raise TypeError(f"ChunkRecombination takes str, got {type(x).__name__}")
            return x, None
        if not isinstance(x, Labelled):
            raise TypeError(
                "ChunkRecombination with pool_labels matches donors to the item's label: in a "
                "Pipeline the label comes from the item (its 'label' field, or y of (text, y); "
                "see the pipeline's label=), alone pass augkit.items.Labelled(text, label); "
                f"got {type(x).__name__}"
            )
        if not isinstance(x.value, str):
            raise TypeError(f"ChunkRecombination takes str, got {type(x.value).__name__}")
        if x.label is None:
            raise ValueError(
                "ChunkRecombination with pool_labels needs each item's label, and this item has "
                "none: give items a 'label' field or (text, label) tuples, or name the field "
                "with the pipeline's label="
            )
        return x.value, x.label

    def _donors(self, label: Any) -> tuple[str, ...]:
        """Donor chunks for an item with ``label`` (any label when the pool is unlabelled)."""
        if self.pool is None:
            return ()
        return self._donor_lists()[0].get(self._donor_key(label), ())

    def _donor_key(self, label: Any) -> Any:
        if self.pool_labels is None:
            return _ALL
        if not isinstance(label, Hashable):
            raise TypeError(f"item label must be hashable, got {type(label).__name__}")
        return label

    def _donor_lists(self) -> tuple[dict[Any, tuple[str, ...]], dict[Any, int], np.ndarray]:
        """``(chunks by label, each label's first row in the table, the table)``: the table
        holds every donor chunk, label after label, as an object array that the batch
        hook indexes in numpy."""
        if self._donor_cache is None:
            # Split the pool once, on first use: construction (and from_dict)
            # stays cheap for operators that never splice.
            cache: dict[Any, list[str]] = {}
            labels: Sequence[Any] = (
                self.pool_labels if self.pool_labels is not None else [_ALL] * len(self.pool or ())
            )
            for text, lab in zip(self.pool or (), labels):
                # Not through the _spans cache: the pool would evict the batch
                # being sampled, and each pool text is split only this once.
                spans = _spans.__wrapped__(text, self.unit, self.window_size, self.language)
                cache.setdefault(lab, []).extend(text[a:b] for a, b in spans)
            self._donor_cache = {k: tuple(v) for k, v in cache.items()}
            starts: dict[Any, int] = {}
            table: list[str] = []
            for k, chunks in self._donor_cache.items():
                starts[k] = len(table)
                table.extend(chunks)
            self._donor_table = (starts, np.array(table, dtype=object))
        return (self._donor_cache, *self._donor_table)

    # ------------------------------------------------------------------ protocol
    def validate_input(self, x: Any) -> None:
        self._text_and_label(x)

    def sample_params(self, x: Any, rng: Rng) -> dict[str, Any]:
        """``{"n_chunks": n, "order": [...]}``: the output's chunks in order.

        An ``int`` in ``order`` is the index of one of the text's own chunks;
        a ``str`` is a donor chunk, recorded by its text so that a trace
        replays without the pool.
        """
        text, label = self._text_and_label(x)
        n = len(self._spans_of(text))
        order: list[int | str] = list(range(n))
        if n < 2:
            return {"n_chunks": n, "order": order}
        fixed = 1 if self.keep_first else 0
        if self.mode == "shuffle":
            movable = n - fixed
            if movable >= 2:
                identity = np.arange(movable)
                perm = rng.permutation(movable)
                # Rejection keeps the permutation uniform over the non-identity
                # ones; at most 1/2 of draws are rejected.
                while np.array_equal(perm, identity):
                    perm = rng.permutation(movable)
                order = [*range(fixed), *(fixed + int(i) for i in perm)]
        else:
            donors = self._donors(label)
            if donors and self.rate > 0:
                if self.splice == "replace":
                    eligible = n - fixed
                    k = min(eligible, max(1, math.floor(self.rate * eligible + 0.5)))
                    positions = np.sort(rng.choice(eligible, size=k, replace=False)) + fixed
                    for p in positions:
                        order[int(p)] = donors[int(rng.integers(len(donors)))]
                else:
                    k = max(1, math.floor(self.rate * n + 0.5))
                    order.extend(donors[int(rng.integers(len(donors)))] for _ in range(k))
        if self.drop > 0:
            dropped = rng.random(len(order)) < self.drop
            if self.keep_first:
                dropped[0] = False
            if dropped.all():
                dropped[int(rng.integers(len(order)))] = False
            order = [c for c, d in zip(order, dropped) if not d]
        if self.repeat > 0:
            twice = rng.random(len(order)) < self.repeat
            order = [c for c, t in zip(order, twice) for _ in range(2 if t else 1)]
        return {"n_chunks": n, "order": order}

    #: Texts still drawing identity shuffles when this few are left go on one by one.
    SCALAR_TAIL = 8
    #: Appending donors (no drop, no repeat) draws a few integers per text, which
    #: numpy beats only from about this many texts (measured against the per-item
    #: loop on 2 shared cores: 0.6x at 24 texts, 1.0x at 48, 1.25x at 64).
    APPEND_PER_ITEM = 64

    def sample_params_batch(self, xs: list[Any], rngs: BatchStream) -> list[dict[str, Any]]:
        """:meth:`sample_params` for a whole group, each step for every text at once.

        The orders are kept flat and item-major (own chunks as their index,
        donor chunks as ``-1 - i`` for the item's ``i``-th donor) while the
        shuffles (:meth:`BatchStream.permutation`, identities redrawn), the
        splice positions (:meth:`BatchStream.choice`) and donors, and the
        drop and repeat masks are drawn, in the order :meth:`sample_params`
        draws them. Appending alone (no drop, no repeat) below
        :attr:`APPEND_PER_ITEM` texts goes item by item (:meth:`BatchStream.each`).
        """
        appending_only = self.mode == "splice" and self.splice == "append"
        if appending_only and not (self.drop or self.repeat) and len(xs) < self.APPEND_PER_ITEM:
            return rngs.each(self.sample_params, xs)
        pairs = [self._text_and_label(x) for x in xs]
        n = np.array([len(self._spans_of(text)) for text, _ in pairs], dtype=np.int64)
        count = len(xs)
        active = n >= 2  # shorter texts draw nothing
        fixed = 1 if self.keep_first else 0
        order = _ragged_arange(n)
        lengths = n
        table: np.ndarray | None = None  # the donor chunks, when splicing
        if self.mode == "shuffle":
            movable = np.where(active & (n - fixed >= 2), n - fixed, 0)
            moved = np.repeat(movable > 0, n) & (order >= fixed)
            order[moved] = self._shuffles(rngs, movable) + fixed
        elif self.rate > 0:
            by_label, starts, table = self._donor_lists()
            keys = [self._donor_key(label) for _, label in pairs]
            n_donors = np.array([len(by_label.get(k, ())) for k in keys], dtype=np.int64)
            first_donor = np.array([starts.get(k, 0) for k in keys], dtype=np.int64)
            splicing = active & (n_donors > 0)
            if self.splice == "replace":
                eligible = np.where(splicing, n - fixed, 0)
                k = np.minimum(eligible, np.maximum(1, _round_half_up(self.rate * eligible)))
                item = np.repeat(np.arange(count), k)
                positions = rngs.choice(eligible, k, replace=False)
                positions = positions[np.lexsort((positions, item))]  # sorted within each item
                which = rngs.integers(0, n_donors, counts=k)
                start = np.cumsum(n) - n
                order[start[item] + fixed + positions] = -1 - which
            else:
                k = np.where(splicing, np.maximum(1, _round_half_up(self.rate * n)), 0)
                which = rngs.integers(0, n_donors, counts=k)
                lengths = n + k
                grown = np.empty(int(lengths.sum()), dtype=np.int64)
                start = np.cumsum(lengths) - lengths
                own = np.repeat(start, n) + order
                tail = np.ones(len(grown), dtype=bool)
                tail[own] = False
                grown[own] = order
                grown[tail] = -1 - which
                order = grown
        if self.drop > 0:
            order, lengths = self._drops(rngs, order, lengths, active)
        if self.repeat > 0:
            u = rngs.random(np.where(active, lengths, 0))
            twice = np.zeros(len(order), dtype=bool)
            twice[np.repeat(active, lengths)] = u < self.repeat
            order = np.repeat(order, 1 + twice)
            lengths = lengths + np.bincount(
                np.repeat(np.arange(count), lengths)[twice], minlength=count
            )
        if table is not None:  # donor chunks: their text, from the table of them all
            refs: Any = order.astype(object)
            donor = order < 0
            refs[donor] = table[np.repeat(first_donor, lengths)[donor] - 1 - order[donor]]
            order = refs
        pieces = BatchStream.split(order.tolist(), lengths)
        return [{"n_chunks": m, "order": piece} for m, piece in zip(n.tolist(), pieces)]

    def _shuffles(self, rngs: BatchStream, movable: NDArray[np.int64]) -> NDArray[np.int64]:
        """A permutation of ``arange(movable[i])`` for every item with ``movable[i] >= 2``
        (flat, item-major), redrawn while it is the identity, as :meth:`sample_params` does."""
        perm = rngs.permutation(movable)
        start = np.cumsum(movable) - movable
        item = np.repeat(np.arange(len(movable)), movable)
        identity_order = _ragged_arange(movable)
        while True:
            moved = np.bincount(item[perm != identity_order], minlength=len(movable))
            identity = (movable > 0) & (moved == 0)
            again = np.flatnonzero(identity)
            if len(again) == 0:
                return perm
            if len(again) <= self.SCALAR_TAIL:
                for i in again.tolist():
                    m = int(movable[i])
                    rng = rngs.stream(i)
                    p = rng.permutation(m)
                    while np.array_equal(p, np.arange(m)):
                        p = rng.permutation(m)
                    perm[start[i] : start[i] + m] = p
                return perm
            perm[identity[item]] = rngs.permutation(np.where(identity, movable, 0))

    def _drops(
        self,
        rngs: BatchStream,
        order: NDArray[np.int64],
        lengths: NDArray[np.int64],
        active: NDArray[np.bool_],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The ``drop`` step of :meth:`sample_params` for the ``active`` items' flat orders."""
        count = len(lengths)
        u = rngs.random(np.where(active, lengths, 0))
        dropped = np.zeros(len(order), dtype=bool)
        dropped[np.repeat(active, lengths)] = u < self.drop
        start = np.cumsum(lengths) - lengths
        if self.keep_first:
            dropped[start[active]] = False
        item = np.repeat(np.arange(count), lengths)
        gone = np.bincount(item[dropped], minlength=count)
        everything = active & (gone == lengths)
        if everything.any():  # never all of them: one comes back
            back = rngs.integers(0, lengths, counts=everything)
            dropped[start[everything] + back] = False
            gone[everything] -= 1
        return order[~dropped], lengths - gone

    def apply(self, x: Any, params: dict[str, Any]) -> Any:
        text, _ = self._text_and_label(x)
        spans = self._spans_of(text)
        n = len(spans)
        if params.get("n_chunks") != n:
            raise ValueError(
                f"parameters were sampled for a text of {params.get('n_chunks')} chunk(s), "
                f"this text has {n}"
            )
        order = list(params["order"])
        if n < 2 or order == list(range(n)):
            return text
        pieces = []
        for ref in order:
            if isinstance(ref, str):
                pieces.append(ref)
            elif isinstance(ref, (int, np.integer)) and not isinstance(ref, bool) and 0 <= ref < n:
                a, b = spans[int(ref)]
                pieces.append(text[a:b])
            else:
                raise ValueError(f"order entries must be chunk indices in [0, {n}) or str: {ref!r}")
        return text[: spans[0][0]] + self.effective_separator.join(pieces) + text[spans[-1][1] :]

    def __repr__(self) -> str:
        # The pool can be a whole data set: show its size, not its texts.
        args = []
        for k, v in self.get_config().items():
            if k in ("pool", "pool_labels") and v is not None:
                args.append(f"{k}=<{len(v)} {'texts' if k == 'pool' else 'labels'}>")
            else:
                args.append(f"{k}={v!r}")
        return f"ChunkRecombination({', '.join(args)})"
