"""The seeding rule: every random draw of augkit comes from a counter-based stream here.

The randomness used for one item is a function of its *coordinates* only,

``(seed, epoch, index, variant, attempt, stream)``,

never of the batch the item is in, the worker that runs it, or the order of
calls:

- ``epoch`` and ``index`` (64 bits each) name the item of an epoch;
- ``variant`` (24 bits) is the ``v``-th of ``n`` outputs asked for one item
  (``augment(x, n=3)``, ``AugmentedDataset(views=3)``, the command's ``--n``);
- ``attempt`` (16 bits) is a redraw of that variant (``distinct=True``);
- ``stream`` (24 bits) is the consumer: a pipeline samples an item's path
  from stream 0 and the parameters of its ``k``-th step from stream ``k + 1``;
  a stand-alone operator uses stream 0.

Streams version 2 (``streams: 2`` in configs and traces)
--------------------------------------------------------
Words are SplitMix64 (Steele, Lea and Flood, 2014; the finalizer is
Stafford's "Mix13"), counter-based:

- the seed, of any size, is folded into 64 bits (:func:`seed_word`);
- the item's word chains the coordinates through the bijective mixer:
  ``item = mix(mix(mix(seed_w ^ epoch) ^ index) ^ (variant | attempt << 24))``;
- draw ``d`` of stream ``s`` of an item is
  ``mix(item + ((s << 40) + d + 1) * GAMMA)``: stream ``s`` is the range of
  the item's SplitMix64 sequence that starts ``s * 2**40`` steps in.

Only 64-bit integer arithmetic (no floats, no platform hash) goes into a
word, and the same operations run on Python ints for one item
(:class:`Stream`) and on numpy ``uint64`` arrays for a batch
(:class:`BatchStream`), bit for bit. Floats are the top 53 bits of a word;
integers in ``[0, n)`` use Lemire's multiply-and-shift with rejection, so
they are unbiased; normals are Box-Muller on two words.

Collisions: two different coordinate tuples share an item word with
probability ``2**-64``; over a run of 10**9 items the chance that any two
items share one is about 3 %, and all it does is give those two items the same
random choices. (Version 1, augkit 0.1, used Philox, whose counter is wider;
it was about ten times slower per item. Its traces replay: they carry their
parameters.)

This module is also the one coercion point for seeds (:func:`as_seed`) and
for ``seed=`` / ``rng=`` arguments (:func:`one_rng`): an integer seed means
"the seeding rule, at these coordinates"; a generator means "draw from this
one" (a numpy ``Generator`` or a :class:`Stream`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .validation import MAX_U64, check_int

__all__ = [
    "ATTEMPT_BITS",
    "STREAMS_VERSION",
    "STREAM_BITS",
    "STREAM_STEP",
    "U64",
    "VARIANT_BITS",
    "BatchStream",
    "Stream",
    "as_seed",
    "batch_rngs",
    "check_rng",
    "draw_seed",
    "epoch_word",
    "fresh_seed",
    "item_rng",
    "item_word",
    "item_words",
    "one_rng",
    "resolve_indices",
    "seed_epoch_word",
    "seed_word",
    "seeds_of",
    "stream_base",
    "stream_bases",
]

#: The stream function's version, recorded in configs and traces.
STREAMS_VERSION = 2
STREAM_BITS = 24
VARIANT_BITS = 24
ATTEMPT_BITS = 16

U64 = NDArray[np.uint64]


_M = (1 << 64) - 1
#: SplitMix64's increment, 2**64 / golden ratio (odd).
_GAMMA = 0x9E3779B97F4A7C15
#: The multipliers of Stafford's "Mix13" finalizer, SplitMix64's output function.
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB
#: Streams of one item are ranges of its counter 2**40 draws apart.
_STREAM_SHIFT = 40
_SEED_SALT = 0x243F6A8885A308D3  # pi's fraction: keeps seed 0 away from mix(0) = 0

_U = np.uint64
_G = _U(_GAMMA)
_K1 = _U(_C1)
_K2 = _U(_C2)
_S30, _S27, _S31, _S11 = _U(30), _U(27), _U(31), _U(11)
_FLOAT = 2.0**-53


def mix(z: int) -> int:
    """SplitMix64's output function on a Python int in [0, 2**64): a bijection."""
    z = ((z ^ (z >> 30)) * _C1) & _M
    z = ((z ^ (z >> 27)) * _C2) & _M
    return z ^ (z >> 31)


