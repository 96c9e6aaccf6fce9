"""Mahalanobis: properties of the distance, shrinkage cases, and every bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit.quality import Mahalanobis, euclidean_distance
from augkit.quality.mahalanobis import EIGEN_RTOL
from tests.quality.helpers import digits


@st.composite
def labelled(draw: st.DrawFn, min_rows: int = 0) -> tuple[np.ndarray, list[int]]:
    """Gaussian-ish rows in d <= 4 dimensions, 1 to 3 classes, more rows than dimensions."""
    seed = draw(st.integers(0, 2**32 - 1))
    d = draw(st.integers(1, 4))
    k = draw(st.integers(1, 3))
    n = draw(st.integers(max(d + k + 2, min_rows), 30))
    rng = np.random.default_rng(seed)
    labels = [i % k for i in range(n)]
    centres = rng.normal(scale=3.0, size=(k, d))
    mix = rng.normal(size=(d, d)) + 2 * np.eye(d)
    x = centres[labels] + rng.normal(size=(n, d)) @ mix
    return x, labels


@settings(max_examples=40)
@given(labelled())
def test_distance_is_non_negative_and_zero_at_the_class_mean(
    data: tuple[np.ndarray, list[int]],
) -> None:
    x, y = data
    m = Mahalanobis().fit(x, y)
    assert (m.distance(x, y) >= 0).all()
    assert np.allclose(m.distance(m.means_, m.classes_), 0.0, atol=1e-9)


@settings(max_examples=40)
@given(labelled())
def test_it_is_euclidean_after_whitening(data: tuple[np.ndarray, list[int]]) -> None:
    x, y = data
    m = Mahalanobis(shrinkage=None).fit(x, y)
    z = m.transform(x)
    expected = euclidean_distance(z, m.transform(m.means_)[[m.classes_.index(v) for v in y]])
    assert np.allclose(m.distance(x, y), expected, rtol=1e-9, atol=1e-9)
    # Whitened, the within-class covariance is the identity, and Mahalanobis is Euclidean.
    w = Mahalanobis(shrinkage=None).fit(z, y)
    assert np.allclose(w.covariance_, np.eye(x.shape[1]), atol=1e-8)
    assert np.allclose(w.distance(z, y), expected, rtol=1e-7, atol=1e-7)


@settings(max_examples=40)
@given(labelled(), st.integers(0, 2**32 - 1))
def test_affine_maps_of_the_features_change_nothing_without_shrinkage(
    data: tuple[np.ndarray, list[int]], seed: int
) -> None:
    x, y = data
    rng = np.random.default_rng(seed)
    d = x.shape[1]
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    a = q * rng.uniform(0.2, 5.0, size=d)  # invertible, condition number <= 25
    b = rng.normal(scale=10.0, size=d)
    before = Mahalanobis(shrinkage=None).fit(x, y)
    after = Mahalanobis(shrinkage=None).fit(x @ a + b, y)
    assert np.allclose(after.distance(x @ a + b, y), before.distance(x, y), rtol=1e-6, atol=1e-8)
    assert np.allclose(after.distances(x @ a + b), before.distances(x), rtol=1e-6, atol=1e-8)


@settings(max_examples=40)
@given(labelled(), st.booleans())
def test_predict_is_the_argmin_of_the_class_distances(
    data: tuple[np.ndarray, list[int]], relative: bool
) -> None:
    x, y = data
    m = Mahalanobis(relative=relative).fit(x, y)
    all_d = m.distances(x)
    assert all_d.shape == (len(x), len(m.classes_))
    assert list(m.predict(x)) == [m.classes_[k] for k in all_d.argmin(axis=1)]
    assert np.allclose(m.distance(x), all_d.min(axis=1))  # no labels: the nearest class


@settings(max_examples=30)
@given(labelled())
def test_relative_is_the_class_score_minus_the_background(
    data: tuple[np.ndarray, list[int]],
) -> None:
    x, y = data
    plain = Mahalanobis().fit(x, y)
    rel = Mahalanobis(relative=True).fit(x, y)
    background = Mahalanobis().fit(x)  # one class: every row
    expected = plain.distance(x, y) ** 2 - background.distance(x) ** 2
    assert np.allclose(rel.distance(x, y), expected, rtol=1e-9, atol=1e-9)


def test_a_row_scores_the_same_alone_or_in_any_batch() -> None:
    x, y = digits(20)
    m = Mahalanobis().fit(x, y)
    together = m.distance(x, y)
    alone = np.concatenate([m.distance(x[i : i + 1], [y[i]]) for i in range(len(x))])
    assert np.array_equal(together, alone)  # bit for bit (no BLAS blocking on rows)


def test_fewer_samples_than_dimensions_needs_shrinkage() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 50)), [i % 2 for i in range(10)]
    m = Mahalanobis().fit(x, y)  # Ledoit-Wolf keeps the covariance invertible
    assert np.isfinite(m.distance(x, y)).all()
    assert (
        np.linalg.eigvalsh(m.covariance_).min()
        > EIGEN_RTOL * 50 * np.linalg.eigvalsh(m.covariance_).max()
    )
    assert np.isfinite(Mahalanobis(shrinkage=0.3).fit(x, y).distance(x, y)).all()
    with pytest.raises(
        ValueError,
        match=r"singular \(rank 8 of 50.*shrinkage='empirical'.*use shrinkage='ledoit-wolf'",
    ):
        Mahalanobis(shrinkage=None).fit(x, y)


def test_single_class_and_unlabelled_data() -> None:
    x, _ = digits(40, classes=(3,))
    one = Mahalanobis().fit(x, [3] * len(x))
    none = Mahalanobis().fit(x)
    assert one.classes_ == [3] and none.classes_ == [None]
    assert np.allclose(one.distance(x, [3] * len(x)), none.distance(x))
    assert list(one.predict(x[:3])) == [3, 3, 3]


def test_digits_nearest_class_is_mostly_right() -> None:
    x, y = digits(60, classes=(0, 1, 2, 3))
    m = Mahalanobis().fit(x[::2], y[::2])
    accuracy = float(np.mean(m.predict(x[1::2]) == np.array(y[1::2])))
    assert accuracy > 0.9  # held-out digits: a sanity check of the model, on real data


def test_string_labels_round_trip() -> None:
    x, y = digits(20, classes=(0, 1))
    names = ["zero" if v == 0 else "one" for v in y]
    m = Mahalanobis().fit(x, names)
    assert m.classes_ == ["zero", "one"]
    assert set(m.predict(x).tolist()) <= {"zero", "one"}


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m, x: m.fit(x, [0] * 3), ValueError, "labels has 3 entries for 20 rows"),
        (lambda m, x: m.fit(x, "ab" * 10), TypeError, "labels must be a sequence of labels"),
        (lambda m, x: m.fit(x, [None] * 20), ValueError, r"labels\[0\] is None"),
        (
            lambda m, x: m.fit(x, [[0]] * 20),
            TypeError,
            r"labels\[0\] is a list, which is not hashable",
        ),
        (lambda m, x: m.fit(x[:0]), ValueError, "embeddings is empty"),
        (lambda m, x: m.fit(np.where(x > 8, np.nan, x)), ValueError, "embeddings holds NaN"),
        (lambda m, x: m.fit(x[0]), ValueError, "embeddings must be 2-D"),
        (
            lambda m, x: m.fit(x[:2], [0, 1]),
            ValueError,
            "needs at least one class with two or more rows",
        ),
    ],
)
def test_bad_fits_name_the_parameter(call: object, error: type, message: str) -> None:
    x, _ = digits(10, classes=(0, 1))
    with pytest.raises(error, match=message):
        call(Mahalanobis(), x)  # type: ignore[operator]


def test_bad_scoring_inputs() -> None:
    x, y = digits(10, classes=(0, 1))
    m = Mahalanobis().fit(x, y)
    with pytest.raises(
        ValueError, match="embeddings has 3 dimensions but the model was fitted on 64"
    ):
        m.distance(x[:, :3], y)
    with pytest.raises(ValueError, match="labels holds 7, a class this model was not fitted on"):
        m.distance(x[:1], [7])
    with pytest.raises(ValueError, match="embeddings holds an infinite value at row 0"):
        m.predict(np.full((1, 64), np.inf))
    with pytest.raises(ValueError, match="embeddings is empty"):
        m.distance(x[:0])
    with pytest.raises(RuntimeError, match="not fitted yet"):
        Mahalanobis().distance(x)


@pytest.mark.parametrize(
    ("shrinkage", "error", "message"),
    [
        ("oas", ValueError, "shrinkage must be one of 'ledoit-wolf', 'empirical'"),
        (1.5, ValueError, r"shrinkage must be in \[0, 1\]"),
        (True, TypeError, "shrinkage must be"),
    ],
)
def test_bad_shrinkage(shrinkage: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Mahalanobis(shrinkage=shrinkage)  # type: ignore[arg-type]
