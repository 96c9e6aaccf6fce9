"""QualityFilter: accept or reject augmented items by a distance in an embedding space.

A filter is fitted on the originals and then scores augmented items:

- ``metric``: ``"cosine"``, ``"euclidean"`` or ``"mahalanobis"`` (shared
  within-class covariance, :class:`~augkit.quality.Mahalanobis`);
- ``reference="original"``: the distance of an item to its own original;
  ``reference="class"``: to its class (the class mean; for Mahalanobis
  the class Gaussian, optionally ``relative`` to a class-agnostic one);
- the threshold is the ``quantile`` of the same distance measured on the
  originals, leave-one-out, so nothing is tuned by hand: with
  ``reference="class"``, each original's distance to its class fitted
  without it; with ``reference="original"``, each original's distance to
  its nearest other original (of its class, when labels are given). An
  item is "as far from its reference as originals are from theirs";
  ``cross_fit=True`` measures an item against its class fitted without its
  original too, so both sides of that comparison are out of sample;
- ``label_check``: the nearest class by the metric must be the item's label
  (FlipDA's label-flip filter, with the embedding's own classes);
- ``min_distance``: items at or below this distance from their own
  original are near-copies and rejected (UDA: diversity matters as much as
  fidelity).

Each item gets one ``reason``: ``"accepted"``, ``"near_copy"``, ``"too_far"``
or ``"label_flip"`` (checked in that order). :meth:`QualityFilter.evaluate`
returns a :class:`~augkit.quality.QualityReport`; :meth:`filtered_pipeline`
(``Pipeline.filtered``) redraws rejected outputs deterministically.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..validation import check_batch, check_bool, check_choice, check_int, check_number
from ._arrays import F64, as_embeddings, as_labels, same_rows
from .distances import cosine_distance, euclidean_distance, pairwise_distances, unit_rows
from .mahalanobis import Mahalanobis
from .report import QualityReport

__all__ = ["METRICS", "REASONS", "REFERENCES", "QualityFilter"]

METRICS = ("cosine", "euclidean", "mahalanobis")
REFERENCES = ("original", "class")
#: Every reason an item is given, the accepted one first (checks run in this order).
REASONS = ("accepted", "near_copy", "too_far", "label_flip")

_NEEDS_CLASS = "reference='class' scores each item against its class: give one label per item"
_NEEDS_CHECK = "label_check=True compares each item's nearest class with its label: give labels"


@dataclass
class Decisions:
    """The filter's verdict on a batch of items, column by column."""

    distance: F64
    accepted: np.ndarray
    reason: list[str]
    original_distance: F64 | None
    predicted: list[Any] | None


