"""Mahalanobis distance of embeddings to their class: class means, one shared covariance.

The model of Lee et al. (2018) and Podolskiy et al. (2021) for transformer
features: every class ``k`` has its mean ``mu_k``; all classes share one
within-class covariance ``S``, estimated from the residuals ``x - mu_y``
with Ledoit-Wolf shrinkage (``sklearn.covariance.LedoitWolf``), which keeps
``S`` invertible when there are fewer samples than dimensions. The
distance of ``x`` to class ``k`` is ``sqrt((x - mu_k)^T S^-1 (x - mu_k))``.

*Relative* Mahalanobis (Ren et al., 2021) subtracts the squared distance
to one class-agnostic background Gaussian (mean and covariance of all
fitted rows, the same shrinkage): ``d_k(x)^2 - d_0(x)^2``. It removes the
part of the distance that every class shares; it is a score (it can be
negative), on the squared scale as in the paper.

Numerics: ``S`` is diagonalised once with ``numpy.linalg.eigh``
(``S = V diag(w) V^T``) and the data are whitened by ``W = V diag(w^-1/2)``,
so every distance is a Euclidean norm of whitened rows (:meth:`transform`),
in float64, row by row (a row's distance never depends on the other rows of
the call). ``S`` counts as singular when its smallest eigenvalue is at or
below :data:`EIGEN_RTOL` times ``d`` times its largest (numpy's
``matrix_rank`` rule); that is an error naming ``shrinkage``, never a
silent pseudo-inverse.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from ._arrays import F64, as_embeddings, as_labels

__all__ = ["EIGEN_RTOL", "SHRINKAGES", "Mahalanobis"]

#: Relative tolerance, per dimension, below which an eigenvalue of the covariance counts as zero.
EIGEN_RTOL = float(np.finfo(np.float64).eps)
#: The named covariance estimators (a float in [0, 1] is a fixed shrinkage).
SHRINKAGES = ("ledoit-wolf", "empirical")


def _check_shrinkage(shrinkage: Any) -> str | float:
    if shrinkage is None:
        return "empirical"
    if isinstance(shrinkage, str):
        if shrinkage not in SHRINKAGES:
            raise ValueError(
                f"shrinkage must be one of {', '.join(map(repr, SHRINKAGES))}, None or a float in "
                f"[0, 1]; got {shrinkage!r}"
            )
        return shrinkage
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, (int, float, np.floating)):
        raise TypeError(
            f"shrinkage must be 'ledoit-wolf', 'empirical', None or a float in [0, 1]; got "
            f"{type(shrinkage).__name__}"
        )
    s = float(shrinkage)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"shrinkage must be in [0, 1] when it is a number; got {shrinkage!r}")
    return s


def _covariance(residuals: F64, shrinkage: str | float) -> F64:
    """The covariance of already-centred rows, by scikit-learn's estimator for ``shrinkage``."""
    from sklearn.covariance import EmpiricalCovariance, LedoitWolf, ShrunkCovariance

    est: Any
    if shrinkage == "ledoit-wolf":
        est = LedoitWolf(assume_centered=True)
    elif shrinkage == "empirical":
        est = EmpiricalCovariance(assume_centered=True)
    else:
        est = ShrunkCovariance(shrinkage=float(shrinkage), assume_centered=True)
    cov: F64 = np.asarray(est.fit(residuals).covariance_, dtype=np.float64)
    return cov


def _whitener(cov: F64, what: str, shrinkage: str | float) -> F64:
    """``W`` with ``W^T S W = I``; a singular ``S`` is an error that names ``shrinkage``."""
    w, v = np.linalg.eigh(cov)
    top = float(w[-1]) if w.size else 0.0
    tol = EIGEN_RTOL * cov.shape[0] * max(top, 0.0)
    if top <= 0.0 or float(w[0]) <= tol:
        rank = int((w > tol).sum()) if top > 0 else 0
        fix = (
            "use shrinkage='ledoit-wolf' or a float in (0, 1]"
            if shrinkage == "empirical" or shrinkage == 0.0
            else "give more rows that differ from their class mean"
        )
        raise ValueError(
            f"the {what} covariance is singular (rank {rank} of {cov.shape[0]}, smallest "
            f"eigenvalue {float(w[0]):.3g} <= tolerance {tol:.3g}) with shrinkage={shrinkage!r}: "
            f"{fix}"
        )
    out: F64 = v / np.sqrt(w)
    return out


