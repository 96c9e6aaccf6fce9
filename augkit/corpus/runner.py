"""Corpus augmentation: every record of an input file, ``n`` variants each, into JSONL.

The engine of ``augkit augment`` (:mod:`augkit.cli`), usable from Python as
:func:`augment_corpus`. It reads records with :mod:`.readers`, runs them
through the pipeline and hands the lines to the :mod:`.journal`, which makes
the output crash-safe and resumable.

The item model
--------------
A record is a mapping (a JSON object, a CSV row, ``{field: line}`` of a text
file). The pipeline sees it through its own lens, aimed at this run's
fields: ``pipeline.with_item(key=field, label=label)``. ``label`` is the
``label_field`` (one field: its value; several: the tuple of their values),
or, when none is given, the label field of the pipeline's config
(``"label"`` unless it says otherwise). So label-aware operators (splicing
from same-label donors) read the record's label, and everything else in the
record passes through untouched.

The seeding rule
----------------
Variant ``v`` (``0 <= v < n``) of the record with source index ``i`` is
``pipeline.augment(record, seed=seed, epoch=0, index=i, n=n)[v]``: the
coordinates ``(seed, epoch 0, index i, variant v)``. (augkit 0.1 used
``epoch=v``; variant 0 is the same as then, later variants differ.) With
``distinct``, a variant equal to its input or to an earlier variant of it is
redrawn from its own attempt coordinate, up to ``max_tries`` attempts; one
that stays equal is written anyway and its trace says ``"distinct": false``.
The output is a function of the input, the config and these settings; the
batch size does not change it.

Output
------
JSONL, one record per (input, variant), in input order, variants in order:
the input record with the augmented field replaced, every other field as it
was (minus ``drop_field``), plus ``source_index``, ``variant`` and
``trace``::

    {"source_index": 3, "variant": 1, "text": "...", "label": "pos", "id": 7, "trace": {...}}

With ``keep_original`` each input comes first as it is, with ``"variant":
null, "trace": null``. The trace replays the output from the input alone
(:meth:`augkit.Pipeline.replay`, ``augkit replay``) and says whether the
variant differs from its input (``"changed"``). Records are UTF-8 with
U+2028, U+2029 and U+0085 escaped (:mod:`augkit._jsonl`), so every tool that
splits lines sees one record per line.

Checks before anything is written
---------------------------------
The whole input is read once: bad records are listed with their line (or
skipped with ``skip_bad``); a field that no record has is one error, not one
per record; a record with a field named ``source_index``, ``variant`` or
``trace`` is an error unless that field is dropped. Then the pipeline's
operators are asked whether their models are here
(:meth:`augkit.Pipeline.check_available`). An input without records gives
an empty output.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from .._jsonl import dumps_line
from ..errors import AugkitError
from ..items import FieldLens
from ..pipeline import Pipeline
from ..seeding import ATTEMPT_BITS, VARIANT_BITS
from ..trace import Trace
from ..validation import check_bool, check_int
from . import journal as _journal
from .readers import (
    RESERVED,
    BadRecord,
    InputError,
    InputScan,
    Record,
    check_fields_exist,
    detect_format,
    field_names,
    open_input,
    read_records,
    scan_input,
)

__all__ = [
    "SETTING_NAMES",
    "ItemFailedError",
    "Job",
    "LineWriter",
    "RecordLines",
    "Summary",
    "augment_corpus",
    "fingerprint",
    "prepare_job",
    "record_pipeline",
]


class ItemFailedError(AugkitError):
    """The pipeline raised on one input item."""


@dataclass
class Summary:
    """What a run did.

    ``variants`` counts the augmented records written (not the originals of
    ``keep_original``); ``unchanged`` those equal to their input (trace
    ``"changed": false``); ``not_distinct`` those that ``distinct`` could not
    make differ from their input and earlier variants (trace ``"distinct":
    false``). A resumed run counts the records of the run it continues too.
    """

    output: Path
    inputs: int = 0
    records_written: int = 0
    skipped: list[BadRecord] = field(default_factory=list)
    resumed_from: int = 0
    already_complete: bool = False
    variants: int = 0
    unchanged: int = 0
    not_distinct: int = 0


#: How the settings of a run's fingerprint are named in messages.
SETTING_NAMES = {
    "augkit_version": "augkit version",
    "config_sha256": "pipeline config",
    "input_sha256": "input file content",
    "format": "input format",
    "field": "--field",
    "label_fields": "--label-field",
    "drop_fields": "--drop-field",
    "n": "--n",
    "seed": "--seed",
    "keep_original": "--keep-original",
    "distinct": "--distinct",
    "max_tries": "--max-tries",
}


def fingerprint(
    pipeline: Pipeline,
    *,
    input_sha256: str,
    fmt: str,
    field: str,
    label_fields: Sequence[str],
    drop_fields: Sequence[str],
    n: int,
    seed: int,
    keep_original: bool,
    distinct: bool,
    max_tries: int,
) -> dict[str, Any]:
    """What must be equal for a run to continue another's output (or to be the same run).

    ``max_tries`` counts only with ``distinct`` (it changes nothing without).
    """
    from .. import __version__

    config = json.dumps(_config_of(pipeline), sort_keys=True, separators=(",", ":"))
    return {
        "augkit_version": __version__,
        "config_sha256": hashlib.sha256(config.encode()).hexdigest(),
        "input_sha256": input_sha256,
        "format": fmt,
        "field": field,
        "label_fields": list(label_fields),
        "drop_fields": sorted(drop_fields),
        "n": n,
        "seed": seed,
        "keep_original": keep_original,
        "distinct": distinct,
        "max_tries": max_tries if distinct else None,
    }


def _check_fields(
    field: str, labels: list[str], drops: list[str], fmt: str, pipeline: Pipeline
) -> None:
    for name in (field, *labels):
        if name in RESERVED:
            raise InputError(f"field name {name!r} is reserved for provenance in the output")
    if field in labels:
        raise InputError("--label-field must differ from --field")
    if field in drops:
        raise InputError(f"--drop-field {field}: it is the field to augment (--field)")
    for name in drops:
        if name in labels:
            raise InputError(f"--drop-field {name}: it is a --label-field, which follows along")
    if fmt == "txt" and (labels or drops):
        option = "--label-field" if labels else "--drop-field"
        raise InputError(f"plain-text input has no fields; {option} needs JSONL or CSV")
    if pipeline.modality not in ("text", "any"):
        raise InputError(
            f"this pipeline's operators take {pipeline.modality!r} input; "
            "augkit augment works on text"
        )


def _config_of(pipeline: Pipeline) -> dict[str, Any]:
    """The config a run is fingerprinted by; a filtered pipeline's is its pipeline's plus the filter."""
    inner = getattr(pipeline, "pipeline", None)
    qf = getattr(pipeline, "quality_filter", None)
    if isinstance(inner, Pipeline) and qf is not None:
        return {
            "pipeline": inner.to_dict(),
            "filter": repr(qf),
            "threshold": repr(getattr(qf, "threshold_", None)),
            "max_tries": getattr(pipeline, "max_tries", None),
            "fallback": getattr(pipeline, "fallback", None),
        }
    return pipeline.to_dict()


def record_pipeline(pipeline: Pipeline, field: str, label_fields: Sequence[str]) -> Pipeline:
    """``pipeline`` aimed at corpus records: ``field`` is augmented, the label follows along.

    The label is ``label_fields`` (one: its value; several: a tuple), or
    with none the pipeline's own label field (unless it is ``field``).
    """
    label: str | list[str] | None
    if label_fields:
        label = label_fields[0] if len(label_fields) == 1 else list(label_fields)
    else:
        label = pipeline.lens.label if isinstance(pipeline.lens, FieldLens) else None
        if label == field or (isinstance(label, list) and field in label):
            label = None
    return pipeline.with_item(key=field, label=label)


def _check_output_file(in_path: Path, out: Path) -> None:
    if in_path.exists() and out.exists() and in_path.resolve() == out.resolve():
        raise InputError("the output file must not be the input file")
    if out.suffix.lower() in (".csv", ".tsv"):
        raise InputError(f"the output is JSONL; name it something like {out.stem}.jsonl")
    if not out.parent.is_dir():
        raise InputError(f"output directory {str(out.parent)!r} does not exist")


@dataclass(frozen=True)
class Job:
    """A corpus run, checked and ready: what every engine (one process, shards) starts from.

    Built by :func:`prepare_job`, which does every check that comes before
    anything is written. ``fingerprint`` is what must be equal for a run to
    continue another's output.
    """

    input: Path
    fmt: str
    kind: str
    pipeline: Pipeline
    field: str
    labels: list[str]
    drops: list[str]
    n: int
    seed: int
    distinct: bool
    max_tries: int
    batch_size: int
    keep_original: bool
    skip_bad: bool
    scan: InputScan
    fingerprint: dict[str, Any]

    def writer(self, say: Callable[[str], None]) -> LineWriter:
        """What turns batches of this job's records into output lines."""
        return LineWriter(
            self.pipeline,
            self.field,
            self.n,
            self.seed,
            self.distinct,
            self.max_tries,
            self.keep_original,
            self.skip_bad,
            self.kind,
            say,
        )

    def records(self) -> Iterator[Record | BadRecord]:
        """The input's records, good and bad, in order, as they will be written."""
        return read_records(
            self.input, self.fmt, self.field, self.labels, drop_field=self.drops, for_output=True
        )


