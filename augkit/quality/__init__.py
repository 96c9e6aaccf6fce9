"""Measuring and filtering augmented data by distances in an embedding space.

- embedders: :class:`TextEmbedder` (a transformers encoder, lazy),
  :class:`ImageEmbedder` (any callable; :meth:`ImageEmbedder.tiny` built in);
- distances: :func:`cosine_distance`, :func:`euclidean_distance`, and
  :class:`Mahalanobis` (class means, shared within-class covariance with
  Ledoit-Wolf shrinkage, relative Mahalanobis);
- :class:`QualityFilter`: thresholds fitted on the originals
  (leave-one-out), label check, near-copy floor; :meth:`QualityFilter.evaluate`
  gives a :class:`QualityReport` (summary table and plots);
- ``Pipeline.filtered(qf, max_tries=4)``: a :class:`FilteredPipeline`
  whose rejected outputs are redrawn deterministically.

Imports numpy only; torch and transformers load in :class:`TextEmbedder`,
scikit-learn in :meth:`Mahalanobis.fit`, matplotlib in :meth:`QualityReport.plot`.
See docs/quality.md.
"""

from __future__ import annotations

from .distances import cosine_distance, euclidean_distance, pairwise_distances
from .embedders import Embedder, ImageEmbedder, TextEmbedder, tiny_image_features
from .filter import QualityFilter
from .filtered import FilteredPipeline
from .mahalanobis import Mahalanobis
from .report import QualityReport, distinct_n, self_similarity

__all__ = [
    "Embedder",
    "FilteredPipeline",
    "ImageEmbedder",
    "Mahalanobis",
    "QualityFilter",
    "QualityReport",
    "TextEmbedder",
    "cosine_distance",
    "distinct_n",
    "euclidean_distance",
    "pairwise_distances",
    "self_similarity",
    "tiny_image_features",
]
