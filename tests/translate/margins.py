"""Token-level comparison of two greedy decoders of the same Marian model.

An agreement *rate* between two backends depends on how confident a given
build of the tiny model is, and CPU training differs between machines. What
holds for every build is local: where two greedy decoders of one model part
ways, the first differing token is a choice the reference (torch, float32)
model itself barely makes. Its logit margin between the two tokens there is
at most the other backend's deviation from it on those two tokens, because
that backend took the other token by its own scores:

    lf(a) >= lf(b)  and  lq(b) >= lq(a)
    =>  lf(a) - lf(b) <= (lf(a) - lq(a)) + (lq(b) - lf(b)) <= |da| + |db|

with ``lf``/``lq`` the log-probabilities of the reference and the other
backend at that position (the normalisers cancel). :func:`divergence` finds
that position and the quantities; the tests assert the inequality, and for
a float32 conversion also that the deviations themselves are rounding-sized.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Divergence:
    """Where two greedy outputs first differ, and how strongly each model prefers its token."""

    position: int
    reference_token: int
    other_token: int
    #: lf(a) - lf(b) >= 0: the reference model's preference for its own token.
    reference_margin: float
    #: |lq(a) - lf(a)| + |lq(b) - lf(b)|: the other backend's deviation on the two tokens.
    deviation: float


def source_ids(hop: Any, text: str) -> list[int]:
    return list(hop.tokenizer([text], truncation=False)["input_ids"][0])


def torch_greedy(hop: Any, text: str) -> list[int]:
    """The generated ids of a :class:`~augkit.text._translate_torch.TorchHop` (start token dropped).

    The same ``generate`` call as the hop makes for one item; the test checks
    that it decodes to the hop's own output.
    """
    import torch
    from transformers import LogitsProcessorList

    from augkit.text._translate_common import output_cap
    from augkit.text._translate_torch import ItemwiseProcessor

    ids = source_ids(hop, text)
    cap = output_cap(len(ids), hop.max_positions)
    processor = ItemwiseProcessor(caps=[cap], eos_id=hop.eos_id)
    with torch.inference_mode():
        out = hop.net.generate(
            input_ids=torch.tensor([ids]),
            attention_mask=torch.ones((1, len(ids)), dtype=torch.long),
            num_beams=1,
            do_sample=False,
            max_length=cap + 1,
            logits_processor=LogitsProcessorList([processor]),
        )[0].tolist()[1:]
    # Rows end with </s>; anything after it would be padding of a batch.
    return out[: out.index(hop.eos_id) + 1] if hop.eos_id in out else out


def ct2_greedy(hop: Any, text: str) -> list[int]:
    """The generated ids of a :class:`~augkit.text._translate_ct2.CT2Hop` (``</s>`` appended)."""
    from augkit.text._translate_common import output_cap

    tok = hop.tokenizer
    ids = source_ids(hop, text)
    cap = output_cap(len(ids), hop.max_positions)
    result = hop.translator.translate_batch(
        [tok.convert_ids_to_tokens(ids)],
        beam_size=1,
        max_input_length=0,
        max_decoding_length=cap,
    )[0]
    hyp = tok.convert_tokens_to_ids(result.hypotheses[0][: cap - 1])
    return [*hyp, tok.eos_token_id]


def reference_log_probs(hop: Any, text: str, target: Sequence[int]) -> Any:
    """log-softmax of the torch model for every position of ``target`` (teacher forcing).

    Row ``t`` is the distribution of token ``t`` given ``target[:t]``; ``<pad>``
    is left out, as ``generate`` bans it (the model's ``bad_words_ids``) and
    CTranslate2's converted vocabulary has no such choice either.
    """
    import torch

    net = hop.net
    start = net.config.decoder_start_token_id
    with torch.inference_mode():
        logits = (
            net(
                input_ids=torch.tensor([source_ids(hop, text)]),
                decoder_input_ids=torch.tensor([[start, *target]]),
            )
            .logits[0, : len(target)]
            .float()
        )
        logits[:, hop.pad_id] = float("-inf")
        return logits.log_softmax(-1)


def ct2_log_prob(hop: Any, text: str, prefix: Sequence[int], token: int) -> float:
    """The CTranslate2 model's log-probability of ``token`` after ``prefix``."""
    tok = hop.tokenizer
    result = hop.translator.score_batch(
        [tok.convert_ids_to_tokens(source_ids(hop, text))],
        [tok.convert_ids_to_tokens([*prefix, token])],
        max_input_length=0,
    )[0]
    return float(result.log_probs[len(prefix)])  # the last entry is </s>'s


def ct2_scores(hop: Any, text: str, target: Sequence[int]) -> list[float]:
    """CTranslate2's log-probabilities of every token of ``target`` (which ends with </s>)."""
    tok = hop.tokenizer
    body = [t for t in target if t != tok.eos_token_id]
    result = hop.translator.score_batch(
        [tok.convert_ids_to_tokens(source_ids(hop, text))],
        [tok.convert_ids_to_tokens(body)],
        max_input_length=0,
    )[0]
    return [float(v) for v in result.log_probs]


def divergence(
    torch_hop: Any, ct2_hop: Any, text: str, reference: list[int], other: list[int]
) -> Divergence | None:
    """The first position where ``other`` (CTranslate2's ids) leaves ``reference`` (torch's)."""
    k = next((t for t, (a, b) in enumerate(zip(reference, other)) if a != b), None)
    if k is None:
        return None
    a, b = reference[k], other[k]
    lf = reference_log_probs(torch_hop, text, reference[: k + 1])[k]
    la, lb = (
        ct2_log_prob(ct2_hop, text, reference[:k], a),
        ct2_log_prob(ct2_hop, text, reference[:k], b),
    )
    return Divergence(
        position=k,
        reference_token=a,
        other_token=b,
        reference_margin=float(lf[a] - lf[b]),
        deviation=abs(la - float(lf[a])) + abs(lb - float(lf[b])),
    )
