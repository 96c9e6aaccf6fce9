"""QualityReport: rows, summary, diversity measures, plots; Trace.quality round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from augkit import ConfigError, Trace
from augkit.quality import QualityFilter, distinct_n, self_similarity
from tests.quality.helpers import HashingEmbedder, digits, sample_rows


def test_distinct_n_and_self_similarity() -> None:
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["one"], 2) == 0.0
    e = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert self_similarity(e) == pytest.approx((1 + 0 + 0) / 3)
    assert np.isnan(self_similarity(e[:1]))


def test_text_reports_carry_diversity_and_rows() -> None:
    rows = sample_rows()
    texts = [r["text"] for r in rows]
    qf = QualityFilter(HashingEmbedder(), metric="cosine").fit(texts, [r["label"] for r in rows])
    report = qf.evaluate(texts[::-1], originals=texts, groups=["reversed"] * len(texts))
    summary = report.summary()
    assert {"distinct_1", "distinct_2", "self_similarity"} <= set(summary["reversed"])
    row = report.rows()[0]
    assert set(row) == {"distance", "threshold", "accepted", "reason", "original_distance", "group"}


def test_plots_are_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    x, y = digits(20, classes=(0, 1))
    qf = QualityFilter(metric="mahalanobis", reference="class", label_check=True, folds=5).fit(x, y)
    noisy = x + np.random.default_rng(0).normal(scale=4.0, size=x.shape)
    report = qf.evaluate(noisy, labels=y, groups=["noise"] * len(x))
    paths = report.plot(tmp_path / "plots")
    assert set(paths) == {"distances", "projection"}
    for p in paths.values():
        assert p.is_file() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trace_quality_round_trips_and_is_checked() -> None:
    quality = {"metric": "cosine", "threshold": 0.2, "accepted": True, "tries": []}
    t = Trace(1, 0, 2, quality=quality)
    assert Trace.from_json(t.to_json()).quality == quality
    assert "quality" not in Trace(1, 0, 2).to_dict()
    with pytest.raises(ConfigError, match="'quality' must be a mapping"):
        Trace.from_dict({"seed": 1, "epoch": 0, "index": 0, "quality": [1]})
