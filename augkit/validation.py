"""Argument checks shared by every module: one place for each rule and its error text.

Each ``check_*`` returns the value in its canonical type or raises
``TypeError`` (wrong kind) / ``ValueError`` (wrong value) with a message
that names the argument, the allowed range and what was given.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "MAX_U64",
    "check_batch",
    "check_bool",
    "check_choice",
    "check_fraction",
    "check_int",
    "check_number",
]

#: The largest value of a 64-bit coordinate (epoch, index) of the seeding rule.
MAX_U64 = 2**64 - 1


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a float, or raise naming ``name`` and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    lo = "[" if low_inclusive else "("
    hi = "]" if high_inclusive else ")"
    rng = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if math.isnan(v):
        raise ValueError(f"{name} must be in {rng}, got NaN")
    too_low = low is not None and (v < low or (v == low and not low_inclusive))
    too_high = high is not None and (v > high or (v == high and not high_inclusive))
    if too_low or too_high:
        raise ValueError(f"{name} must be in {rng}, got {value!r}")
    return v


def check_fraction(name: str, value: Any) -> float:
    """A probability or rate in [0, 1]."""
    return check_number(name, value, low=0.0, high=1.0)


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the allowed range."""
    # The common case first: it is on the per-item path of every pipeline call.
    if type(value) is int and (low is None or value >= low) and (high is None or value <= high):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        rng = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ValueError(f"{name} must be an integer in {rng}, got {v}")
    return v


def check_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    """``value`` if it is one of the ``allowed`` names, or raise naming ``name`` and them."""
    choices = ", ".join(repr(a) for a in allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}; got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def check_batch(name: str, xs: Any, *, one: str = "op(x)") -> list[Any]:
    """A batch as a list of its items; a str, bytes or mapping is one item, not a batch.

    Iterating ``"abc"`` would augment three one-character texts, and a dict
    its keys: both are a ``TypeError`` that names ``one``, the call for a
    single item.
    """
    if isinstance(xs, (str, bytes, bytearray, Mapping)):
        what = "a mapping" if isinstance(xs, Mapping) else type(xs).__name__
        raise TypeError(
            f"{name} must be a sequence of items such as a list, got {what}; "
            f"for one item use {one} or pass [x]"
        )
    try:
        return list(xs)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of items such as a list, got {type(xs).__name__}"
        ) from None


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a bool (numpy's too), or a ``TypeError`` naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be a bool (True or False), got {type(value).__name__}")
