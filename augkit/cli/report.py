"""``augkit report``: measure an augmented JSONL file against its originals (:class:`augkit.quality.QualityReport`).

Reads the output of ``augkit augment`` (records with ``source_index``,
``variant`` and ``trace``) and the input it was made from, pairs every
augmented record with its original by ``source_index`` (the input's
record index, as :func:`augkit.corpus.read_records` numbers it), fits a
:class:`~augkit.quality.QualityFilter` on the originals and evaluates the
augmented texts with it. Records are grouped by the operators of their
trace: ``--group-by ops`` (default) names a group by the distinct operator
names of the trace's steps, sorted and joined with ``" + "`` (a record made
by ``synonym`` then ``swap`` then ``synonym`` is in ``swap + synonym``);
``--group-by path`` by every step in order, joined with ``" > "``
(``synonym > swap > synonym``). A record whose trace has no step is in
``(none)``; records with ``variant`` null (``--keep-original``) are the
originals themselves and are skipped.

Prints the per-group table (markdown) and, with ``-o DIR``, writes
``DIR/report.json`` (settings, summary per group, one row per record) and
the plots of :meth:`QualityReport.plot <augkit.quality.QualityReport.plot>`
(``distances.png``, ``projection.png``).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from .._jsonl import LineError, iter_jsonl
from ..corpus.readers import BadRecord, InputError, detect_format, read_records
from ._common import DEFAULT_EMBEDDER, EXIT_OK, CommandError, non_negative_float, warn

__all__ = ["DEFAULT_MODEL", "GROUP_BY", "add_parser", "group_name", "markdown_table", "run"]

DEFAULT_MODEL = DEFAULT_EMBEDDER
GROUP_BY = ("ops", "path")
NO_STEPS = "(none)"
_COLUMNS = (
    ("samples", "{:d}"),
    ("mean_distance", "{:.4g}"),
    ("median_distance", "{:.4g}"),
    ("q90_distance", "{:.4g}"),
    ("rejection_rate", "{:.3f}"),
    ("label_flip_rate", "{:.3f}"),
    ("distinct_1", "{:.3f}"),
    ("distinct_2", "{:.3f}"),
    ("self_similarity", "{:.3f}"),
)


def _quantile(value: str) -> float:
    try:
        v = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value!r}") from None
    if not (0 < v <= 1):
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value!r}")
    return v


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    from ..quality.filter import METRICS, REFERENCES

    cmd = sub.add_parser(
        "report",
        parents=parents,
        help="measure augmented records against their originals (table and plots)",
        description=(
            "Pair every record of AUGMENTED (the JSONL that augkit augment writes) with its "
            "original in --input by source_index, embed both with --model, score each "
            "augmented text with a quality filter fitted on the originals, and print a table "
            "per operator group: samples, mean/median/90 %% distances, rejection and "
            "label-flip rates, distinct-1/2 and self-similarity. With -o DIR also write "
            "DIR/report.json, DIR/distances.png and DIR/projection.png."
        ),
    )
    cmd.add_argument("augmented", metavar="AUGMENTED", help="JSONL written by augkit augment")
    cmd.add_argument(
        "-i", "--input", required=True, metavar="ORIGINAL", help="the input it was made from"
    )
    cmd.add_argument("-o", "--output", metavar="DIR", help="directory for report.json and PNGs")
    cmd.add_argument("--field", default="text", help="text field (default 'text')")
    cmd.add_argument(
        "--label-field",
        default="label",
        metavar="FIELD",
        help="label field (default 'label'; labels are used when the originals have it)",
    )
    cmd.add_argument("--format", help="input format (default: from ORIGINAL's suffix)")
    cmd.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"encoder: a hub name or a local model directory (default {DEFAULT_MODEL})",
    )
    cmd.add_argument("--batch-size", type=int, default=64, help="embedding batch size")
    cmd.add_argument("--metric", choices=METRICS, default="cosine", help="distance (cosine)")
    cmd.add_argument(
        "--reference",
        choices=REFERENCES,
        default="original",
        help="measure to the item's original or to its class (default original)",
    )
    cmd.add_argument(
        "--quantile",
        type=_quantile,
        default=0.95,
        help="threshold: this quantile of the originals' leave-one-out distances (0.95)",
    )
    cmd.add_argument(
        "--label-check",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="reject items whose nearest class is not their label (default: on when the "
        "originals have labels; gives the label-flip rate)",
    )
    cmd.add_argument(
        "--min-distance",
        type=non_negative_float,
        default=0.0,
        help="reject near-copies at or below this distance to the original (default 0)",
    )
    cmd.add_argument("--group-by", choices=GROUP_BY, default="ops", help="grouping (ops)")
    cmd.add_argument("--no-plot", action="store_true", help="with -o: write report.json only")
    cmd.add_argument("-q", "--quiet", action="store_true", help="do not print the table")
    cmd.set_defaults(func=run)


def group_name(trace: dict[str, Any], group_by: str) -> str:
    """The group of a record by its trace's steps (see the module doc)."""
    names = [str(step.get("op", "?")) for step in trace.get("steps") or ()]
    if not names:
        return NO_STEPS
    if group_by == "path":
        return " > ".join(names)
    return " + ".join(sorted(set(names)))


