"""augkit.torch: the seeding rule through DataLoaders, workers, epochs, views, batches."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader, IterableDataset, get_worker_info  # noqa: E402

from augkit import Pipeline  # noqa: E402
from augkit.torch import (  # noqa: E402
    AugmentedDataset,
    AugmentedIterableDataset,
    BatchAugment,
    IterableWithIndex,
    WithIndex,
)
from tests.ops import AppendToken, Counting, DropChar, Scale  # noqa: E402

SEED = 11


def text_pipe() -> Pipeline:
    # Random enough that two epochs (or two views) of 12 items cannot all agree by chance.
    return Pipeline.markov(
        [AppendToken(), DropChar(), Counting()],
        start=[0.4, 0.3, 0.3],
        transitions=[[0.2, 0.3, 0.2], [0.3, 0.1, 0.3], [0.3, 0.3, 0.1]],
        max_steps=4,
    )


def records(n: int = 12) -> list[dict[str, Any]]:
    return [
        {"id": i, "text": f"sample number {i} with some words", "label": i % 2} for i in range(n)
    ]


def contents(loader: DataLoader[Any]) -> dict[int, str]:
    """{item id: augmented text} of one pass; fails on a duplicate id."""
    out: dict[int, str] = {}
    for batch in loader:
        for i, text in zip(batch["id"].tolist(), batch["text"]):
            assert i not in out, f"item {i} produced twice"
            out[i] = text
    return out


def reference(pipe: Pipeline, recs: list[dict[str, Any]], epoch: int) -> dict[int, str]:
    return {r["id"]: pipe.augment(r["text"], seed=SEED, epoch=epoch, index=r["id"]) for r in recs}


# ----------------------------------------------------------------- item shapes and the rule


def test_items_follow_the_seeding_rule_for_dicts_tuples_and_raw_values() -> None:
    pipe = text_pipe()
    recs = records(6)
    ds_dict = AugmentedDataset(recs, pipe, key="text", seed=SEED)
    ds_tuple = AugmentedDataset([(r["text"], r["label"]) for r in recs], pipe, seed=SEED)
    ds_raw = AugmentedDataset([r["text"] for r in recs], pipe, seed=SEED)
    for epoch in (0, 3):
        for ds in (ds_dict, ds_tuple, ds_raw):
            ds.set_epoch(epoch)
        for i, r in enumerate(recs):
            expected = pipe.augment(r["text"], seed=SEED, epoch=epoch, index=i)
            assert ds_dict[i] == {**r, "text": expected}
            assert ds_tuple[i] == (expected, r["label"])
            assert ds_raw[i] == expected
    assert ds_raw[-1] == ds_raw[5]
    # The wrapped data is never modified.
    assert recs == records(6)


def test_named_tuples_keep_their_type_and_lists_are_values() -> None:
    from collections import namedtuple

    Example = namedtuple("Example", ["text", "label"])
    pipe = text_pipe()
    ds = AugmentedDataset([Example("some text here", 1)], pipe, seed=2)
    out = ds[0]
    assert isinstance(out, Example) and out.label == 1
    assert out.text == pipe.augment("some text here", seed=2, index=0)
    scale = Pipeline.sequence([Scale(2.0, 2.0)])
    arrays = AugmentedDataset([np.array([1.0, 2.0])], scale)
    np.testing.assert_array_equal(arrays[0], [2.0, 4.0])


def test_pipeline_key_handles_dict_items_when_the_dataset_has_no_key() -> None:
    pipe = Pipeline.sequence([AppendToken()], key="text")
    recs = records(3)
    ds = AugmentedDataset(recs, pipe, seed=SEED)
    assert ds[2] == pipe.augment(recs[2], seed=SEED, index=2)
    assert ds[2]["id"] == 2 and ds[2]["text"] != recs[2]["text"]


def test_tuple_with_key_augments_the_field_of_the_first_element() -> None:
    pipe = text_pipe()
    ds = AugmentedDataset([({"text": "hello there", "x": 1}, 7)], pipe, key="text", seed=3)
    item, label = ds[0]
    assert label == 7 and item["x"] == 1
    assert item["text"] == pipe.augment("hello there", seed=3, index=0)


def test_getitems_equals_per_item_and_runs_one_batched_call() -> None:
    counting = Counting()
    pipe = Pipeline.sequence([counting])
    texts = [f"text {i}" for i in range(10)]
    ds = AugmentedDataset(texts, pipe, seed=5)
    ds.set_epoch(2)
    idx = [7, 2, 9, 0]
    counting.batch_calls.clear()
    batch = ds.__getitems__(idx)
    assert counting.batch_calls == [4]
    assert batch == [ds[i] for i in idx]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**63),
    epoch=st.integers(0, 1000),
    views=st.integers(1, 4),
    idx=st.lists(st.integers(0, 19), min_size=0, max_size=8),
)
def test_batched_and_per_item_agree_for_any_views(
    seed: int, epoch: int, views: int, idx: list[int]
) -> None:
    texts = [f"row {i} of the data" for i in range(20)]
    ds = AugmentedDataset(texts, text_pipe(), seed=seed, views=views)
    ds.set_epoch(epoch)
    assert ds.__getitems__(idx) == [ds[i] for i in idx]


def test_errors_are_clear() -> None:
    pipe = text_pipe()
    # The pipeline's lens: a text pipeline augments the "text" field of mapping items,
    # and key= on the wrapper picks another field.
    assert (
        AugmentedDataset(records(2), pipe)[0] == AugmentedDataset(records(2), pipe, key="text")[0]
    )
    assert AugmentedDataset(["a"], pipe, key="text")[0] == AugmentedDataset(["a"], pipe)[0]
    with pytest.raises(KeyError, match="no field 'body'"):
        AugmentedDataset(records(2), pipe, key="body")[0]
    with pytest.raises(ValueError, match="views"):
        AugmentedDataset(["a"], pipe, views=0)
    with pytest.raises(ValueError, match="seed"):
        AugmentedDataset(["a"], pipe, seed=-1)
    with pytest.raises(TypeError, match=r"augkit\.Pipeline"):
        AugmentedDataset(["a"], AppendToken())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="map-style"):
        AugmentedDataset(iter(["a"]), pipe)
    with pytest.raises(IndexError):
        AugmentedDataset(["a"], pipe)[1]
    with pytest.raises(ValueError, match="epoch"):
        AugmentedDataset(["a"], pipe).set_epoch(-1)
    with pytest.raises(TypeError, match="WithIndex"):
        BatchAugment(pipe)(["a", "b"])


# ----------------------------------------------------------------- DataLoader and workers


@pytest.mark.slow
@pytest.mark.parametrize(
    ("num_workers", "batch_size", "shuffle"),
    [(0, 4, False), (1, 3, True), (2, 5, True), (2, 1, False)],
)
def test_epoch_contents_do_not_depend_on_workers_batches_or_order(
    num_workers: int, batch_size: int, shuffle: bool
) -> None:
    pipe = text_pipe()
    recs = records()
    ds = AugmentedDataset(recs, pipe, key="text", seed=SEED)
    loader = DataLoader(
        ds,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(num_workers),
    )
    for epoch in (0, 1):
        ds.set_epoch(epoch)
        assert contents(loader) == reference(pipe, recs, epoch)


@pytest.mark.slow
def test_set_epoch_reaches_persistent_workers() -> None:
    pipe = text_pipe()
    recs = records()
    ds = AugmentedDataset(recs, pipe, key="text", seed=SEED)
    loader = DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, persistent_workers=True)
    seen = []
    for epoch in range(3):
        ds.set_epoch(epoch)
        got = contents(loader)
        assert got == reference(pipe, recs, epoch)
        seen.append(got)
    # Each epoch differs from the others: workers did not keep a stale epoch.
    assert seen[0] != seen[1] and seen[1] != seen[2] and seen[0] != seen[2]
    changed = sum(seen[0][i] != seen[1][i] for i in seen[0])
    assert changed >= len(recs) // 3


@pytest.mark.slow
def test_set_epoch_reaches_spawned_persistent_workers() -> None:
    # Spawned workers get a pickled copy of the dataset; the epoch tensor's storage is shared.
    pipe = text_pipe()
    recs = records(6)
    ds = AugmentedDataset(recs, pipe, key="text", seed=SEED)
    loader = DataLoader(
        ds,
        batch_size=3,
        num_workers=1,
        persistent_workers=True,
        multiprocessing_context="spawn",
    )
    for epoch in (0, 1):
        ds.set_epoch(epoch)
        assert contents(loader) == reference(pipe, recs, epoch)


# ----------------------------------------------------------------- views


def test_views_follow_their_documented_streams_and_are_independent() -> None:
    pipe = Pipeline.sequence([Scale(0.5, 2.0)])
    xs = [float(i + 1) for i in range(30)]
    ds = AugmentedDataset([(x, "y") for x in xs], pipe, seed=SEED, views=3)
    ds.set_epoch(2)
    factors = []
    for i, x in enumerate(xs):
        views = ds[i]
        assert len(views) == 3 and all(y == "y" for _, y in views)
        # View v is variant v of the seeding rule: its own coordinate, recorded in its trace.
        alone, traces = pipe.augment(x, seed=SEED, epoch=2, index=i, n=3, return_trace=True)
        assert [w for w, _ in views] == alone
        assert [(t.epoch, t.index, t.variant) for t in traces] == [(2, i, v) for v in range(3)]
        factors.append([w / x for w, _ in views])
    f = np.array(factors)
    assert len({tuple(row) for row in f.round(12)}) == len(xs)  # no two items share a stream
    assert (f[:, 0] != f[:, 1]).all() and (f[:, 1] != f[:, 2]).all()
    # Independent uniform factors: views are uncorrelated (|r| small for 30 pairs).
    r = np.corrcoef(f[:, 0], f[:, 1])[0, 1]
    assert abs(r) < 0.6
    # views=1 gives exactly the plain rule.
    one = AugmentedDataset([(x, "y") for x in xs], pipe, seed=SEED, views=1)
    one.set_epoch(2)
    assert one[4] == (pipe.augment(xs[4], seed=SEED, epoch=2, index=4), "y")


def test_views_of_dict_items_in_a_loader_with_workers() -> None:
    pipe = text_pipe()
    recs = records(8)
    ds = AugmentedDataset(recs, pipe, key="text", seed=SEED, views=2)
    ds.set_epoch(1)
    loader = DataLoader(ds, batch_size=3, num_workers=2)
    got: dict[int, list[str]] = {}
    for batch in loader:
        # A list of views, each collated as the items are: one batch per view.
        assert isinstance(batch, list) and len(batch) == 2
        for j, i in enumerate(batch[0]["id"].tolist()):
            assert batch[1]["id"][j] == i
            got[i] = [batch[0]["text"][j], batch[1]["text"][j]]
    for r in recs:
        i = r["id"]
        assert got[i] == pipe.augment(r["text"], seed=SEED, epoch=1, index=i, n=2)
    assert any(a != b for a, b in got.values())


# ----------------------------------------------------------------- iterable datasets


class Stream(IterableDataset[dict[str, Any]]):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(records(self.n))


class SelfShardingStream(IterableDataset[dict[str, Any]]):
    """Splits itself between workers in contiguous blocks."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Iterator[dict[str, Any]]:
        info = get_worker_info()
        wid, nw = (0, 1) if info is None else (info.id, info.num_workers)
        per = math.ceil(self.n / nw)
        return iter(records(self.n)[wid * per : (wid + 1) * per])


