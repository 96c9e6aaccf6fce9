"""Corpus input: the formats augkit reads, and which of their records can be augmented.

A record is a mapping of field names to values, whatever the file format:

- JSONL (``.jsonl``, ``.ndjson``): one JSON object per line. The source index
  is the 0-based line number; blank lines are skipped (they keep their
  number). Only ``\\n`` ends a line (:mod:`augkit._jsonl`): U+2028, U+0085
  and the like inside a text are text.
- CSV / TSV (``.csv``, ``.tsv``): a header row, then one record per row, a
  mapping of column names to strings. The source index is the 0-based data
  row (blank rows are skipped by the reader and not counted).
- plain text (anything else): one record per line, ``{field: line}`` (the
  line without ``\\n`` or ``\\r\\n``) and nothing else. The source index is the
  0-based line number; blank lines are skipped.

A usable record (:class:`Record`) has the augmented field, a string, and
every label field; anything else is a :class:`BadRecord` with its line and
why. A record that will be written out (``for_output``) loses the dropped
fields, must not use a name the output reserves (:data:`RESERVED`: an
:class:`InputError`, since every record of such a file has the problem) and
must be JSON: a NaN or infinite number anywhere in it (Python's ``json``
reads them, JSON has no such values) makes it a bad record.

This module knows nothing about pipelines, output files or resuming.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .._jsonl import LineError, decode_line, find_non_finite, iter_lines, parse_line
from ..errors import AugkitError, file_problem

__all__ = [
    "FORMATS",
    "RESERVED",
    "BadRecord",
    "InputError",
    "InputScan",
    "Record",
    "check_fields_exist",
    "detect_format",
    "open_input",
    "read_records",
    "scan_input",
]

FORMATS = ("jsonl", "csv", "tsv", "txt")
#: Fields every output record has; an input record may not have them too.
RESERVED = ("source_index", "variant", "trace")


class InputError(AugkitError):
    """The input file cannot be used (unreadable, missing column, bad records)."""


@dataclass(frozen=True)
class Record:
    """One usable input record: its source index, line (or row) and fields."""

    index: int
    line: int
    data: dict[str, Any]


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


def detect_format(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """``fmt`` if given, else from the suffix: jsonl/ndjson, csv, tsv, anything else txt."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(f"unknown input format {fmt!r}; choose from {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}.get(suffix, "txt")


def open_input(path: Path, mode: str = "rb", **kwargs: Any) -> IO[Any]:
    """``path`` opened, or an :class:`InputError` that says why it cannot be."""
    try:
        return path.open(mode, **kwargs)
    except OSError as exc:
        raise InputError(file_problem(exc, "input file", path)) from None


def field_names(name: str, value: str | Sequence[str] | None) -> list[str]:
    """A field option as a list of names, in order, each once."""
    if value is None:
        return []
    names = [value] if isinstance(value, str) else list(value)
    for v in names:
        if not isinstance(v, str) or not v:
            raise TypeError(f"{name} must be a field name or a list of field names, got {v!r}")
    return list(dict.fromkeys(names))


@dataclass
class _Fields:
    """What a run asks of each record: the augmented field, the label fields, the dropped ones."""

    key: str
    labels: tuple[str, ...]
    drop: tuple[str, ...]
    for_output: bool
    #: Dropped fields that some record had (a --drop-field no record has is likely a typo).
    dropped_seen: set[str] = field(default_factory=set)

    def check_header(self, path: Path, header: Sequence[str]) -> None:
        for name in (self.key, *self.labels):
            if name not in header:
                raise InputError(
                    f"{str(path)!r} has no column {name!r} (columns: {', '.join(header)})"
                )
        self.dropped_seen.update(d for d in self.drop if d in header)
        if self.for_output:
            kept = [h for h in header if h not in self.drop]
            _check_reserved(kept, f"{str(path)!r} has a column")

    def record(self, obj: Any, index: int, line: int) -> Record | BadRecord:
        """``obj`` (a decoded record) as a :class:`Record`, or why it is a :class:`BadRecord`."""
        if not isinstance(obj, dict):
            return BadRecord(index, line, f"expected a JSON object, got {_json_type(obj)}")
        fields = ", ".join(map(str, obj)) or "none"
        if self.key not in obj:
            return BadRecord(
                index, line, f"no field {self.key!r} (fields: {fields})", missing=self.key
            )
        text = obj[self.key]
        if not isinstance(text, str):
            return BadRecord(
                index, line, f"field {self.key!r} is {_json_type(text)}, expected a string"
            )
        for name in self.labels:
            if name not in obj:
                reason = f"no label field {name!r} (fields: {fields})"
                return BadRecord(index, line, reason, missing=name)
        if not self.for_output:
            return Record(index, line, obj)
        if self.drop:
            self.dropped_seen.update(d for d in self.drop if d in obj)
            obj = {k: v for k, v in obj.items() if k not in self.drop}
        _check_reserved(obj, f"line {line}: the record has a field")
        for name, value in obj.items():
            # Python's json reads NaN and Infinity, which JSON does not have: such a
            # record could not be written to the output as valid JSON.
            where = find_non_finite(value)
            if where is not None:
                kind = "label field" if name in self.labels else "field"
                at = f" at {where}" if where else ""
                return BadRecord(
                    index,
                    line,
                    f"{kind} {name!r}{at} is NaN or infinite, which JSON cannot represent "
                    "(write null or a finite number, or leave the field out with --drop-field)",
                )
        return Record(index, line, obj)


