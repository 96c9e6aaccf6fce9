"""Standard augmentation policies as plain Markov pipelines.

Each preset is an ordinary :class:`augkit.Pipeline`: its chain says the whole
policy (``describe`` prints it, ``to_dict`` saves it, ``MarkovChain.fit`` and
:func:`augkit.policy.search_policy` can start from it), nothing runs outside
the chain.

- :func:`trivial_augment`: TrivialAugment (Müller and Hutter 2021), one
  operator chosen uniformly, then stop.
- :func:`rand_augment`: RandAugment's ``N`` (Cubuk et al. 2020), exactly
  ``n`` operators drawn uniformly with repetition.
- :func:`eda`: EDA (Wei and Zou 2019), one of its word-level edits per
  augmented text.
- :func:`uda_back_translation`: UDA's (Xie et al. 2020) sampled
  back-translation.

This module knows chains and pipelines; it builds augkit's text operators
only when a text preset is called without operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..markov import MarkovChain, one_of_chain
from ..pipeline import Pipeline
from ..validation import check_fraction, check_int, check_number

__all__ = [
    "eda",
    "rand_augment",
    "rand_augment_chain",
    "trivial_augment",
    "trivial_augment_chain",
    "uda_back_translation",
]


def _operators(ops: Sequence[Any]) -> list[Any]:
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
        raise TypeError(f"ops must be a list of operators, got {type(ops).__name__}")
    if len(ops) == 0:
        raise ValueError("ops must hold at least one operator")
    return list(ops)


def trivial_augment_chain(m: int) -> MarkovChain:
    """One of ``m`` states, each with probability ``1 / m``, then stop."""
    return one_of_chain(check_int("number of operators", m, low=1))


def trivial_augment(ops: Sequence[Any], **item: Any) -> Pipeline:
    """TrivialAugment as a chain: one operator, chosen uniformly, then stop.

    Every item gets exactly one operator (TrivialAugment's magnitude is the
    operator's own parameter draw). ``item``: ``key``, ``label`` or
    ``targets``, as for :class:`augkit.Pipeline`.

    >>> from augkit import Identity
    >>> trivial_augment([Identity(), Identity()]).chain.start.tolist()
    [0.5, 0.5]
    """
    ops = _operators(ops)
    return Pipeline(ops, trivial_augment_chain(len(ops)), **item)


def rand_augment_chain(m: int, n: int = 2) -> MarkovChain:
    """Exactly ``n`` steps, each one of ``m`` states drawn uniformly (with repetition).

    Rows that never stop (each ``1 / m`` to every state) bounded by
    ``max_steps = n``: every walk has length ``n``, and the ``m ** n`` walks
    are equally likely. A chain that counts its steps in its states (``m * n``
    product states) gives the same walks; this one has ``m`` states, so its
    matrices read as the policy.
    """
    m = check_int("number of operators", m, low=1)
    n = check_int("n", n, low=1)
    return MarkovChain(np.full(m, 1.0 / m), np.full((m, m), 1.0 / m), max_steps=n)


def rand_augment(ops: Sequence[Any], n: int = 2, **item: Any) -> Pipeline:
    """RandAugment's ``N`` as a chain: exactly ``n`` operators drawn uniformly, with repetition.

    See :func:`rand_augment_chain`. ``item``: ``key``, ``label`` or
    ``targets``, as for :class:`augkit.Pipeline`.

    >>> from augkit import Identity
    >>> rand_augment([Identity(), Identity(), Identity()], n=2).expected_length()
    2.0
    """
    ops = _operators(ops)
    return Pipeline(ops, rand_augment_chain(len(ops), n), **item)


def eda(
    ops: Sequence[Any] | None = None,
    *,
    alpha: float = 0.1,
    p: float = 1.0,
    **item: Any,
) -> Pipeline:
    """An EDA-like text policy: with probability ``p``, one edit chosen uniformly, then stop.

    EDA makes each augmented sentence with one of its four operations
    (synonym replacement, random insertion, random swap, random deletion),
    each changing about ``alpha`` of the words. With ``ops`` the chain is
    over those operators; without, over augkit's nearest equivalents:

    - random insertion of WordNet synonyms,
      ``RandomInsertion(Synonyms(), rate=alpha)`` (needs WordNet, see
      :class:`augkit.text.Synonyms`);
    - random deletion, ``ChunkRecombination(unit="window", window_size=1,
      mode="splice", pool=[], rate=0.0, drop=alpha)`` (nothing spliced in,
      each word dropped with probability ``alpha``);
    - a swap of sentences, ``ChunkRecombination(unit="sentence")`` (EDA's
      random swap moves words; augkit rearranges whole chunks, never
      mid-sentence words alone).

    augkit has no synonym replacement; pass an :class:`augkit.adapters.Nlpaug`
    ``SynonymAug`` in ``ops`` for it. ``item``: as for :class:`augkit.Pipeline`.
    """
    alpha = check_fraction("alpha", alpha)
    p = check_fraction("p", p)
    if ops is None:
        from ..text import ChunkRecombination, RandomInsertion, Synonyms

        ops = [
            RandomInsertion(Synonyms(), rate=alpha),
            ChunkRecombination(
                unit="window", window_size=1, mode="splice", pool=[], rate=0.0, drop=alpha
            ),
            ChunkRecombination(unit="sentence", mode="shuffle"),
        ]
    ops = _operators(ops)
    return Pipeline(ops, one_of_chain(len(ops), p=p), **item)


def uda_back_translation(
    op: Any | None = None,
    *,
    source: str = "en",
    pivot: str = "fr",
    temperature: float = 0.9,
    p: float = 1.0,
    **item: Any,
) -> Pipeline:
    """UDA-style back-translation: with probability ``p``, one sampled round trip through ``pivot``.

    UDA paraphrases every unlabelled example by back-translation with random
    sampling at ``temperature`` 0.9 (diverse paraphrases beat beam search
    there). Without ``op`` this is ``BackTranslation(source, pivot,
    temperature=temperature)`` (MarianMT models, loaded on first use); with
    ``op`` the chain runs that operator instead (``source``, ``pivot`` and
    ``temperature`` are then unused). A one-state chain: start ``p``, then stop.
    ``item``: as for :class:`augkit.Pipeline`.
    """
    p = check_fraction("p", p)
    if op is None:
        from ..text import BackTranslation

        temperature = check_number("temperature", temperature, low=0.0, low_inclusive=False)
        op = BackTranslation(source, pivot, temperature=temperature)
    return Pipeline([op], MarkovChain([p], [[0.0]]), **item)
