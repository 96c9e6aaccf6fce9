"""Shared helpers of the quality tests: real labelled data and a cheap text embedder."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np


def sample_rows() -> list[dict[str, Any]]:
    """augkit's bundled demo data: 20 product reviews labelled pos / neg."""
    path = resources.files("augkit") / "data" / "sample_texts.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def digits(
    n_per_class: int = 30, classes: Sequence[int] = (0, 1, 2)
) -> tuple[np.ndarray, list[int]]:
    """scikit-learn's handwritten digits (8 x 8 images as 64-d rows), the first of each class."""
    from sklearn.datasets import load_digits

    data = load_digits()
    rows: list[int] = []
    for c in classes:
        rows.extend(np.flatnonzero(data.target == c)[:n_per_class].tolist())
    return data.data[rows].astype(np.float64), [int(data.target[i]) for i in rows]


class HashingEmbedder:
    """Bag of hashed words (crc32), 32 dimensions: deterministic and model-free.

    For the determinism properties of filtered pipelines only (no claim of
    quality rests on it): each text's vector depends on that text alone.
    """

    dim = 32

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, zlib.crc32(w.encode()) % self.dim] += 1.0
        return out
