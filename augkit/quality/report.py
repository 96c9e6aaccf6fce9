"""QualityReport: a filter's verdict per item, its summary per group, and plots.

:meth:`QualityFilter.evaluate <augkit.quality.QualityFilter.evaluate>`
builds one. Per item: ``distance``, ``threshold``, ``accepted``,
``reason`` (and the distance to the original, the nearest class when the
filter checks labels, the group). :meth:`QualityReport.summary` gives,
per group (the operator that made the item, say): samples, mean and
quantile distances, acceptance and label-flip rates, rejection reasons,
and for texts the diversity (distinct-n: distinct n-grams over all
n-grams; self-similarity: the mean cosine similarity between the group's
augmented embeddings). :meth:`QualityReport.plot` writes PNG plots with
matplotlib (``pip install matplotlib``, in the ``quality`` extra):
distance distributions per group against the originals' leave-one-out
distances and the threshold, and a 2-D projection (PCA) of originals and
augmented items per class.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._arrays import F64
from .distances import unit_rows

__all__ = ["QualityReport", "distinct_n", "self_similarity"]

ALL = "all"


def distinct_n(texts: Sequence[str], n: int = 2) -> float:
    """Distinct ``n``-grams of whitespace tokens over all ``n``-grams (Li et al., 2016); 0 if none."""
    grams: list[tuple[str, ...]] = []
    for t in texts:
        words = t.split()
        grams.extend(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return len(set(grams)) / len(grams) if grams else 0.0


def self_similarity(embeddings: Any) -> float:
    """Mean cosine similarity between distinct rows (1: all alike); NaN with fewer than two."""
    e = unit_rows(np.asarray(embeddings, dtype=np.float64))
    n = len(e)
    if n < 2:
        return float("nan")
    total = e.sum(axis=0)
    return float((total @ total - (e * e).sum()) / (n * (n - 1)))


@dataclass
class QualityReport:
    """Per item columns of a filter's verdict, plus what the summary and plots need."""

    metric: str
    reference: str
    threshold: float
    min_distance: float
    distance: F64
    accepted: np.ndarray
    reason: list[str]
    original_distance: F64 | None = None
    labels: list[Any] | None = None
    predicted: list[Any] | None = None
    groups: list[str] | None = None
    embeddings: F64 | None = field(default=None, repr=False)
    original_embeddings: F64 | None = field(default=None, repr=False)
    fit_embeddings: F64 | None = field(default=None, repr=False)
    fit_labels: list[Any] | None = field(default=None, repr=False)
    fit_distances: F64 | None = field(default=None, repr=False)
    texts: list[str] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.distance)

    @property
    def acceptance_rate(self) -> float:
        """Share of items accepted."""
        return float(self.accepted.mean()) if len(self) else float("nan")

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per item: distance, threshold, accepted, reason and what else is known."""
        out = []
        for i in range(len(self)):
            row: dict[str, Any] = {
                "distance": float(self.distance[i]),
                "threshold": self.threshold,
                "accepted": bool(self.accepted[i]),
                "reason": self.reason[i],
            }
            if self.original_distance is not None:
                row["original_distance"] = float(self.original_distance[i])
            if self.labels is not None:
                row["label"] = self.labels[i]
            if self.predicted is not None:
                row["predicted"] = self.predicted[i]
            if self.groups is not None:
                row["group"] = self.groups[i]
            out.append(row)
        return out

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows()[i]

    def _members(self) -> dict[str, np.ndarray]:
        out = {ALL: np.arange(len(self))}
        if self.groups is not None:
            for g in dict.fromkeys(self.groups):
                out[g] = np.array([i for i, x in enumerate(self.groups) if x == g], dtype=np.intp)
        return out

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per group (and ``"all"``): samples, distances, rates, reasons and diversity."""
        out: dict[str, dict[str, Any]] = {}
        for name, idx in self._members().items():
            d = self.distance[idx]
            row: dict[str, Any] = {
                "samples": int(idx.size),
                "mean_distance": float(d.mean()) if idx.size else float("nan"),
                "median_distance": float(np.median(d)) if idx.size else float("nan"),
                "q90_distance": float(np.quantile(d, 0.9)) if idx.size else float("nan"),
                "acceptance_rate": float(self.accepted[idx].mean()) if idx.size else float("nan"),
                "rejection_rate": float(1 - self.accepted[idx].mean())
                if idx.size
                else float("nan"),
                "reasons": dict(Counter(self.reason[i] for i in idx)),
            }
            if self.predicted is not None and self.labels is not None and idx.size:
                flips = [self.predicted[i] != self.labels[i] for i in idx]
                row["label_flip_rate"] = float(np.mean(flips))
            if self.texts is not None:
                texts = [self.texts[i] for i in idx]
                row["distinct_1"] = distinct_n(texts, 1)
                row["distinct_2"] = distinct_n(texts, 2)
            if self.embeddings is not None:
                row["self_similarity"] = self_similarity(self.embeddings[idx])
            out[name] = row
        return out

    def table(self) -> str:
        """The summary as a fixed-width text table, one line per group."""
        summary = self.summary()
        cols = [
            ("samples", "{:d}"),
            ("mean_distance", "{:.4g}"),
            ("q90_distance", "{:.4g}"),
            ("rejection_rate", "{:.3f}"),
            ("label_flip_rate", "{:.3f}"),
            ("distinct_2", "{:.3f}"),
            ("self_similarity", "{:.3f}"),
        ]
        cols = [c for c in cols if any(c[0] in r for r in summary.values())]
        width = max(len(g) for g in summary) + 2
        head = "group".ljust(width) + "".join(c.rjust(16) for c, _ in cols)
        lines = [
            f"{self.metric} distance to {self.reference}, threshold {self.threshold:.4g}",
            head,
        ]
        for g, row in summary.items():
            cells = [fmt.format(row[c]) if c in row else "-" for c, fmt in cols]
            lines.append(g.ljust(width) + "".join(c.rjust(16) for c in cells))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    # ------------------------------------------------------------------ plots
    def plot(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``distances.png`` and (with embeddings) ``projection.png``; returns their paths.

        Needs matplotlib; drawn on ``matplotlib.figure.Figure`` objects,
        without pyplot's global state or a display.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError(
                "QualityReport.plot needs matplotlib: pip install 'augkit[quality]' "
                "(or pip install matplotlib)"
            ) from None
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"distances": out / "distances.png"}
        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = fig.add_subplot()
        finite = self.distance[np.isfinite(self.distance)]
        ref = self.fit_distances if self.fit_distances is not None else np.zeros(0)
        both = np.concatenate([finite, ref])
        bins = np.histogram_bin_edges(both, bins=30).tolist() if both.size else 10
        if ref.size:
            ax.hist(ref, bins=bins, alpha=0.35, color="grey", density=True,
                    label="originals (leave-one-out)")  # fmt: skip
        for name, idx in self._members().items():
            if name == ALL and self.groups is not None:
                continue
            ax.hist(self.distance[idx], bins=bins, histtype="step", density=True, linewidth=1.5,
                    label=name if self.groups is not None else "augmented")  # fmt: skip
        ax.axvline(self.threshold, color="black", linestyle="--", label="threshold")
        ax.set_xlabel(f"{self.metric} distance to {self.reference}")
        ax.set_ylabel("density")
        ax.legend(fontsize="small")
        fig.savefig(paths["distances"], dpi=110)
        if self.embeddings is not None and self.fit_embeddings is not None:
            paths["projection"] = out / "projection.png"
            self._plot_projection(Figure, paths["projection"])
        return paths

    def _plot_projection(self, figure: Any, path: Path) -> None:
        assert self.embeddings is not None and self.fit_embeddings is not None
        orig, aug = self.fit_embeddings, self.embeddings
        stack = np.concatenate([orig, aug])
        mean = orig.mean(axis=0)
        _, _, vt = np.linalg.svd(orig - mean, full_matrices=False)  # PCA of the originals
        xy = (
            (stack - mean) @ vt[:2].T
            if vt.shape[0] >= 2
            else np.c_[(stack - mean) @ vt.T, 0 * stack[:, 0]]
        )
        fig = figure(figsize=(6, 5), layout="constrained")
        ax = fig.add_subplot()
        classes = list(dict.fromkeys([*(self.fit_labels or []), *(self.labels or [])])) or [None]
        colours = {c: f"C{i % 10}" for i, c in enumerate(classes)}
        n0 = len(orig)
        for c in classes:
            o = [i for i in range(n0) if (self.fit_labels[i] if self.fit_labels else None) == c]
            a = [i for i in range(len(aug)) if (self.labels[i] if self.labels else None) == c]
            name = "" if c is None else f" {c}"
            ax.scatter(xy[o, 0], xy[o, 1], s=30, color=colours[c], label=f"original{name}")
            acc = [i for i in a if self.accepted[i]]
            rej = [i for i in a if not self.accepted[i]]
            ax.scatter(xy[n0 + np.array(acc, dtype=int), 0], xy[n0 + np.array(acc, dtype=int), 1],
                       s=18, marker="x", color=colours[c], label=f"augmented{name}")  # fmt: skip
            if rej:
                ax.scatter(xy[n0 + np.array(rej), 0], xy[n0 + np.array(rej), 1], s=18,
                           marker="x", color="lightgrey", label=f"rejected{name}")  # fmt: skip
        ax.set_xlabel("PC 1 of the originals")
        ax.set_ylabel("PC 2")
        ax.legend(fontsize="small")
        fig.savefig(path, dpi=110)
