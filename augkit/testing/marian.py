"""A tiny MarianMT model built offline, for tests, docs and benchmarks.

The machines augkit is built on reach no model hub, so nothing here downloads.
:func:`tiny_marian` returns the directory of a small MarianMT model that loads
through the same public path as ``"Helsinki-NLP/opus-mt-en-de"`` does
(``MarianMTModel.from_pretrained(directory)``, ``MarianTokenizer`` likewise):

- a sentencepiece model trained on a few KB of generated English
  (``source.spm`` = ``target.spm``, one shared vocabulary as in opus-mt);
- ``vocab.json`` with the opus-mt layout: ``</s>`` = 0, ``<unk>`` = 1, the
  pieces, ``<pad>`` last, and ``decoder_start_token_id`` = pad id. Tools
  written for the real models (CTranslate2's converter) assume this layout;
- a ``MarianConfig`` with ``d_model`` 64 and 2 encoder / 2 decoder layers,
  trained for a few hundred steps on a copy task. A random-weight model never
  emits ``</s>`` and runs every output to the length limit; the trained one
  stops on its own and returns noisy near-copies, which behaves like a real
  back-translation for tests and benchmarks.

Building takes about a minute on one CPU thread. The result is cached on
disk, keyed by :data:`BUILDER_VERSION` and the build settings, under
``$AUGKIT_TEST_MODELS`` or the repository's ``.cache/augkit-test-models``;
a file lock plus an atomic rename make concurrent builders (pytest-xdist
workers) wait for one build instead of racing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ._build import (
    ADJECTIVES,
    DETERMINERS,
    NOUNS,
    VERBS,
    Grammar,
    cached_build,
    default_cache_dir,
)

__all__ = [
    "BUILDER_VERSION",
    "build_tiny_marian",
    "default_cache_dir",
    "sample_sentences",
    "tiny_marian",
]

#: Bump when anything that changes the built model changes (corpus, layout,
#: architecture, training); cached models of other versions are ignored.
BUILDER_VERSION = 1

_GRAMMAR = Grammar(
    nouns=NOUNS,
    verbs=VERBS,
    adjectives=ADJECTIVES,
    adverbs=("slowly", "today", "again", "often", "quietly", "yesterday", "at night", "in May"),
    determiners=DETERMINERS,
    times_p=0.1,
)


def sample_sentences(
    n: int, seed: int = 0, *, min_clauses: int = 1, max_clauses: int = 4
) -> list[str]:
    """``n`` generated English sentences of mixed length (1 to 4 clauses by default).

    The same generator wrote the tiny model's training corpus; other seeds give
    held-out sentences for tests and benchmarks.
    """
    return _GRAMMAR.sentences(n, seed, min_clauses, max_clauses)


# --------------------------------------------------------------------------- cache


def _settings(seed: int, steps: int) -> dict[str, Any]:
    return {
        "builder_version": BUILDER_VERSION,
        "seed": seed,
        "steps": steps,
        "d_model": 64,
        "layers": 2,
        "heads": 4,
        "ffn_dim": 128,
        "spm_vocab_size": 320,
        "corpus_sentences": 300,
        "train_sentences": 4000,
        "batch_size": 32,
        "lr": 4e-3,
    }


def tiny_marian(
    cache_dir: str | os.PathLike[str] | None = None, *, seed: int = 0, steps: int = 500
) -> Path:
    """The directory of the tiny English->English MarianMT model, built once and cached.

    Pass the returned path wherever a hub name goes (``forward_model=``,
    ``MarianMTModel.from_pretrained``). Safe to call from several processes at
    once: one builds, the others wait on a file lock and reuse the result.
    """
    return cached_build(
        f"marian-copy-v{BUILDER_VERSION}",
        _settings(seed, steps),
        lambda tmp: build_tiny_marian(tmp, seed=seed, steps=steps),
        cache_dir,
    )


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


# --------------------------------------------------------------------------- build


def build_tiny_marian(
    out_dir: str | os.PathLike[str], *, seed: int = 0, steps: int = 500, threads: int = 1
) -> Path:
    """Build the tiny model into ``out_dir`` (no caching; see :func:`tiny_marian`).

    Training uses its own torch generator state (``torch.random.fork_rng``),
    so the caller's global random state is left as it was.
    """
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = _settings(seed, steps)

    # -- tokenizer: sentencepiece on a few KB of generated text ------------
    corpus = sample_sentences(s["corpus_sentences"], seed=10_000 + seed)
    work = Path(tempfile.mkdtemp(prefix="spm-", dir=out))
    try:
        text_file = work / "corpus.txt"
        text_file.write_text("\n".join(corpus) + "\n", encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(text_file),
            model_prefix=str(work / "spm"),
            vocab_size=s["spm_vocab_size"],
            model_type="unigram",
            character_coverage=1.0,
            hard_vocab_limit=False,
            num_threads=1,
            seed_sentencepiece_size=100_000,
            minloglevel=2,
        )
        shutil.copyfile(work / "spm.model", out / "source.spm")
        shutil.copyfile(work / "spm.model", out / "target.spm")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    proc = spm.SentencePieceProcessor(model_file=str(out / "source.spm"))
    pieces = [
        proc.id_to_piece(i)
        for i in range(proc.get_piece_size())
        if not (proc.is_control(i) or proc.is_unknown(i))
    ]
    # The opus-mt layout: </s> first, <unk> second, <pad> last.
    vocab = {"</s>": 0, "<unk>": 1}
    for p in pieces:
        vocab.setdefault(p, len(vocab))
    vocab["<pad>"] = len(vocab)
    pad_id = vocab["<pad>"]
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1), "utf-8")
    tok_config = {
        "source_lang": "en",
        "target_lang": "en",
        "unk_token": "<unk>",
        "eos_token": "</s>",
        "pad_token": "<pad>",
        "model_max_length": 512,
        "separate_vocabs": False,
        "tokenizer_class": "MarianTokenizer",
    }
    (out / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=2) + "\n")
    special = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    (out / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")

    # -- model: small MarianConfig, copy task -----------------------------
    config = MarianConfig(
        vocab_size=len(vocab),
        decoder_vocab_size=len(vocab),
        d_model=s["d_model"],
        encoder_layers=s["layers"],
        decoder_layers=s["layers"],
        encoder_attention_heads=s["heads"],
        decoder_attention_heads=s["heads"],
        encoder_ffn_dim=s["ffn_dim"],
        decoder_ffn_dim=s["ffn_dim"],
        max_position_embeddings=512,
        activation_function="swish",
        scale_embedding=True,
        dropout=0.1,
        pad_token_id=pad_id,
        eos_token_id=0,
        forced_eos_token_id=0,
        decoder_start_token_id=pad_id,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
    )
    train = sample_sentences(s["train_sentences"], seed=20_000 + seed)
    with _torch_threads(threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model: Any = MarianMTModel(config)
        tok = _quiet_tokenizer(MarianTokenizer, out)
        _train_copy(
            model, tok, train, steps=steps, batch_size=s["batch_size"], lr=s["lr"], seed=seed
        )
    model.eval()
    # Generation defaults as in the real opus-mt checkpoints (beam 4, pad banned);
    # augkit passes its own settings to generate() and must not rely on these.
    model.generation_config.num_beams = 4
    model.generation_config.max_length = 512
    model.generation_config.bad_words_ids = [[pad_id]]
    model.generation_config.decoder_start_token_id = pad_id
    model.generation_config.forced_eos_token_id = 0
    model.save_pretrained(out)
    return out


def _quiet_tokenizer(cls: Any, path: Path) -> Any:
    from ..text._translate_common import quiet_sacremoses

    with quiet_sacremoses():
        return cls.from_pretrained(str(path))


def _train_copy(
    model: Any, tok: Any, sentences: list[str], *, steps: int, batch_size: int, lr: float, seed: int
) -> None:
    """Teach ``model`` to copy its input: short training, so copies stay a bit noisy."""
    import torch

    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: min(1.0, (k + 1) / 30) * max(0.1, 1 - k / steps)
    )
    _zero_pad_row(model, tok.pad_token_id)
    model.train()
    for _ in range(steps):
        idx = rng.integers(len(sentences), size=batch_size)
        batch = [sentences[int(i)] for i in idx]
        enc = tok(batch, text_target=batch, padding=True, return_tensors="pt")
        labels = enc["labels"]
        labels[labels == tok.pad_token_id] = -100
        loss = model(
            input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], labels=labels
        ).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        _zero_pad_row(model, tok.pad_token_id)


def _zero_pad_row(model: Any, pad_id: int) -> None:
    """Keep the ``<pad>`` embedding at zero, as in the real opus-mt checkpoints.

    The decoder starts from ``<pad>``; the tied output projection would
    otherwise train that row. CTranslate2's Marian converter drops the row and
    starts the decoder from a zero embedding, so a non-zero row makes the two
    backends disagree on the first token.
    """
    import torch

    with torch.no_grad():
        model.get_input_embeddings().weight[pad_id].zero_()
