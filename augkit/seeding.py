"""The seeding rule: every random draw of augkit comes from a counter-based stream here.

The randomness used for one item is a function of its *coordinates* only:

``(seed, epoch, index, variant, attempt, stream)``

never of the batch the item is in, the worker that runs it, or the order of
calls. ``seed`` goes through :class:`numpy.random.SeedSequence` to a 128-bit
key of the counter-based Philox generator; the other coordinates select a
disjoint block of its counter space:

- ``epoch`` and ``index`` (64 bits each) name the item of an epoch;
- ``variant`` (24 bits) is the ``v``-th of ``n`` outputs asked for one item
  (``augment(x, n=3)``, ``AugmentedDataset(views=3)``, the command's ``--n``);
- ``attempt`` (16 bits) is a redraw of that variant (``distinct=True``, or a
  quality filter rejecting it);
- ``stream`` (24 bits) is the consumer: a pipeline samples an item's path
  from stream 0 and the parameters of its ``k``-th step from stream ``k + 1``;
  a stand-alone operator uses stream 0.

Variant 0, attempt 0 is the counter layout of augkit 0.1, so outputs that do
not ask for variants are the same as before. Re-positioning one Philox
object costs under a microsecond where building a SeedSequence-seeded
generator per item costs about 12 (:class:`ItemStreams`).

This module is the one coercion point for seeds (:func:`as_seed`) and for
``seed=`` / ``rng=`` arguments (:func:`one_rng`): an integer seed means "the
seeding rule, at these coordinates"; a generator means "draw from this one".
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from .validation import MAX_U64, check_int

__all__ = [
    "ATTEMPT_BITS",
    "STREAM_BITS",
    "VARIANT_BITS",
    "ItemStreams",
    "as_seed",
    "batch_rngs",
    "check_rng",
    "draw_seed",
    "fresh_seed",
    "give_back_streams",
    "item_rng",
    "one_rng",
    "resolve_indices",
    "seed_key",
    "seeds_of",
    "take_streams",
]

STREAM_BITS = 24
VARIANT_BITS = 24
ATTEMPT_BITS = 16
_VARIANT_SHIFT = STREAM_BITS
_ATTEMPT_SHIFT = STREAM_BITS + VARIANT_BITS


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
    if isinstance(seed, (np.random.Generator, np.random.BitGenerator)):
        raise TypeError(f"seed must be an integer >= 0; pass a {type(seed).__name__} as rng=")
    return check_int("seed", seed, low=0)


@lru_cache(maxsize=1024)
def seed_key(seed: int) -> tuple[int, int]:
    """The 128-bit Philox key of a user seed, drawn through :class:`~numpy.random.SeedSequence`."""
    words = np.random.SeedSequence(as_seed(seed)).generate_state(2, np.uint64)
    return int(words[0]), int(words[1])


def _stream_word(stream: int, variant: int, attempt: int) -> int:
    return (
        check_int("stream", stream, low=0, high=2**STREAM_BITS - 1)
        | check_int("variant", variant, low=0, high=2**VARIANT_BITS - 1) << _VARIANT_SHIFT
        | check_int("attempt", attempt, low=0, high=2**ATTEMPT_BITS - 1) << _ATTEMPT_SHIFT
    )


def _counter(epoch: int, index: int, stream: int, variant: int, attempt: int) -> list[int]:
    # Philox counts blocks in word 0; words 1-3 name the stream. Every
    # coordinate tuple thus owns 2**64 blocks no other one touches.
    return [
        0,
        _stream_word(stream, variant, attempt),
        check_int("index", index, low=0, high=MAX_U64),
        check_int("epoch", epoch, low=0, high=MAX_U64),
    ]


def item_rng(
    seed: int,
    epoch: int = 0,
    index: int = 0,
    stream: int = 0,
    *,
    variant: int = 0,
    attempt: int = 0,
) -> np.random.Generator:
    """The :class:`~numpy.random.Generator` at one point of the seeding rule (module doc)."""
    # Explicit uint64 arrays: numpy converts a list of large Python ints
    # through float64 and would silently round the key.
    bitgen = np.random.Philox(
        counter=np.array(_counter(epoch, index, stream, variant, attempt), dtype=np.uint64),
        key=np.array(seed_key(seed), dtype=np.uint64),
    )
    return np.random.Generator(bitgen)


class ItemStreams:
    """Many items' generators from one Philox object, re-positioned in place.

    ``at(epoch, index, stream, variant, attempt)`` returns a generator in
    exactly the state of ``item_rng(seed, epoch, index, stream,
    variant=variant, attempt=attempt)``. It is the same object every time, so
    it is valid only until the next ``at`` call: hand it to one
    ``sample_params`` call at a time, never keep it. Not thread-safe; take
    one per thread from :func:`take_streams`.
    """

    __slots__ = ("_bitgen", "_counter", "_state", "generator", "seed")

    def __init__(self, seed: int) -> None:
        self.seed = as_seed(seed)
        key = np.array(seed_key(self.seed), dtype=np.uint64)
        self._bitgen = np.random.Philox(key=key)
        self.generator = np.random.Generator(self._bitgen)
        self._counter = np.zeros(4, dtype=np.uint64)
        self._state: dict[str, Any] = {
            "bit_generator": "Philox",
            "state": {"counter": self._counter, "key": key},
            "buffer": np.zeros(4, dtype=np.uint64),
            "buffer_pos": 4,
            "has_uint32": 0,
            "uinteger": 0,
        }

    def at(
        self, epoch: int, index: int, stream: int, variant: int = 0, attempt: int = 0
    ) -> np.random.Generator:
        """The generator of one stream of one item; see the class doc.

        Coordinates are trusted here (the hot path): callers validate them once.
        """
        c = self._counter
        c[0] = 0
        c[1] = stream | variant << _VARIANT_SHIFT | attempt << _ATTEMPT_SHIFT
        c[2] = index
        c[3] = epoch
        self._bitgen.state = self._state  # type: ignore[assignment]
        return self.generator


# Building a Philox generator costs ~10 µs, re-positioning one <1 µs: each
# thread keeps a few ItemStreams per seed. A caller takes its instance out of
# the pool while it runs, so a nested call with the same seed (an operator
# that runs a pipeline) builds its own instead of moving the caller's.
_pool = threading.local()


def take_streams(seed: int) -> ItemStreams:
    """An :class:`ItemStreams` for ``seed`` from this thread's pool (or a new one)."""
    cache: dict[int, ItemStreams] | None = getattr(_pool, "streams", None)
    if cache is not None:
        streams = cache.pop(seed, None)
        if streams is not None:
            return streams
    return ItemStreams(seed)


