"""Parameters and configs as plain JSON values, converted once.

The pipeline applies the converted parameters, so what a trace replays after
a JSON round trip is exactly what was applied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Convert parameters to plain JSON types (numpy scalars/arrays, tuples -> lists).

    The pipeline applies the converted parameters, so what a trace replays
    after a JSON round trip is exactly what was applied.
    """
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if not math.isfinite(value):
            raise ValueError(f"parameters must be finite to be traced, got {value}")
        return value
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise TypeError(f"parameter names must be str, got {type(k).__name__}")
            out[k] = to_jsonable(v)
        return out
    if t is list or t is tuple:
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return to_jsonable(float(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, Mapping):
        return to_jsonable(dict(value))
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot represent {type(value).__name__} in JSON parameters")
