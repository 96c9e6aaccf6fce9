"""QualityFilter on real vectors (scikit-learn's digits): thresholds, reasons, errors."""

from __future__ import annotations

import numpy as np
import pytest

from augkit.quality import QualityFilter, QualityReport
from augkit.quality.filter import REASONS
from tests.quality.helpers import digits


def noisy(x: np.ndarray, scale: float, seed: int = 0) -> np.ndarray:
    return x + np.random.default_rng(seed).normal(scale=scale, size=x.shape)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, list[int]]:
    return digits(30, classes=(0, 1, 2))


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "mahalanobis"])
@pytest.mark.parametrize("reference", ["original", "class"])
def test_thresholds_come_from_the_originals_leave_one_out(
    data: tuple[np.ndarray, list[int]], metric: str, reference: str
) -> None:
    x, y = data
    qf = QualityFilter(metric=metric, reference=reference, quantile=0.9, folds=5).fit(x, y)
    assert qf.threshold_ == pytest.approx(float(np.quantile(qf.fit_distances_, 0.9)))
    assert qf.fit_distances_.size == len(x) and (qf.fit_distances_ > 0).all()
    # Originals themselves, scored against their class fitted with them, pass at about the quantile.
    report = qf.evaluate(x, labels=y, originals=x)
    assert isinstance(report, QualityReport) and len(report) == len(x)
    assert set(report.reason) <= set(REASONS)
    assert report.acceptance_rate >= 0.85


