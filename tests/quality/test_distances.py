"""cosine_distance, euclidean_distance, pairwise_distances: properties and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from augkit.quality import cosine_distance, euclidean_distance, pairwise_distances

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n, d = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    return draw(arrays(np.float64, (n, d), elements=finite)), draw(
        arrays(np.float64, (n, d), elements=finite)
    )


@given(pairs())
def test_distances_are_non_negative_and_cosine_is_bounded(
    ab: tuple[np.ndarray, np.ndarray],
) -> None:
    a, b = ab
    cos = cosine_distance(a, b)
    assert cos.shape == (len(a),) and cos.dtype == np.float64
    assert ((cos >= 0) & (cos <= 2)).all()
    assert (euclidean_distance(a, b) >= 0).all()


@given(pairs())
def test_identical_rows_are_at_distance_zero(ab: tuple[np.ndarray, np.ndarray]) -> None:
    a, _ = ab
    assert (euclidean_distance(a, a) == 0).all()
    nonzero = np.linalg.norm(a, axis=1) > 0
    assert np.allclose(cosine_distance(a, a)[nonzero], 0.0, atol=1e-12)


@given(pairs())
def test_symmetry_and_pairwise_diagonal(ab: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = ab
    assert np.array_equal(euclidean_distance(a, b), euclidean_distance(b, a))
    assert np.allclose(cosine_distance(a, b), cosine_distance(b, a), atol=1e-12)
    for metric, fn in (("euclidean", euclidean_distance), ("cosine", cosine_distance)):
        full = pairwise_distances(a, b, metric)
        assert full.shape == (len(a), len(b))
        assert np.allclose(np.diag(full), fn(a, b), atol=1e-9)


@given(pairs(), st.floats(0.01, 100.0))
def test_cosine_ignores_scale(ab: tuple[np.ndarray, np.ndarray], scale: float) -> None:
    a, b = ab
    assert np.allclose(cosine_distance(a * scale, b), cosine_distance(a, b), atol=1e-9)


def test_known_values_and_broadcast_of_one_row() -> None:
    a = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, 0.0]])
    assert np.allclose(cosine_distance(a, [[1.0, 0.0]]), [0.0, 1.0, 2.0, 1.0])
    assert np.allclose(euclidean_distance(a, [[0.0, 0.0]]), [1.0, 2.0, 3.0, 0.0])


@pytest.mark.parametrize("fn", [cosine_distance, euclidean_distance])
@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([[np.nan, 1.0]], [[0.0, 1.0]], "a holds NaN at row 0, column 0"),
        ([[0.0, 1.0]], [[np.inf, 1.0]], "b holds an infinite value"),
        ([[0.0, 1.0]], [[0.0, 1.0, 2.0]], "b has 3 dimensions but the model was fitted on 2"),
        (np.zeros((0, 2)), [[0.0, 1.0]], "a is empty"),
        ([0.0, 1.0], [[0.0, 1.0]], r"a must be 2-D \(n, d\), got shape \(2,\)"),
        ([[0.0], [1.0]], [[0.0], [1.0], [2.0]], "a has 2 rows but b has 3"),
    ],
)
def test_bad_inputs_are_named(fn: object, a: object, b: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fn(a, b)  # type: ignore[operator]


def test_wrong_kinds() -> None:
    with pytest.raises(TypeError, match="a must be a 2-D array"):
        cosine_distance("text", [[1.0]])
    with pytest.raises(TypeError, match="a must be a 2-D array of numbers"):
        euclidean_distance([["x"]], [[1.0]])
    with pytest.raises(ValueError, match="metric must be one of 'cosine', 'euclidean'"):
        pairwise_distances([[1.0]], [[1.0]], "manhattan")
