"""A tiny BERT-style masked language model built offline, for tests, docs and benchmarks.

The machines augkit is built on reach no model hub, so nothing here downloads.
:func:`tiny_masked_lm` returns the directory of a small ``BertForMaskedLM``
that loads through the same public path as ``"bert-base-uncased"`` does
(``AutoModelForMaskedLM.from_pretrained(directory)``, ``AutoTokenizer``
likewise), so ``MaskedLM(model=tiny_masked_lm())`` exercises exactly the code a
hub name takes:

- a WordPiece vocabulary (``vocab.txt``, lower-cased, ``##`` continuation
  pieces, ``[PAD] [UNK] [CLS] [SEP] [MASK]``): the characters and the most
  frequent words of a few KB of generated English, in an order that is the
  same in every process (see :func:`_wordpiece_vocab`);
- a ``BertConfig`` with hidden size 32 and 2 layers and *random* weights.
  Random weights are enough for insertion: what matters is the vocabulary,
  the shapes and the code path. Every weight matrix is drawn from numpy's
  generator (uniform, with the variance of BERT's initialiser), not from
  torch's ``normal_``, whose vectorised CPU kernels differ by CPU (measured:
  one seed built with AVX2 and with the baseline kernels gave different
  weights). Uniform draws are integer arithmetic and one float division,
  so the weights are the same bits on every machine; the caller's random
  state is untouched.

Building takes well under a second. The result is cached on disk, keyed by
:data:`BUILDER_VERSION` and the build settings, under ``$AUGKIT_TEST_MODELS``
or the repository's ``.cache/augkit-test-models``; a file lock plus an atomic
rename make concurrent builders (pytest-xdist workers) wait for one build
instead of racing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ._build import (
    ADJECTIVES,
    DETERMINERS,
    NOUNS,
    VERBS,
    Grammar,
    cached_build,
)

__all__ = [
    "BUILDER_VERSION",
    "build_tiny_masked_lm",
    "corpus_sentences",
    "tiny_masked_lm",
]

#: Bump when anything that changes the built model changes (corpus, vocabulary
#: training, architecture); cached models of other versions are ignored.
BUILDER_VERSION = 3

# Review-like words on top of the shared toy English, so insertions look plausible.
_GRAMMAR = Grammar(
    nouns=(
        *NOUNS,
        "film", "movie", "story", "actor", "plot", "ending", "music", "scene", "price",
        "service", "meal", "room", "hotel", "phone", "screen", "battery", "camera", "game",
    ),
    verbs=(
        *VERBS,
        "loved", "hated", "enjoyed", "praised", "recommends", "returned", "ordered",
        "bought", "broke", "fixed",
    ),
    adjectives=(
        *ADJECTIVES,
        "good", "bad", "great", "terrible", "boring", "wonderful", "slow", "fast", "cheap",
        "expensive", "friendly", "rude", "clean", "dirty", "beautiful", "awful",
    ),
    adverbs=(
        "slowly", "today", "again", "often", "quietly", "yesterday", "really", "very",
        "never", "always", "truly", "finally", "quickly", "honestly",
    ),
    determiners=(*DETERMINERS, "this", "their"),
    adjective_p=0.5,
    adverb_p=0.4,
    adverb_after_subject=True,
)  # fmt: skip


_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def corpus_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` generated English sentences (the kind the tiny model's vocabulary is built from)."""
    return _GRAMMAR.sentences(n, seed, 1, 3)


def _settings(seed: int) -> dict[str, Any]:
    return {
        "builder_version": BUILDER_VERSION,
        "seed": seed,
        "corpus_sentences": 400,
        "vocab_size": 400,
        "hidden_size": 32,
        "layers": 2,
        "heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 512,
        "vocab": "chars+frequent-words",
        "init": "numpy-uniform",
    }


