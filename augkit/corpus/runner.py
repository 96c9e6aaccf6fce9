"""Offline corpus augmentation: read a JSONL / CSV / text file, write augmented JSONL.

This is the engine of ``augkit augment`` (:mod:`augkit.cli`); it can be used
from Python too (:func:`augment_corpus`).

Inputs and their source index
-----------------------------
- JSONL (``.jsonl``, ``.ndjson``): one JSON object per line; the text is
  ``record[field]`` and must be a string. The source index is the 0-based line
  number. Blank lines are skipped (they keep their number). Only ``\n`` ends
  a line: U+2028, U+0085 and the like inside a text are text.
- CSV / TSV (``.csv``, ``.tsv``): a header row, then one record per row. The
  source index is the 0-based data row (blank rows are skipped by the reader
  and not counted).
- plain text (anything else): one item per line, the line without its line
  ending (``\n`` or ``\r\n``). The source index is the 0-based line number;
  blank lines are skipped.

Before anything is written the whole input is read once: bad records are
listed with their line (or skipped with ``skip_bad``); a field that no record
has is one error, not one per record. A label must be JSON: a NaN or
infinite label (Python's ``json`` reads them, JSON has no such values) makes
its record a bad record. An input without records gives an empty output.

The seeding rule
----------------
Variant ``v`` (``0 <= v < n``) of the input with source index ``i`` is
``pipeline.augment(text, seed=seed, epoch=v, index=i)``. The output is thus a
function of the input, the config, ``seed`` and ``n``; the batch size does
not change it.

Output
------
JSONL, one record per (input, variant), in input order, variants in order::

    {"source_index": 3, "variant": 1, "text": "...", "label": "pos", "trace": {...}}

``label`` is there with ``label_field``; with ``keep_original`` each input's
own text comes first as ``"variant": null, "trace": null``. The trace
replays the output from the input text alone (:meth:`augkit.Pipeline.replay`,
``augkit replay``). Records are UTF-8 with U+2028, U+2029 and U+0085 escaped
(``augkit._jsonl``), so every tool that splits lines sees one record per line.

Crash safety, resume and re-runs
--------------------------------
Before any file is created, the pipeline's operators are asked whether their
models are here (:meth:`augkit.Pipeline.check_available`). Records go to
``OUTPUT.partial`` in batches; after each batch the file is flushed and
fsynced, then a small progress record ``OUTPUT.progress.json`` (input
position reached, byte length of the output so far, a fingerprint of the
run) is replaced atomically. Running the same command again after a crash
(even ``kill -9`` in the middle of a batch) truncates ``OUTPUT.partial`` to the
recorded length, dropping any partial line or unrecorded records, and
continues from the recorded input position. A run that fails (raises) before
its first batch is written removes the two files again.

When everything is written, the progress record is marked complete with the
output's SHA-256, ``OUTPUT.partial`` is renamed to ``OUTPUT`` and the record
to ``OUTPUT.done.json``, in that order: a file named ``OUTPUT`` is always
complete, and a crash between the steps is finished by the next run. A
progress record whose fingerprint (config, seed, n, fields, input content,
augkit version) differs from the current run is never resumed.

Running a finished command again is safe: when ``OUTPUT.done.json`` has the
current run's fingerprint and ``OUTPUT`` still has the recorded length and
SHA-256, the run says it is already complete and returns. Otherwise an
existing ``OUTPUT`` is an error that says what differs (or that the file was
changed, or that no record of its run exists), unless ``overwrite`` is given;
the new output replaces it only once complete.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from ._jsonl import LineError, decode_line, dumps_line, find_non_finite, iter_lines, parse_line
from .errors import AugkitError
from .pipeline import Pipeline
from .validation import check_int

__all__ = [
    "FORMATS",
    "BadRecord",
    "InputError",
    "ItemFailedError",
    "Record",
    "ResumeError",
    "Summary",
    "augment_corpus",
    "detect_format",
    "paths_for",
    "read_records",
    "scan_input",
    "text_pipeline",
]

FORMATS = ("jsonl", "csv", "tsv", "txt")
PROGRESS_FORMAT = "augkit.augment-progress"
PROGRESS_VERSION = 1
RESERVED = ("source_index", "variant", "trace")


class InputError(AugkitError):
    """The input file cannot be used (unreadable, missing column, bad records)."""


class ResumeError(AugkitError):
    """An earlier run's files are in the way, or do not match this run."""


class ItemFailedError(AugkitError):
    """The pipeline raised on one input item."""


