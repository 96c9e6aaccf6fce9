"""PyTorch data-loading integration: datasets and a collate function that augment.

Every class here applies the seeding rule of augkit: item ``i`` of epoch ``e``
is augmented with ``pipeline.augment(x, seed=seed, epoch=e, index=i)``. The
augmented data set is therefore a function of ``(seed, epoch)`` alone: the same
whatever ``num_workers``, ``persistent_workers``, batch size or sampler order.

- :class:`AugmentedDataset` wraps a map-style dataset (anything with
  ``__getitem__`` and ``__len__``: a list, a ``torch.utils.data.Dataset``, a
  ``datasets.Dataset``). It also defines ``__getitems__``, which the DataLoader
  calls with a whole batch of indices, so the pipeline runs batched
  (``Pipeline.augment_batch``) inside each worker with the same results.
- :class:`AugmentedIterableDataset` wraps an iterable, with the index rule
  described on the class.
- :class:`BatchAugment` is a ``collate_fn`` that augments the whole batch with
  ``Pipeline.augment_batch`` and then collates; wrap the dataset in
  :class:`WithIndex` (or :class:`IterableWithIndex`) so it knows the indices.

The epoch
---------
``set_epoch(e)`` must reach DataLoader workers, including persistent ones,
which were started (forked or spawned) with a copy of the dataset. The epoch is
therefore kept in a one-element ``torch`` tensor in shared memory: workers see
the value the main process writes. Call ``set_epoch`` *before* iterating the
DataLoader for that epoch (as with ``DistributedSampler.set_epoch``); workers
read the epoch when they fetch, and a DataLoader prefetches as soon as it is
iterated.

Items and views
---------------
Items are split by the pipeline's lens (:mod:`augkit.items`): for a text
pipeline, mapping items have their ``"text"`` field augmented (the
pipeline's ``key``), ``(text, label)`` tuples their first element, and
every other field or element passes through. ``key=`` on a wrapper is a
shorthand for ``pipeline.with_item(key=...)``.

With ``views=k`` each item becomes a list of ``k`` augmented items. View
``v`` (``0 <= v < k``) of item ``i`` in epoch ``e`` is variant ``v`` of the
seeding rule, ``pipeline.augment(x, seed=seed, epoch=e, index=i, n=k)[v]``:
its own random streams, and its trace records ``variant=v``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info
from torch.utils.data._utils.collate import default_collate

from .pipeline import Pipeline
from .validation import check_int

__all__ = [
    "AugmentedDataset",
    "AugmentedIterableDataset",
    "BatchAugment",
    "IterableWithIndex",
    "WithIndex",
]


class _SharedEpoch:
    """An epoch counter that DataLoader workers see change (shared-memory tensor).

    Forked workers map the same memory; spawned workers receive the tensor
    through torch's multiprocessing pickler, which shares its storage too.
    """

    def __init__(self) -> None:
        self._value = torch.zeros(1, dtype=torch.int64)
        self._value.share_memory_()  # type: ignore[no-untyped-call]

    def get(self) -> int:
        return int(self._value[0])

    def set(self, epoch: int) -> None:
        self._value[0] = check_int("epoch", epoch, low=0)


def _check_pipeline(pipeline: Any) -> Pipeline:
    if not isinstance(pipeline, Pipeline):
        raise TypeError(
            f"pipeline must be an augkit.Pipeline, got {type(pipeline).__name__} "
            "(wrap single operators with Pipeline.sequence([op]))"
        )
    return pipeline


class _ItemAugmenter:
    """Runs the pipeline on a wrapper's items; the pipeline's lens splits them.

    ``key`` (if given) is a shorthand for ``pipeline.with_item(key=key)``:
    the field of mapping items to augment. With ``views > 1`` each item
    becomes a list of ``views`` augmented items, variant ``v`` at its own
    coordinate of the seeding rule.
    """

    def __init__(self, pipeline: Any, key: str | None, seed: int, views: int) -> None:
        pipe = _check_pipeline(pipeline)
        if key is not None:
            if not isinstance(key, str):
                raise TypeError(f"key must be a str or None, got {type(key).__name__}")
            pipe = pipe.with_item(key=key)
        self.pipeline = pipe
        self.key = key
        self.seed = check_int("seed", seed, low=0)
        self.views = check_int("views", views, low=1)
        self._n = None if self.views == 1 else self.views

    def one(self, item: Any, epoch: int, index: int) -> Any:
        return self.pipeline.augment(item, seed=self.seed, epoch=epoch, index=index, n=self._n)

    def many(self, items: Sequence[Any], epoch: int, indices: Sequence[int]) -> list[Any]:
        if not items:
            return []
        out: list[Any] = self.pipeline.augment_batch(
            list(items), seed=self.seed, epoch=epoch, indices=list(indices), n=self._n
        )
        return out


class _EpochAugmented:
    """What both dataset wrappers share: the pipeline settings and a shared epoch."""

    def _init_augmentation(
        self, pipeline: Pipeline, key: str | None, seed: int, views: int
    ) -> None:
        self._aug = _ItemAugmenter(pipeline, key, seed, views)
        self.pipeline = self._aug.pipeline
        self.key = self._aug.key
        self.seed = self._aug.seed
        self.views = self._aug.views
        self._epoch = _SharedEpoch()

    @property
    def epoch(self) -> int:
        """The epoch whose augmentation items get now."""
        return self._epoch.get()

    def set_epoch(self, epoch: int) -> None:
        """Use the augmentation of ``epoch`` from now on, in this process and in workers.

        An iterable dataset reads the epoch once at the start of each pass.
        """
        self._epoch.set(epoch)


class AugmentedDataset(_EpochAugmented, Dataset[Any]):
    """A map-style dataset whose items are augmented by ``pipeline``.

    Item ``i`` in epoch ``e`` is ``pipeline.augment(x, seed=seed, epoch=e,
    index=i)`` of the wrapped item ``x`` (see the module docstring for views
    and for how items are split with ``key``). Call :meth:`set_epoch` before
    each epoch; it reaches DataLoader workers, persistent ones included.

    >>> from augkit import Pipeline
    >>> from augkit.base import Identity
    >>> ds = AugmentedDataset([("a", 0), ("b", 1)], Pipeline.sequence([Identity()]))
    >>> ds[1]
    ('b', 1)
    """

    def __init__(
        self,
        dataset: Any,
        pipeline: Pipeline,
        *,
        key: str | None = None,
        seed: int = 0,
        views: int = 1,
    ) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"dataset must be map-style (__getitem__ and __len__), got "
                f"{type(dataset).__name__}; use AugmentedIterableDataset for iterables"
            )
        self.dataset = dataset
        self._init_augmentation(pipeline, key, seed, views)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        index = _index(index, len(self))
        return self._aug.one(self.dataset[index], self.epoch, index)

    def __getitems__(self, indices: Sequence[int]) -> list[Any]:
        """A whole batch (the DataLoader calls this): one batched pipeline run.

        Equal to ``[self[i] for i in indices]``, by the pipeline's guarantee
        that batched and per-item execution agree.
        """
        idx, items = _get_many(self.dataset, indices)
        return self._aug.many(items, self.epoch, idx)

    def __repr__(self) -> str:
        return (
            f"AugmentedDataset({type(self.dataset).__name__} of {len(self)}, key={self.key!r}, "
            f"seed={self.seed}, views={self.views}, epoch={self.epoch})"
        )


def _index(index: Any, n: int) -> int:
    i = check_int("index", index)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"index {index} is out of range for a dataset of {n} items")
    return i


def _get_many(dataset: Any, indices: Sequence[int]) -> tuple[list[int], list[Any]]:
    """Validated indices and the items there, through ``__getitems__`` where there is one."""
    n = len(dataset)
    idx = [_index(i, n) for i in indices]
    getitems = getattr(dataset, "__getitems__", None)
    items = list(getitems(idx)) if callable(getitems) else [dataset[i] for i in idx]
    if len(items) != len(idx):
        raise RuntimeError(
            f"the wrapped dataset's __getitems__ returned {len(items)} items for {len(idx)} indices"
        )
    return idx, items


def _worker() -> tuple[int, int]:
    info = get_worker_info()
    return (0, 1) if info is None else (int(info.id), int(info.num_workers))


def _indexed_stream(source: Iterable[Any], shard: bool) -> Iterator[tuple[int, Any]]:
    """``(index, item)`` pairs of this worker's share of ``source`` (rule on the classes)."""
    wid, nw = _worker()
    if shard:
        for pos, item in enumerate(source):
            if pos % nw == wid:
                yield pos, item
    else:
        for local, item in enumerate(source):
            yield local * nw + wid, item


