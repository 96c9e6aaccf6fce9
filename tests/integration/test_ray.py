"""augkit.ray on a local Ray cluster: the same records however Ray cuts and schedules the data.

Every test here shares one cluster (``ray_cluster``, tests/integration/conftest.py)
and runs in one xdist group. Each ``augment_dataset`` run starts its own actor
pool (a few seconds on 2 busy cores), so the cases are chosen to cover the
contract with few runs: block counts 1, 4 and 16 against 1 and 2 actors and
three batch sizes, one run through ``index_field``, one with an actor that
kills itself mid-run.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from augkit import Pipeline
from augkit.ray import (
    ID_HASH_PERSON,
    RecordError,
    _AugmentBatches,
    augment_dataset,
    duplicate_ids,
    index_of_id,
)
from tests.integration._ops import DieOnce, LabelEcho
from tests.ops import AppendToken, DropChar

pytestmark = pytest.mark.xdist_group("ray")

pa = pytest.importorskip(
    "pyarrow", reason="pyarrow comes with the ray extra (pip install 'augkit[ray]')"
)

SEED = 11
N = 2


def make_pipe() -> Pipeline:
    ops = [AppendToken(), DropChar(), LabelEcho()]
    rows = [[0.1, 0.3, 0.1], [0.3, 0.1, 0.1], [0.2, 0.2, 0.0]]
    return Pipeline.markov(ops, [0.5, 0.3, 0.2], rows, max_steps=3, label="label")


def make_rows(count: int) -> list[dict[str, Any]]:
    """Rows with a stable id and fields of several Arrow types that must pass through."""
    return [
        {
            "id": f"doc-{i:04d}",
            "text": f"review {i}: it works, mostly \u00e9t\u00e9 ok",
            "label": ["neg", "pos", "mixed"][i % 3],
            "score": i / 7,
            "meta": {"source": "shop", "tags": [i, i + 1]},
            "position": i,
        }
        for i in range(count)
    ]


def expected(
    pipe: Pipeline, rows: list[dict[str, Any]], indices: list[int], *, index_column: bool = True
) -> list[str]:
    """What single-process ``augment_batch(..., indices=...)`` gives, as output rows in JSON."""
    outs, traces = pipe.augment_batch(rows, seed=SEED, indices=indices, n=N, return_traces=True)
    records = []
    for row, idx, per_item, ts in zip(rows, indices, outs, traces):
        for v, (out, t) in enumerate(zip(per_item, ts)):
            rec = {**row, "text": out["text"], "variant": v, "trace": json.dumps(t.to_dict())}
            if index_column:
                rec["source_index"] = idx
            records.append(canonical(rec))
    return sorted(records)


def canonical(row: dict[str, Any]) -> str:
    """One output row as bytes to compare: JSON with sorted keys."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


def run(ds: Any, pipe: Pipeline, **kwargs: Any) -> list[str]:
    out = augment_dataset(ds, pipe, seed=SEED, n=N, num_cpus=0.5, **kwargs).take_all()
    return sorted(canonical(r) for r in out)


# --------------------------------------------------------------------------- the index rule


