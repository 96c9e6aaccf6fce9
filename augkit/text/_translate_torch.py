"""The torch backend of back-translation: ``transformers`` seq2seq models and ``generate``.

Batches are sorted by token length and padded per batch; decoding settings
go to ``generate`` as arguments, so the shared, cached model is never
modified. One logits processor does the per-item work that makes an item's
output independent of its batch: seeded Gumbel-max sampling and a length cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._translate_common import (
    Decoding,
    count_tokens,
    encode,
    gumbel_noise,
    length_sorted_batches,
    load_tokenizer,
    output_cap,
    position_limit,
)

__all__ = ["TorchHop"]


class TorchHop:
    """One translation model run with torch (see :class:`~._translate_common.Hop`)."""

    def __init__(self, model: str, *, device: str, dtype: Any, decoding: Decoding) -> None:
        from transformers import AutoModelForSeq2SeqLM

        from ..models import load_pretrained

        self.model = model
        self.device = device
        self.decoding = decoding
        self.tokenizer = load_tokenizer(model)
        self.net = load_pretrained(
            AutoModelForSeq2SeqLM.from_pretrained, model, device=device, dtype=dtype
        )
        config = self.net.config
        self.max_positions = position_limit(config)
        eos = self.net.generation_config.eos_token_id
        if eos is None:
            eos = config.eos_token_id
        self.eos_id = int(eos[0] if isinstance(eos, (list, tuple)) else eos)
        pad = self.tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else config.pad_token_id)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return count_tokens(self.tokenizer, texts)

    def translate(
        self, texts: Sequence[str], seeds: Sequence[int] | None, num_return: int = 1
    ) -> list[list[str]]:
        import torch
        from transformers import LogitsProcessorList

        dec = self.decoding
        if seeds is not None and len(seeds) != len(texts):
            raise ValueError(f"got {len(seeds)} seeds for {len(texts)} texts")
        if not texts:
            return []
        ids = encode(self.tokenizer, texts)
        lengths = [len(x) for x in ids]
        out: list[list[str]] = [[] for _ in texts]
        num_beams = max(dec.num_beams, num_return)
        for batch in length_sorted_batches(lengths, dec.batch_size):
            width = max(lengths[i] for i in batch)
            input_ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                input_ids[row, : lengths[i]] = torch.as_tensor(ids[i])
                mask[row, : lengths[i]] = 1
            caps = [output_cap(lengths[i], self.max_positions) for i in batch]
            processor = ItemwiseProcessor(
                caps=caps,
                eos_id=self.eos_id,
                rows_per_item=num_beams,
                seeds=None if seeds is None else [seeds[i] for i in batch],
                temperature=dec.temperature,
                top_k=dec.top_k,
            )
            with torch.inference_mode():
                generated = self.net.generate(
                    input_ids=input_ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    num_beams=num_beams,
                    num_return_sequences=num_return,
                    do_sample=False,
                    # max_length counts the decoder start token; the processor
                    # enforces each item's own cap below this batch maximum.
                    max_length=max(caps) + 1,
                    logits_processor=LogitsProcessorList([processor]),
                )
            decoded = self.tokenizer.batch_decode(generated.cpu(), skip_special_tokens=True)
            for row, i in enumerate(batch):
                out[i] = [t.strip() for t in decoded[row * num_return : (row + 1) * num_return]]
        return out


class ItemwiseProcessor:
    """Per-item logits processing inside a batched ``generate``.

    Row ``r`` of the batch belongs to item ``r // rows_per_item`` (beam search
    expands each item into contiguous rows). For each item it

    - samples, when ``temperature`` is set, by the Gumbel-max trick:
      ``argmax(logits / T + G)`` with ``G`` standard Gumbel noise is a draw
      from ``softmax(logits / T)``, and ``generate`` takes the argmax. ``G``
      comes from a generator seeded with the item's own seed, one draw per
      step, so the token chosen at step ``t`` depends on the item and its
      seed only, not on the other rows of the batch;
    - forces ``</s>`` once the item has used all but one of its ``caps``
      tokens, so a model that never stops is cut at a length that depends on
      the item alone (a batch-wide limit would make it depend on the batch).

    This is a plain callable rather than a ``transformers.LogitsProcessor``
    subclass so the module imports without transformers; ``generate`` only
    calls it.
    """

    def __init__(
        self,
        *,
        caps: Sequence[int],
        eos_id: int,
        rows_per_item: int = 1,
        seeds: Sequence[int] | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
    ) -> None:
        if seeds is not None and temperature is None:
            raise ValueError("seeds are only used when sampling (temperature set)")
        if temperature is not None and seeds is None:
            raise ValueError("sampling needs one seed per item")
        self.caps = list(caps)
        self.eos_id = eos_id
        self.rows_per_item = rows_per_item
        self.seeds = None if seeds is None else list(seeds)
        self.temperature = temperature
        self.top_k = top_k
        self._generators: list[Any] | None = None
        self._caps: Any = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        scores = scores.float()
        rows = scores.shape[0]
        if self.temperature is not None:
            assert self.seeds is not None
            if self._generators is None:
                self._generators = [torch.Generator().manual_seed(s) for s in self.seeds]
            if rows != len(self._generators) * self.rows_per_item:
                raise RuntimeError(f"expected {len(self._generators)} items, got {rows} rows")
            scores = scores / self.temperature
            if self.top_k is not None and self.top_k < scores.shape[-1]:
                kth = torch.topk(scores, self.top_k, dim=-1).values[:, -1:]
                scores = scores.masked_fill(scores < kth, float("-inf"))
            noise = torch.stack(
                [gumbel_noise(g, scores.shape[-1]) for g in self._generators]
            ).repeat_interleave(self.rows_per_item, dim=0)
            scores = scores + noise.to(scores.device)
        generated = input_ids.shape[1] - 1  # the decoder start token is not generated
        if self._caps is None:
            self._caps = torch.tensor(self.caps, device=scores.device).repeat_interleave(
                self.rows_per_item
            )
        at_cap = generated >= self._caps - 1
        if bool(at_cap.any()):
            forced = torch.full_like(scores[0], float("-inf"))
            forced[self.eos_id] = 0.0
            scores = torch.where(at_cap[:, None], forced[None, :], scores)
        return scores