def mix_array(z: U64) -> U64:
    """:func:`mix` on a uint64 array; the same bits (numpy wraps multiplication mod 2**64)."""
    z = (z ^ (z >> _S30)) * _K1
    z = (z ^ (z >> _S27)) * _K2
    out: U64 = z ^ (z >> _S31)
    return out


@lru_cache(maxsize=1024)
def seed_word(seed: int) -> int:
    """64 bits of a non-negative integer seed of any size, mixed limb by limb."""
    h = mix(((seed & _M) ^ _SEED_SALT) & _M)
    seed >>= 64
    while seed:
        h = mix(h ^ (seed & _M))
        seed >>= 64
    return h


def epoch_word(seed_w: int, epoch: int) -> int:
    """The word of one epoch of a seed (the first link of an item's word)."""
    return mix(seed_w ^ epoch)


@lru_cache(maxsize=256)
def seed_epoch_word(seed: int, epoch: int) -> int:
    """:func:`epoch_word` of :func:`seed_word`, cached: one per (seed, epoch) a run uses."""
    return mix(seed_word(seed) ^ epoch)


def item_word(epoch_w: int, index: int, variant: int = 0, attempt: int = 0) -> int:
    """The word naming one item (one variant, one attempt) of an epoch.

    ``mix(mix(epoch_w ^ index) ^ (variant | attempt << 24))``, the mixer
    written out: this is once per item on the per-item path.
    """
    z = epoch_w ^ index
    z = ((z ^ (z >> 30)) * _C1) & _M
    z = ((z ^ (z >> 27)) * _C2) & _M
    z ^= (z >> 31) ^ variant ^ (attempt << VARIANT_BITS)
    z = ((z ^ (z >> 30)) * _C1) & _M
    z = ((z ^ (z >> 27)) * _C2) & _M
    return z ^ (z >> 31)


def item_words(epoch_w: int, index: U64, variant: U64, attempt: U64) -> U64:
    """:func:`item_word` for arrays of coordinates."""
    h = mix_array(_U(epoch_w) ^ index)
    return mix_array(h ^ (variant | (attempt << _U(VARIANT_BITS))))


#: Sized draws of up to this many words are mixed in Python ints (the same bits as
#: numpy's path, which costs more below about this many: benchmarks/_profile.py).
SCALAR_SIZES = 16

#: How far apart consecutive streams of an item start on its counter, as a word.
STREAM_STEP = ((1 << _STREAM_SHIFT) * _GAMMA) & _M


def stream_base(item_w: int, stream: int) -> int:
    """Where stream ``stream`` of an item starts on its counter."""
    return (item_w + stream * STREAM_STEP) & _M


def stream_bases(item_w: U64, stream: int) -> U64:
    """:func:`stream_base` for an array of item words."""
    out: U64 = item_w + _U(((stream << _STREAM_SHIFT) * _GAMMA) & _M)
    return out


def word(base: int, d: int) -> int:
    """Word ``d`` of the stream starting at ``base``: SplitMix64 at position ``d + 1``."""
    return mix((base + (d + 1) * _GAMMA) & _M)


def words_array(base: U64, d: U64) -> U64:
    """:func:`word` for arrays (broadcasting)."""
    return mix_array(base + (d + _U(1)) * _G)


def _bit_length(x: U64) -> NDArray[np.int64]:
    """``int.bit_length`` of every element, exactly (a binary search, no floats)."""
    x = x.copy()
    bits = np.zeros(x.shape, dtype=np.int64)
    for s in (32, 16, 8, 4, 2, 1):
        big = x >= (_U(1) << _U(s))
        bits += big * s
        x = np.where(big, x >> _U(s), x)
    bits += (x > 0).astype(np.int64)
    return bits


