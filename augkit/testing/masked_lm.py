"""A tiny BERT-style masked language model built offline, for tests, docs and benchmarks.

The machines augkit is built on reach no model hub, so nothing here downloads.
:func:`tiny_masked_lm` returns the directory of a small ``BertForMaskedLM``
that loads through the same public path as ``"bert-base-uncased"`` does
(``AutoModelForMaskedLM.from_pretrained(directory)``, ``AutoTokenizer``
likewise), so ``MaskedLM(model=tiny_masked_lm())`` exercises exactly the code a
hub name takes:

- a WordPiece vocabulary (``vocab.txt``, lower-cased, ``##`` continuation
  pieces, ``[PAD] [UNK] [CLS] [SEP] [MASK]``) trained with the ``tokenizers``
  library on a few KB of generated English;
- a ``BertConfig`` with hidden size 32 and 2 layers and *random* weights
  (drawn from a fixed seed inside :func:`torch.random.fork_rng`, so the
  caller's random state is untouched). Random weights are enough for
  insertion: what matters is the vocabulary, the shapes and the code path.

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
BUILDER_VERSION = 2

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
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = _settings(seed)

    # -- vocabulary: WordPiece trained on a few KB of generated text --------
    corpus = corpus_sentences(s["corpus_sentences"], seed=10_000 + seed)
    wp = BertWordPieceTokenizer(lowercase=True, strip_accents=True, clean_text=True)
    wp.train_from_iterator(
        corpus,
        vocab_size=s["vocab_size"],
        min_frequency=1,
        special_tokens=list(_SPECIAL),
        limit_alphabet=200,
        wordpieces_prefix="##",
        show_progress=False,
    )
    # vocab.txt in id order, as BertTokenizer reads it.
    vocab = sorted(wp.get_vocab().items(), key=lambda kv: kv[1])
    vocab_file = out / "vocab.txt"
    vocab_file.write_text("".join(tok + "\n" for tok, _ in vocab), encoding="utf-8")
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
    model.save_pretrained(str(out))
    return out