@pytest.mark.slow
@pytest.mark.parametrize("chunk_size", [1, 4])
def test_iterable_contents_do_not_depend_on_workers(chunk_size: int) -> None:
    pipe = text_pipe()
    recs = records(10)
    ds = AugmentedIterableDataset(Stream(10), pipe, key="text", seed=SEED, chunk_size=chunk_size)
    for epoch in (0, 1):
        ds.set_epoch(epoch)
        expected = reference(pipe, recs, epoch)
        for nw in (0, 1, 2):
            assert contents(DataLoader(ds, batch_size=3, num_workers=nw)) == expected, nw
    persistent = DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True)
    for epoch in (2, 3):
        ds.set_epoch(epoch)
        assert contents(persistent) == reference(pipe, recs, epoch)


@pytest.mark.slow
def test_iterable_without_sharding_uses_the_worker_interleaved_index() -> None:
    pipe = text_pipe()
    recs = records(7)
    ds = AugmentedIterableDataset(SelfShardingStream(7), pipe, key="text", seed=SEED, shard=False)
    got = contents(DataLoader(ds, batch_size=2, num_workers=2))
    # worker 0 holds ids 0..3, worker 1 ids 4..6; k-th item of worker w has index k*2 + w.
    expected = {}
    for w, ids in ((0, range(0, 4)), (1, range(4, 7))):
        for k, i in enumerate(ids):
            expected[i] = pipe.augment(recs[i]["text"], seed=SEED, index=k * 2 + w)
    assert got == expected
    # Without workers the index is the position.
    assert contents(DataLoader(ds, batch_size=3)) == reference(pipe, recs, 0)