def bounded(w: int, n: int) -> int:
    """A uniform integer in ``[0, n)`` from word ``w``: Lemire's multiply-and-shift.

    ``(w * n) >> 64``, unbiased: when the low half of the product falls below
    ``2**64 mod n`` the word is replaced by the next SplitMix64 word after it
    (probability below ``n / 2**64``).
    """
    m = w * n
    lo = m & _M
    if lo < n:
        t = (1 << 64) % n
        while lo < t:
            w = mix((w + _GAMMA) & _M)
            m = w * n
            lo = m & _M
    return m >> 64


_LO32 = _U(0xFFFFFFFF)
_S32 = _U(32)


def bounded_array(w: U64, n: U64) -> U64:
    """:func:`bounded` element by element, for ``n < 2**32``: the same values.

    The 128-bit product is put together from 32-bit halves.
    """
    n = np.broadcast_to(np.asarray(n, dtype=np.uint64), w.shape)
    if (n >= _U(1) << _S32).any():
        return np.array([bounded(int(a), int(b)) for a, b in zip(w, n)], dtype=np.uint64)
    out = np.empty(w.shape, dtype=np.uint64)
    todo = np.ones(w.shape, dtype=bool)
    threshold: U64 | None = None
    while True:
        hi = (w >> _S32) * n + (((w & _LO32) * n) >> _S32)
        out = np.where(todo, hi >> _S32, out)
        lo = w * n
        suspect = todo & (lo < n)
        if not suspect.any():
            return out
        if threshold is None:
            threshold = np.array(
                [(1 << 64) % max(int(v), 1) for v in n.ravel()], dtype=np.uint64
            ).reshape(n.shape)
        bad = suspect & (lo < threshold)
        if not bad.any():
            return out
        todo = bad
        w = np.where(bad, mix_array(w + _G), w)