def test_far_items_are_rejected_near_ones_accepted(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    qf = QualityFilter(metric="euclidean", reference="original").fit(x, y)
    slight = qf.evaluate(noisy(x, 0.5), labels=y, originals=x)
    heavy = qf.evaluate(noisy(x, 12.0), labels=y, originals=x)
    assert slight.acceptance_rate == 1.0
    assert heavy.acceptance_rate < 0.1 and set(heavy.reason) == {"too_far"}
    row = heavy[0]
    assert row["threshold"] == qf.threshold_ and row["distance"] > qf.threshold_
    assert row["accepted"] is False and row["reason"] == "too_far" and row["label"] == y[0]


def test_label_check_catches_items_that_look_like_another_class(
    data: tuple[np.ndarray, list[int]],
) -> None:
    x, y = data
    qf = QualityFilter(metric="mahalanobis", reference="class", label_check=True, quantile=1.0)
    qf.fit(x, y)
    flipped = [(v + 1) % 3 for v in y]  # real digits with a wrong label
    report = qf.evaluate(x, labels=flipped)
    assert report.predicted is not None
    assert np.mean([r == "label_flip" or r == "too_far" for r in report.reason]) > 0.9
    assert report.summary()["all"]["label_flip_rate"] > 0.9
    assert qf.evaluate(x, labels=y).summary()["all"]["label_flip_rate"] < 0.05


def test_min_distance_rejects_near_copies(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    qf = QualityFilter(metric="cosine", min_distance=1e-4).fit(x, y)
    report = qf.evaluate(
        np.concatenate([x[:5], noisy(x[:5], 1.0)]), originals=np.concatenate([x[:5], x[:5]])
    )
    assert report.reason[:5] == ["near_copy"] * 5
    assert report.reason[5:] == ["accepted"] * 5
    assert report.original_distance is not None and (report.original_distance[:5] <= 1e-4).all()


def test_relative_mahalanobis_and_single_class(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    rel = QualityFilter(metric="mahalanobis", reference="class", relative=True, folds=5).fit(x, y)
    assert rel.evaluate(x, labels=y).acceptance_rate > 0.8
    zeros = x[np.array(y) == 0]
    one = QualityFilter(metric="mahalanobis", reference="class", folds=5).fit(
        zeros, [0] * len(zeros)
    )
    assert one.evaluate(noisy(zeros, 20.0), labels=[0] * len(zeros)).acceptance_rate < 0.2


def test_leave_one_out_is_folds_equal_to_rows(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    x, y = x[::3], y[::3]  # 30 rows: 30 fits
    loo = QualityFilter(metric="mahalanobis", reference="class").fit(x, y)
    folds = QualityFilter(metric="mahalanobis", reference="class", folds=len(x)).fit(x, y)
    assert np.allclose(loo.fit_distances_, folds.fit_distances_)


def test_summary_groups_and_table(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    qf = QualityFilter(metric="euclidean").fit(x, y)
    aug = np.concatenate([noisy(x, 0.5), noisy(x, 12.0)])
    groups = ["light"] * len(x) + ["heavy"] * len(x)
    report = qf.evaluate(aug, labels=y + y, originals=np.concatenate([x, x]), groups=groups)
    summary = report.summary()
    assert list(summary) == ["all", "light", "heavy"]
    assert summary["light"]["samples"] == len(x) and summary["light"]["rejection_rate"] == 0.0
    assert summary["heavy"]["rejection_rate"] > 0.9
    assert summary["heavy"]["reasons"]["too_far"] == round(
        summary["heavy"]["rejection_rate"] * len(x)
    )
    table = report.table()
    assert "heavy" in table and "rejection_rate" in table and str(report) == table


# --------------------------------------------------------------------------- errors


def test_unlabelled_data_where_labels_are_needed(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    with pytest.raises(ValueError, match=r"labels is required: reference='class'"):
        QualityFilter(reference="class").fit(x)
    with pytest.raises(ValueError, match="labels is required: label_check=True"):
        QualityFilter(label_check=True).fit(x)
    qf = QualityFilter(reference="class").fit(x, y)
    with pytest.raises(ValueError, match=r"labels is required: reference='class'"):
        qf.evaluate(x)
    with pytest.raises(ValueError, match="labels holds 9, a class the filter was not fitted on"):
        qf.evaluate(x[:1], labels=[9])


def test_missing_originals_are_named(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    with pytest.raises(ValueError, match="originals is required: reference='original'"):
        QualityFilter().fit(x).evaluate(x)
    qf = QualityFilter(reference="class", min_distance=0.1).fit(x, y)
    with pytest.raises(ValueError, match="originals is required: min_distance"):
        qf.evaluate(x, labels=y)
    with pytest.raises(ValueError, match="augmented has 90 rows but originals has 3"):
        qf.evaluate(x, labels=y, originals=x[:3])


def test_bad_embeddings(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    qf = QualityFilter().fit(x, y)
    with pytest.raises(
        ValueError, match="augmented has 10 dimensions but the model was fitted on 64"
    ):
        qf.evaluate(x[:, :10], originals=x[:, :10])
    with pytest.raises(ValueError, match="augmented holds NaN at row 0"):
        qf.evaluate(np.full_like(x, np.nan), originals=x)
    with pytest.raises(ValueError, match="augmented is empty"):
        qf.evaluate(x[:0], originals=x[:0])
    with pytest.raises(ValueError, match="originals needs at least two items"):
        QualityFilter().fit(x[:1])
    with pytest.raises(ValueError, match="every class has a single item"):
        QualityFilter(reference="class").fit(x[:3], [0, 1, 2])
    with pytest.raises(RuntimeError, match="not fitted yet"):
        QualityFilter().evaluate(x, originals=x)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"metric": "manhattan"},
            ValueError,
            "metric must be one of 'cosine', 'euclidean', 'mahalanobis'",
        ),
        ({"reference": "batch"}, ValueError, "reference must be one of 'original', 'class'"),
        ({"quantile": 0.0}, ValueError, r"quantile must be in \(0.0, 1.0\]"),
        ({"quantile": 1.5}, ValueError, "quantile must be in"),
        ({"min_distance": -1.0}, ValueError, "min_distance must be in"),
        ({"label_check": 1}, TypeError, "label_check must be a bool"),
        ({"relative": True}, ValueError, "relative=True is relative Mahalanobis"),
        ({"shrinkage": "oas"}, ValueError, "shrinkage must be one of"),
        ({"folds": 1}, ValueError, "folds must be an integer in"),
    ],
)
def test_bad_settings(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        QualityFilter(**kwargs)  # type: ignore[arg-type]


def test_an_embedder_must_embed() -> None:
    with pytest.raises(TypeError, match="embedder must have an embed"):
        QualityFilter(object())


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "mahalanobis"])
@pytest.mark.parametrize("reference", ["original", "class"])
def test_a_row_is_decided_alone(
    data: tuple[np.ndarray, list[int]], metric: str, reference: str
) -> None:
    """Bit for bit: what a filtered pipeline's batch == per item rests on."""
    x, y = data
    qf = QualityFilter(metric=metric, reference=reference, label_check=True, folds=3).fit(x, y)
    aug = noisy(x, 3.0)
    together = qf.decide(aug, y, x)
    for i in range(0, len(x), 7):
        alone = qf.decide(aug[i : i + 1], [y[i]], x[i : i + 1])
        assert alone.distance[0] == together.distance[i]
        assert alone.reason[0] == together.reason[i]
        assert alone.predicted == [together.predicted[i]]  # type: ignore[index]


@pytest.mark.parametrize(
    ("metric", "folds"),
    [("cosine", None), ("euclidean", None), ("mahalanobis", 5), ("mahalanobis", None)],
)
def test_cross_fit_scores_originals_as_the_threshold_did(
    data: tuple[np.ndarray, list[int]], metric: str, folds: int | None
) -> None:
    x, y = data
    if folds is None and metric == "mahalanobis":
        x, y = x[::3], y[::3]  # one fit per original: keep it small
    qf = QualityFilter(metric=metric, reference="class", folds=folds, cross_fit=True).fit(x, y)
    scored = qf.evaluate(x, labels=y, originals=x).distance
    assert np.allclose(scored, qf.fit_distances_, rtol=1e-12, atol=1e-12)
    plain = QualityFilter(metric=metric, reference="class", folds=folds).fit(x, y)
    assert (plain.evaluate(x, labels=y).distance <= scored + 1e-12).all()  # in-sample is closer
    # An item whose original was not fitted is scored by the full model.
    other = noisy(x[:3], 1.0)
    assert np.allclose(
        qf.evaluate(other, labels=y[:3], originals=other).distance,
        plain.evaluate(other, labels=y[:3]).distance,
    )


def test_cross_fit_is_decided_row_by_row(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    qf = QualityFilter(metric="mahalanobis", reference="class", folds=4, cross_fit=True).fit(x, y)
    aug = noisy(x, 3.0)
    together = qf.decide(aug, y, x)
    for i in range(0, len(x), 5):
        assert qf.decide(aug[i : i + 1], [y[i]], x[i : i + 1]).distance[0] == together.distance[i]
    with pytest.raises(ValueError, match=r"cross_fit=True .* needs reference='class'"):
        QualityFilter(cross_fit=True)