class AugmentedIterableDataset(_EpochAugmented, IterableDataset[Any]):
    """An iterable dataset whose items are augmented by ``pipeline``.

    The index of an item, which with ``(seed, epoch)`` fixes its augmentation:

    - ``shard=True`` (default): the index is the item's position in the
      wrapped iterable (0, 1, 2, ...). With ``W`` DataLoader workers, each
      worker iterates the whole source and keeps the positions ``p`` with
      ``p % W == worker_id``, so every item is produced once and its
      augmentation is the same whatever ``num_workers`` (only the order in
      which workers' batches arrive differs).
    - ``shard=False``: for a source that splits the work between workers
      itself (it calls ``torch.utils.data.get_worker_info()``). Worker ``w`` of
      ``W`` gives its ``k``-th item index ``k * W + w``: unique and
      deterministic for a given ``num_workers``, but which item gets which
      index depends on how the source shards.

    ``chunk_size > 1`` augments that many consecutive items of a worker with
    one ``Pipeline.augment_batch`` call (worth it for back-translation); the
    results are the same as with ``chunk_size=1``. The epoch is read once at
    the start of each pass over the data.
    """

    def __init__(
        self,
        dataset: Iterable[Any],
        pipeline: Pipeline,
        *,
        key: str | None = None,
        seed: int = 0,
        views: int = 1,
        shard: bool = True,
        chunk_size: int = 1,
    ) -> None:
        if not hasattr(dataset, "__iter__"):
            raise TypeError(f"dataset must be iterable, got {type(dataset).__name__}")
        self.dataset = dataset
        self._init_augmentation(pipeline, key, seed, views)
        self.shard = bool(shard)
        self.chunk_size = check_int("chunk_size", chunk_size, low=1)

    def __iter__(self) -> Iterator[Any]:
        epoch = self.epoch
        pairs = _indexed_stream(self.dataset, self.shard)
        if self.chunk_size == 1:
            for index, item in pairs:
                yield self._aug.one(item, epoch, index)
            return
        while chunk := list(islice(pairs, self.chunk_size)):
            yield from self._aug.many([p[1] for p in chunk], epoch, [p[0] for p in chunk])