class Stream:
    """One item's stream as a numpy-``Generator``-like object (what ``sample_params`` gets).

    Draws ``random``, ``integers``, ``uniform``, ``choice``, ``permutation``,
    ``shuffle``, ``normal`` and ``standard_normal`` from the counter-based
    words of one (item, stream); each call takes the next words of the
    counter, so the values are a function of the coordinates and the order
    of calls only. Any other ``Generator`` method works too, through a
    Philox generator keyed by the stream (built on first use).
    """

    __slots__ = ("_base", "_d", "_generator")

    def __init__(self, base: int, d: int = 0) -> None:
        self._base = base
        self._d = d
        self._generator: np.random.Generator | None = None

    def _next(self) -> int:
        d = self._d
        self._d = d + 1
        return mix((self._base + (d + 1) * _GAMMA) & _M)

    def _take(self, n: int) -> U64:
        d0 = self._d
        self._d = d0 + n
        return words_array(
            np.full(n, self._base, dtype=np.uint64), np.arange(d0, d0 + n, dtype=np.uint64)
        )

    # ------------------------------------------------------------------ draws
    def random(self, size: int | tuple[int, ...] | None = None) -> Any:
        """Floats in [0, 1): the top 53 bits of each word."""
        if size is None:  # the per-item hot path: the mixer written out
            d = self._d + 1
            self._d = d
            z = (self._base + d * _GAMMA) & _M
            z = ((z ^ (z >> 30)) * _C1) & _M
            z = ((z ^ (z >> 27)) * _C2) & _M
            return ((z ^ (z >> 31)) >> 11) * _FLOAT
        if type(size) is int and 0 <= size <= SCALAR_SIZES:
            # A few words: the scalar mixer beats numpy's per-call set-up; the same bits.
            r = self.random
            return np.array([r() for _ in range(size)], dtype=np.float64)
        shape = (size,) if isinstance(size, int) else tuple(size)
        w = self._take(math.prod(shape))
        return ((w >> _S11).astype(np.float64) * _FLOAT).reshape(shape)

    def integers(
        self,
        low: int,
        high: int | None = None,
        size: int | tuple[int, ...] | None = None,
        dtype: Any = np.int64,
        endpoint: bool = False,
    ) -> Any:
        """Integers in ``[low, high)`` (``[0, low)`` with one argument), unbiased."""
        if high is None and size is None and not endpoint and type(low) is int and low > 0:
            # integers(n), the commonest call, with the word and Lemire's step written out.
            d = self._d + 1
            self._d = d
            z = (self._base + d * _GAMMA) & _M
            z = ((z ^ (z >> 30)) * _C1) & _M
            z = ((z ^ (z >> 27)) * _C2) & _M
            m = (z ^ (z >> 31)) * low
            if (m & _M) < low:  # rarely: maybe in the biased zone, let bounded decide
                return bounded(z ^ (z >> 31), low)
            return m >> 64
        if high is None:
            low, high = 0, low
        low, high = int(low), int(high) + (1 if endpoint else 0)
        if high <= low:
            raise ValueError(f"high must be greater than low, got low={low}, high={high}")
        n = high - low
        if size is None:
            return low + bounded(self._next(), n)
        if type(size) is int and 0 <= size <= SCALAR_SIZES and 0 <= low and high <= 2**63:
            few = [low + bounded(self._next(), n) for _ in range(size)]  # as random(size)
            return np.array(few, dtype=np.int64).astype(dtype, copy=False)
        shape = (size,) if isinstance(size, int) else tuple(size)
        w = self._take(math.prod(shape))
        if n <= 2**63:
            vals = bounded_array(w, np.full(w.shape, n, dtype=np.uint64)).astype(np.int64) + low
        else:
            vals = np.array([low + bounded(int(v), n) for v in w], dtype=object)
        return vals.reshape(shape).astype(dtype)

    def uniform(
        self, low: float = 0.0, high: float = 1.0, size: int | tuple[int, ...] | None = None
    ) -> Any:
        """``low + (high - low) * random()``, numpy's formula."""
        u = self.random(size)
        return low + (high - low) * u

    def permutation(self, x: int | Sequence[Any] | np.ndarray) -> np.ndarray:
        """A shuffled ``arange(x)`` (or copy of ``x``): Fisher-Yates, one word per swap."""
        arr = np.arange(x) if isinstance(x, (int, np.integer)) else np.array(x, copy=True)
        self.shuffle(arr)
        return arr

    def shuffle(self, x: Any) -> None:
        """Shuffle a sequence in place along its first axis (Fisher-Yates from the end)."""
        for i in range(len(x) - 1, 0, -1):
            j = bounded(self._next(), i + 1)
            if isinstance(x, np.ndarray) and x.ndim > 1:
                x[[i, j]] = x[[j, i]]
            else:
                x[i], x[j] = x[j], x[i]

    def choice(
        self,
        a: int | Sequence[Any] | np.ndarray,
        size: int | None = None,
        replace: bool = True,
        p: Sequence[float] | np.ndarray | None = None,
    ) -> Any:
        """Elements of ``a`` (or ``arange(a)``): with replacement, without it (a partial
        Fisher-Yates), or by probabilities ``p`` (inverse of their cumulative sum)."""
        pool = np.arange(a) if isinstance(a, (int, np.integer)) else np.asarray(a)
        n = len(pool)
        k = 1 if size is None else int(size)
        if n == 0 or k < 0:
            raise ValueError("choice needs a non-empty population and size >= 0")
        if p is not None:
            cum = np.cumsum(np.asarray(p, dtype=np.float64))
            if cum.shape != (n,) or not np.isclose(cum[-1], 1.0):
                raise ValueError("p must have one probability per element and sum to 1")
            u = self.random(k) * cum[-1]
            picks = np.minimum(np.searchsorted(cum, u, side="right"), n - 1)
        elif replace:
            picks = self.integers(0, n, size=k)
        else:
            if k > n:
                raise ValueError(f"cannot take {k} elements of {n} without replacement")
            order = list(range(n))
            for i in range(k):
                j = i + bounded(self._next(), n - i)
                order[i], order[j] = order[j], order[i]
            picks = np.array(order[:k], dtype=np.int64)
        out = pool[picks]
        return out[0] if size is None else out

    def standard_normal(self, size: int | tuple[int, ...] | None = None) -> Any:
        """Box-Muller on two words per value (libm's log and cos)."""
        if size is None:
            a = ((self._next() >> 11) + 1) * _FLOAT
            b = (self._next() >> 11) * _FLOAT
            return math.sqrt(-2.0 * math.log(a)) * math.cos(2.0 * math.pi * b)
        shape = (size,) if isinstance(size, int) else tuple(size)
        k = math.prod(shape)
        w = self._take(2 * k).reshape(k, 2)
        u1 = ((w[:, 0] >> _S11) + _U(1)).astype(np.float64) * _FLOAT
        u2 = (w[:, 1] >> _S11).astype(np.float64) * _FLOAT
        return (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).reshape(shape)

    def normal(
        self, loc: float = 0.0, scale: float = 1.0, size: int | tuple[int, ...] | None = None
    ) -> Any:
        return loc + scale * self.standard_normal(size)

    def __getattr__(self, name: str) -> Any:
        # Any other numpy Generator method: a Philox generator keyed by this
        # stream and position, built once; later draws of this stream go on after it.
        if name.startswith("_") or not hasattr(np.random.Generator, name):
            raise AttributeError(name)
        if self._generator is None:
            key = np.array([self._base, self._next()], dtype=np.uint64)
            self._generator = np.random.Generator(np.random.Philox(key=key))
        return getattr(self._generator, name)


