"""Sharded output of a corpus run: ``OUTDIR/part-NNNNN.jsonl`` files and ``OUTDIR/manifest.json``.

The output of ``augkit augment --engine ray`` (:func:`augkit.ray.augment_corpus_on_ray`),
where many workers augment records at once and in no particular order. The
records are the single-process command's, line for line
(:class:`~augkit.corpus.runner.LineWriter` makes both), cut into shards:

- shard ``k`` holds the output of the good input records number
  ``k * shard_size`` to ``(k + 1) * shard_size - 1`` (counted in input
  order, bad records left out), each record's lines in input order, variants
  in order. The shards read in order are the single-process command's
  output byte for byte;
- ``manifest.json`` names the run's settings (the same fingerprint as the
  single-process journal, plus ``shard_size``) and every shard: its file,
  how many inputs it covers, and once written its size, SHA-256 and counts.
  ``"complete": true`` at the top says that every shard is written.

A shard is written whole (a temporary file, fsynced, renamed) and then
recorded in the manifest (replaced atomically), so a file that the manifest
calls complete is complete. Running the same job again after a failure
(a killed driver, a lost cluster, an item that fails) keeps every recorded
shard whose file still matches its size and SHA-256 and redoes only the
others. A manifest with other settings is never continued: ``restart``
(an unfinished run) or ``overwrite`` (a finished one) discards its shards.

The engine, which turns records into lines, is a parameter (:data:`Engine`);
this module knows nothing about Ray. :func:`local_engine` runs in this
process (for tests and for comparison).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..pipeline import Pipeline
from ..validation import check_int
from .journal import ResumeError, fingerprint_diffs, fsync_dir, write_json_atomic
from .readers import BadRecord, InputError, Record
from .runner import SETTING_NAMES, LineWriter, RecordLines, Summary, prepare_job

__all__ = [
    "MANIFEST",
    "MANIFEST_FORMAT",
    "MANIFEST_VERSION",
    "Engine",
    "ShardedSummary",
    "augment_corpus_sharded",
    "local_engine",
    "shard_name",
]

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "augkit.augment-shards"
MANIFEST_VERSION = 1
#: How the sharded run's own setting is named in messages (the others: SETTING_NAMES).
_NAMES = {"shard_size": "--shard-size"}
#: The counts a written shard records, summed into the run's :class:`Summary`.
_COUNTS = ("lines", "variants", "unchanged", "not_distinct")

#: ``engine(writer, records, batch_size)``: one :class:`RecordLines` per record, in any order.
Engine = Callable[[LineWriter, list[Record], int], Iterable[RecordLines]]


def shard_name(k: int) -> str:
    """The file name of shard ``k``: ``part-00000.jsonl``."""
    return f"part-{k:05d}.jsonl"


def local_engine(
    writer: LineWriter, records: list[Record], batch_size: int
) -> Iterator[RecordLines]:
    """The engine that runs in this process, ``batch_size`` records at a time."""
    for start in range(0, len(records), batch_size):
        yield from writer.records(records[start : start + batch_size])


def _quiet(msg: str) -> None:
    """A ``say`` that says nothing: a worker's (skipped items travel back in RecordLines)."""


@dataclass
class ShardedSummary(Summary):
    """:class:`Summary` of a sharded run: ``output`` is the directory.

    ``shards`` counts the run's shards, ``shards_kept`` those an earlier run
    had written (``resumed_from`` counts their inputs).
    """

    shards: int = 0
    shards_kept: int = 0

    @property
    def manifest(self) -> Path:
        return self.output / MANIFEST