def _label(value: Any) -> bool:
    return value is not None and isinstance(value, Hashable) and not isinstance(value, float)


def read_originals(
    path: str, field: str, label_field: str, fmt: str | None
) -> tuple[dict[int, str], dict[int, Any]]:
    """Texts and labels of the usable input records, by source index."""
    p = Path(path)
    if not p.is_file():
        raise CommandError(
            f"--input {path!r} does not exist"
            if not p.exists()
            else f"--input {path!r} is not a file"
        )
    texts: dict[int, str] = {}
    labels: dict[int, Any] = {}
    try:
        for rec in read_records(p, detect_format(p, fmt), field):
            if isinstance(rec, BadRecord):
                continue
            texts[rec.index] = rec.data[field]
            if label_field in rec.data:
                labels[rec.index] = rec.data[label_field]
    except InputError as exc:
        raise CommandError(str(exc)) from None
    if not texts:
        raise CommandError(f"--input {path!r} holds no record with a text field {field!r}")
    return texts, labels


def read_augmented(path: str, field: str, label_field: str) -> list[dict[str, Any]]:
    """The augmented records (``variant`` not null), checked."""
    p = Path(path)
    if not p.is_file():
        raise CommandError(
            f"augmented file {path!r} does not exist" if not p.exists() else
            f"augmented file {path!r} is not a file"
        )  # fmt: skip
    out: list[dict[str, Any]] = []
    try:
        with p.open("rb") as f:
            for number, record in iter_jsonl(f):
                where = f"{path}: line {number}"
                if not isinstance(record, dict):
                    raise CommandError(f"{where}: expected a JSON object, got {record!r:.60}")
                for name in ("source_index", "variant", "trace"):
                    if name not in record:
                        raise CommandError(
                            f"{where}: no field {name!r}; AUGMENTED must be the output of "
                            "augkit augment (records with source_index, variant and trace)"
                        )
                if record["variant"] is None:
                    continue  # an original written with --keep-original
                index, trace = record["source_index"], record["trace"]
                if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                    raise CommandError(f"{where}: source_index must be an integer >= 0")
                if not isinstance(trace, dict) or not isinstance(trace.get("steps", []), list):
                    raise CommandError(f"{where}: trace must be an object with a list of steps")
                if field not in record:
                    raise CommandError(
                        f"{where}: no field {field!r} (the text; fields: {sorted(record)}); "
                        "choose it with --field"
                    )
                if not isinstance(record[field], str):
                    raise CommandError(f"{where}: field {field!r} must be a string")
                out.append({**record, "_line": number})
    except LineError as exc:
        raise CommandError(f"{path}: {exc}") from None
    except OSError as exc:
        raise CommandError(f"cannot read {path!r}: {exc}") from None
    if not out:
        raise CommandError(f"augmented file {path!r} holds no augmented records")
    return out


