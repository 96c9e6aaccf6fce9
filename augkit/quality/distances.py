"""Row-wise distances between embeddings: cosine and Euclidean.

``cosine_distance(a, b)[i]`` is the distance between ``a[i]`` and ``b[i]``
(``b`` may be one row, compared with every row of ``a``). Both are float64
and non-negative; cosine distance is ``1 - cos`` in ``[0, 2]`` and treats a
zero vector as orthogonal to everything (distance 1), which keeps it
defined. Pairwise matrices (:func:`pairwise_distances`) serve the
nearest-neighbour thresholds of :class:`~augkit.quality.QualityFilter`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._arrays import F64, as_embeddings

__all__ = ["METRICS", "cosine_distance", "euclidean_distance", "pairwise_distances"]

#: The metrics of :func:`pairwise_distances` (Mahalanobis is Euclidean after whitening).
METRICS = ("cosine", "euclidean")


def _pair(a: Any, b: Any) -> tuple[F64, F64]:
    x = as_embeddings("a", a)
    y = as_embeddings("b", b, dim=x.shape[1])
    if y.shape[0] not in (1, x.shape[0]):
        raise ValueError(
            f"a has {x.shape[0]} rows but b has {y.shape[0]}: give one row of b per row of a, "
            "or a single row"
        )
    return x, y


def unit_rows(x: F64) -> F64:
    """Rows scaled to unit length; zero rows stay zero."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    out: F64 = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    return out


def cosine_distance(a: Any, b: Any) -> F64:
    """``1 - cos(a[i], b[i])`` per row, in ``[0, 2]``; a zero vector is at distance 1."""
    x, y = _pair(a, b)
    cos = np.einsum("ij,ij->i", unit_rows(x), np.broadcast_to(unit_rows(y), x.shape))
    out: F64 = np.clip(1.0 - cos, 0.0, 2.0)
    return out


def euclidean_distance(a: Any, b: Any) -> F64:
    """``||a[i] - b[i]||`` per row."""
    x, y = _pair(a, b)
    out: F64 = np.linalg.norm(x - y, axis=1)
    return out


def pairwise_distances(a: Any, b: Any, metric: str = "euclidean") -> F64:
    """``(len(a), len(b))`` matrix of distances between every row of ``a`` and of ``b``."""
    x = as_embeddings("a", a)
    y = as_embeddings("b", b, dim=x.shape[1])
    if metric == "cosine":
        # einsum's own loops, not BLAS: a row's distances do not depend on how many rows
        # there are (BLAS blocking rounds differently), so a nearest-class decision is a
        # function of the row alone.
        cos = np.einsum("ik,jk->ij", unit_rows(x), unit_rows(y), optimize=False)
        out: F64 = np.clip(1.0 - cos, 0.0, 2.0)
        return out
    if metric == "euclidean":
        # The expansion |x|^2 - 2 x.y + |y|^2 cancels badly for near rows: exact differences
        # in blocks instead (these matrices are small: originals against originals).
        out = np.empty((x.shape[0], y.shape[0]))
        step = max(1, 2**22 // (y.shape[0] * y.shape[1]))  # about 32 MB of differences a block
        for start in range(0, x.shape[0], step):
            block = x[start : start + step, None, :] - y[None, :, :]
            out[start : start + step] = np.linalg.norm(block, axis=2)
        return out
    raise ValueError(f"metric must be one of {', '.join(map(repr, METRICS))}; got {metric!r}")
