"""What the back-translation backends share: decoding settings, tokenizer loading, batching.

A *hop* is one translation model (source -> pivot, pivot -> source, ...)
behind a small interface, :class:`Hop`. The operator in
:mod:`augkit.text.backtranslation` chains hops; the backends
(:mod:`._translate_torch`, :mod:`._translate_ct2`) implement them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

__all__ = ["Decoding", "Hop", "derive_seed", "length_sorted_batches", "load_tokenizer"]

# Generated tokens allowed per source token, plus a constant (fairseq's
# max_len_a / max_len_b). Real translations stay below it; it stops a model
# caught in a repetition loop, which would otherwise keep its whole batch
# decoding (finished rows are computed until the last row stops) up to the
# position limit. It is per item, so it never makes an item's output depend
# on its batch.
OUTPUT_RATIO = 1.5
OUTPUT_EXTRA = 10


@dataclass(frozen=True)
class Decoding:
    """Decoding settings of one operator, passed to every generate call (never stored in a model)."""

    num_beams: int = 1
    temperature: float | None = None
    top_k: int | None = None
    batch_size: int = 32

    @property
    def sampling(self) -> bool:
        return self.temperature is not None


class Hop(Protocol):
    """One translation step."""

    model: str
    max_positions: int  # the model's position limit: inputs and outputs stay below it

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Source tokens of each text, end-of-sentence included."""
        ...

    def translate(
        self, texts: Sequence[str], seeds: Sequence[int] | None, num_return: int = 1
    ) -> list[list[str]]:
        """``num_return`` translations of each text, in input order.

        ``seeds`` (one per text) is given when sampling; the translation of
        text ``i`` is then a function of ``texts[i]`` and ``seeds[i]`` only.
        """
        ...


def output_cap(n_source_tokens: int, max_positions: int) -> int:
    """The most tokens (``</s>`` included) an item of this source length may generate."""
    return max(2, min(int(OUTPUT_RATIO * n_source_tokens) + OUTPUT_EXTRA, max_positions - 1))


def derive_seed(seed: int, *key: int) -> int:
    """A 63-bit seed for one (item seed, hop, chunk, ...) combination, by SeedSequence."""
    ss = np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))
    return int(ss.generate_state(1, np.uint64)[0]) & (2**63 - 1)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, longest first.

    Padding per batch then costs little; longest first makes a batch that
    does not fit in memory fail at once instead of at the end. The sort is
    stable, so equal lengths keep their input order.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[k : k + batch_size] for k in range(0, len(order), batch_size)]


def load_tokenizer(model: str) -> Any:
    """The (shared, cached) tokenizer of ``model``, a hub name or a local directory."""
    from transformers import AutoTokenizer

    from ..models import load_pretrained

    with quiet_sacremoses():
        return load_pretrained(AutoTokenizer.from_pretrained, model)


@contextmanager
def quiet_sacremoses() -> Iterator[None]:
    """Hide MarianTokenizer's advice to install sacremoses.

    It uses sacremoses only in an optional normalize() that translation does
    not call; the warning would repeat for every model loaded or converted.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*sacremoses.*")
        yield


def position_limit(config: Any) -> int:
    """A model config's position limit (inputs and outputs stay below it); 1024 if unset."""
    return int(getattr(config, "max_position_embeddings", None) or 1024)


def count_tokens(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Token counts with the end-of-sentence token, never truncated."""
    return [len(x) for x in encode(tokenizer, texts)]


def encode(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text with ``</s>``, never truncated (long texts are split earlier).

    ``verbose=False`` silences the "longer than the maximum" warning: a text
    is only measured here, and split before it reaches a model.
    """
    if not texts:
        return []
    return list(tokenizer(list(texts), truncation=False, verbose=False)["input_ids"])


def gumbel_noise(generator: Any, size: int) -> Any:
    """Standard Gumbel noise from ``generator`` (a seeded CPU ``torch.Generator``)."""
    import torch

    u = torch.rand(size, generator=generator, dtype=torch.float64)
    # Keep log(0) out: u in [tiny, 1 - eps].
    u = u.clamp_(min=torch.finfo(torch.float64).tiny, max=1.0 - torch.finfo(torch.float64).eps)
    return (-torch.log(-torch.log(u))).to(torch.float32)