class _Manifest:
    """``OUTDIR/manifest.json``: the run's fingerprint and its shards, kept on disk as they land."""

    def __init__(self, outdir: Path, fingerprint: dict[str, Any], plan: list[int]) -> None:
        self.outdir = outdir
        self.path = outdir / MANIFEST
        self.data: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "fingerprint": fingerprint,
            "inputs": sum(plan),
            "complete": False,
            "shards": [
                {"name": shard_name(k), "records": size, "complete": False}
                for k, size in enumerate(plan)
            ],
        }

    @property
    def shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = self.data["shards"]
        return shards

    def adopt(self, old: dict[str, Any]) -> list[int]:
        """Take over the written shards of ``old`` (same fingerprint) that still match their files."""
        kept: list[int] = []
        old_shards = old.get("shards")
        if not isinstance(old_shards, list) or len(old_shards) != len(self.shards):
            return kept
        for k, (entry, prev) in enumerate(zip(self.shards, old_shards)):
            same = isinstance(prev, dict) and all(
                prev.get(key) == entry[key] for key in ("name", "records")
            )
            if same and prev.get("complete") and self._matches(prev):
                self.shards[k] = prev
                kept.append(k)
        return kept

    def _matches(self, entry: dict[str, Any]) -> bool:
        path = self.outdir / str(entry.get("name"))
        try:
            with path.open("rb") as f:
                if os.fstat(f.fileno()).st_size != entry.get("bytes"):
                    return False
                digest = hashlib.sha256()
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            return False
        return digest.hexdigest() == entry.get("sha256")

    def write_shard(self, k: int, results: list[RecordLines]) -> None:
        """Write shard ``k`` (its records' lines in input order) whole, then record it."""
        results.sort(key=lambda r: r.index)
        data = "".join(line for r in results for line in r.lines).encode("utf-8")
        entry = self.shards[k]
        path = self.outdir / entry["name"]
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(self.outdir)
        entry.update(
            complete=True,
            first_index=results[0].index if results else None,
            last_index=results[-1].index if results else None,
            bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            lines=sum(len(r.lines) for r in results),
            variants=sum(r.variants for r in results),
            unchanged=sum(r.unchanged for r in results),
            not_distinct=sum(r.not_distinct for r in results),
            skipped=[
                {"index": r.skipped.index, "line": r.skipped.line, "reason": r.skipped.reason}
                for r in results
                if r.skipped is not None
            ],
        )
        self.save()

    def save(self) -> None:
        self.data["complete"] = all(e["complete"] for e in self.shards)
        write_json_atomic(self.path, self.data)