def tiny_masked_lm(cache_dir: str | os.PathLike[str] | None = None, *, seed: int = 0) -> Path:
    """The directory of the tiny masked LM, built once and cached.

    Pass the returned path wherever a hub name goes (``MaskedLM(model=...)``,
    ``AutoModelForMaskedLM.from_pretrained``). Safe to call from several
    processes at once: one builds, the others wait on a file lock and reuse it.
    """
    return cached_build(
        f"bert-mlm-v{BUILDER_VERSION}",
        _settings(seed),
        lambda tmp: build_tiny_masked_lm(tmp, seed=seed),
        cache_dir,
    )


def build_tiny_masked_lm(out_dir: str | os.PathLike[str], *, seed: int = 0) -> Path:
    """Build the tiny model into ``out_dir`` (no caching; see :func:`tiny_masked_lm`)."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = _settings(seed)

    # -- vocabulary: WordPiece pieces of a few KB of generated text -------
    corpus = corpus_sentences(s["corpus_sentences"], seed=10_000 + seed)
    vocab = _wordpiece_vocab(corpus, s["vocab_size"])
    vocab_file = out / "vocab.txt"
    vocab_file.write_text("".join(tok + "\n" for tok in vocab), encoding="utf-8")
    tok_config = {
        "do_lower_case": True,
        "model_max_length": 512,
        "tokenizer_class": "BertTokenizer",
    }
    (out / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=2) + "\n")
    # Loading the files back (rather than constructing) works the same across
    # transformers 4 and 5; saving again adds the files each version expects.
    tok = BertTokenizer.from_pretrained(str(out))
    tok.save_pretrained(str(out))

    # -- model: small BertConfig, random weights from a fixed seed ---------
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=s["hidden_size"],
        num_hidden_layers=s["layers"],
        num_attention_heads=s["heads"],
        intermediate_size=s["intermediate_size"],
        max_position_embeddings=s["max_position_embeddings"],
        pad_token_id=tok.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertForMaskedLM(config)
    _reproducible_init(model, seed, std=config.initializer_range, pad_id=tok.pad_token_id)
    model.save_pretrained(str(out))
    return out


def _wordpiece_vocab(corpus: list[str], size: int) -> list[str]:
    """A WordPiece vocabulary of ``corpus``, chosen the same way in every process.

    The special tokens, every character seen (as a word and as a ``##``
    continuation, so any word of the corpus tokenizes), then whole words by
    frequency, ties broken by spelling. Words are cut as ``BertTokenizer``
    cuts them (the ``tokenizers`` library's BERT normaliser and
    pre-tokenizer). Its WordPiece *trainer* breaks frequency ties in hash
    order, which changes between processes: three builds on one machine gave
    three different vocabularies.
    """
    from collections import Counter

    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    normalizer = BertNormalizer(clean_text=True, lowercase=True, strip_accents=True)
    pre = BertPreTokenizer()
    counts = Counter(
        word for line in corpus for word, _ in pre.pre_tokenize_str(normalizer.normalize_str(line))
    )
    chars = sorted({c for word in counts for c in word})
    vocab = [*_SPECIAL, *chars, *(f"##{c}" for c in chars)]
    words = sorted((w for w in counts if len(w) > 1), key=lambda w: (-counts[w], w))
    return vocab + words[: max(0, size - len(vocab))]


def _reproducible_init(model: Any, seed: int, *, std: float, pad_id: int) -> None:
    """Redraw every weight matrix uniformly from numpy: the same bits on any CPU.

    ``U(-a, a)`` with ``a = std * sqrt(3)`` has BERT's initial variance;
    LayerNorm weights (ones) and biases (zeros) keep torch's exact constants,
    and the padding row of the embeddings stays zero.
    """
    import numpy as np
    import torch

    rng = np.random.default_rng(seed)
    half_width = std * 3.0**0.5
    with torch.no_grad():
        for _, param in model.named_parameters():  # tied weights appear once
            if param.ndim >= 2:
                draw = (rng.random(tuple(param.shape)) * 2.0 - 1.0) * half_width
                param.copy_(torch.from_numpy(draw.astype(np.float32)))
        model.get_input_embeddings().weight[pad_id].zero_()
