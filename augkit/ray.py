"""Ray Data integration: augment a ``ray.data.Dataset`` on a cluster, the same however it runs.

:func:`augment_dataset` maps a pipeline over a Ray dataset; :func:`augment_corpus_on_ray`
is ``augkit augment --engine ray``. Both rest on augkit's seeding rule: an
item's output is a function of ``(seed, epoch, index, variant)`` and the
input alone, so it cannot depend on how Ray cuts the data into blocks and
batches, how many actors run, on which node, or in which order.

The item index
--------------
Ray Data has no stable global row number, so the index comes from the record
itself:

- ``id_field`` (the default, ``"id"``) names a column holding a stable id,
  a ``str`` or an ``int``; the index is :func:`index_of_id` of that id:
  the first 8 bytes, big-endian, of BLAKE2b (``digest_size=8``,
  ``person=b"augkit.id.v1"``) of the id's canonical encoding,
  ``b"s:" + UTF-8`` for a string and ``b"i:" + ASCII decimal`` (``-`` for a
  negative) for an integer. It is the same on every platform and Python
  version (never Python's ``hash()``, which is salted per process), and
  ``"7"`` and ``7`` are different ids. Two records with the same id get the
  same index, so the same random choices (two equal records: the same
  outputs); ids should be unique. That is not checked while augmenting (it
  would take a pass over the whole dataset before the first batch, and a
  check per batch would make the result depend on the batching):
  :func:`duplicate_ids` checks it with one aggregation.
- ``index_field`` names a column that already holds an integer index in
  ``[0, 2**64)`` (a line number, a row id); it is used as it is. Give it to
  reproduce an earlier single-process run, whose indices were positions.

Output rows
-----------
``n`` rows per input row, the input's variants in order: every column of the
input as it was (taken with Arrow, types untouched), the augmented ``key``
column replaced, plus, like the records of ``augkit augment``:

- ``source_index`` (uint64): the item index the outputs were drawn at (the
  ``index_field`` column itself when that is named ``source_index``);
- ``variant`` (int64): ``0 <= variant < n``;
- ``trace`` (string): the trace as JSON text (:meth:`augkit.Trace.to_dict`),
  which replays the output from the input alone (:meth:`augkit.Pipeline.replay`).

Row ``(index i, variant v)`` equals ``pipe.augment_batch([item], seed=seed,
epoch=epoch, indices=[i], n=n, return_traces=True)`` at ``[0][v]``, in any
batch.

Actors
------
The pipeline runs in an actor pool (``map_batches`` with a callable class,
``concurrency`` actors, each with ``num_gpus`` GPUs and ``num_cpus`` CPUs):
each actor unpickles the pipeline and loads its model-backed operators
(back-translation, nlpaug) once, when it starts, and every batch of
``batch_size`` rows reaches the pipeline whole, so an operator's batched
path (batched translation) does the work. Ray Data restarts an actor that
dies and runs its batch again; because a batch's output is a function of the
batch, the retried batch gives the same rows, and every row comes out once.

This module imports Ray when its functions run, not when it is imported.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .base import BaseAugmenter
from .corpus.readers import RESERVED, Record, field_names
from .corpus.runner import LineWriter, RecordLines, record_pipeline
from .corpus.sharded import ShardedSummary, augment_corpus_sharded
from .errors import AugkitError
from .items import FieldLens
from .pipeline import Pipeline
from .seeding import ATTEMPT_BITS, VARIANT_BITS
from .validation import MAX_U64, check_bool, check_int

if TYPE_CHECKING:
    import pyarrow as pa
    import ray.data

__all__ = [
    "ID_HASH_PERSON",
    "RecordError",
    "augment_corpus_on_ray",
    "augment_dataset",
    "duplicate_ids",
    "index_of_id",
]

#: BLAKE2b's personalization string for ids (version 1 of the id-to-index rule).
ID_HASH_PERSON = b"augkit.id.v1"


class RecordError(AugkitError, ValueError):
    """A row of the dataset cannot be augmented: its id or index is missing or of the wrong type."""


def index_of_id(value: str | int) -> int:
    """The 64-bit item index of a record's stable id (see the module doc for the rule).

    >>> index_of_id("doc-1") == index_of_id("doc-1") != index_of_id("doc-2")
    True

    ``str`` and ``int`` ids are accepted (numpy integers and strings too);
    anything else, ``bool`` included, is a ``TypeError``.
    """
    return _index_of_id(value, "id")


def _index_of_id(value: Any, where: str) -> int:
    if isinstance(value, str):
        data = b"s:" + value.encode("utf-8", "surrogatepass")
    elif isinstance(value, int) and not isinstance(value, bool):
        data = b"i:" + str(value).encode("ascii")
    else:
        import numpy as np

        if isinstance(value, np.integer):
            data = b"i:" + str(int(value)).encode("ascii")
        elif value is None:
            raise RecordError(f"{where} is null; every row needs a stable id (a str or an int)")
        else:
            raise TypeError(
                f"{where} must be a str or an int id, got {type(value).__name__} {value!r}; "
                "cast the column, or give index_field= naming an integer index column"
            )
    digest = hashlib.blake2b(data, digest_size=8, person=ID_HASH_PERSON).digest()
    return int.from_bytes(digest, "big")


# --------------------------------------------------------------------------- the dataset


def _compute(concurrency: int | tuple[int, int]) -> Any:
    """``concurrency`` actors (or an autoscaling ``(min, max)`` pool) as Ray's compute strategy."""
    import ray.data

    if isinstance(concurrency, tuple):
        if len(concurrency) != 2:
            raise ValueError(f"concurrency must be an int or (min, max), got {concurrency!r}")
        low = check_int("concurrency[0]", concurrency[0], low=1)
        high = check_int("concurrency[1]", concurrency[1], low=low)
        return ray.data.ActorPoolStrategy(min_size=low, max_size=high)
    return ray.data.ActorPoolStrategy(size=check_int("concurrency", concurrency, low=1))


