"""The embedding probe: a cheap downstream score for a text pipeline.

:func:`embedding_probe` answers "does this pipeline help a classifier on my
data?" without fine-tuning anything: k-fold accuracy of a logistic
regression on frozen embeddings, trained on each training fold's originals
plus their augmented copies and tested on the test fold's originals. It
returns ``score(pipeline) -> float``, what :func:`augkit.policy.search_policy`
maximises.

This module knows pipelines and an embedder (any object with
``embed(texts) -> array``, such as :class:`augkit.quality.TextEmbedder`);
scikit-learn is imported when a probe is made.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..pipeline import Pipeline
from ..validation import check_int, check_number

__all__ = ["TextEmbedding", "embedding_probe"]


class TextEmbedding(Protocol):
    """What the probe needs of an embedder: one row of floats per text."""

    def embed(self, texts: Sequence[str]) -> Any: ...


def embedding_probe(
    emb: TextEmbedding,
    texts: Sequence[str],
    labels: Sequence[Hashable],
    folds: int = 5,
    *,
    copies: int = 1,
    seed: int = 0,
    C: float = 1.0,
    max_iter: int = 1000,
    operators: Callable[[list[str], list[Hashable]], Sequence[Any]] | None = None,
) -> Callable[[Pipeline], float]:
    """``score(pipeline) -> float``: k-fold accuracy of logistic regression on frozen embeddings.

    The texts are split into ``folds`` stratified folds (shuffled by
    ``seed``). For each fold, a logistic regression (scikit-learn, ``C``,
    ``max_iter``) is trained on the embeddings of the other folds' originals
    plus ``copies`` augmented copies of each (``pipeline.augment_batch(...,
    seed=seed, n=copies)``; label-aware operators get the item's label) and
    tested on the held-out fold's originals, never augmented; the score is
    the mean accuracy. Every pipeline, no augmentation included, trains on
    originals plus copies (no augmentation: unchanged copies), so scores
    differ by what the copies say, not by the size of the training set.

    Embeddings are cached per text for the probe's lifetime, so the
    originals (and any copy a pipeline leaves unchanged) are embedded once.
    ``emb`` is any object with ``embed(texts)`` returning one row per text
    (:class:`augkit.quality.TextEmbedder`, or your own).

    ``operators(texts, labels) -> ops`` rebuilds the pipeline's operators
    from each fold's training texts and labels (one per operator of the
    scored pipeline, in order), and the fold's copies come from
    ``pipeline.with_operators(ops)``. Give it when an operator draws from
    the data itself (a splice pool, a vocabulary of the corpus): built from
    all the texts, such an operator copies held-out sentences into the
    training folds, and the score rewards that leak. Without it, the
    pipeline's operators are used as they are for every fold. A magnitude
    search scores pipelines over one operator per (operator, level) state:
    build those, ``lambda t, y: magnitude_states(build(t, y), levels)[0]``
    (:func:`augkit.policy.magnitude_states`).
    """
    embed = getattr(emb, "embed", None)
    if not callable(embed):
        raise TypeError(
            f"emb must have an embed(texts) method returning an array, got {type(emb).__name__}"
        )
    texts = list(texts)
    labels = list(labels)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] must be str, got {type(t).__name__}")
    if len(labels) != len(texts):
        raise ValueError(
            f"got {len(texts)} texts but {len(labels)} labels: give one label per text"
        )
    if operators is not None and not callable(operators):
        raise TypeError(
            f"operators must be a callable (texts, labels) -> ops, got {type(operators).__name__}"
        )
    folds = check_int("folds", folds, low=2)
    copies = check_int("copies", copies, low=1)
    C = check_number("C", C, low=0.0, low_inclusive=False)
    max_iter = check_int("max_iter", max_iter, low=1)
    classes, y = np.unique(np.array(labels, dtype=object).astype(str), return_inverse=True)
    if len(classes) < 2:
        raise ValueError("labels must hold at least two classes to score a classifier")
    smallest = int(np.bincount(y).min())
    if smallest < folds:
        raise ValueError(
            f"folds={folds} needs at least {folds} texts of every class; the smallest class "
            f"has {smallest}: lower folds"
        )
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y))
    cache: dict[str, NDArray[np.float64]] = {}

    def vectors(batch: Sequence[str]) -> NDArray[np.float64]:
        missing = list(dict.fromkeys(t for t in batch if t not in cache))
        if missing:
            out = np.asarray(embed(missing), dtype=np.float64)
            if out.ndim != 2 or out.shape[0] != len(missing):
                raise ValueError(
                    f"emb.embed returned an array of shape {out.shape} for {len(missing)} texts: "
                    "it must return one row per text"
                )
            cache.update(zip(missing, out))
        return np.stack([cache[t] for t in batch])

    originals = vectors(texts)
    items = list(zip(texts, labels))
    # Per fold, the operators built from its training part (once: the probe's lifetime).
    fold_ops = (
        None
        if operators is None
        else [
            list(operators([texts[i] for i in train], [labels[i] for i in train]))
            for train, _ in splits
        ]
    )

    def copies_of(pipeline: Pipeline, which: Sequence[int]) -> NDArray[np.float64]:
        """Embedded copies of ``texts[which]``, ``(len(which), copies, dim)``; item indices
        are the texts' own, so a text's copy is the same whichever fold asks."""
        chosen = [items[i] for i in which]
        outs = pipeline.augment_batch(chosen, seed=seed, n=copies, indices=list(which))
        aug = [[out[0] if isinstance(out, tuple) else out for out in variants] for variants in outs]
        for i, variants in zip(which, aug):
            for v in variants:
                if not isinstance(v, str):
                    raise TypeError(
                        f"the pipeline returned {type(v).__name__} for texts[{i}]: the probe "
                        "needs a text pipeline"
                    )
        flat = [v for variants in aug for v in variants]
        return vectors(flat).reshape(len(which), copies, -1)

    def fold_copies(pipeline: Pipeline) -> list[NDArray[np.float64]]:
        """Each fold's embedded copies of its training texts."""
        if fold_ops is None:
            everyone = copies_of(pipeline, range(len(texts)))
            return [everyone[train] for train, _ in splits]
        if len(fold_ops[0]) != len(pipeline.ops):
            raise ValueError(
                f"operators(...) built {len(fold_ops[0])} operators for a pipeline of "
                f"{len(pipeline.ops)}: it must build one per operator of the scored "
                "pipeline (with search_policy(magnitudes=levels), build the expanded "
                "states: magnitude_states(build(texts, labels), levels)[0])"
            )
        return [
            copies_of(pipeline.with_operators(ops), train.tolist())
            for ops, (train, _) in zip(fold_ops, splits)
        ]

    def score(pipeline: Pipeline) -> float:
        """Mean held-out accuracy with ``pipeline``'s copies added to every training fold."""
        accuracies = []
        for copied, (train, test) in zip(fold_copies(pipeline), splits):
            x = np.concatenate([originals[train], copied.reshape(-1, originals.shape[1])])
            target = np.concatenate([y[train], np.repeat(y[train], copies)])
            model = LogisticRegression(C=C, max_iter=max_iter)
            model.fit(x, target)
            accuracies.append(float((model.predict(originals[test]) == y[test]).mean()))
        return float(np.mean(accuracies))

    return score