#: What ``sample_params`` draws from: a counter-based :class:`Stream` or any numpy ``Generator``.
Rng = np.random.Generator | Stream


class BatchStream:
    """One stream of many items at once: each item's counter, numpy arrays throughout.

    ``sample_params_batch`` hooks draw from it; item ``i`` gets exactly the
    values a :class:`Stream` of its own would give for the same calls.
    """

    __slots__ = ("base", "d")

    def __init__(self, base: U64, d: NDArray[np.int64] | None = None) -> None:
        self.base = base
        self.d = np.zeros(len(base), dtype=np.int64) if d is None else d

    def __len__(self) -> int:
        return len(self.base)

    def _take(self, counts: Any = None) -> U64:
        """One word per item, or ``counts[i]`` words of item ``i`` (flat, item-major)."""
        if counts is None:
            w = words_array(self.base, self.d.astype(np.uint64))
            self.d = self.d + 1
            return w
        counts = np.asarray(counts, dtype=np.int64)
        first = np.cumsum(counts) - counts  # where each item's words start in the output
        total = int(counts.sum())
        # Word j of the output is word d + (j - first) of its item: repeat, never gather.
        pos = np.repeat(self.d - first, counts) + np.arange(total, dtype=np.int64)
        w = words_array(np.repeat(self.base, counts), pos.astype(np.uint64))
        self.d = self.d + counts
        return w

    def _per_draw(self, values: Any, counts: NDArray[np.int64] | None, dtype: Any) -> Any:
        """``values`` (a scalar, or one per item) for each draw of ``counts`` (or per item)."""
        arr = np.asarray(values, dtype=dtype)
        if counts is None or arr.ndim == 0:
            return arr  # broadcasts as it is
        if arr.shape != self.d.shape:
            arr = np.broadcast_to(arr, self.d.shape)
        return np.repeat(arr, counts)

    def random(self, counts: Any = None) -> NDArray[np.float64]:
        w = self._take(counts)
        out: NDArray[np.float64] = (w >> _S11).astype(np.float64) * _FLOAT
        return out

    def integers(self, low: Any, high: Any, counts: Any = None) -> NDArray[np.int64]:
        """Per-item ranges ``[low, high)`` (scalars or arrays, one per item)."""
        reps = None if counts is None else np.asarray(counts, dtype=np.int64)
        low = self._per_draw(low, reps, np.int64)
        span = self._per_draw(high, reps, np.int64) - low
        if (span < 1).any():
            raise ValueError("high must be greater than low for every item")
        w = self._take(reps)
        out: NDArray[np.int64] = bounded_array(w, span.astype(np.uint64)).astype(np.int64) + low
        return out

    def uniform(self, low: Any, high: Any, counts: Any = None) -> NDArray[np.float64]:
        reps = None if counts is None else np.asarray(counts, dtype=np.int64)
        u = self.random(reps)
        low = self._per_draw(low, reps, np.float64)
        high = self._per_draw(high, reps, np.float64)
        out: NDArray[np.float64] = low + (high - low) * u
        return out

    def permutation(self, lengths: Any) -> NDArray[np.int64]:
        """A shuffled ``arange(lengths[i])`` for every item, flat and item-major.

        Item ``i`` gets what ``Stream.permutation(lengths[i])`` gives it:
        Fisher-Yates from the end, one bounded draw per swap, so
        ``lengths[i] - 1`` words (none for a length of 0 or 1).
        """
        m = self._per_item("lengths", lengths)
        swaps = np.maximum(m - 1, 0)
        w = self._take(swaps)
        item, t = self._ragged_positions(swaps)
        # Draw t of an item swaps position m - 1 - t with one of [0, m - t).
        j = bounded_array(w, (m[item] - t).astype(np.uint64)).astype(np.int64)
        start = np.cumsum(m) - m
        out = np.arange(int(m.sum()), dtype=np.int64) - np.repeat(start, m)
        self._swap_in_rounds(out, start[item] + m[item] - 1 - t, start[item] + j, t)
        return out

    def choice(self, n: Any, counts: Any, replace: bool = True) -> NDArray[np.int64]:
        """``counts[i]`` elements of ``arange(n[i])`` for every item, flat and item-major.

        What ``Stream.choice(n[i], size=counts[i], replace=replace)`` gives
        item ``i``: with replacement, bounded integers; without, a partial
        Fisher-Yates with one bounded draw per element (``counts[i] <= n[i]``;
        it needs ``n[i]`` of working memory per item). An item with
        ``counts[i] == 0`` draws nothing, whatever its ``n[i]``.
        """
        size = self._per_item("n", n)
        k = self._per_item("counts", counts)
        if replace:
            return self.integers(0, size, counts=k)
        if (k > size).any():
            raise ValueError("cannot take more elements than there are without replacement")
        size = np.where(k > 0, size, 0)  # an item that takes nothing needs no working memory
        w = self._take(k)
        item, t = self._ragged_positions(k)
        # Draw t of an item swaps position t with one of [t, n).
        j = t + bounded_array(w, (size[item] - t).astype(np.uint64)).astype(np.int64)
        start = np.cumsum(size) - size
        order = np.arange(int(size.sum()), dtype=np.int64) - np.repeat(start, size)
        self._swap_in_rounds(order, start[item] + t, start[item] + j, t)
        out: NDArray[np.int64] = order[start[item] + t]
        return out

    def ahead(self, k: int, items: Any = None) -> NDArray[np.float64]:
        """The next ``k`` floats of every item (of ``items`` only, if given): ``(len, k)``.

        The counters do not move: for draws whose number depends on their
        values (a rejection loop), look ahead, decide how many words each item
        used, and :meth:`skip` them.
        """
        base = self.base if items is None else self.base[items]
        d = self.d if items is None else self.d[items]
        offsets = np.arange(k, dtype=np.int64)
        w = words_array(base[:, None], (d[:, None] + offsets).astype(np.uint64))
        out: NDArray[np.float64] = (w >> _S11).astype(np.float64) * _FLOAT
        return out

    def skip(self, counts: Any, items: Any = None) -> None:
        """Move the counters on by ``counts`` words (one count per item, or per item of
        ``items``, which must not repeat), as if they had been drawn."""
        d = self.d.copy()
        if items is None:
            d += counts
        else:
            d[items] += counts
        self.d = d

    @staticmethod
    def split(flat: list[Any], counts: Any) -> list[list[Any]]:
        """Flat, item-major values (what a draw with ``counts`` returns, as a list) cut into
        one list per item: ``counts[i]`` consecutive values each."""
        out = []
        pos = 0
        for k in np.asarray(counts, dtype=np.int64).tolist():
            out.append(flat[pos : pos + k])
            pos += k
        return out

    def _per_item(self, name: str, values: Any) -> NDArray[np.int64]:
        """``values`` (a scalar or one per item) as one non-negative int64 per item."""
        arr = np.broadcast_to(np.asarray(values, dtype=np.int64), (len(self.base),))
        if (arr < 0).any():
            raise ValueError(f"{name} must be >= 0 for every item")
        return arr

    @staticmethod
    def _ragged_positions(counts: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """For the flat, item-major draws of ``counts``: each draw's item and its number in it."""
        item = np.repeat(np.arange(len(counts)), counts)
        t = np.arange(len(item), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        return item, t

    @staticmethod
    def _swap_in_rounds(
        out: NDArray[np.int64], a: NDArray[np.int64], b: NDArray[np.int64], t: NDArray[np.int64]
    ) -> None:
        """Swap ``out[a[k]]`` and ``out[b[k]]`` for every draw ``k``, in the order of ``t``.

        Each item's swaps are sequential (its ``t``-th swap sees the ones
        before); different items' swaps touch different elements, so round
        ``t`` swaps every item's ``t``-th pair at once.
        """
        if not len(t):
            return
        by_round = np.argsort(t, kind="stable")
        ends = np.cumsum(np.bincount(t))
        begin = 0
        for end in ends.tolist():
            k = by_round[begin:end]
            begin = end
            ak, bk = a[k], b[k]
            va = out[ak]
            out[ak] = out[bk]
            out[bk] = va

    def each(self, sample: Any, xs: Sequence[Any]) -> list[Any]:
        """``sample(xs[i], stream of item i)`` for every item: the per-item path, on one
        :class:`Stream` put at each item's position in turn; the counters move on by what
        it drew. For a hook to take where its numpy calls would cost more (small groups).
        """
        s = Stream(0)
        d = self.d.tolist()
        out = []
        for i, (x, base) in enumerate(zip(xs, self.base.tolist())):
            s._base, s._d, s._generator = base, d[i], None
            out.append(sample(x, s))
            d[i] = s._d
        self.d = np.array(d, dtype=np.int64)
        return out

    def stream(self, i: int) -> Stream:
        """Item ``i``'s stream at its current position (its draws then go on there)."""
        return _ItemView(self, i)


class _ItemView(Stream):
    """A :class:`Stream` of one item of a :class:`BatchStream`, sharing its counter."""

    __slots__ = ("_batch", "_i")

    def __init__(self, batch: BatchStream, i: int) -> None:
        self._batch = batch
        self._i = i
        self._base = int(batch.base[i])
        self._generator = None

    # The counter is the batch's: every draw of this view moves item i there.
    @property  # type: ignore[override]
    def _d(self) -> int:
        return int(self._batch.d[self._i])

    @_d.setter
    def _d(self, value: int) -> None:
        self._batch.d[self._i] = value


# --------------------------------------------------------------------------- seeds and coordinates


def fresh_seed() -> int:
    """A new 128-bit seed from the operating system's entropy."""
    return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]


def as_seed(seed: Any) -> int:
    """A user seed as the non-negative int the rule keys on; ``None`` draws fresh entropy.

    Accepts a non-negative integer (numpy's too) or a
    :class:`numpy.random.SeedSequence` without a spawn key (its entropy).
    A generator is not a seed: pass it as ``rng=``.
    """
    if seed is None:
        return fresh_seed()
    if isinstance(seed, np.random.SeedSequence):
        if seed.spawn_key or not isinstance(seed.entropy, int):
            raise TypeError(
                "seed may be a SeedSequence only with an int entropy and no spawn key; "
                "pass seed=int(...) or rng=np.random.default_rng(sequence)"
            )
        return seed.entropy
    if isinstance(seed, (np.random.Generator, np.random.BitGenerator, Stream)):
        raise TypeError(f"seed must be an integer >= 0; pass a {type(seed).__name__} as rng=")
    return check_int("seed", seed, low=0)


def _coordinates(epoch: int, index: int, stream: int, variant: int, attempt: int) -> None:
    check_int("epoch", epoch, low=0, high=MAX_U64)
    check_int("index", index, low=0, high=MAX_U64)
    check_int("stream", stream, low=0, high=2**STREAM_BITS - 1)
    check_int("variant", variant, low=0, high=2**VARIANT_BITS - 1)
    check_int("attempt", attempt, low=0, high=2**ATTEMPT_BITS - 1)


def item_rng(
    seed: int,
    epoch: int = 0,
    index: int = 0,
    stream: int = 0,
    *,
    variant: int = 0,
    attempt: int = 0,
) -> Stream:
    """The stream at one point of the seeding rule (module doc): what ``sample_params`` gets.

    ``op(x, rng=item_rng(seed, 0, i))`` is item ``i`` of ``op.augment_batch(xs,
    seed=seed)``; a pipeline's step ``k`` of item ``i`` draws from
    ``item_rng(seed, epoch, i, k + 1, variant=v, attempt=a)``.
    """
    _coordinates(epoch, index, stream, variant, attempt)
    w = item_word(seed_epoch_word(as_seed(seed), epoch), index, variant, attempt)
    return Stream(stream_base(w, stream))


def resolve_indices(n: int, indices: Sequence[int] | None) -> list[int]:
    """``indices`` validated (non-negative 64-bit ints, one per item), or ``range(n)``."""
    if indices is None:
        return list(range(n))
    if isinstance(indices, (str, bytes)):
        raise TypeError("indices must be a sequence of integers, one per item")
    idx = list(indices)
    for k, i in enumerate(idx):
        if type(i) is not int or not 0 <= i <= MAX_U64:  # the name is formatted only then
            idx[k] = check_int(f"indices[{k}]", i, low=0, high=MAX_U64)
    if len(idx) != n:
        raise ValueError(f"indices has {len(idx)} entries for {n} inputs")
    return idx


def check_rng(name: str, rng: Any) -> Any:
    """``rng`` if it is a numpy Generator or a :class:`Stream`, or a ``TypeError`` naming ``name``."""
    if not isinstance(rng, (np.random.Generator, Stream)):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (or an augkit Stream), got {type(rng).__name__}"
        )
    return rng


