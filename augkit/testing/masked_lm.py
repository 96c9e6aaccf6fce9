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

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "BUILDER_VERSION",
    "build_tiny_masked_lm",
    "corpus_sentences",
    "tiny_masked_lm",
]

#: Bump when anything that changes the built model changes (corpus, vocabulary
#: training, architecture); cached models of other versions are ignored.
BUILDER_VERSION = 1

_NOUNS = (
    "cat", "dog", "river", "teacher", "city", "garden", "letter", "window", "child",
    "market", "train", "song", "mountain", "doctor", "book", "friend", "road", "house",
    "bird", "ship", "farmer", "table", "storm", "village", "student", "lamp", "forest",
    "bridge", "painter", "clock", "island", "kitchen", "engine", "poem", "baker", "map",
    "film", "movie", "story", "actor", "plot", "ending", "music", "scene", "price",
    "service", "meal", "room", "hotel", "phone", "screen", "battery", "camera", "game",
)  # fmt: skip
_VERBS = (
    "sees", "finds", "likes", "paints", "follows", "carries", "opens", "watches",
    "helps", "visits", "builds", "reads", "forgets", "remembers", "crosses", "sells",
    "describes", "needs", "loses", "cleans", "loved", "hated", "enjoyed", "praised",
    "recommends", "returned", "ordered", "bought", "broke", "fixed",
)  # fmt: skip
_ADJS = (
    "small", "old", "green", "quiet", "bright", "heavy", "young", "strange", "warm",
    "tired", "happy", "broken", "famous", "empty", "blue", "clever", "good", "bad",
    "great", "terrible", "boring", "wonderful", "slow", "fast", "cheap", "expensive",
    "friendly", "rude", "clean", "dirty", "beautiful", "awful",
)  # fmt: skip
_ADVS = (
    "slowly", "today", "again", "often", "quietly", "yesterday", "really", "very",
    "never", "always", "truly", "finally", "quickly", "honestly",
)  # fmt: skip
_DETS = ("the", "a", "every", "my", "our", "that", "one", "this", "their")
_CONJ = ("and", "but", "because", "while", "so", "although")
_NAMES = ("Anna", "Tom", "Maria", "Omar", "Lena", "Paul", "Yuki", "Sam")
_ENDS = (".", ".", ".", "!", "?")

_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def corpus_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` generated English sentences (the kind the tiny model's vocabulary is built from)."""
    rng = np.random.default_rng(seed)

    def pick(words: tuple[str, ...]) -> str:
        return words[int(rng.integers(len(words)))]

    def phrase() -> str:
        if rng.random() < 0.15:
            return pick(_NAMES)
        det = pick(_DETS)
        if rng.random() < 0.5:
            adj = pick(_ADJS)
            if det == "a" and adj[0] in "aeiou":
                det = "an"
            return f"{det} {adj} {pick(_NOUNS)}"
        return f"{det} {pick(_NOUNS)}"

    def clause() -> str:
        words = [phrase(), pick(_VERBS), phrase()]
        if rng.random() < 0.4:
            words.insert(1, pick(_ADVS))
        return " ".join(words)

    out = []
    for _ in range(n):
        parts = [clause()]
        for _ in range(int(rng.integers(0, 3))):
            sep = ", " if rng.random() < 0.3 else " "
            parts.append(f"{sep}{pick(_CONJ)} {clause()}")
        text = "".join(parts)
        out.append(text[0].upper() + text[1:] + pick(_ENDS))
    return out


def default_cache_dir() -> Path:
    """``$AUGKIT_TEST_MODELS``, else ``<repo>/.cache/augkit-test-models`` in a checkout,
    else ``~/.cache/augkit/test-models`` (the same place as the tiny Marian model)."""
    env = os.environ.get("AUGKIT_TEST_MODELS")
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file():
        return repo / ".cache" / "augkit-test-models"
    return Path.home() / ".cache" / "augkit" / "test-models"


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
    from filelock import FileLock

    settings = _settings(seed)
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = root / f"bert-mlm-v{BUILDER_VERSION}-{digest}"
    if _complete(target):
        return target
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if _complete(target):  # another process built it while we waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=root))
        try:
            build_tiny_masked_lm(tmp, seed=seed)
            # Written last: its presence is what marks a build as complete.
            (tmp / "augkit-build.json").write_text(json.dumps(settings, indent=2) + "\n")
            if target.exists():  # a partial leftover of a killed build
                shutil.rmtree(target)
            os.replace(tmp, target)  # atomic: readers see nothing or everything
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _complete(path: Path) -> bool:
    return (path / "augkit-build.json").is_file()


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
