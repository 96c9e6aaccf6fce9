"""Trivial operators used only by the tests, to exercise pipelines without models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from augkit import BaseAugmenter, TextAugmenter, register
from augkit.seeding import BatchStream

TOKENS = ("alpha", "beta", "gamma", "delta")


@register("test_append_token")
class AppendToken(TextAugmenter):
    """Appends one random token from ``tokens``."""

    def __init__(self, tokens: Sequence[str] = TOKENS) -> None:
        self.tokens = list(tokens)

    def sample_params(self, x: str, rng: np.random.Generator) -> dict[str, Any]:
        return {"token": self.tokens[int(rng.integers(len(self.tokens)))]}

    def sample_params_batch(self, xs: list[str], rngs: BatchStream) -> list[dict[str, Any]]:
        # The same draw for every item at once (the pipeline uses it from 24 items on).
        return [{"token": self.tokens[i]} for i in rngs.integers(0, len(self.tokens)).tolist()]

    def apply(self, x: str, params: dict[str, Any]) -> str:
        return f"{x} {params['token']}" if x else params["token"]


@register("test_drop_char")
class DropChar(TextAugmenter):
    """Removes the character at a random position (nothing for empty text)."""

    def sample_params(self, x: str, rng: np.random.Generator) -> dict[str, Any]:
        return {"pos": int(rng.integers(len(x))) if x else None}

    def apply(self, x: str, params: dict[str, Any]) -> str:
        pos = params["pos"]
        return x if pos is None else x[:pos] + x[pos + 1 :]


@register("test_scale")
class Scale(BaseAugmenter):
    """Multiplies a number or array by a random factor in ``[low, high]``."""

    def __init__(self, low: float = 0.5, high: float = 2.0) -> None:
        if not low <= high:
            raise ValueError(f"low must be <= high, got low={low}, high={high}")
        self.low = low
        self.high = high

    def sample_params(self, x: Any, rng: np.random.Generator) -> dict[str, Any]:
        return {"factor": float(rng.uniform(self.low, self.high))}

    def apply(self, x: Any, params: dict[str, Any]) -> Any:
        return x * params["factor"]


@register("test_counting")
class Counting(TextAugmenter):
    """Uppercases a random character and counts how often apply/apply_batch run."""

    def __init__(self) -> None:
        self.batch_calls: list[int] = []
        self.apply_calls = 0

    def sample_params(self, x: str, rng: np.random.Generator) -> dict[str, Any]:
        return {"pos": int(rng.integers(len(x))) if x else None}

    def apply(self, x: str, params: dict[str, Any]) -> str:
        self.apply_calls += 1
        pos = params["pos"]
        return x if pos is None else x[:pos] + x[pos].upper() + x[pos + 1 :]

    def _apply_batch(self, xs: list[str], params: list[dict[str, Any]]) -> list[str]:
        self.batch_calls.append(len(xs))
        return [
            x if p["pos"] is None else x[: p["pos"]] + x[p["pos"]].upper() + x[p["pos"] + 1 :]
            for x, p in zip(xs, params)
        ]


class Append:
    """The minimal operator of issue 10: the protocol only, no augkit base class, no registration.

    Its ``__call__`` and ``augment_batch`` are stubs, as in the issue: augkit must not call them.
    """

    modality = "text"

    def __init__(self, ch: str) -> None:
        self.ch, self.name = ch, f"append_{ch}"

    def sample_params(self, x: str, rng: np.random.Generator) -> dict[str, Any]:
        return {"k": int(rng.integers(1, 3))}

    def apply(self, x: str, params: dict[str, Any]) -> str:
        return x + self.ch * params["k"]

    def __call__(self, x: Any, *, seed: Any = None, rng: Any = None) -> Any: ...

    def augment_batch(self, xs: Any, *, seed: Any = None, rngs: Any = None) -> Any: ...