class QualityFilter:
    """Scores augmented items by an embedding distance and accepts those close enough.

    ``embedder``: anything with ``embed(items) -> (n, d)`` (a
    :class:`~augkit.quality.TextEmbedder`, an
    :class:`~augkit.quality.ImageEmbedder`), or ``None`` when the items are
    embeddings already. ``quantile`` in ``(0, 1]``: the share of originals
    that would pass their own threshold. ``shrinkage`` and ``relative``:
    of the Mahalanobis model. ``folds``: ``None`` fits the Mahalanobis
    class thresholds leave-one-out (one fit per original); an integer ``k``
    uses ``k`` folds instead (row ``i`` in fold ``i % k``), for large sets.
    ``cross_fit=True`` (with ``reference="class"``) scores an item whose
    original is one of the fitted originals against its class fitted
    *without* that original (the same fold model that gave the original's
    threshold distance), so items and threshold are measured alike; without
    it, an item next to its original inherits the original's in-sample
    closeness, which makes the class reference lenient when there are few
    originals per dimension (docs/quality.md).

    After :meth:`fit`: ``threshold_``, ``fit_distances_`` (the
    leave-one-out distances it came from), ``classes_``.
    """

    def __init__(
        self,
        embedder: Any = None,
        *,
        metric: str = "cosine",
        reference: str = "original",
        quantile: float = 0.95,
        label_check: bool = False,
        min_distance: float = 0.0,
        shrinkage: str | float | None = "ledoit-wolf",
        relative: bool = False,
        folds: int | None = None,
        cross_fit: bool = False,
    ) -> None:
        if embedder is not None and not callable(getattr(embedder, "embed", None)):
            raise TypeError(
                f"embedder must have an embed(items) method (a TextEmbedder, an ImageEmbedder) "
                f"or be None for items that are embeddings already; got {type(embedder).__name__}"
            )
        self.embedder = embedder
        self.metric = check_choice("metric", metric, METRICS)
        self.reference = check_choice("reference", reference, REFERENCES)
        self.quantile = check_number("quantile", quantile, low=0.0, high=1.0, low_inclusive=False)
        self.label_check = check_bool("label_check", label_check)
        self.min_distance = check_number("min_distance", min_distance, low=0.0)
        self.relative = check_bool("relative", relative)
        if self.relative and self.metric != "mahalanobis":
            raise ValueError("relative=True is relative Mahalanobis: it needs metric='mahalanobis'")
        self.shrinkage = shrinkage
        Mahalanobis(shrinkage)  # checks shrinkage now, not at fit
        self.folds = None if folds is None else check_int("folds", folds, low=2)
        self.cross_fit = check_bool("cross_fit", cross_fit)
        if self.cross_fit and self.reference != "class":
            raise ValueError(
                "cross_fit=True scores items against their class without their original: it "
                "needs reference='class'"
            )
        self.threshold_: float | None = None
        self.fit_distances_: F64 = np.zeros(0)
        self.classes_: list[Hashable] = []
        self._e0: F64 = np.zeros((0, 0))
        self._y0: list[Any] | None = None
        self._model: Mahalanobis | None = None
        self._centroids: F64 = np.zeros((0, 0))
        self._class_index: dict[Hashable, int] = {}
        # cross_fit: the fold of each original, the class model of each fold, and the
        # originals by the bytes of their embedding (how an item's original is found).
        self._fold_of: np.ndarray = np.zeros(0, dtype=np.intp)
        self._fold_models: dict[int, Mahalanobis] = {}
        self._row_of: dict[bytes, int] = {}
        self._codes0: np.ndarray = np.zeros(0, dtype=np.intp)

    def __repr__(self) -> str:
        fitted = "" if self.threshold_ is None else f", threshold_={self.threshold_:.4g}"
        return (
            f"QualityFilter({self.embedder!r}, metric={self.metric!r}, reference={self.reference!r}, "
            f"quantile={self.quantile}, label_check={self.label_check}, "
            f"min_distance={self.min_distance}{fitted})"
        )

    # ------------------------------------------------------------------ embedding
    def embed(self, name: str, items: Any) -> F64:
        """``items`` through the embedder (as float64), or checked as embeddings without one."""
        if self.embedder is None:
            return as_embeddings(name, items, dim=self._e0.shape[1] or None)
        batch = check_batch(name, items, one=f"[{name[:-1] if name.endswith('s') else name}]")
        if not batch:
            raise ValueError(f"{name} is empty: it needs at least one item")
        return as_embeddings(
            f"the embeddings of {name}", self.embedder.embed(batch), dim=self._e0.shape[1] or None
        )

    def embed_unique(self, name: str, items: Sequence[Any]) -> F64:
        """:meth:`embed`, each distinct text embedded once (originals repeat per variant)."""
        if self.embedder is None or not all(isinstance(x, str) for x in items):
            return self.embed(name, items)
        first: dict[str, int] = {}
        for x in items:
            first.setdefault(x, len(first))
        unique = self.embed(name, list(first))
        return unique[[first[x] for x in items]]

    # ------------------------------------------------------------------ fitting
    def fit(self, originals: Any, labels: Sequence[Any] | None = None) -> QualityFilter:
        """Embed the originals and fit the reference model and the threshold; returns ``self``.

        ``labels`` (one per original) are needed for ``reference="class"``
        and ``label_check``.
        """
        self._e0 = np.zeros((0, 0))
        e0 = self.embed("originals", originals)
        needs = _NEEDS_CLASS if self.reference == "class" else _NEEDS_CHECK
        y0 = (
            as_labels("labels", labels, len(e0), needed_for=needs)
            if labels is not None or self.reference == "class" or self.label_check
            else None
        )
        if len(e0) < 2:
            raise ValueError("originals needs at least two items to fit a threshold")
        self._e0, self._y0 = e0, y0
        index: dict[Hashable, int] = {}
        codes = np.array([index.setdefault(v, len(index)) for v in (y0 or [None] * len(e0))])
        self._class_index = index
        self.classes_ = list(index)
        self._codes0 = codes
        self._fold_models = {}
        self._fold_of = (
            np.arange(len(e0)) if self.folds is None else np.arange(len(e0)) % self.folds
        )
        self._row_of = (
            {row.tobytes(): i for i, row in reversed(list(enumerate(e0)))} if self.cross_fit else {}
        )
        if self.metric == "mahalanobis":
            self._model = Mahalanobis(self.shrinkage, relative=self.relative).fit(e0, y0)
        else:
            self._centroids = _centroids(e0, codes, len(index), self.metric)
        fit = self._fit_distances(e0, codes, y0)
        if fit.size == 0:
            raise ValueError(
                "no original has a leave-one-out reference: every class has a single item; "
                "give at least two originals of some class"
            )
        self.fit_distances_ = fit
        self.threshold_ = float(np.quantile(fit, self.quantile))
        return self

    def _fit_distances(self, e0: F64, codes: np.ndarray, y0: list[Any] | None) -> F64:
        counts = np.bincount(codes)
        if self.reference == "original":
            d = self._pairwise(e0)
            np.fill_diagonal(d, np.inf)
            if y0 is not None:  # neighbours of the same class, where the class has two items
                other = codes[:, None] != codes[None, :]
                d[other & (counts[codes] > 1)[:, None]] = np.inf
            out: F64 = d.min(axis=1)
            return out[np.isfinite(out)]
        keep = counts[codes] > 1  # a class of one has no mean without its item
        if self.metric != "mahalanobis":
            x = unit_rows(e0) if self.metric == "cosine" else e0
            n_c = counts[codes][:, None].astype(np.float64)
            loo = (n_c * self._centroids[codes] - x) / np.maximum(n_c - 1, 1)
            dist = cosine_distance if self.metric == "cosine" else euclidean_distance
            result: F64 = dist(x, loo)[keep]
            return result
        return self._mahalanobis_loo(e0, codes, y0, keep)

    def _mahalanobis_loo(
        self, e0: F64, codes: np.ndarray, y0: list[Any] | None, keep: np.ndarray
    ) -> F64:
        n = len(e0)
        fold = self._fold_of
        out = np.full(n, np.nan)
        for f in np.unique(fold):
            test = np.flatnonzero((fold == f) & keep)
            train = fold != f
            present = set(codes[train].tolist())
            test = np.array([i for i in test if codes[i] in present], dtype=np.intp)
            if test.size == 0:
                continue
            model = Mahalanobis(self.shrinkage, relative=self.relative)
            model.fit(e0[train], None if y0 is None else [y0[i] for i in np.flatnonzero(train)])
            out[test] = model.distance(e0[test], None if y0 is None else [y0[i] for i in test])
            if self.cross_fit:
                self._fold_models[int(f)] = model
        result: F64 = out[np.isfinite(out)]
        return result

    def _pairwise(self, e: F64) -> F64:
        if self.metric == "mahalanobis":
            assert self._model is not None
            return pairwise_distances(self._model.transform(e), self._model.transform(e))
        return pairwise_distances(e, e, self.metric)

    def _check_fitted(self) -> float:
        if self.threshold_ is None:
            raise RuntimeError("this QualityFilter is not fitted yet: call fit(originals, labels)")
        return self.threshold_

    # ------------------------------------------------------------------ scoring
    def _codes(self, labels: list[Any]) -> np.ndarray:
        try:
            return np.array([self._class_index[y] for y in labels], dtype=np.intp)
        except KeyError as exc:
            raise ValueError(
                f"labels holds {exc.args[0]!r}, a class the filter was not fitted on "
                f"(classes: {self.classes_!r})"
            ) from None

    def pair_distance(self, a: F64, b: F64) -> F64:
        """The metric between ``a[i]`` and ``b[i]`` (Mahalanobis: the shared covariance)."""
        if self.metric == "mahalanobis":
            assert self._model is not None
            return self._model.pair_distance(a, b)
        return (cosine_distance if self.metric == "cosine" else euclidean_distance)(a, b)

    def class_distance(self, e: F64, labels: list[Any], e_orig: F64 | None = None) -> F64:
        """The metric between each row and its class's reference.

        With ``cross_fit``, a row whose original (``e_orig``) is a fitted
        original is measured against its class without that original.
        """
        if self.cross_fit and e_orig is not None:
            return self._cross_fitted(e, labels, e_orig)
        if self.metric == "mahalanobis":
            assert self._model is not None
            return self._model.distance(e, labels)
        return self.pair_distance(e, self._centroids[self._codes(labels)])

    def _cross_fitted(self, e: F64, labels: list[Any], e_orig: F64) -> F64:
        out = self.class_distance(e, labels)
        codes = self._codes(labels)
        source = np.array([self._row_of.get(row.tobytes(), -1) for row in e_orig], dtype=np.intp)
        # Only items of their original's class, whose class keeps a member without it.
        counts = np.bincount(self._codes0, minlength=len(self.classes_))
        usable = (source >= 0) & (self._codes0[source] == codes) & (counts[codes] > 1)
        if not usable.any():
            return out
        if self.metric != "mahalanobis":
            rows = np.flatnonzero(usable)
            src = source[rows]
            x0 = unit_rows(self._e0[src]) if self.metric == "cosine" else self._e0[src]
            n_c = counts[codes[rows]][:, None].astype(np.float64)
            loo = (n_c * self._centroids[codes[rows]] - x0) / (n_c - 1)
            out[rows] = self.pair_distance(e[rows], loo)
            return out
        folds = self._fold_of[np.where(usable, source, 0)]
        for f in np.unique(folds[usable]):
            rows = np.flatnonzero(usable & (folds == f))
            model = self._fold_models.get(int(f))
            if model is None:
                continue
            rows = rows[np.isin(codes[rows], [self._class_index[c] for c in model.classes_])]
            if rows.size:
                out[rows] = model.distance(e[rows], [labels[i] for i in rows])
        return out

    def predict(self, e: F64) -> list[Any]:
        """The nearest class of each embedding row, by the metric."""
        self._check_fitted()
        if self.metric == "mahalanobis":
            assert self._model is not None
            return list(self._model.predict(e).tolist())
        d = pairwise_distances(e, self._centroids, self.metric)
        return [self.classes_[k] for k in d.argmin(axis=1)]

    def decide(self, e: F64, labels: list[Any] | None, e_orig: F64 | None) -> Decisions:
        """The verdict on embedded items (``e``), with their labels and originals' embeddings.

        Each row's verdict depends on that row alone (and the fitted
        filter), never on the other rows.
        """
        threshold = self._check_fitted()
        if self.reference == "original":
            assert e_orig is not None
            distance = self.pair_distance(e, e_orig)
        else:
            assert labels is not None
            distance = self.class_distance(e, labels, e_orig)
        original = (
            None
            if e_orig is None
            else (distance if self.reference == "original" else self.pair_distance(e, e_orig))
        )
        predicted = self.predict(e) if self.label_check else None
        reasons = []
        for i in range(len(e)):
            if self.min_distance > 0 and original is not None and original[i] <= self.min_distance:
                reasons.append("near_copy")
            elif distance[i] > threshold:
                reasons.append("too_far")
            elif predicted is not None and labels is not None and predicted[i] != labels[i]:
                reasons.append("label_flip")
            else:
                reasons.append("accepted")
        accepted = np.array([r == "accepted" for r in reasons], dtype=bool)
        return Decisions(distance, accepted, reasons, original, predicted)

    def check_inputs(
        self, n: int, labels: Sequence[Any] | None, originals: Any
    ) -> list[Any] | None:
        """The labels as a list (or None), after checking what this filter needs is given."""
        self._check_fitted()
        if self.reference == "class" or self.label_check:
            need = _NEEDS_CLASS if self.reference == "class" else _NEEDS_CHECK
            ys: list[Any] | None = as_labels("labels", labels, n, needed_for=need)
            self._codes(ys or [])
        else:
            ys = None if labels is None else as_labels("labels", labels, n)
        if originals is None and self.reference == "original":
            raise ValueError(
                "originals is required: reference='original' measures each item against its own "
                "original (give one original per item)"
            )
        if originals is None and self.min_distance > 0:
            raise ValueError(
                "originals is required: min_distance rejects near-copies of each item's original "
                "(give one original per item, or min_distance=0)"
            )
        return ys

    def evaluate(
        self,
        augmented: Any,
        labels: Sequence[Any] | None = None,
        originals: Any = None,
        *,
        groups: Sequence[Any] | None = None,
    ) -> QualityReport:
        """Score ``augmented`` items: per item distance, threshold, accepted and reason.

        ``labels``: one per item (needed by ``reference="class"`` and
        ``label_check``); ``originals``: the original of each item (needed
        by ``reference="original"`` and ``min_distance``); ``groups``: a
        name per item, such as the operator that made it, for the report's
        per-group table and plots.
        """
        self._check_fitted()
        e = self.embed("augmented", augmented)
        ys = self.check_inputs(len(e), labels, originals)
        e_orig = None
        if originals is not None:
            orig = originals if self.embedder is None else check_batch("originals", originals)
            same_rows("augmented", e, "originals", orig)
            e_orig = self.embed_unique("originals", orig)
        if groups is not None:
            groups = check_batch("groups", groups)
            same_rows("augmented", e, "groups", groups)
        d = self.decide(e, ys, e_orig)
        texts = None
        if self.embedder is not None and not isinstance(augmented, np.ndarray):
            items = list(augmented)
            texts = items if all(isinstance(x, str) for x in items) else None
        return QualityReport(
            metric=self.metric,
            reference=self.reference,
            threshold=self._check_fitted(),
            min_distance=self.min_distance,
            distance=d.distance,
            accepted=d.accepted,
            reason=d.reason,
            original_distance=d.original_distance,
            labels=ys,
            predicted=d.predicted,
            groups=None if groups is None else [str(g) for g in groups],
            embeddings=e,
            original_embeddings=e_orig,
            fit_embeddings=self._e0,
            fit_labels=self._y0,
            fit_distances=self.fit_distances_,
            texts=texts,
        )

    # ------------------------------------------------------------------ pipelines
    def filtered_pipeline(self, pipeline: Any, *, max_tries: int = 4, **options: Any) -> Any:
        """``pipeline`` with this filter: what :meth:`augkit.Pipeline.filtered` returns."""
        from .filtered import FilteredPipeline

        return FilteredPipeline(pipeline, self, max_tries=max_tries, **options)


def _centroids(e: F64, codes: np.ndarray, k: int, metric: str) -> F64:
    """Class means; of unit vectors for cosine (the direction is what cosine measures)."""
    x = unit_rows(e) if metric == "cosine" else e
    sums = np.zeros((k, e.shape[1]))
    np.add.at(sums, codes, x)
    out: F64 = sums / np.bincount(codes, minlength=k)[:, None]
    return out