def _check_reserved(names: Any, where: str) -> None:
    for name in RESERVED:
        if name in names:
            raise InputError(
                f"{where} {name!r}, a name every output record has (source_index, variant, "
                f"trace); pass --drop-field {name} to leave it out of the output, or rename it"
            )


def read_records(
    path: str | os.PathLike[str],
    fmt: str,
    field: str = "text",
    label_field: str | Sequence[str] | None = None,
    *,
    drop_field: str | Sequence[str] | None = None,
    for_output: bool = False,
) -> Iterator[Record | BadRecord]:
    """Every record of the input, good or bad, in order (see the module doc).

    ``label_field``: the field(s) a usable record must have. With
    ``for_output``, the fields of ``drop_field`` are removed from each record
    and what is left is checked for the output (reserved names, JSON
    numbers). Raises :class:`InputError` for problems that concern the
    whole file (cannot open it, a CSV without the column, undecodable CSV,
    a reserved field name).
    """
    fields = _Fields(
        field,
        tuple(field_names("label_field", label_field)),
        tuple(field_names("drop_field", drop_field)),
        for_output,
    )
    return _read(Path(path), fmt, fields)


def _read(path: Path, fmt: str, fields: _Fields) -> Iterator[Record | BadRecord]:
    if fmt in ("jsonl", "txt"):
        yield from _read_lines(path, fmt, fields)
    elif fmt in ("csv", "tsv"):
        yield from _read_csv(path, "," if fmt == "csv" else "\t", fields)
    else:
        raise InputError(f"unknown input format {fmt!r}")


def _read_lines(path: Path, fmt: str, fields: _Fields) -> Iterator[Record | BadRecord]:
    # Lines end at b"\n" only (augkit._jsonl): U+2028 and friends are text.
    with open_input(path) as f:
        for line, raw in iter_lines(f):
            index = line - 1
            if not raw.strip():
                continue
            try:
                text = decode_line(raw)
                if fmt == "txt":
                    yield Record(index, line, {fields.key: text})
                    continue
                obj = parse_line(text)
            except LineError as exc:
                yield BadRecord(index, line, exc.reason)
                continue
            yield fields.record(obj, index, line)


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


def _read_csv(path: Path, delimiter: str, fields: _Fields) -> Iterator[Record | BadRecord]:
    with open_input(path, "r", encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        try:
            header = reader.fieldnames
            if header is None:
                return  # an empty file: no records
            fields.check_header(path, header)
            for index, row in enumerate(reader):
                line = reader.line_num
                if None in row:
                    yield BadRecord(index, line, "more values than the header has columns")
                    continue
                if any(v is None for k, v in row.items() if k not in fields.drop):
                    yield BadRecord(index, line, "fewer values than the header has columns")
                    continue
                yield fields.record(row, index, line)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{str(path)!r} is not valid UTF-8 near line {reader.line_num + 1}: {exc.reason}"
            ) from None
        except csv.Error as exc:
            raise InputError(f"{str(path)!r} line {reader.line_num}: bad CSV: {exc}") from None


@dataclass
class InputScan:
    """Result of the validation pass over the input."""

    records: int
    bad: list[BadRecord]
    #: Fields of ``drop_field`` that no record has.
    never_dropped: list[str] = field(default_factory=list)


def scan_input(
    path: str | os.PathLike[str],
    fmt: str,
    field: str = "text",
    label_field: str | Sequence[str] | None = None,
    *,
    drop_field: str | Sequence[str] | None = None,
    for_output: bool = True,
) -> InputScan:
    """Read the whole input once (as :func:`read_records`): how many good records, every bad one.

    Done before any output is written, so a bad input is reported without
    leaving a half-written file behind.
    """
    fields = _Fields(
        field,
        tuple(field_names("label_field", label_field)),
        tuple(field_names("drop_field", drop_field)),
        for_output,
    )
    good = 0
    bad: list[BadRecord] = []
    for rec in _read(Path(path), fmt, fields):
        if isinstance(rec, BadRecord):
            bad.append(rec)
        else:
            good += 1
    never = [d for d in fields.drop if d not in fields.dropped_seen]
    return InputScan(good, bad, never)


def check_fields_exist(scan: InputScan, path: Path, kind: str, field: str) -> None:
    """One message, not one per record, when no record of the file has a field asked for."""
    if scan.records or not scan.bad:
        return
    missing = {b.missing for b in scan.bad}
    if len(missing) != 1 or None in missing:
        return
    name = missing.pop()
    assert name is not None
    option = "--field" if name == field else "--label-field"
    raise InputError(
        f"no record in {str(path)!r} has the field {name!r} ({option}); for example "
        f"{scan.bad[0].describe(kind)}\npass {option} with a field the records have; "
        "nothing was written"
    )