def test_iterable_views() -> None:
    pipe = text_pipe()
    ds = AugmentedIterableDataset(["a b c", "d e f"], pipe, seed=SEED, views=2, chunk_size=2)
    ds.set_epoch(1)
    assert list(ds) == [
        pipe.augment(x, seed=SEED, epoch=1, index=i, n=2) for i, x in enumerate(["a b c", "d e f"])
    ]


# ----------------------------------------------------------------- BatchAugment


@pytest.mark.slow
@pytest.mark.parametrize("num_workers", [0, 2])
def test_batch_augment_equals_augmented_dataset(num_workers: int) -> None:
    counting = Counting()
    pipe = Pipeline.markov(
        [counting, AppendToken()], [0.7, 0.3], [[0.0, 0.5], [0.5, 0.0]], max_steps=3
    )
    recs = records(10)
    collate = BatchAugment(pipe, key="text", seed=SEED)
    loader = DataLoader(
        WithIndex(recs),
        batch_size=4,
        shuffle=True,
        num_workers=num_workers,
        collate_fn=collate,
        persistent_workers=num_workers > 0,
    )
    for epoch in (0, 1):
        collate.set_epoch(epoch)
        assert contents(loader) == reference(pipe, recs, epoch)
    if num_workers == 0:
        # Batched: the counting operator saw groups, not one item per call.
        assert max(counting.batch_calls) > 1