class Mahalanobis:
    """Class means and one shared within-class covariance, fitted on embeddings.

    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> m = Mahalanobis().fit(X, [i % 2 for i in range(40)])
    >>> m.distance(X[:2], [0, 1]).shape
    (2,)

    ``shrinkage``: ``"ledoit-wolf"`` (default; ``sklearn.covariance.LedoitWolf``),
    ``"empirical"`` or ``None`` (no shrinkage: needs more rows than
    dimensions), or a fixed shrinkage in ``[0, 1]``
    (``sklearn.covariance.ShrunkCovariance``). ``relative=True`` scores by
    relative Mahalanobis (the module docstring). Unlabelled data
    (``labels=None`` in :meth:`fit`) is one class, ``None``.

    Attributes after :meth:`fit`: ``classes_`` (labels in order of first
    appearance), ``means_`` ``(k, d)``, ``covariance_`` ``(d, d)``,
    ``dim_``.
    """

    def __init__(
        self, shrinkage: str | float | None = "ledoit-wolf", relative: bool = False
    ) -> None:
        self.shrinkage = _check_shrinkage(shrinkage)
        if not isinstance(relative, (bool, np.bool_)):
            raise TypeError(f"relative must be a bool, got {type(relative).__name__}")
        self.relative = bool(relative)
        self.classes_: list[Hashable] = []
        self.means_: F64 = np.zeros((0, 0))
        self.covariance_: F64 = np.zeros((0, 0))
        self.dim_ = 0
        self._w: F64 | None = None
        self._means_w: F64 = np.zeros((0, 0))
        self._index: dict[Hashable, int] = {}
        self._w0: F64 | None = None
        self._mean0_w: F64 = np.zeros((0,))

    def __repr__(self) -> str:
        fitted = f", {len(self.classes_)} classes, d={self.dim_}" if self._w is not None else ""
        return f"Mahalanobis(shrinkage={self.shrinkage!r}, relative={self.relative}{fitted})"

    # ------------------------------------------------------------------ fitting
    def fit(self, embeddings: Any, labels: Sequence[Any] | None = None) -> Mahalanobis:
        """Fit class means and the shared covariance; returns ``self``.

        Needs at least one class with two rows (the covariance is of the
        residuals from the class means). ``labels=None``: one class.
        """
        x = as_embeddings("embeddings", embeddings)
        y = [None] * len(x) if labels is None else as_labels("labels", labels, len(x))
        index: dict[Hashable, int] = {}
        codes = np.array([index.setdefault(v, len(index)) for v in y], dtype=np.intp)
        k = len(index)
        if len(x) - k < 1:
            raise ValueError(
                f"embeddings has {len(x)} rows in {k} class(es): the within-class covariance "
                "needs at least one class with two or more rows"
            )
        counts = np.bincount(codes, minlength=k).astype(np.float64)
        means = np.zeros((k, x.shape[1]))
        np.add.at(means, codes, x)
        means /= counts[:, None]
        cov = _covariance(x - means[codes], self.shrinkage)
        self._w = _whitener(cov, "within-class", self.shrinkage)
        self.covariance_ = cov
        self.classes_ = list(index)
        self._index = index
        self.means_ = means
        self.dim_ = x.shape[1]
        self._means_w = means @ self._w
        if self.relative:
            mean0 = x.mean(axis=0)
            self._w0 = _whitener(
                _covariance(x - mean0, self.shrinkage), "background", self.shrinkage
            )
            self._mean0_w = mean0 @ self._w0
        return self

    def _fitted(self) -> F64:
        if self._w is None:
            raise RuntimeError(
                "this Mahalanobis model is not fitted yet: call fit(embeddings, labels)"
            )
        return self._w

    # ------------------------------------------------------------------ scoring
    def transform(self, embeddings: Any) -> F64:
        """Whitened rows ``x W``: Euclidean distances there are Mahalanobis distances here."""
        w = self._fitted()
        return _rows_times(as_embeddings("embeddings", embeddings, dim=self.dim_), w)

    def distances(self, embeddings: Any) -> F64:
        """``(n, k)`` Mahalanobis distances of every row to every class mean (``classes_`` order)."""
        z = self.transform(embeddings)
        sq = _squared_to_rows(z, self._means_w)
        if self.relative:
            sq = sq - self._background(embeddings)[:, None]
            return sq
        out: F64 = np.sqrt(sq)
        return out

    def _background(self, embeddings: Any) -> F64:
        assert self._w0 is not None
        z0 = _rows_times(as_embeddings("embeddings", embeddings, dim=self.dim_), self._w0)
        out: F64 = ((z0 - self._mean0_w) ** 2).sum(axis=1)
        return out

    def distance(self, embeddings: Any, labels: Sequence[Any] | None = None) -> F64:
        """Distance of each row to its own class mean (relative score with ``relative=True``).

        ``labels=None``: the distance to the nearest class (the usual
        out-of-distribution score). A label the model was not fitted on is
        an error naming it.
        """
        z = self.transform(embeddings)
        if labels is None:
            sq = _squared_to_rows(z, self._means_w).min(axis=1)
        else:
            codes = self._codes(labels, len(z))
            sq = ((z - self._means_w[codes]) ** 2).sum(axis=1)
        if self.relative:
            out: F64 = sq - self._background(embeddings)
            return out
        out = np.sqrt(sq)
        return out

    def pair_distance(self, a: Any, b: Any) -> F64:
        """Mahalanobis distance between ``a[i]`` and ``b[i]`` under the shared covariance."""
        za, zb = self.transform(a), self.transform(b)
        if len(zb) not in (1, len(za)):
            raise ValueError(f"a has {len(za)} rows but b has {len(zb)}: they must pair up")
        out: F64 = np.linalg.norm(za - zb, axis=1)
        return out

    def predict(self, embeddings: Any) -> np.ndarray:
        """The nearest class of each row (``argmin`` of :meth:`distances`), as an array of labels."""
        z = self.transform(embeddings)
        best = _squared_to_rows(z, self._means_w).argmin(axis=1)
        labels = np.empty(len(self.classes_), dtype=object)
        labels[:] = self.classes_
        try:
            return np.asarray(labels[best].tolist())
        except (TypeError, ValueError):  # labels of mixed types stay objects
            out: np.ndarray = labels[best]
            return out

    def _codes(self, labels: Sequence[Any], n: int) -> np.ndarray:
        ys = as_labels("labels", labels, n)
        try:
            return np.array([self._index[v] for v in ys], dtype=np.intp)
        except KeyError as exc:
            raise ValueError(
                f"labels holds {exc.args[0]!r}, a class this model was not fitted on "
                f"(classes: {self.classes_!r})"
            ) from None


def _rows_times(x: F64, w: F64) -> F64:
    """``x @ w`` row by row: numpy's einsum loops, not BLAS, whose blocking (and so rounding,
    about 1e-14) depends on how many rows there are. A row's distance is then a function of
    that row alone, so a filter decides the same for an item alone or in any batch; it
    costs about twice BLAS (0.1 ms a row at d = 384)."""
    out: F64 = np.einsum("ij,jk->ik", x, w, optimize=False)
    return out


def _squared_to_rows(z: F64, centres: F64) -> F64:
    """``(n, k)`` squared Euclidean distances, exact differences (k is small: classes)."""
    out = np.empty((len(z), len(centres)))
    for j, c in enumerate(centres):
        out[:, j] = ((z - c) ** 2).sum(axis=1)
    return out