class WithIndex(Dataset[tuple[int, Any]]):
    """A map-style dataset whose item ``i`` is ``(i, dataset[i])``, for :class:`BatchAugment`."""

    def __init__(self, dataset: Any) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"dataset must be map-style, got {type(dataset).__name__}")
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[int, Any]:
        i = _index(index, len(self))
        return i, self.dataset[i]

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[int, Any]]:
        idx, items = _get_many(self.dataset, indices)
        return list(zip(idx, items))


class IterableWithIndex(IterableDataset[tuple[int, Any]]):
    """``(index, item)`` pairs of an iterable, indexed and sharded as in
    :class:`AugmentedIterableDataset` (same ``shard`` rule), for :class:`BatchAugment`."""

    def __init__(self, dataset: Iterable[Any], *, shard: bool = True) -> None:
        if not hasattr(dataset, "__iter__"):
            raise TypeError(f"dataset must be iterable, got {type(dataset).__name__}")
        self.dataset = dataset
        self.shard = bool(shard)

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        return _indexed_stream(self.dataset, self.shard)


class BatchAugment(_EpochAugmented):
    """A DataLoader ``collate_fn`` that augments the batch, then collates it.

    The dataset must yield ``(index, item)`` pairs (wrap it in
    :class:`WithIndex` or :class:`IterableWithIndex`). The items are augmented
    with one ``pipeline.augment_batch(values, seed=seed, epoch=epoch,
    indices=indices)`` call, so an expensive operator such as back-translation
    translates the whole batch at once, and the result equals
    :class:`AugmentedDataset`'s item by item. Items are split with ``key`` as
    there (dicts, ``(x, y)`` tuples, raw values); then ``collate_fn`` (torch's
    ``default_collate`` unless given) makes the batch, without the indices.
    With workers, collation runs in the workers; :meth:`set_epoch` reaches
    them through shared memory.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        key: str | None = None,
        seed: int = 0,
        collate_fn: Callable[[list[Any]], Any] = default_collate,
    ) -> None:
        self._init_augmentation(pipeline, key, seed, 1)
        if not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {type(collate_fn).__name__}")
        self.collate_fn = collate_fn

    def augment(self, batch: Sequence[Any]) -> list[Any]:
        """The augmented items of a batch of ``(index, item)`` pairs, not collated."""
        indices: list[int] = []
        items: list[Any] = []
        for pair in batch:
            if not (isinstance(pair, tuple | list) and len(pair) == 2 and _is_index(pair[0])):
                raise TypeError(
                    "BatchAugment needs (index, item) pairs from the dataset; wrap it: "
                    "DataLoader(augkit.torch.WithIndex(dataset), collate_fn=BatchAugment(...))"
                )
            indices.append(int(pair[0]))
            items.append(pair[1])
        return self._aug.many(items, self.epoch, indices)

    def __call__(self, batch: Sequence[Any]) -> Any:
        return self.collate_fn(self.augment(batch))


def _is_index(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.ndim == 0 and not value.is_floating_point()
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
