"""Hypothesis profiles.

``make test`` (and so CI) uses the "ci" profile: derandomized, so a run is
reproducible and a landing cannot go red on an example no earlier run saw.
``make explore`` uses "explore": fresh random examples and ten times as many,
to look for new failures on purpose.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# One thread per process (DESIGN.md: two busy processes on 2 cores slow
# torch's default threads by an order of magnitude).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# The tiny test models, built once per machine and cached on disk (see
# tests/model_builds.py for which build).


@pytest.fixture(scope="session")
def marian_dir() -> str:
    """Directory of the tiny MarianMT model (built once, cached on disk)."""
    import torch

    from augkit.testing.marian import tiny_marian
    from tests.model_builds import build_seed

    torch.set_num_threads(1)
    return str(tiny_marian(seed=build_seed()))


@pytest.fixture(scope="session")
def tiny_mlm_dir() -> Path:
    """Directory of the tiny BERT masked LM (built once, cached on disk)."""
    import torch

    from augkit.testing.masked_lm import tiny_masked_lm
    from tests.model_builds import build_seed

    torch.set_num_threads(1)
    return tiny_masked_lm(seed=build_seed())