def markdown_table(summary: dict[str, dict[str, Any]]) -> str:
    """The summary of a :class:`~augkit.quality.QualityReport` as a markdown table."""
    cols = [c for c in _COLUMNS if any(c[0] in r for r in summary.values())]
    head = "| group | " + " | ".join(c for c, _ in cols) + " |"
    rule = "|---|" + "---:|" * len(cols)
    lines = [head, rule]
    for g, row in summary.items():
        cells = []
        for c, fmt in cols:
            v = row.get(c)
            cells.append("-" if v is None or (isinstance(v, float) and math.isnan(v))
                         else fmt.format(v))  # fmt: skip
        lines.append(f"| {g.replace('|', '/')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _check_model(name: str) -> None:
    """A name written as a path must be a directory (a hub name is ``namespace/name``)."""
    looks_like_path = (
        Path(name).is_absolute()
        or name.startswith(("./", "../", "~", ".\\", "..\\"))
        or name.replace("\\", "/").count("/") > 1
    )
    if looks_like_path and not Path(name).expanduser().is_dir():
        raise CommandError(
            f"--model {name!r}: no such model directory (give a local directory or a hub "
            "name such as sentence-transformers/all-MiniLM-L6-v2)"
        )


def run(args: argparse.Namespace) -> int:
    out_dir = Path(args.output) if args.output else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise CommandError(f"-o {args.output!r} exists and is not a directory")
    if out_dir is not None and not args.no_plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CommandError(
                "the plots need matplotlib (pip install matplotlib); or pass --no-plot"
            ) from None
    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1")
    texts0, labels0 = read_originals(args.input, args.field, args.label_field, args.format)
    records = read_augmented(args.augmented, args.field, args.label_field)
    missing = [r for r in records if r["source_index"] not in texts0]
    if missing:
        r = missing[0]
        raise CommandError(
            f"{args.augmented}: line {r['_line']}: source_index {r['source_index']} is not a "
            f"usable record of --input {args.input!r} ({len(missing)} such record(s)); is it "
            "the file these were augmented from?"
        )
    labelled = bool(labels0) and len(labels0) == len(texts0)
    if labels0 and not labelled:
        warn(f"only {len(labels0)} of {len(texts0)} originals have {args.label_field!r}: "
             "labels are not used")  # fmt: skip
    if labelled:
        bad = next((v for v in labels0.values() if not _label(v)), None)
        if bad is not None or any(not _label(v) for v in labels0.values()):
            raise CommandError(
                f"label {args.label_field!r} must be a string, integer or boolean, got {bad!r:.60}"
            )
    label_check = labelled if args.label_check is None else args.label_check
    if (args.reference == "class" or label_check) and not labelled:
        need = "--reference class" if args.reference == "class" else "--label-check"
        raise CommandError(
            f"{need} needs labels: every original must have the field {args.label_field!r} "
            "(choose it with --label-field)"
        )

    _check_model(args.model)
    from ..quality import QualityFilter, TextEmbedder

    local = Path(args.model).expanduser()
    emb = TextEmbedder(str(local) if local.is_dir() else args.model, batch_size=args.batch_size)
    index0 = sorted(texts0)
    try:
        qf = QualityFilter(
            emb,
            metric=args.metric,
            reference=args.reference,
            quantile=args.quantile,
            label_check=label_check,
            min_distance=args.min_distance,
        )
        qf.fit([texts0[i] for i in index0], [labels0[i] for i in index0] if labelled else None)
        labels = None
        if labelled:
            labels = [r.get(args.label_field, labels0[r["source_index"]]) for r in records]
        groups = [group_name(r["trace"], args.group_by) for r in records]
        rep = qf.evaluate(
            [r[args.field] for r in records],
            labels=labels,
            originals=[texts0[r["source_index"]] for r in records],
            groups=groups,
        )
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    except ImportError as exc:
        raise CommandError(
            f"augkit report needs torch and transformers ({exc}): pip install 'augkit[quality]'"
        ) from None
    summary = rep.summary()
    header = (
        f"{rep.metric} distance to {rep.reference}, threshold {rep.threshold:.4g} "
        f"(quantile {args.quantile} of {len(index0)} originals); {len(records)} augmented "
        f"records, grouped by {args.group_by}"
    )
    if not args.quiet:
        print(header)
        print()
        print(markdown_table(summary))
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        items = []
        for r, row in zip(records, rep.rows()):
            items.append({"source_index": r["source_index"], "variant": r["variant"], **row})
        plots: dict[str, Any] = {}
        if not args.no_plot:
            plots = {k: p.name for k, p in rep.plot(out_dir).items()}
        doc = {
            "augmented": str(args.augmented),
            "input": str(args.input),
            "model": str(args.model),
            "metric": rep.metric,
            "reference": rep.reference,
            "quantile": args.quantile,
            "label_check": label_check,
            "min_distance": args.min_distance,
            "threshold": rep.threshold,
            "group_by": args.group_by,
            "originals": len(index0),
            "records": len(records),
            "summary": summary,
            "plots": plots,
            "items": items,
        }
        (out_dir / "report.json").write_text(
            json.dumps(_clean(doc), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if not args.quiet:
            print()
            print(f"wrote {out_dir / 'report.json'}" + "".join(
                f", {out_dir / name}" for name in plots.values()))  # fmt: skip
    return EXIT_OK
