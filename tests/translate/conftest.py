"""Fixtures of the back-translation tests: a tiny MarianMT pair built offline.

The model is built once (about a minute on one thread) and cached on disk
under ``.cache/augkit-test-models`` (or ``$AUGKIT_TEST_MODELS``); the tests
load it through the public path a hub name takes, a directory passed as
``forward_model`` / ``backward_model``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# Short texts the copy model handles in a few decoding steps.
SHORT = [
    "The cat sees a dog.",
    "My old friend reads the letter today, but Anna forgets the map.",
    "A bird sings.",
    "Our teacher visits the quiet village because the children like the river.",
    "Tom helps Maria.",
    "That clever painter sells one green lamp in May.",
]


@pytest.fixture(scope="session")
def make_bt(marian_dir: str) -> Any:
    """``make_bt(**kw)``: a BackTranslation over the tiny model on the CPU."""
    from augkit.text import BackTranslation

    def make(**kw: Any) -> Any:
        kw.setdefault("forward_model", marian_dir)
        kw.setdefault("backward_model", marian_dir)
        kw.setdefault("device", "cpu")
        return BackTranslation(**kw)

    return make


@pytest.fixture(scope="session")
def ct2_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A session-wide AUGKIT_CACHE so CTranslate2 conversions stay out of the home dir."""
    path = str(tmp_path_factory.mktemp("augkit-cache"))
    old = os.environ.get("AUGKIT_CACHE")
    os.environ["AUGKIT_CACHE"] = path
    yield path
    if old is None:
        os.environ.pop("AUGKIT_CACHE", None)
    else:
        os.environ["AUGKIT_CACHE"] = old


class EncoderCalls:
    """Counts forward calls of a model's encoder: one per ``generate`` call."""

    def __init__(self, net: Any) -> None:
        self.count = 0
        self._handle = net.get_encoder().register_forward_hook(self._hook)

    def _hook(self, *args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        self._handle.remove()
