"""Which build of the offline test models the tests use, and how to compare builds.

``AUGKIT_TEST_MODEL_SEED`` (default 0) picks the seed the tiny models are
built from. Other seeds stand in for other machines: CPU training is not
bit-identical across CPUs, so a test that holds only for the seed-0 build of
this machine would fail elsewhere. ``make test-model-builds`` runs the
model-backed tests against several seeds and CPU kernel settings.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def build_seed() -> int:
    """The seed of the test-model builds (``$AUGKIT_TEST_MODEL_SEED``, default 0)."""
    raw = os.environ.get("AUGKIT_TEST_MODEL_SEED", "0")
    try:
        seed = int(raw)
    except ValueError:
        raise ValueError(f"AUGKIT_TEST_MODEL_SEED must be an integer >= 0, got {raw!r}") from None
    if seed < 0:
        raise ValueError(f"AUGKIT_TEST_MODEL_SEED must be an integer >= 0, got {seed}")
    return seed


def weights_digest(model_dir: str | os.PathLike[str]) -> str:
    """SHA-256 of a saved model's tensors (names, shapes, bytes) and vocabulary files."""
    from safetensors.numpy import load_file

    path = Path(model_dir)
    digest = hashlib.sha256()
    tensors = load_file(str(path / "model.safetensors"))
    for name in sorted(tensors):
        digest.update(f"{name}{tensors[name].shape}{tensors[name].dtype}".encode())
        digest.update(tensors[name].tobytes())
    for vocab in sorted(path.glob("vocab.*")):
        digest.update(vocab.read_bytes())
    return digest.hexdigest()
