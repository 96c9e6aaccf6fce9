"""Small operators and a deterministic text embedder for the policy tests."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from augkit import BaseAugmenter, register
from augkit.seeding import Rng


@register("policy_test_tag")
class Tag(BaseAugmenter):
    """Appends its tag (and a random digit) to a text: which operators ran, in order."""

    modality = "text"
    name = "policy_test_tag"

    def __init__(self, tag: str = "a") -> None:
        self.tag = tag

    def get_config(self) -> dict[str, Any]:
        return {"tag": self.tag}

    def sample_params(self, x: Any, rng: Rng) -> dict[str, Any]:
        return {"digit": int(rng.integers(10))}

    def apply(self, x: Any, params: dict[str, Any]) -> Any:
        return f"{x} {self.tag}{params['digit']}"


class NgramEmbedder:
    """Hashed character-trigram counts of each word, L2-normalised: deterministic, numpy only."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim))
        for i, text in enumerate(texts):
            for word in text.lower().split():
                padded = f"#{word}#"
                for k in range(len(padded) - 2):
                    out[i, zlib.crc32(padded[k : k + 3].encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
