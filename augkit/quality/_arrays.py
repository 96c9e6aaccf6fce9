"""Checks shared by the quality modules: embeddings, labels and their agreement.

One place for each rule and its error text: every public function of
:mod:`augkit.quality` that takes embeddings or labels checks them here, so
a NaN, a ragged batch, an empty input or a length mismatch is the same
``ValueError`` / ``TypeError`` everywhere, naming the parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def as_embeddings(name: str, x: Any, *, dim: int | None = None, allow_empty: bool = False) -> F64:
    """``x`` as a finite float64 matrix ``(n, d)``; a single vector is an error, not a row.

    ``dim`` is the width the caller was fitted on: another width is a
    dimension mismatch that names both.
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a 2-D array of embeddings (n, d), got {type(x).__name__}")
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a 2-D array of numbers (n, d), got {type(x).__name__}: {exc}"
        ) from None
    if a.ndim != 2:
        hint = " (for one vector pass x[None, :])" if a.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (n, d), got shape {a.shape}{hint}")
    if a.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty: it needs at least one row")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has rows of width 0: embeddings need at least one dimension")
    if dim is not None and a.shape[1] != dim:
        raise ValueError(
            f"{name} has {a.shape[1]} dimensions but the model was fitted on {dim}-dimensional "
            "embeddings (use the same embedder for fitting and scoring)"
        )
    bad = ~np.isfinite(a)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(a[row, col]) else "an infinite value"
        raise ValueError(
            f"{name} holds {kind} at row {row}, column {col} ({int(bad.any(axis=1).sum())} "
            "row(s) affected): embeddings must be finite"
        )
    return a


def as_labels(name: str, labels: Any, n: int, *, needed_for: str | None = None) -> list[Any]:
    """``labels`` as a list of ``n`` hashable labels; ``None`` when ``needed_for`` says why not."""
    if labels is None:
        if needed_for is not None:
            raise ValueError(f"{name} is required: {needed_for}")
        raise ValueError(f"{name} is required")
    if isinstance(labels, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of labels (one per row), got a str")
    out = labels.tolist() if isinstance(labels, np.ndarray) else list(labels)
    if len(out) != n:
        raise ValueError(f"{name} has {len(out)} entries for {n} rows: give one label per row")
    for i, y in enumerate(out):
        if y is None:
            raise ValueError(f"{name}[{i}] is None: every row needs a label")
        try:
            hash(y)
        except TypeError:
            raise TypeError(
                f"{name}[{i}] is a {type(y).__name__}, which is not hashable: labels must be "
                "str, int or another hashable value"
            ) from None
    return out


def same_rows(name_a: str, a: Sequence[Any] | np.ndarray, name_b: str, b: Sequence[Any]) -> None:
    """Raise unless ``a`` and ``b`` have one entry each per row."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} has {len(a)} rows but {name_b} has {len(b)}: they must pair up")