@dataclass(frozen=True)
class Record:
    """One usable input item."""

    index: int
    line: int
    text: str
    label: Any = None


@dataclass(frozen=True)
class BadRecord:
    """An input record that cannot be augmented, with where and why.

    ``missing`` names the field the record lacks when that is the reason (a
    file none of whose records has the field is reported as one problem).
    """

    index: int
    line: int
    reason: str
    missing: str | None = None

    def describe(self, kind: str = "line") -> str:
        return f"{kind} {self.line}: {self.reason}"


@dataclass
class Summary:
    """What a run did."""

    output: Path
    inputs: int = 0
    records_written: int = 0
    skipped: list[BadRecord] = field(default_factory=list)
    resumed_from: int = 0
    already_complete: bool = False


# --------------------------------------------------------------------------- input


def detect_format(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """``fmt`` if given, else from the suffix: jsonl/ndjson, csv, tsv, anything else txt."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(f"unknown input format {fmt!r}; choose from {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}.get(suffix, "txt")


def read_records(
    path: str | os.PathLike[str],
    fmt: str,
    field: str = "text",
    label_field: str | None = None,
) -> Iterator[Record | BadRecord]:
    """Every record of the input, good or bad, in order (see the module doc for indices).

    Raises :class:`InputError` for problems that concern the whole file
    (cannot open it, a CSV without the column, undecodable CSV).
    """
    p = Path(path)
    if fmt in ("jsonl", "txt"):
        yield from _read_lines(p, fmt, field, label_field)
    elif fmt in ("csv", "tsv"):
        yield from _read_csv(p, "," if fmt == "csv" else "\t", field, label_field)
    else:
        raise InputError(f"unknown input format {fmt!r}")


def _open_input(path: Path, mode: str = "rb", **kwargs: Any) -> IO[Any]:
    try:
        return path.open(mode, **kwargs)
    except FileNotFoundError:
        raise InputError(f"input file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"input {str(path)!r} is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"cannot read input {str(path)!r}: {exc.strerror or exc}") from None


def _read_lines(
    path: Path, fmt: str, field: str, label_field: str | None
) -> Iterator[Record | BadRecord]:
    # Lines end at b"\n" only (augkit._jsonl): U+2028 and friends are text.
    with _open_input(path) as f:
        for line, raw in iter_lines(f):
            index = line - 1
            if not raw.strip():
                continue
            try:
                text = decode_line(raw)
                if fmt == "txt":
                    yield Record(index, line, text)
                    continue
                obj = parse_line(text)
            except LineError as exc:
                yield BadRecord(index, line, exc.reason)
                continue
            yield _from_mapping(obj, index, line, field, label_field)


def _from_mapping(
    obj: Any, index: int, line: int, field: str, label_field: str | None
) -> Record | BadRecord:
    if not isinstance(obj, dict):
        return BadRecord(index, line, f"expected a JSON object, got {_json_type(obj)}")
    fields = ", ".join(map(str, obj)) or "none"
    if field not in obj:
        return BadRecord(index, line, f"no field {field!r} (fields: {fields})", missing=field)
    text = obj[field]
    if not isinstance(text, str):
        return BadRecord(index, line, f"field {field!r} is {_json_type(text)}, expected a string")
    label = None
    if label_field is not None:
        if label_field not in obj:
            reason = f"no label field {label_field!r} (fields: {fields})"
            return BadRecord(index, line, reason, missing=label_field)
        label = obj[label_field]
        # Python's json reads NaN and Infinity, which JSON does not have: such a
        # label could not be written to the output as valid JSON.
        where = find_non_finite(label)
        if where is not None:
            at = f" at {where}" if where else ""
            return BadRecord(
                index,
                line,
                f"label field {label_field!r}{at} is NaN or infinite, which JSON cannot "
                "represent (write null or a finite number)",
            )
    return Record(index, line, text, label)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _read_csv(
    path: Path, delimiter: str, field: str, label_field: str | None
) -> Iterator[Record | BadRecord]:
    with _open_input(path, "r", encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        try:
            header = reader.fieldnames
            if header is None:
                return  # an empty file: no records
            for name in (field, label_field):
                if name is not None and name not in header:
                    raise InputError(
                        f"{str(path)!r} has no column {name!r} (columns: {', '.join(header)})"
                    )
            for index, row in enumerate(reader):
                line = reader.line_num
                if None in row:
                    yield BadRecord(index, line, "more values than the header has columns")
                    continue
                text = row.get(field)
                if text is None or (label_field is not None and row.get(label_field) is None):
                    yield BadRecord(index, line, "fewer values than the header has columns")
                    continue
                yield Record(index, line, text, row[label_field] if label_field else None)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{str(path)!r} is not valid UTF-8 near line {reader.line_num + 1}: {exc.reason}"
            ) from None
        except csv.Error as exc:
            raise InputError(f"{str(path)!r} line {reader.line_num}: bad CSV: {exc}") from None


@dataclass
class InputScan:
    """Result of the validation pass over the input."""

    sha256: str
    records: int
    bad: list[BadRecord]


def scan_input(
    path: str | os.PathLike[str], fmt: str, field: str, label_field: str | None
) -> InputScan:
    """Read the whole input once: its digest, how many good records, every bad one.

    Done before any output is written, so a bad input is reported without
    leaving a half-written file behind.
    """
    p = Path(path)
    with _open_input(p) as f:
        digest = _sha256(f)
    good = 0
    bad: list[BadRecord] = []
    for rec in read_records(p, fmt, field, label_field):
        if isinstance(rec, BadRecord):
            bad.append(rec)
        else:
            good += 1
    return InputScan(digest, good, bad)


def _sha256(f: IO[bytes]) -> str:
    """The SHA-256 of what is left to read in ``f``, read 1 MiB at a time."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: f.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _check_fields_exist(scan: InputScan, path: Path, kind: str, field: str) -> None:
    """One message, not one per record, when no record of the file has the field asked for."""
    if scan.records or not scan.bad:
        return
    missing = {b.missing for b in scan.bad}
    if len(missing) != 1 or None in missing:
        return
    name = missing.pop()
    option = "--field" if name == field else "--label-field"
    raise InputError(
        f"no record in {str(path)!r} has the field {name!r} ({option}); for example "
        f"{scan.bad[0].describe(kind)}\npass {option} with a field the records have; "
        "nothing was written"
    )


def text_pipeline(pipeline: Pipeline) -> Pipeline:
    """``pipeline`` without its ``key``: the corpus code hands it the text, not the record."""
    if pipeline.key is None:
        return pipeline
    return Pipeline(pipeline.ops, pipeline.chain, state_ops=pipeline.state_ops)


# --------------------------------------------------------------------------- output files


def paths_for(output: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """``(output, output.partial, output.progress.json)``: the files of a run in progress."""
    out = Path(output)
    return out, out.with_name(out.name + ".partial"), out.with_name(out.name + ".progress.json")


def done_path_for(output: str | os.PathLike[str]) -> Path:
    """``output.done.json``: the record of the finished run that wrote ``output``."""
    out = Path(output)
    return out.with_name(out.name + ".done.json")


def _fsync_dir(path: Path) -> None:
    # Makes a rename/creation in the directory durable; not possible on Windows.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _lock(f: IO[bytes], partial: Path) -> None:
    """Refuse to run beside another process writing the same output (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise ResumeError(
            f"another augkit process is writing {str(partial)!r}; wait for it to finish"
        ) from None


# --------------------------------------------------------------------------- the run


def fingerprint(
    pipeline: Pipeline,
    *,
    input_sha256: str,
    fmt: str,
    field: str,
    label_field: str | None,
    n: int,
    seed: int,
    keep_original: bool,
) -> dict[str, Any]:
    """What must be equal for a run to continue another's output."""
    from . import __version__

    config = json.dumps(pipeline.to_dict(), sort_keys=True, separators=(",", ":"))
    return {
        "augkit_version": __version__,
        "config_sha256": hashlib.sha256(config.encode()).hexdigest(),
        "input_sha256": input_sha256,
        "format": fmt,
        "field": field,
        "label_field": label_field,
        "n": n,
        "seed": seed,
        "keep_original": keep_original,
    }


_FIELD_NAMES = {
    "augkit_version": "augkit version",
    "config_sha256": "pipeline config",
    "input_sha256": "input file content",
    "format": "input format",
    "field": "--field",
    "label_field": "--label-field",
    "n": "--n",
    "seed": "--seed",
    "keep_original": "--keep-original",
}


def _short(value: Any) -> str:
    s = json.dumps(value)
    return s[:14] + "…" if len(s) > 16 else s


def augment_corpus(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    pipeline: Pipeline,
    *,
    field: str = "text",
    label_field: str | None = None,
    n: int = 4,
    seed: int = 0,
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

    Resumes an interrupted run of the same job; when ``output`` is already
    the complete output of this job (same config, seed, input and options),
    returns at once with ``already_complete`` set. An input without records
    gives an empty output (``Summary.inputs == 0``; the command warns).
    Raises :class:`InputError`, :class:`ResumeError`,
    :class:`ItemFailedError`, :class:`~augkit.ConfigError` or
    :class:`~augkit.ModelUnavailableError` (all :class:`~augkit.AugkitError`)
    for problems a user can fix.
    """
    say = log or (lambda msg: None)
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"pipeline must be an augkit.Pipeline, got {type(pipeline).__name__}")
    n = check_int("n", n, low=1)
    seed = check_int("seed", seed, low=0)
    batch_size = check_int("batch_size", batch_size, low=1)
    fmt = detect_format(input, fmt)
    for name in (field, label_field):
        if name in RESERVED:
            raise InputError(f"field name {name!r} is reserved for provenance in the output")
    if label_field is not None and label_field == field:
        raise InputError("--label-field must differ from --field")
    if fmt == "txt" and label_field is not None:
        raise InputError("plain-text input has no fields; --label-field needs JSONL or CSV")
    if pipeline.modality not in ("text", "any"):
        raise InputError(
            f"this pipeline's operators take {pipeline.modality!r} input; "
            "augkit augment works on text"
        )
    pipeline = text_pipeline(pipeline)

    out, partial, progress_path = paths_for(output)
    done_path = done_path_for(output)
    in_path = Path(input)
    if in_path.exists() and out.exists() and in_path.resolve() == out.resolve():
        raise InputError("the output file must not be the input file")
    if out.suffix.lower() in (".csv", ".tsv"):
        raise InputError(f"the output is JSONL; name it something like {out.stem}.jsonl")
    if not out.parent.is_dir():
        raise InputError(f"output directory {str(out.parent)!r} does not exist")

    scan = scan_input(in_path, fmt, field, label_field)
    kind = "row" if fmt in ("csv", "tsv") else "line"
    _check_fields_exist(scan, in_path, kind, field)
    if scan.bad and not skip_bad:
        shown = "\n  ".join(b.describe(kind) for b in scan.bad[:10])
        more = f"\n  ... and {len(scan.bad) - 10} more" if len(scan.bad) > 10 else ""
        raise InputError(
            f"{len(scan.bad)} bad record(s) in {str(in_path)!r}:\n  {shown}{more}\n"
            "fix them, or pass --skip-bad to leave them out; nothing was written"
        )
    for b in scan.bad:
        say(f"skipping {kind} {b.line}: {b.reason}")

    fp = fingerprint(
        pipeline,
        input_sha256=scan.sha256,
        fmt=fmt,
        field=field,
        label_field=label_field,
        n=n,
        seed=seed,
        keep_original=keep_original,
    )
    summary = Summary(output=out, inputs=scan.records, skipped=list(scan.bad))

    state = _load_progress(progress_path, fp, restart)
    if state is not None and state.get("complete"):
        # An earlier run finished writing and was stopped while tidying up.
        if partial.exists():
            os.replace(partial, out)
            _fsync_dir(out.parent)
        if out.exists():
            os.replace(progress_path, done_path)
            _fsync_dir(out.parent)
            return _already_complete(summary, state, say)
        progress_path.unlink()
        state = None  # the finished output was removed since; start over
    if out.exists() and not overwrite:
        # Raises unless OUTPUT is what this very run would write.
        return _already_complete(summary, _check_done(out, done_path, fp), say)
    if state is None and not restart and partial.exists() and partial.stat().st_size > 0:
        raise ResumeError(
            f"{str(partial)!r} exists without a progress record, so it cannot be resumed; "
            "pass --restart to discard it"
        )
    # Before any output file exists: a model or library that is missing here
    # is reported now, not after the first batch has created files.
    pipeline.check_available()

    fresh = state is None
    fd = os.open(partial, os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(fd, "r+b") as f:
        _lock(f, partial)
        if state is None:
            state = {"next_index": 0, "records": 0, "lines": 0, "bytes": 0}
            _write_json_atomic(progress_path, _progress(fp, state, complete=False))
        size = os.fstat(f.fileno()).st_size
        done_bytes = int(state["bytes"])
        if size < done_bytes:
            raise ResumeError(
                f"{str(partial)!r} is shorter ({size} bytes) than its progress record says "
                f"({done_bytes}); it was changed outside augkit. Pass --restart to start over"
            )
        if done_bytes:
            f.seek(done_bytes - 1)
            if f.read(1) != b"\n":
                raise ResumeError(
                    f"{str(partial)!r} does not end a line where its progress record says; "
                    "pass --restart to start over"
                )
        if size > done_bytes:
            say(f"dropping {size - done_bytes} unrecorded byte(s) at the end of {partial}")
        f.truncate(done_bytes)
        f.seek(done_bytes)
        os.fsync(f.fileno())
        if state["next_index"]:
            summary.resumed_from = int(state["records"])
            say(
                f"resuming: {state['records']} of {scan.records} input(s) already done "
                f"({state['lines']} records)"
            )
        try:
            _run(
                f,
                read_records(in_path, fmt, field, label_field),
                _Variants(
                    pipeline, n, seed, field, label_field, keep_original, skip_bad, kind, say
                ),
                batch_size=batch_size,
                state=state,
                fp=fp,
                progress_path=progress_path,
                summary=summary,
                total=scan.records,
                progress_bar=progress_bar,
            )
        except BaseException:
            if fresh and not state["next_index"]:
                # Failed before its first batch was recorded (a model that does
                # not load, an operator that rejects its arguments): leave
                # nothing behind, as a run that fails its checks does.
                progress_path.unlink(missing_ok=True)
                partial.unlink(missing_ok=True)
            raise
        f.seek(0)
        state["sha256"] = _sha256(f)
        _write_json_atomic(progress_path, _progress(fp, state, complete=True))
    # The order makes every crash recoverable: a complete progress record and
    # OUTPUT.partial (rename it), or OUTPUT (rename the record to OUTPUT.done.json).
    os.replace(partial, out)
    _fsync_dir(out.parent)
    os.replace(progress_path, done_path)
    _fsync_dir(out.parent)
    summary.records_written = int(state["lines"])
    return summary


def _already_complete(
    summary: Summary, record: dict[str, Any], say: Callable[[str], None]
) -> Summary:
    summary.already_complete = True
    summary.records_written = int(record["lines"])
    say(f"{summary.output} is already complete (the same config, seed, input and options)")
    return summary


def _check_done(out: Path, done_path: Path, fp: dict[str, Any]) -> dict[str, Any]:
    """The done record of ``out`` if ``out`` is the complete output of run ``fp``; else raise."""
    replace = "pass --overwrite to replace it (it is replaced only once the new output is complete)"
    if not done_path.exists():
        raise ResumeError(
            f"{str(out)!r} already exists and there is no record of the run that wrote it "
            f"({done_path.name}); {replace}"
        )
    try:
        record = _read_record(done_path)
        if not record.get("complete") or not isinstance(record.get("sha256"), str):
            raise ValueError("not the record of a finished run")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResumeError(
            f"the run record {str(done_path)!r} is unreadable ({exc}); {replace}"
        ) from None
    diffs = _diffs(record["fingerprint"], fp)
    if diffs:
        raise ResumeError(
            f"{str(out)!r} already exists, written with different settings:\n  "
            + "\n  ".join(diffs)
            + f"\n{replace}"
        )
    with out.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size != record["bytes"] or _sha256(f) != record["sha256"]:
            raise ResumeError(
                f"{str(out)!r} was changed after augkit wrote it (it no longer matches "
                f"{done_path.name}); {replace}"
            )
    return record


def _progress(fp: dict[str, Any], state: dict[str, Any], *, complete: bool) -> dict[str, Any]:
    record = {
        "format": PROGRESS_FORMAT,
        "version": PROGRESS_VERSION,
        "fingerprint": fp,
        "next_index": int(state["next_index"]),
        "records": int(state["records"]),
        "lines": int(state["lines"]),
        "bytes": int(state["bytes"]),
        "complete": complete,
    }
    if complete:
        record["sha256"] = state["sha256"]  # of the whole output
    return record


def _read_record(path: Path) -> dict[str, Any]:
    """A progress or done record, checked for shape; ``ValueError`` says what is wrong."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("format") != PROGRESS_FORMAT or data.get("version") != PROGRESS_VERSION:
        raise ValueError("not an augkit progress record of a known version")
    for k in ("next_index", "records", "lines", "bytes"):
        if not isinstance(data[k], int) or data[k] < 0:
            raise ValueError(f"bad {k!r}")
    if not isinstance(data["fingerprint"], dict):
        raise ValueError("bad fingerprint")
    return data


def _diffs(old_fp: dict[str, Any], fp: dict[str, Any]) -> list[str]:
    """One line per setting that differs between two fingerprints: ``--seed: 0 then, 1 now``."""
    return [
        f"{_FIELD_NAMES.get(k, k)}: {_short(old_fp.get(k))} then, {_short(fp.get(k))} now"
        for k in sorted(set(fp) | set(old_fp))
        if old_fp.get(k) != fp.get(k)
    ]


def _load_progress(path: Path, fp: dict[str, Any], restart: bool) -> dict[str, Any] | None:
    if not path.exists():
        return None
    if restart:
        path.unlink()
        return None
    try:
        data = _read_record(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResumeError(
            f"the progress record {str(path)!r} is unreadable ({exc}); "
            "pass --restart to discard the interrupted run and start over"
        ) from None
    diffs = _diffs(data["fingerprint"], fp)
    if diffs:
        raise ResumeError(
            f"{str(path)!r} records an interrupted run with different settings, so its output "
            "cannot be continued:\n  "
            + "\n  ".join(diffs)
            + "\nre-run with the original settings to resume, or pass --restart to start over"
        )
    return data


def _batches(
    records: Iterable[Record | BadRecord], start: int, batch_size: int
) -> Iterator[list[Record]]:
    """The good records from index ``start`` on, ``batch_size`` at a time."""
    good = (r for r in records if isinstance(r, Record) and r.index >= start)
    while batch := list(islice(good, batch_size)):
        yield batch


def _run(
    f: IO[bytes],
    records: Iterable[Record | BadRecord],
    variants: _Variants,
    *,
    batch_size: int,
    state: dict[str, Any],
    fp: dict[str, Any],
    progress_path: Path,
    summary: Summary,
    total: int,
    progress_bar: bool,
) -> None:
    bar = _bar(total, int(state["records"]), progress_bar)
    try:
        for batch in _batches(records, int(state["next_index"]), batch_size):
            consumed = len(batch)
            lines = variants.batch(batch, summary)
            data = "".join(lines).encode("utf-8")
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            state["next_index"] = batch[-1].index + 1
            state["records"] += consumed
            state["lines"] += len(lines)
            state["bytes"] += len(data)
            _write_json_atomic(progress_path, _progress(fp, state, complete=False))
            if bar is not None:
                bar.update(consumed)
    finally:
        if bar is not None:
            bar.close()


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


@dataclass(frozen=True)
class _Variants:
    """Turns a batch of input records into output lines: ``n`` variants each."""

    pipeline: Pipeline
    n: int
    seed: int
    field: str
    label_field: str | None
    keep_original: bool
    skip_bad: bool
    kind: str
    say: Callable[[str], None]

    def batch(self, batch: list[Record], summary: Summary) -> list[str]:
        texts = [r.text for r in batch]
        indices = [r.index for r in batch]
        try:
            per_variant = [
                self.pipeline.augment_batch(
                    texts, seed=self.seed, epoch=v, indices=indices, return_traces=True
                )
                for v in range(self.n)
            ]
        except (AugkitError, ImportError):
            raise
        except Exception:
            # Find the item that fails, to name its line; the others are augmented
            # alone, which gives the same result as in the batch.
            return self.one_by_one(batch, summary)
        lines = []
        for j, rec in enumerate(batch):
            outs = [(per_variant[v][0][j], per_variant[v][1][j]) for v in range(self.n)]
            lines.extend(self.lines(rec, outs))
        return lines

    def one_by_one(self, batch: list[Record], summary: Summary) -> list[str]:
        lines = []
        for rec in batch:
            try:
                outs = [
                    self.pipeline.augment(
                        rec.text, seed=self.seed, epoch=v, index=rec.index, return_trace=True
                    )
                    for v in range(self.n)
                ]
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
                self.say(f"skipping {bad.describe(self.kind)}")
                summary.skipped.append(bad)
                continue
            lines.extend(self.lines(rec, outs))
        return lines

    def lines(self, rec: Record, outs: list[tuple[Any, Any]]) -> list[str]:
        def line(variant: int | None, text: Any, trace: Any) -> str:
            if not isinstance(text, str):
                raise ItemFailedError(
                    f"line {rec.line}: the pipeline returned {type(text).__name__}, not text"
                )
            obj: dict[str, Any] = {"source_index": rec.index, "variant": variant, self.field: text}
            if self.label_field is not None:
                obj[self.label_field] = rec.label
            obj["trace"] = trace
            return dumps_line(obj)

        out = [line(None, rec.text, None)] if self.keep_original else []
        for v, (text, trace) in enumerate(outs):
            out.append(line(v, text, trace.to_dict()))
        return out