def prepare_job(
    input: str | os.PathLike[str],
    pipeline: Pipeline,
    *,
    field: str,
    label_field: str | Sequence[str] | None,
    drop_field: str | Sequence[str] | None,
    n: int,
    seed: int,
    distinct: bool,
    max_tries: int,
    batch_size: int,
    keep_original: bool,
    skip_bad: bool,
    fmt: str | None,
    say: Callable[[str], None],
    check_output: Callable[[Path], None],
) -> Job:
    """Check the arguments and read the whole input once, before anything is written.

    Raises as :func:`augment_corpus` says. ``check_output(input_path)``
    checks where the output goes, after the arguments and before the input
    is read.
    """
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"pipeline must be an augkit.Pipeline, got {type(pipeline).__name__}")
    # The pipeline's own bounds, checked before any record is read: a bad
    # argument is not a bad record.
    n = check_int("n", n, low=1, high=2**VARIANT_BITS - 1)
    seed = check_int("seed", seed, low=0)
    distinct = check_bool("distinct", distinct)
    max_tries = check_int("max_tries", max_tries, low=1, high=2**ATTEMPT_BITS)
    batch_size = check_int("batch_size", batch_size, low=1)
    keep_original = check_bool("keep_original", keep_original)
    skip_bad = check_bool("skip_bad", skip_bad)
    labels = field_names("label_field", label_field)
    drops = field_names("drop_field", drop_field)
    fmt = detect_format(input, fmt)
    _check_fields(field, labels, drops, fmt, pipeline)
    pipe = record_pipeline(pipeline, field, labels)

    in_path = Path(input)
    check_output(in_path)

    with open_input(in_path) as f:
        input_sha256 = _journal.file_sha256(f)
    scan = scan_input(in_path, fmt, field, labels, drop_field=drops, for_output=True)
    kind = "row" if fmt in ("csv", "tsv") else "line"
    check_fields_exist(scan, in_path, kind, field)
    if scan.bad and not skip_bad:
        shown = "\n  ".join(b.describe(kind) for b in scan.bad[:10])
        more = f"\n  ... and {len(scan.bad) - 10} more" if len(scan.bad) > 10 else ""
        raise InputError(
            f"{len(scan.bad)} bad record(s) in {str(in_path)!r}:\n  {shown}{more}\n"
            "fix them, or pass --skip-bad to leave them out; nothing was written"
        )
    for b in scan.bad:
        say(f"skipping {kind} {b.line}: {b.reason}")
    for name in scan.never_dropped:
        say(f"--drop-field {name}: no record has this field")

    fp = fingerprint(
        pipe,
        input_sha256=input_sha256,
        fmt=fmt,
        field=field,
        label_fields=labels,
        drop_fields=drops,
        n=n,
        seed=seed,
        keep_original=keep_original,
        distinct=distinct,
        max_tries=max_tries,
    )
    return Job(
        in_path, fmt, kind, pipe, field, labels, drops, n, seed, distinct, max_tries,
        batch_size, keep_original, skip_bad, scan, fp,
    )  # fmt: skip


