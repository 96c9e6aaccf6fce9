"""What the offline model builders share: a toy-English sentence generator and a
build-once, file-locked, atomically renamed on-disk cache."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._diskcache import build_once

#: The file whose presence marks a cached build as complete (written last).
BUILD_RECORD = "augkit-build.json"


# The toy English both test models are built from; the masked LM adds words.
NOUNS = (
    "cat", "dog", "river", "teacher", "city", "garden", "letter", "window", "child",
    "market", "train", "song", "mountain", "doctor", "book", "friend", "road", "house",
    "bird", "ship", "farmer", "table", "storm", "village", "student", "lamp", "forest",
    "bridge", "painter", "clock", "island", "kitchen", "engine", "poem", "baker", "map",
)  # fmt: skip
VERBS = (
    "sees", "finds", "likes", "paints", "follows", "carries", "opens", "watches",
    "helps", "visits", "builds", "reads", "forgets", "remembers", "crosses", "sells",
    "describes", "needs", "loses", "cleans",
)  # fmt: skip
ADJECTIVES = (
    "small", "old", "green", "quiet", "bright", "heavy", "young", "strange", "warm",
    "tired", "happy", "broken", "famous", "empty", "blue", "clever",
)  # fmt: skip
DETERMINERS = ("the", "a", "every", "my", "our", "that", "one")
CONJUNCTIONS = ("and", "but", "because", "while", "so", "although")


@dataclass(frozen=True)
class Grammar:
    """Word tables and probabilities of a toy English: 'Det (Adj) Noun Verb Det Noun ...'."""

    nouns: tuple[str, ...]
    verbs: tuple[str, ...]
    adjectives: tuple[str, ...]
    adverbs: tuple[str, ...]
    determiners: tuple[str, ...]
    conjunctions: tuple[str, ...] = CONJUNCTIONS
    names: tuple[str, ...] = ("Anna", "Tom", "Maria", "Omar", "Lena", "Paul", "Yuki", "Sam")
    ends: tuple[str, ...] = (".", ".", ".", "!", "?")
    adjective_p: float = 0.4
    adverb_p: float = 0.3
    #: True: the adverb goes after the subject ("Tom often sees ..."); False: at the end.
    adverb_after_subject: bool = False
    #: Probability of a trailing "N times" (numbers in the corpus).
    times_p: float = 0.0

    def sentences(self, n: int, seed: int, min_clauses: int, max_clauses: int) -> list[str]:
        """``n`` sentences of ``min_clauses`` to ``max_clauses`` clauses, a function of ``seed``."""
        rng = np.random.default_rng(seed)

        def pick(words: tuple[str, ...]) -> str:
            return words[int(rng.integers(len(words)))]

        def phrase() -> str:
            if rng.random() < 0.15:
                return pick(self.names)
            det = pick(self.determiners)
            if rng.random() < self.adjective_p:
                adj = pick(self.adjectives)
                if det == "a" and adj[0] in "aeiou":
                    det = "an"
                return f"{det} {adj} {pick(self.nouns)}"
            return f"{det} {pick(self.nouns)}"

        def clause() -> str:
            words = [phrase(), pick(self.verbs), phrase()]
            if rng.random() < self.adverb_p:
                if self.adverb_after_subject:
                    words.insert(1, pick(self.adverbs))
                else:
                    words.append(pick(self.adverbs))
            if self.times_p and rng.random() < self.times_p:
                words.append(f"{int(rng.integers(2, 100))} times")
            return " ".join(words)

        out = []
        for _ in range(n):
            k = int(rng.integers(min_clauses, max_clauses + 1))
            parts = [clause()]
            for _ in range(k - 1):
                sep = ", " if rng.random() < 0.3 else " "
                parts.append(f"{sep}{pick(self.conjunctions)} {clause()}")
            text = "".join(parts)
            out.append(text[0].upper() + text[1:] + pick(self.ends))
        return out


def default_cache_dir() -> Path:
    """``$AUGKIT_TEST_MODELS``, else ``<repo>/.cache/augkit-test-models`` in a checkout,
    else ``~/.cache/augkit/test-models``."""
    env = os.environ.get("AUGKIT_TEST_MODELS")
    if env:
        # Absolute: a returned model path must stay valid after a chdir or as a symlink target.
        return Path(env).expanduser().resolve()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file():
        return repo / ".cache" / "augkit-test-models"
    return Path.home() / ".cache" / "augkit" / "test-models"


def is_complete(path: Path) -> bool:
    return (path / BUILD_RECORD).is_file()


def cached_build(
    prefix: str,
    settings: Mapping[str, Any],
    build: Callable[[Path], Mapping[str, Any] | object],
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """``<cache>/<prefix>-<digest of settings>``, built by ``build(tmp_dir)`` at most once.

    The build record (:data:`BUILD_RECORD`) holds the settings, what ``build``
    returns when that is a mapping (measurements of the built model), and
    the building process id.

    Safe from several processes at once (pytest-xdist workers): one builds
    under a file lock, the others wait and reuse the result. The build goes
    to a temporary directory renamed into place, so a reader never sees a
    half-written model, and a killed build leaves nothing that counts.
    """
    digest = hashlib.sha256(json.dumps(dict(settings), sort_keys=True).encode()).hexdigest()[:12]
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()

    def build_and_record(tmp: Path) -> None:
        result = build(tmp)
        measured = dict(result) if isinstance(result, Mapping) else {}
        # Who built it (process id) lets tests check that one process did.
        record = {**settings, **measured, "built_by_pid": os.getpid()}
        (tmp / BUILD_RECORD).write_text(json.dumps(record, indent=2) + "\n")

    return build_once(root / f"{prefix}-{digest}", build_and_record, is_complete)