def draw_seed(rng: Any) -> int:
    """A seed drawn from a generator: how a pipeline uses ``rng=`` (and a nested step its stream)."""
    return int(rng.integers(0, 2**63))


def seeds_of(n: int, seed: Any, rngs: Sequence[Any] | None) -> int | list[int]:
    """The seed of a call (``seed=``), or one seed per item drawn from ``rngs``."""
    if rngs is None:
        return seed if type(seed) is int and seed >= 0 else as_seed(seed)
    if seed is not None:
        raise ValueError("give seed or rngs, not both")
    gens = [check_rng("rngs[]", g) for g in rngs]
    if len(gens) != n:
        raise ValueError(f"rngs has {len(gens)} generators for {n} inputs")
    return [draw_seed(g) for g in gens]


def one_rng(seed: Any, rng: Any) -> Any:
    """The generator of a single call: ``rng`` as given, or the rule at ``(seed, 0, 0, 0)``."""
    if seed is not None and rng is not None:
        raise ValueError("give seed or rng, not both")
    if rng is not None:
        return check_rng("rng", rng)
    s = seed if type(seed) is int and 0 <= seed <= _M else as_seed(seed)
    if s > _M:
        return Stream(item_word(seed_epoch_word(s, 0), 0))
    # Not through the caches: a seed per call (op(x, seed=i)) would only evict them.
    # seed_word and epoch_word of a one-limb seed, written out.
    return Stream(item_word(mix(mix(s ^ _SEED_SALT)), 0))  # stream 0 starts at the item's word


def batch_rngs(
    n: int,
    *,
    seed: Any = None,
    rngs: Sequence[Any] | None = None,
    epoch: int = 0,
    indices: Sequence[int] | None = None,
) -> list[Any]:
    """One generator per item of a batch: ``rngs`` as given, or the seeding rule."""
    if rngs is not None:
        if seed is not None or indices is not None:
            raise ValueError("give rngs, or seed (with epoch/indices), not both")
        gens = list(rngs)
        if len(gens) != n:
            raise ValueError(f"rngs has {len(gens)} generators for {n} inputs")
        return [check_rng("rngs[]", g) for g in gens]
    idx = resolve_indices(n, indices)
    ew = epoch_word(seed_word(as_seed(seed)), check_int("epoch", epoch, low=0, high=MAX_U64))
    return [Stream(stream_base(item_word(ew, i), 0)) for i in idx]