def augment_corpus(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    pipeline: Pipeline,
    *,
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
    progress_bar: bool = False,
) -> Summary:
    """Augment every record of ``input`` ``n`` times into JSONL ``output`` (see the module doc).

    ``field`` is augmented; ``label_field`` (a name or a list) is the label,
    which every record must have; ``drop_field`` (a name or a list) is left
    out of the output; every other field passes through. ``distinct`` and
    ``max_tries`` as for :meth:`augkit.Pipeline.augment`.

    Resumes an interrupted run of the same job; when ``output`` is already
    the complete output of this job (same config, seed, input and options),
    returns at once with ``already_complete`` set. An input without records
    gives an empty output (``Summary.inputs == 0``; the command warns).
    Raises :class:`~augkit.corpus.InputError`,
    :class:`~augkit.corpus.ResumeError`, :class:`ItemFailedError`,
    :class:`~augkit.ConfigError` or :class:`~augkit.ModelUnavailableError`
    (all :class:`~augkit.AugkitError`) for problems a user can fix. Their
    messages name settings as the ``augkit augment`` command spells them:
    the parameter with dashes (``--skip-bad`` is ``skip_bad=True``,
    ``--label-field`` is ``label_field``).
    """
    say = log or (lambda msg: None)
    out = Path(output)
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
        check_output=lambda in_path: _check_output_file(in_path, out),
    )
    scan, pipe, fp = job.scan, job.pipeline, job.fingerprint
    summary = Summary(output=out, inputs=scan.records, skipped=list(scan.bad))
    journal = _journal.Journal(out, fp, names=SETTING_NAMES, say=say)
    done = journal.previous_run(restart=restart, overwrite=overwrite)
    if done is not None:
        _count(summary, done)
        summary.already_complete = True
        say(f"{out} is already complete (the same config, seed, input and options)")
        return summary
    # Before any output file exists: a model or library that is missing here
    # is reported now, not after the first batch has created files.
    pipe.check_available()

    writer = job.writer(say)
    records = job.records()
    with journal.writing() as state:
        if state["next_index"]:
            summary.resumed_from = int(state["records"])
            say(
                f"resuming: {state['records']} of {scan.records} input(s) already done "
                f"({state['lines']} records)"
            )
        bar = _bar(scan.records, int(state["records"]), progress_bar)
        try:
            for batch in _batches(records, int(state["next_index"]), job.batch_size):
                written = writer.batch(batch, summary)
                journal.append(
                    "".join(written.lines).encode("utf-8"),
                    next_index=batch[-1].index + 1,
                    records=len(batch),
                    lines=len(written.lines),
                    variants=written.variants,
                    unchanged=written.unchanged,
                    not_distinct=written.not_distinct,
                )
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
        _count(summary, journal.finish())
    return summary