def _resources(num_gpus: float, num_cpus: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (("num_gpus", num_gpus), ("num_cpus", num_cpus)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if name == "num_gpus" and value == 0:
            continue
        out[name] = float(value)
    return out


def _load_models(pipe: Pipeline) -> None:
    """Load the models of model-backed operators now (once per actor), not on the first batch."""
    for op in pipe.ops:
        if isinstance(op, Pipeline):
            _load_models(op)
        elif isinstance(op, BaseAugmenter) and callable(getattr(op, "load", None)):
            op.load()  # type: ignore[attr-defined]


class _AugmentBatches:
    """The callable class of :func:`augment_dataset`: one per actor, called once per batch."""

    def __init__(self, pipe: Pipeline, settings: dict[str, Any]) -> None:
        self.pipe = pipe
        self.s = settings
        _load_models(pipe)

    def __call__(self, table: pa.Table) -> pa.Table:
        import numpy as np
        import pyarrow as pa

        s = self.s
        key, n = s["key"], s["n"]
        names = table.column_names
        _check_columns(names, s)
        indices = _batch_indices(table, s)
        labels = [name for name in s["labels"] if name in names]
        columns = {name: table.column(name).to_pylist() for name in [key, *labels]}
        for value in columns[key]:
            if not isinstance(value, str):
                raise RecordError(
                    f"key={key!r} holds {type(value).__name__} {value!r}, not text; drop or fill "
                    "such rows first"
                )
        items = [{name: columns[name][i] for name in columns} for i in range(table.num_rows)]
        outs, traces = self.pipe.augment_batch(
            items,
            seed=s["seed"],
            epoch=s["epoch"],
            indices=indices,
            n=n,
            distinct=s["distinct"],
            max_tries=s["max_tries"],
            return_traces=True,
        )
        texts = [variant[key] for per_item in outs for variant in per_item]
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"the pipeline returned {type(text).__name__}, not text")
        out = table.take(pa.array(np.repeat(np.arange(table.num_rows, dtype=np.int64), n)))
        key_type = table.schema.field(key).type
        text_type = (
            key_type
            if pa.types.is_string(key_type) or pa.types.is_large_string(key_type)
            else pa.string()
        )
        out = out.set_column(names.index(key), key, pa.array(texts, type=text_type))
        if s["index_field"] != "source_index":
            out = out.append_column(
                "source_index", pa.array([i for i in indices for _ in range(n)], pa.uint64())
            )
        out = out.append_column("variant", pa.array(list(range(n)) * table.num_rows, pa.int64()))
        trace_text = [_trace_json(t.to_dict()) for per_item in traces for t in per_item]
        return out.append_column("trace", pa.array(trace_text, pa.string()))


def _trace_json(trace: dict[str, Any]) -> str:
    return json.dumps(trace, ensure_ascii=False, allow_nan=False)


def _check_columns(names: Sequence[str], s: Mapping[str, Any]) -> None:
    """The columns a batch must have (``key``, the id or index) and must not have (reserved)."""
    key = s["key"]
    if key not in names:
        raise RecordError(
            f"key={key!r} is not a column of the dataset (columns: {', '.join(names)}); "
            "name the text column to augment"
        )
    if s["index_field"] is not None:
        if s["index_field"] not in names:
            raise RecordError(
                f"index_field={s['index_field']!r} is not a column of the dataset "
                f"(columns: {', '.join(names)})"
            )
    elif s["id_field"] not in names:
        raise RecordError(
            f"id_field={s['id_field']!r} is not a column of the dataset (columns: "
            f"{', '.join(names)}); name the column that holds each row's stable id, or give "
            "index_field= naming an integer index column"
        )
    for name in s["explicit_labels"]:
        if name not in names:
            raise RecordError(
                f"label_field={name!r} is not a column of the dataset (columns: {', '.join(names)})"
            )
    taken = [r for r in RESERVED if r in names and r != s["index_field"]]
    if taken:
        raise RecordError(
            f"the dataset has column(s) {taken}, which the output adds (source_index, variant, "
            "trace); drop or rename them first (ds.drop_columns / ds.rename_columns)"
        )


def _batch_indices(table: pa.Table, s: Mapping[str, Any]) -> list[int]:
    """Each row's item index: its ``index_field`` value, or :func:`index_of_id` of its id."""
    import pyarrow as pa

    index_field = s["index_field"]
    if index_field is None:
        field = s["id_field"]
        return [_index_of_id(v, f"id_field {field!r}") for v in table.column(field).to_pylist()]
    column = table.column(index_field)
    if not pa.types.is_integer(column.type):
        raise RecordError(
            f"index_field={index_field!r} holds {column.type}, not integers; cast it, or use "
            "id_field= to hash an id"
        )
    values = column.to_pylist()
    for v in values:
        if v is None or v < 0:
            raise RecordError(
                f"index_field={index_field!r} holds {v!r}; indices are integers in [0, 2**64)"
            )
    return values  # type: ignore[no-any-return]


def augment_dataset(
    ds: ray.data.Dataset,
    pipe: Pipeline,
    *,
    seed: int = 0,
    epoch: int = 0,
    n: int = 2,
    key: str = "text",
    id_field: str = "id",
    index_field: str | None = None,
    label_field: str | Sequence[str] | None = None,
    batch_size: int = 256,
    concurrency: int | tuple[int, int] = 4,
    num_gpus: float = 0,
    num_cpus: float | None = None,
    distinct: bool = False,
    max_tries: int = 4,
    filter: Any = None,
    ray_remote_args: Mapping[str, Any] | None = None,
) -> ray.data.Dataset:
    """``n`` augmented variants of every row of ``ds``, as a (lazy) Ray dataset.

    See the module doc for the index rule, the output rows and the actors.

    ``key`` is the text column to augment; the pipeline sees it and the
    label column, and every other column passes through. The item index comes from
    ``index_field`` when given (an integer column, used as it is), else from
    the stable id in ``id_field`` (:func:`index_of_id`). ``label_field`` (a
    column or a list) is the label label-aware operators read; by default the
    pipeline's own label field, when the dataset has that column.
    ``seed``, ``epoch``, ``n``, ``distinct`` and ``max_tries`` are
    :meth:`augkit.Pipeline.augment_batch`'s. ``batch_size`` rows go to the
    pipeline at once; ``concurrency`` is the number of actors (or a
    ``(min, max)`` pair: an autoscaling pool); each asks for ``num_gpus``
    GPUs (for back-translation on a GPU: ``num_gpus=1`` and the operator's
    ``device="auto"``) and ``num_cpus`` CPUs (Ray's default: 1). The pool's
    actors hold their CPUs while the dataset runs: leave CPUs for the tasks
    that read the data upstream (fewer actors than CPUs, ``num_cpus=0.5``, or
    ``(1, max)``), or those tasks wait forever (docs/ray.md, "Sizing the pool").
    ``ray_remote_args`` go to ``map_batches`` as they are (``memory``,
    ``accelerator_type`` ...). ``filter`` is a fitted
    :class:`augkit.quality.QualityFilter`: the actors run
    ``pipe.filtered(filter, max_tries=max_tries)``, which redraws rejected
    outputs (each trace records the decisions); its embedder is pickled to
    every actor and loads its model there, once.

    Raises ``TypeError`` / ``ValueError`` naming the argument for a bad one,
    at once; :class:`RecordError` (missing column, null or badly typed id,
    negative index) when a batch runs, wrapped by Ray in its task error.
    """
    import ray.data

    if not isinstance(ds, ray.data.Dataset):
        raise TypeError(f"ds must be a ray.data.Dataset, got {type(ds).__name__}")
    if not isinstance(pipe, Pipeline):
        raise TypeError(f"pipe must be an augkit.Pipeline, got {type(pipe).__name__}")
    if pipe.modality not in ("text", "any"):
        raise ValueError(
            f"this pipeline's operators take {pipe.modality!r} input; augment_dataset works on "
            "text columns"
        )
    if filter is not None:
        # Rejected outputs are redrawn from their own attempt coordinates (augkit.quality):
        # still a function of each row alone, so still the same however Ray runs it.
        pipe = pipe.filtered(filter, max_tries=max_tries)
    for name, value in (("key", key), ("id_field", id_field)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a column name (a non-empty str), got {value!r}")
    if index_field is not None and (not isinstance(index_field, str) or not index_field):
        raise TypeError(f"index_field must be a column name or None, got {index_field!r}")
    if index_field == key:
        raise ValueError(f"index_field and key are both {key!r}: the index column is not text")
    if index_field is None and id_field == key:
        raise ValueError(f"id_field and key are both {key!r}: give the column of stable ids")
    labels = field_names("label_field", label_field)
    lensed = record_pipeline(pipe, key, labels)
    lens_label = lensed.lens.label if isinstance(lensed.lens, FieldLens) else None
    settings: dict[str, Any] = {
        "seed": check_int("seed", seed, low=0),
        "epoch": check_int("epoch", epoch, low=0, high=MAX_U64),
        "n": check_int("n", n, low=1, high=2**VARIANT_BITS - 1),
        "distinct": check_bool("distinct", distinct),
        "max_tries": check_int("max_tries", max_tries, low=1, high=2**ATTEMPT_BITS),
        "key": key,
        "id_field": id_field,
        "index_field": index_field,
        "labels": [lens_label] if isinstance(lens_label, str) else list(lens_label or []),
        "explicit_labels": labels,
    }
    batch_size = check_int("batch_size", batch_size, low=1)
    kwargs: dict[str, Any] = {**_resources(num_gpus, num_cpus), **dict(ray_remote_args or {})}
    schema = ds.schema(fetch_if_missing=False)
    if schema is not None:  # known without running anything: check now, not in a worker
        _check_columns(list(schema.names), settings)
    return ds.map_batches(
        _AugmentBatches,
        fn_constructor_args=(lensed, settings),
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=_compute(concurrency),
        **kwargs,
    )


def duplicate_ids(
    ds: ray.data.Dataset,
    id_field: str = "id",
    *,
    limit: int = 10,
    num_partitions: int | None = None,
) -> list[Any]:
    """Up to ``limit`` ids that more than one row of ``ds`` has (``[]``: the ids are unique).

    One ``groupby(id_field, num_partitions=num_partitions).count()`` over the
    dataset (a shuffle): run it once before augmenting when the ids'
    uniqueness is not known. ``num_partitions`` is Ray's (its default starts
    many aggregators: give a small number for a small dataset).
    """
    limit = check_int("limit", limit, low=1)
    counts = ds.groupby(id_field, num_partitions=num_partitions).count()
    dupes = counts.filter(lambda row: row["count()"] > 1).take(limit)
    return [row[id_field] for row in dupes]


# --------------------------------------------------------------------------- the command


class _CorpusLines:
    """The callable class of ``--engine ray``: input records (as JSON) to output lines."""

    def __init__(self, writer: LineWriter) -> None:
        self.writer = writer
        _load_models(writer.pipeline)

    def __call__(self, table: pa.Table) -> pa.Table:
        import pyarrow as pa

        records = [
            Record(i, line, json.loads(data))
            for i, line, data in zip(
                table.column("source_index").to_pylist(),
                table.column("line").to_pylist(),
                table.column("record").to_pylist(),
            )
        ]
        results = self.writer.records(records)
        return pa.table(
            {
                "source_index": pa.array([r.index for r in results], pa.int64()),
                "line": pa.array([r.line for r in results], pa.int64()),
                "lines": pa.array(["".join(r.lines).encode("utf-8") for r in results], pa.binary()),
                "variants": pa.array([r.variants for r in results], pa.int64()),
                "unchanged": pa.array([r.unchanged for r in results], pa.int64()),
                "not_distinct": pa.array([r.not_distinct for r in results], pa.int64()),
                "skipped": pa.array(
                    [None if r.skipped is None else r.skipped.reason for r in results], pa.string()
                ),
            }
        )


class _RayEngine:
    """The shard engine (:data:`augkit.corpus.sharded.Engine`) on Ray Data."""

    def __init__(
        self, concurrency: int | tuple[int, int], resources: dict[str, Any], quiet: bool
    ) -> None:
        self.compute = _compute(concurrency)
        self.resources = resources
        self.quiet = quiet

    def __call__(
        self, writer: LineWriter, records: list[Record], batch_size: int
    ) -> Iterator[RecordLines]:
        import ray.data

        from .corpus.readers import BadRecord

        if not records:
            return
        rows = [
            # ensure_ascii: a lone surrogate (which JSON can hold) survives Arrow's UTF-8.
            {"source_index": r.index, "line": r.line, "record": json.dumps(r.data)}
            for r in records
        ]
        ds = ray.data.from_items(rows)
        # Rows come back in input order, so shards complete one after another and
        # the driver holds about one shard at a time (any order would be correct).
        ds.context.execution_options.preserve_order = True
        # An operator's own error (a model missing on a worker, an item that fails
        # without --skip-bad) reaches the command as itself, not wrapped by Ray Data.
        ds.context.raise_original_map_exception = True
        if self.quiet:
            ds.context.enable_progress_bars = False
            ds.context.print_on_execution_start = False
        out = ds.map_batches(
            _CorpusLines,
            fn_constructor_args=(writer,),
            batch_size=batch_size,
            batch_format="pyarrow",
            compute=self.compute,
            **self.resources,
        )
        try:
            batches: Iterator[Any] = iter(out.iter_batches(batch_size=None, batch_format="pyarrow"))
            for batch in batches:
                for row in batch.to_pylist():
                    text = row["lines"].decode("utf-8")
                    skipped = row["skipped"]
                    yield RecordLines(
                        row["source_index"],
                        row["line"],
                        [line + "\n" for line in text.split("\n")[:-1]],
                        row["variants"],
                        row["unchanged"],
                        row["not_distinct"],
                        None
                        if skipped is None
                        else BadRecord(row["source_index"], row["line"], skipped),
                    )
        except Exception as exc:
            cause = _augkit_cause(exc)
            if cause is not None:
                raise cause from None
            raise


def _augkit_cause(exc: BaseException) -> AugkitError | None:
    """The :class:`AugkitError` a Ray task raised, from the exceptions Ray wraps it in."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, AugkitError):
            return e
        todo += [e.__cause__, e.__context__, getattr(e, "cause", None)]
    return None


def augment_corpus_on_ray(
    input: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    pipeline: Pipeline,
    *,
    address: str | None = None,
    concurrency: int | tuple[int, int] = 2,
    num_gpus: float = 0,
    num_cpus: float | None = None,
    shard_size: int = 10_000,
    quiet: bool = False,
    log: Callable[[str], None] | None = None,
    **options: Any,
) -> ShardedSummary:
    """``augkit augment INPUT -o OUTDIR --engine ray``: sharded output, augmented by Ray actors.

    The shards and the manifest are :mod:`augkit.corpus.sharded`'s; read in
    order they are the single-process command's output, byte for byte.
    ``options`` are :func:`augkit.corpus.augment_corpus`'s (``field``,
    ``n``, ``seed``, ``batch_size``, ``restart`` ...). The driver (this
    process) reads and checks the input, sends the records of the shards
    still missing to ``concurrency`` actors (``num_gpus`` / ``num_cpus``
    each) and writes each shard when all its records are back, so
    ``outdir`` only has to be reachable from here.

    Connects to the cluster at ``address`` (``"auto"``: the one this machine
    belongs to) unless Ray is initialised already; with neither, starts a
    local one for the run and shuts it down afterwards.
    """
    import ray

    engine = _RayEngine(concurrency, _resources(num_gpus, num_cpus), quiet)
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=not quiet)
    try:
        return augment_corpus_sharded(
            input, outdir, pipeline, engine=engine, shard_size=shard_size, log=log, **options
        )
    finally:
        if started:
            ray.shutdown()