def _read_manifest(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ValueError("not an augkit shard manifest")
    if data.get("version") != MANIFEST_VERSION:
        raise ValueError(f"manifest version {data.get('version')!r} is not known here")
    if not isinstance(data.get("fingerprint"), dict) or not isinstance(data.get("shards"), list):
        raise ValueError("no fingerprint or shards")
    return data


def _remove_parts(outdir: Path) -> None:
    """Remove the shard files (and their temporary files) of an earlier run."""
    for path in outdir.glob("part-*.jsonl*"):
        path.unlink()


def _previous_run(
    outdir: Path, fingerprint: dict[str, Any], *, restart: bool, overwrite: bool
) -> dict[str, Any] | None:
    """The manifest of an earlier run of this very job in ``outdir``, to continue; else None.

    Raises :class:`ResumeError` when an earlier run's files are in the way
    (another job's manifest, shard files without a manifest) unless
    ``restart`` / ``overwrite`` say to discard them (either discards the
    manifest and every ``part-*`` file; other files in ``outdir`` stay).
    """
    path = outdir / MANIFEST
    if restart or overwrite:
        # As for one output file: restart discards an unfinished run, overwrite
        # replaces a finished one (each shard is replaced as it is written again).
        path.unlink(missing_ok=True)
        _remove_parts(outdir)
        return None
    if not path.exists():
        if any(outdir.glob("part-*.jsonl*")):
            raise ResumeError(
                f"{str(outdir)!r} holds shard files but no {MANIFEST}, so they cannot be "
                "resumed; pass --restart to discard them"
            )
        return None
    try:
        old = _read_manifest(path)
    except (OSError, ValueError) as exc:
        raise ResumeError(
            f"the manifest {str(path)!r} is unreadable ({exc}); pass --restart to discard "
            "the run it describes and start over"
        ) from None
    diffs = fingerprint_diffs(old["fingerprint"], fingerprint, {**SETTING_NAMES, **_NAMES})
    if not diffs:
        return old
    complete = bool(old.get("complete"))
    what = "a finished run" if complete else "an interrupted run"
    flag = "--overwrite to replace it" if complete else "--restart to start over"
    raise ResumeError(
        f"{str(outdir)!r} holds {what} with different settings:\n  "
        + "\n  ".join(diffs)
        + f"\nre-run with the original settings, or pass {flag}"
    )


def augment_corpus_sharded(
    input: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    pipeline: Pipeline,
    *,
    engine: Engine = local_engine,
    shard_size: int = 10_000,
    field: str = "text",
    label_field: str | Sequence[str] | None = None,
    drop_field: str | Sequence[str] | None = None,
    n: int = 4,
    seed: int = 0,
    distinct: bool = False,
    max_tries: int = 4,
    batch_size: int = 64,
    keep_original: bool = False,
    skip_bad: bool = False,
    fmt: str | None = None,
    overwrite: bool = False,
    restart: bool = False,
    log: Callable[[str], None] | None = None,
) -> ShardedSummary:
    """Augment every record of ``input`` ``n`` times into shards in ``outdir`` (see the module doc).

    The options are :func:`~augkit.corpus.augment_corpus`'s, with the same
    checks and errors; ``shard_size`` inputs go into each shard (part of the
    run's fingerprint: a run continues only with the same value).
    ``engine(writer, records, batch_size)`` turns the records of the shards
    still missing into lines (:func:`local_engine`, or Ray's). ``outdir`` is
    created if its parent exists. Returns a :class:`ShardedSummary`.
    """
    say = log or _quiet
    shard_size = check_int("shard_size", shard_size, low=1)
    out = Path(outdir)

    def check_outdir(in_path: Path) -> None:
        if out.exists() and not out.is_dir():
            raise InputError(f"{str(out)!r} is a file; --engine ray writes a directory of shards")
        if not out.parent.is_dir():
            raise InputError(f"directory {str(out.parent)!r} does not exist")

    job = prepare_job(
        input,
        pipeline,
        field=field,
        label_field=label_field,
        drop_field=drop_field,
        n=n,
        seed=seed,
        distinct=distinct,
        max_tries=max_tries,
        batch_size=batch_size,
        keep_original=keep_original,
        skip_bad=skip_bad,
        fmt=fmt,
        say=say,
        check_output=check_outdir,
    )
    fp = {**job.fingerprint, "shard_size": shard_size}
    total = job.scan.records
    plan = [min(shard_size, total - start) for start in range(0, total, shard_size)]
    summary = ShardedSummary(output=out, inputs=total, skipped=list(job.scan.bad), shards=len(plan))
    created = not out.exists()
    out.mkdir(exist_ok=True)
    manifest = _Manifest(out, fp, plan)
    old = _previous_run(out, fp, restart=restart, overwrite=overwrite)
    kept = manifest.adopt(old) if old is not None else []
    summary.shards_kept = len(kept)
    summary.resumed_from = sum(plan[k] for k in kept)
    if len(kept) == len(plan) and old is not None and old.get("complete"):
        _count(summary, manifest)
        summary.already_complete = True
        say(f"{out} is already complete (the same config, seed, input and options)")
        return summary
    # Before a shard is written: a model or library missing here is reported now
    # (and a directory this run created is removed again: a failed check leaves nothing).
    try:
        job.pipeline.check_available()
    except BaseException:
        if created:
            out.rmdir()
        raise
    for k, entry in enumerate(manifest.shards):
        if k not in kept:
            (out / entry["name"]).unlink(missing_ok=True)
    manifest.save()
    if kept:
        say(
            f"resuming: {len(kept)} of {len(plan)} shard(s) already written "
            f"({summary.resumed_from} of {total} input(s))"
        )

    kept_set = set(kept)
    todo: list[Record] = []
    shard_of: dict[int, int] = {}
    ordinal = 0
    for rec in job.records():
        if isinstance(rec, BadRecord):
            continue
        k = ordinal // shard_size
        ordinal += 1
        if k not in kept_set:
            todo.append(rec)
            shard_of[rec.index] = k
    pending: dict[int, list[RecordLines]] = {k: [] for k in range(len(plan)) if k not in kept_set}
    writer = job.writer(_quiet)
    for result in engine(writer, todo, job.batch_size):
        if result.skipped is not None:
            say(f"skipping {result.skipped.describe(job.kind)}")
        k = shard_of[result.index]
        results = pending[k]
        results.append(result)
        if len(results) == plan[k]:
            manifest.write_shard(k, pending.pop(k))
            say(f"wrote shard {k + 1} of {len(plan)} ({manifest.shards[k]['name']})")
    if pending:
        missing = ", ".join(shard_name(k) for k in sorted(pending))
        raise RuntimeError(f"the engine returned too few records for {missing}")
    manifest.save()
    _count(summary, manifest)
    return summary


def _count(summary: ShardedSummary, manifest: _Manifest) -> None:
    """The counts of the written shards, and the items they skipped, in ``summary``."""
    totals = dict.fromkeys(_COUNTS, 0)
    for entry in manifest.shards:
        for c in _COUNTS:
            totals[c] += int(entry.get(c, 0))
        for s in entry.get("skipped", []):
            summary.skipped.append(BadRecord(int(s["index"]), int(s["line"]), str(s["reason"])))
    summary.records_written = totals["lines"]
    summary.variants = totals["variants"]
    summary.unchanged = totals["unchanged"]
    summary.not_distinct = totals["not_distinct"]