def _count(summary: Summary, record: dict[str, Any]) -> None:
    """The counts of a progress or done record, in ``summary``."""
    summary.records_written = int(record["lines"])
    summary.variants = int(record["variants"])
    summary.unchanged = int(record["unchanged"])
    summary.not_distinct = int(record["not_distinct"])


def _batches(
    records: Iterable[Record | BadRecord], start: int, batch_size: int
) -> Iterator[list[Record]]:
    """The good records from index ``start`` on, ``batch_size`` at a time."""
    good = (r for r in records if isinstance(r, Record) and r.index >= start)
    while batch := list(islice(good, batch_size)):
        yield batch


def _bar(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    # disable=None: draw the bar on a terminal only, so logs stay clean.
    return tqdm(
        total=total,
        initial=initial,
        unit="item",
        dynamic_ncols=True,
        disable=None,
        file=sys.stderr,
    )


@dataclass
class _Lines:
    """The output lines of a batch, and what they count."""

    lines: list[str] = field(default_factory=list)
    variants: int = 0
    unchanged: int = 0
    not_distinct: int = 0


@dataclass
class RecordLines:
    """The output of one input record: its lines, what they count, or why it was skipped.

    ``skipped`` is set (and ``lines`` empty) when the pipeline failed on the
    record and the run skips bad items (``skip_bad``).
    """

    index: int
    line: int
    lines: list[str] = field(default_factory=list)
    variants: int = 0
    unchanged: int = 0
    not_distinct: int = 0
    skipped: BadRecord | None = None


@dataclass(frozen=True)
class LineWriter:
    """Turns a batch of input records into output lines: ``n`` variants each.

    Pickles (with a pipeline that does) when ``say`` does: a worker of a
    distributed run gets one with a no-op ``say`` and reports skipped items
    back through :attr:`RecordLines.skipped`.
    """

    pipeline: Pipeline
    field: str
    n: int
    seed: int
    distinct: bool
    max_tries: int
    keep_original: bool
    skip_bad: bool
    kind: str
    say: Callable[[str], None]

    def batch(self, batch: list[Record], summary: Summary) -> _Lines:
        """The lines of a batch, in input order; skipped items are said and added to ``summary``."""
        out = _Lines()
        for rec in self.records(batch):
            if rec.skipped is not None:
                self.say(f"skipping {rec.skipped.describe(self.kind)}")
                summary.skipped.append(rec.skipped)
                continue
            out.lines += rec.lines
            out.variants += rec.variants
            out.unchanged += rec.unchanged
            out.not_distinct += rec.not_distinct
        return out

    def records(self, batch: list[Record]) -> list[RecordLines]:
        """Each record's lines, one :class:`RecordLines` per record of ``batch``, in order."""
        try:
            per_item, traces = self.pipeline.augment_batch(
                [r.data for r in batch],
                seed=self.seed,
                epoch=0,
                indices=[r.index for r in batch],
                n=self.n,
                distinct=self.distinct,
                max_tries=self.max_tries,
                return_traces=True,
            )
        except (AugkitError, ImportError):
            raise
        except Exception:
            # Find the item that fails, to name its line; the others are augmented
            # alone, which gives the same result as in the batch.
            return [self.one(rec) for rec in batch]
        return [self.lines(rec, outs, ts) for rec, outs, ts in zip(batch, per_item, traces)]

    def one(self, rec: Record) -> RecordLines:
        """One record augmented alone (after its batch failed): its lines, or why it is skipped."""
        try:
            outs, ts = self.pipeline.augment(
                rec.data,
                seed=self.seed,
                epoch=0,
                index=rec.index,
                n=self.n,
                distinct=self.distinct,
                max_tries=self.max_tries,
                return_trace=True,
            )
        except (AugkitError, ImportError):
            raise
        except Exception as exc:
            bad = BadRecord(
                rec.index, rec.line, f"the pipeline failed: {type(exc).__name__}: {exc}"
            )
            if not self.skip_bad:
                raise ItemFailedError(
                    f"{bad.describe(self.kind)}\n(pass --skip-bad to leave such items out; "
                    "the records before it are kept and a re-run resumes)"
                ) from exc
            return RecordLines(rec.index, rec.line, skipped=bad)
        return self.lines(rec, outs, ts)

    def lines(self, rec: Record, outs: list[dict[str, Any]], traces: list[Trace]) -> RecordLines:
        """The lines of one input record (its original first with ``keep_original``)."""
        key = self.field
        out = RecordLines(rec.index, rec.line)
        if self.keep_original:
            out.lines.append(_line(rec.index, None, rec.data, None))
        for v, (item, trace) in enumerate(zip(outs, traces)):
            if not isinstance(item[key], str):
                raise ItemFailedError(
                    f"{self.kind} {rec.line}: the pipeline returned "
                    f"{type(item[key]).__name__}, not text"
                )
            out.lines.append(_line(rec.index, v, item, trace.to_dict()))
            out.variants += 1
            out.unchanged += trace.changed is False
            out.not_distinct += trace.distinct is False
        return out


def _line(index: int, variant: int | None, item: dict[str, Any], trace: Any) -> str:
    """One output record: provenance first, the record's fields, the trace last."""
    return dumps_line({"source_index": index, "variant": variant, **item, "trace": trace})