def test_batch_augment_with_tuples_and_custom_collate() -> None:
    pipe = text_pipe()
    data = [("one two three", 1), ("four five six", 0), ("seven eight", 1)]
    collate = BatchAugment(pipe, seed=2, collate_fn=list)
    collate.set_epoch(4)
    batch = collate([(2, data[2]), (0, data[0])])
    assert batch == [
        (pipe.augment("seven eight", seed=2, epoch=4, index=2), 1),
        (pipe.augment("one two three", seed=2, epoch=4, index=0), 1),
    ]
    # Tensor indices (as a sampler might give) are accepted too.
    assert collate([(torch.tensor(2), data[2])]) == batch[:1]


def test_iterable_with_index_and_batch_augment() -> None:
    pipe = text_pipe()
    recs = records(5)
    loader = DataLoader(
        IterableWithIndex(Stream(5)),
        batch_size=2,
        collate_fn=BatchAugment(pipe, key="text", seed=SEED),
    )
    assert contents(loader) == reference(pipe, recs, 0)


# ----------------------------------------------------------------- Hugging Face datasets


@pytest.mark.slow
def test_hugging_face_dataset() -> None:
    datasets = pytest.importorskip("datasets")
    recs = records(9)
    hf = datasets.Dataset.from_list(recs)
    pipe = text_pipe()
    ds = AugmentedDataset(hf, pipe, key="text", seed=SEED)
    ds.set_epoch(1)
    assert ds[3] == {**recs[3], "text": pipe.augment(recs[3]["text"], seed=SEED, epoch=1, index=3)}
    for nw in (0, 2):
        assert contents(DataLoader(ds, batch_size=4, num_workers=nw)) == reference(pipe, recs, 1)

    # The offline equivalent with datasets.map(batched=True, with_indices=True).
    def augment(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        return {"text": pipe.augment_batch(batch["text"], seed=SEED, epoch=1, indices=indices)}

    mapped = hf.map(augment, batched=True, batch_size=4, with_indices=True)
    assert {r["id"]: r["text"] for r in mapped} == reference(pipe, recs, 1)


# ----------------------------------------------------------------- real operators


def test_real_text_operators_in_workers() -> None:
    text = pytest.importorskip("augkit.text")
    try:
        ops = [text.ChunkRecombination(), text.RandomInsertion(text.Vocabulary(["new", "word"]))]
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"text operators not available: {exc}")
    pipe = Pipeline.markov(ops, [0.5, 0.5], [[0.0, 0.5], [0.5, 0.0]], max_steps=2)
    recs = [
        {"id": i, "text": f"First part {i}. Second sentence here. Third one now.", "label": 0}
        for i in range(6)
    ]
    ds = AugmentedDataset(recs, pipe, key="text", seed=SEED)
    for epoch in (0, 1):
        ds.set_epoch(epoch)
        assert contents(DataLoader(ds, batch_size=4, num_workers=2)) == reference(pipe, recs, epoch)


def test_real_image_operators() -> None:
    geometry = pytest.importorskip("augkit.image.geometry")
    pipe = Pipeline.markov(
        [geometry.HorizontalFlip(), geometry.Rotate(20)], [0.5, 0.5], [[0, 0.5], [0.5, 0]], 2
    )
    images = [np.arange(48, dtype=np.uint8).reshape(4, 4, 3) + i for i in range(4)]
    ds = AugmentedDataset([(im, i) for i, im in enumerate(images)], pipe, seed=SEED)
    loader = DataLoader(ds, batch_size=2, num_workers=0)
    for x, y in loader:
        for img, i in zip(x, y.tolist()):
            expected = pipe.augment(images[i], seed=SEED, index=i)
            np.testing.assert_array_equal(img.numpy(), np.asarray(expected))


def test_a_config_with_key_text_works_over_text_label_tuples() -> None:
    # Issue 10: a CLI config with `key: text` failed inside AugmentedDataset over
    # (text, label) tuples. The lens takes the tuple's first element either way.
    pipe = Pipeline.from_yaml(
        "key: text\noperators:\n  - type: test_append_token\n"
        "chain: {start: [1.0], transitions: [[0.0]]}\n"
    )
    ds = AugmentedDataset([("a b", 0), ("c", 1)], pipe, seed=SEED)
    assert ds[1] == (pipe.augment("c", seed=SEED, index=1), 1)
    assert ds.__getitems__([0, 1]) == [ds[0], ds[1]]