def test_index_of_id_is_blake2b_of_the_canonical_encoding() -> None:
    np = pytest.importorskip("numpy")
    digest = hashlib.blake2b(b"s:doc-1", digest_size=8, person=ID_HASH_PERSON).digest()
    assert index_of_id("doc-1") == int.from_bytes(digest, "big")
    # Pinned: the rule is part of the output's contract (the same on every platform).
    assert index_of_id("doc-1") == 13351910485851204912
    assert index_of_id(7) == 12776522800148278886 == index_of_id(np.int64(7))
    assert index_of_id("7") == 5154564775239047201  # a string id is not the integer id
    assert index_of_id(-3) == 14279965128629719936
    for bad in (True, 1.0, b"7", None, [1]):
        with pytest.raises((TypeError, RecordError), match="id"):
            index_of_id(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- batches, no cluster


def call_batch(rows: list[dict[str, Any]], **settings: Any) -> Any:
    base = {
        "seed": SEED, "epoch": 0, "n": N, "distinct": False, "max_tries": 4, "key": "text",
        "id_field": "id", "index_field": None, "labels": ["label"], "explicit_labels": [],
    }  # fmt: skip
    return _AugmentBatches(make_pipe(), {**base, **settings})(pa.Table.from_pylist(rows))


def test_a_batch_keeps_every_column_and_adds_provenance() -> None:
    rows = make_rows(5)
    out = call_batch(rows)
    assert out.num_rows == 5 * N
    assert out.column_names == [*rows[0], "source_index", "variant", "trace"]
    assert out.schema.field("meta").type == pa.Table.from_pylist(rows).schema.field("meta").type
    got = sorted(canonical(r) for r in out.to_pylist())
    assert got == expected(make_pipe(), rows, [index_of_id(r["id"]) for r in rows])


def test_an_index_column_named_source_index_is_not_added_twice() -> None:
    rows = [{**r, "source_index": r.pop("position")} for r in make_rows(4)]
    out = call_batch(rows, index_field="source_index")
    assert out.column_names == [*rows[0], "variant", "trace"]
    got = sorted(canonical(r) for r in out.to_pylist())
    assert got == expected(make_pipe(), rows, [0, 1, 2, 3])


def test_bad_rows_are_refused_naming_the_parameter() -> None:
    rows = make_rows(3)
    with pytest.raises(RecordError, match=r"id_field='uid' is not a column"):
        call_batch(rows, id_field="uid")
    with pytest.raises(RecordError, match=r"id_field 'id' is null"):
        call_batch([{**rows[0], "id": None}, rows[1]])
    with pytest.raises(TypeError, match=r"id_field 'id' must be a str or an int id, got float"):
        call_batch([{**r, "id": float(i)} for i, r in enumerate(rows)])
    with pytest.raises(RecordError, match=r"index_field='position' holds -1"):
        call_batch([{**rows[0], "position": -1}], index_field="position")
    with pytest.raises(RecordError, match=r"index_field='score' holds double, not integers"):
        call_batch(rows, index_field="score")
    with pytest.raises(RecordError, match=r"column\(s\) \['variant'\]"):
        call_batch([{**r, "variant": 1} for r in rows])
    with pytest.raises(RecordError, match=r"key='text' holds NoneType None, not text"):
        call_batch([{**rows[0], "text": None}])
    with pytest.raises(RecordError, match=r"key='body' is not a column"):
        call_batch(rows, key="body")


def test_bad_arguments_are_refused_before_anything_runs(ray_cluster: Any) -> None:
    ds = ray_cluster.data.from_items(make_rows(4))
    with pytest.raises(TypeError, match=r"ds must be a ray\.data\.Dataset"):
        augment_dataset(make_rows(4), make_pipe())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n must be"):
        augment_dataset(ds, make_pipe(), n=0)
    with pytest.raises(ValueError, match="concurrency must be"):
        augment_dataset(ds, make_pipe(), concurrency=0)
    with pytest.raises(ValueError, match="num_gpus must be a number >= 0"):
        augment_dataset(ds, make_pipe(), num_gpus=-1)
    with pytest.raises(TypeError, match="quality_filter must be a fitted quality filter"):
        augment_dataset(ds, make_pipe(), filter=object())
    # The schema of an in-memory dataset is known without running it: checked at once.
    with pytest.raises(RecordError, match="id_field='uid' is not a column"):
        augment_dataset(ds, make_pipe(), id_field="uid")


# --------------------------------------------------------------------------- on the cluster


#: (blocks, actors, batch size) of the determinism test: each block count, each
#: pool size, batches that cut blocks and batches larger than blocks.
BLOCKS_ACTORS_BATCH = [(1, 1, 256), (4, 2, 32), (16, 2, 7), (16, 1, 50)]


def test_same_records_for_any_blocks_actors_and_batch_size(ray_cluster: Any) -> None:
    rows = make_rows(240)
    pipe = make_pipe()
    want = expected(pipe, rows, [index_of_id(r["id"]) for r in rows])
    assert len(want) == len(set(want)) == 240 * N
    runs = {}
    for blocks, concurrency, batch_size in BLOCKS_ACTORS_BATCH:
        ds = ray_cluster.data.from_items(rows, override_num_blocks=blocks)
        runs[blocks, concurrency, batch_size] = run(
            ds, pipe, concurrency=concurrency, batch_size=batch_size
        )
    for setting, got in runs.items():
        assert got == want, setting


def test_index_field_and_an_upstream_map(ray_cluster: Any) -> None:
    rows = make_rows(60)
    pipe = make_pipe()
    ds = ray_cluster.data.range(60, override_num_blocks=4).map(lambda r: rows[r["id"]])
    got = run(ds, pipe, index_field="position", batch_size=16, concurrency=1)
    assert got == expected(pipe, rows, [r["position"] for r in rows])


def test_a_killed_actor_is_restarted_and_every_record_comes_once(
    ray_cluster: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "died"
    rows = make_rows(96)
    rows[70]["text"] = "this one says DIE to its worker"
    # Every item meets DieOnce first, whatever path the chain then samples.
    pipe = Pipeline.sequence([DieOnce(str(marker)), make_pipe()], label="label")
    # The reference runs in this process with the marker present: nothing dies here.
    marker.write_text("reference")
    want = expected(pipe, rows, [index_of_id(r["id"]) for r in rows])
    marker.unlink()
    ds = ray_cluster.data.from_items(rows, override_num_blocks=8)
    out = augment_dataset(
        ds,
        pipe,
        seed=SEED,
        n=N,
        batch_size=8,
        concurrency=2,
        num_cpus=0.5,
    ).take_all()  # Ray Data's actor pools restart actors and retry their tasks by default
    assert marker.exists(), "the actor did not reach the item that kills it"
    died = int(marker.read_text())
    assert died != os.getpid()
    keys = [(r["id"], r["variant"]) for r in out]
    assert len(keys) == len(set(keys)) == 96 * N  # every record exactly once
    assert sorted(canonical(r) for r in out) == want


def test_a_quality_filter_gives_the_same_records_as_in_one_process(ray_cluster: Any) -> None:
    quality = pytest.importorskip("augkit.quality")
    from tests.quality.helpers import HashingEmbedder, sample_rows

    reviews = sample_rows()
    rows = [{**r, "text": reviews[i % 20]["text"]} for i, r in enumerate(make_rows(80))]
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    qf = quality.QualityFilter(HashingEmbedder(), metric="cosine", quantile=0.5).fit(texts, labels)
    pipe = make_pipe()
    want = expected(pipe.filtered(qf, max_tries=3), rows, [index_of_id(r["id"]) for r in rows])
    decisions = [json.loads(json.loads(w)["trace"])["quality"] for w in want]
    assert {d["accepted"] for d in decisions} == {True, False}  # it accepts and rejects
    assert any(len(d["tries"]) > 1 for d in decisions)  # and redraws
    ds = ray_cluster.data.from_items(rows, override_num_blocks=4)
    assert run(ds, pipe, filter=qf, max_tries=3, batch_size=16, concurrency=2) == want


def test_duplicate_ids_finds_them(ray_cluster: Any) -> None:
    ds = ray_cluster.data.from_items([{"id": i % 5} for i in range(7)])
    assert sorted(duplicate_ids(ds, num_partitions=1)) == [0, 1]


def test_the_ray_docs_run(
    ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_docs import ROOT, python_blocks, run_blocks

    path = ROOT / "docs" / "ray.md"
    blocks = python_blocks(path, ray=True)
    assert len(blocks) > len(python_blocks(path))  # some need the cluster
    run_blocks(path, blocks, tmp_path, monkeypatch)


def hf_augment_rows(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
    """docs/ray.md's ``datasets.Dataset.map`` function, with this file's pipeline and seed."""
    pipe = make_pipe()
    items = [dict(zip(batch, values)) for values in zip(*batch.values())]
    outs, traces = pipe.augment_batch(items, seed=SEED, indices=indices, n=N, return_traces=True)
    out: dict[str, list[Any]] = {name: [] for name in [*batch, "source_index", "variant", "trace"]}
    for index, per_item, per_trace in zip(indices, outs, traces):
        for variant, (item, trace) in enumerate(zip(per_item, per_trace)):
            for name in batch:
                out[name].append(item[name])
            out["source_index"].append(index)
            out["variant"].append(variant)
            out["trace"].append(json.dumps(trace.to_dict()))
    return out


def test_datasets_map_with_indices_gives_the_same_records() -> None:
    datasets = pytest.importorskip("datasets", reason="datasets is in the dev extra")
    rows = make_rows(60)
    hf = datasets.Dataset.from_list(rows)
    out = hf.map(
        hf_augment_rows,
        batched=True,
        batch_size=7,
        with_indices=True,
        num_proc=2,
        remove_columns=hf.column_names,
    )
    got = sorted(canonical(r) for r in out)
    # The records of test_index_field_and_an_upstream_map's Ray run (index_field="position").
    assert got == expected(make_pipe(), rows, list(range(60)))
