"""``augkit replay``: re-create augmented records from their traces and check them.

A trace carries every parameter its operators drew, so replay needs the
input record and the trace only, never the seed: records written by augkit
0.1 (whose traces have ``epoch = v`` and no ``variant``) replay as well as
new ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._jsonl import LineError, decode_line, iter_lines, parse_line
from ..corpus import FORMATS, Record, detect_format, read_records, record_pipeline
from ..errors import AugkitError
from ..pipeline import Pipeline
from ..trace import Trace
from ._common import (
    EXIT_INTERNAL,
    EXIT_OK,
    CommandError,
    field_list,
    import_plugins,
    load_pipeline,
)

__all__ = ["add_parser", "parse_lines", "run"]


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    rep = sub.add_parser(
        "replay",
        parents=parents,
        help="re-create augmented records from their traces and check them",
    )
    rep.add_argument("output", metavar="OUTPUT", help="a JSONL file written by augkit augment")
    rep.add_argument("--input", required=True, help="the input file given to augment")
    rep.add_argument("-c", "--config", required=True, help="the config given to augment")
    rep.add_argument("--field", help="text field (as given to augment)")
    rep.add_argument(
        "--label-field",
        action="append",
        metavar="FIELD",
        help="label field(s), as given to augment (needed by label-aware operators only)",
    )
    rep.add_argument("--format", choices=FORMATS, help="input format")
    rep.add_argument("--lines", help="only these 1-based OUTPUT lines, e.g. 1,5-8 (and show them)")
    rep.set_defaults(func=run)


def parse_lines(spec: str) -> set[int]:
    """``"1,4-6"`` -> ``{1, 4, 5, 6}`` (1-based line numbers)."""
    out: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                a, b = (int(v) for v in part.split("-", 1))
                if a < 1 or b < a:
                    raise ValueError
                out.update(range(a, b + 1))
            else:
                v = int(part)
                if v < 1:
                    raise ValueError
                out.add(v)
        except ValueError:
            raise CommandError(
                f"--lines: {part!r} is not a line number or range such as 3 or 5-9"
            ) from None
    return out


def _read_output(
    out_path: Path, field: str, wanted: set[int] | None
) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` of the selected output lines, each checked for shape."""
    selected: list[tuple[int, dict[str, Any]]] = []
    n_lines = 0
    try:
        f = out_path.open("rb")
    except FileNotFoundError:
        raise CommandError(f"output file {str(out_path)!r} does not exist") from None
    except OSError as exc:
        raise CommandError(f"cannot read {str(out_path)!r}: {exc.strerror or exc}") from None
    with f:
        # Records end at "\n" only: a text may hold U+2028 and other characters
        # that str.splitlines() would take for line breaks (augkit._jsonl).
        for number, raw in iter_lines(f):
            n_lines = number
            if wanted is not None and number not in wanted:
                continue
            try:
                rec = parse_line(decode_line(raw))
                if not isinstance(rec, dict) or "source_index" not in rec or "trace" not in rec:
                    raise LineError("not an augkit output record")
            except LineError as exc:
                raise CommandError(f"{out_path}:{number}: {exc.reason}") from None
            if field not in rec:
                raise CommandError(
                    f"{out_path}:{number}: no field {field!r}; pass the --field used with augment"
                )
            selected.append((number, rec))
    if wanted is not None and (missing := sorted(wanted - {n for n, _ in selected})):
        raise CommandError(f"{out_path} has no line(s) {missing[:10]} ({n_lines} lines)")
    return selected


def run(args: argparse.Namespace) -> int:
    import_plugins(args.imports)
    loaded = load_pipeline(args.config)
    field = args.field or loaded.key or "text"
    labels = field_list("--label-field", args.label_field)
    pipeline = record_pipeline(loaded, field, labels)
    wanted = parse_lines(args.lines) if args.lines else None
    out_path = Path(args.output)
    selected = _read_output(out_path, field, wanted)

    need = {int(rec["source_index"]) for _, rec in selected}
    inputs: dict[int, dict[str, Any]] = {}
    fmt = detect_format(args.input, args.format)
    for item in read_records(args.input, fmt, field, labels):
        if item.index in need and isinstance(item, Record):
            inputs[item.index] = item.data
    for number, rec in selected:
        if (i := int(rec["source_index"])) not in inputs:
            raise CommandError(f"{out_path}:{number}: the input has no usable record {i}")
    sources = [inputs[int(rec["source_index"])] for _, rec in selected]
    results = _replay_all(pipeline, out_path, selected, sources)
    mismatches = 0
    for (number, rec), source, replayed in zip(selected, sources, results):
        i = int(rec["source_index"])
        trace = rec["trace"]
        ok = replayed == rec[field]
        mismatches += not ok
        if wanted is not None or not ok:
            ops = "original" if trace is None else " -> ".join(Trace.from_dict(trace).ops)
            print(f"line {number}: source {i}, variant {rec['variant']}: {ops or 'no-op'}")
            print(f"  input:    {source[field]!r}")
            print(f"  replayed: {replayed!r}")
            if not ok:
                print(f"  recorded: {rec[field]!r}  <- MISMATCH")
    status = "all match" if not mismatches else f"{mismatches} mismatch(es)"
    print(f"replayed {len(selected)} record(s): {status}")
    return EXIT_OK if not mismatches else EXIT_INTERNAL


def _replay_all(
    pipeline: Pipeline,
    out_path: Path,
    selected: list[tuple[int, dict[str, Any]]],
    sources: list[dict[str, Any]],
) -> list[Any]:
    """The augmented field of every selected record replayed (originals as they are),
    batched by step and operator."""
    field = pipeline.key
    assert field is not None
    results = [s[field] for s in sources]
    todo = [j for j, (_, rec) in enumerate(selected) if rec["trace"] is not None]
    try:
        outs = pipeline.replay_batch(
            [sources[j] for j in todo], [selected[j][1]["trace"] for j in todo]
        )
    except (AugkitError, ValueError, TypeError):
        # Replay one by one to name the line whose trace fails.
        for j in todo:
            number, rec = selected[j]
            try:
                pipeline.replay(sources[j], rec["trace"])
            except (AugkitError, ValueError, TypeError) as exc:
                raise CommandError(
                    f"{out_path}:{number}: cannot replay this trace: {exc}"
                ) from None
        raise
    for j, out in zip(todo, outs):
        results[j] = out[field]
    return results