def give_back_streams(streams: ItemStreams) -> None:
    """Return an :class:`ItemStreams` taken with :func:`take_streams`."""
    cache: dict[int, ItemStreams] | None = getattr(_pool, "streams", None)
    if cache is None:
        cache = _pool.streams = {}
    if len(cache) >= 8:
        cache.pop(next(iter(cache)))
    cache[streams.seed] = streams


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


def check_rng(name: str, rng: Any) -> np.random.Generator:
    """``rng`` if it is a numpy Generator, or a ``TypeError`` naming ``name``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def draw_seed(rng: np.random.Generator) -> int:
    """A seed drawn from a generator: how a pipeline uses ``rng=`` (and a nested step its stream)."""
    return int(rng.integers(0, 2**63))


def seeds_of(n: int, seed: Any, rngs: Sequence[np.random.Generator] | None) -> int | list[int]:
    """The seed of a call (``seed=``), or one seed per item drawn from ``rngs``."""
    if rngs is None:
        return as_seed(seed)
    if seed is not None:
        raise ValueError("give seed or rngs, not both")
    gens = [check_rng("rngs[]", g) for g in rngs]
    if len(gens) != n:
        raise ValueError(f"rngs has {len(gens)} generators for {n} inputs")
    return [draw_seed(g) for g in gens]


def one_rng(seed: Any, rng: np.random.Generator | None) -> np.random.Generator:
    """The generator of a single call: ``rng`` as given, or the rule at ``(seed, 0, 0, 0)``."""
    if seed is not None and rng is not None:
        raise ValueError("give seed or rng, not both")
    if rng is not None:
        return check_rng("rng", rng)
    return item_rng(as_seed(seed))


def batch_rngs(
    n: int,
    *,
    seed: Any = None,
    rngs: Sequence[np.random.Generator] | None = None,
    epoch: int = 0,
    indices: Sequence[int] | None = None,
) -> list[np.random.Generator]:
    """One generator per item of a batch: ``rngs`` as given, or the seeding rule."""
    if rngs is not None:
        if seed is not None or indices is not None:
            raise ValueError("give rngs, or seed (with epoch/indices), not both")
        gens = list(rngs)
        if len(gens) != n:
            raise ValueError(f"rngs has {len(gens)} generators for {n} inputs")
        return [check_rng("rngs[]", g) for g in gens]
    idx = resolve_indices(n, indices)
    s = as_seed(seed)
    epoch = check_int("epoch", epoch, low=0, high=MAX_U64)
    return [item_rng(s, epoch, i) for i in idx]
