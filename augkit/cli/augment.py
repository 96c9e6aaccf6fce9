"""``augkit augment``: augment a corpus file into JSONL (:func:`augkit.corpus.augment_corpus`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..corpus import FORMATS, Summary, augment_corpus
from ._common import (
    EXIT_OK,
    field_list,
    import_plugins,
    load_pipeline,
    non_negative,
    positive,
    warn,
)

__all__ = ["add_parser", "report", "run"]


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    aug = sub.add_parser(
        "augment",
        parents=parents,
        help="augment a corpus file into JSONL (resumable)",
        description=(
            "Augment every record of INPUT N times with the pipeline of --config and write "
            "JSONL: each input record with its text field augmented and every other field "
            "kept, plus source_index, variant and trace. Variant v of the input with source "
            "index i uses the seeding coordinates (seed, epoch 0, index i, variant v). "
            "Interrupted runs resume when the same command is run again."
        ),
    )
    aug.add_argument("input", metavar="INPUT", help="JSONL, CSV/TSV or plain-text file")
    aug.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="JSONL file to write")
    aug.add_argument("-c", "--config", required=True, help="pipeline config (YAML or JSON)")
    aug.add_argument("--field", help="text field/column (default: the config's key, or 'text')")
    aug.add_argument(
        "--label-field",
        action="append",
        metavar="FIELD",
        help="the label field(s): every record must have them, label-aware operators read them "
        "(repeatable or comma-separated; default: the config's label field, not required)",
    )
    aug.add_argument(
        "--drop-field",
        action="append",
        metavar="FIELD",
        help="leave this field out of the output (repeatable or comma-separated); every other "
        "field of a record is kept",
    )
    aug.add_argument("--n", type=positive, default=4, help="variants per input (default 4)")
    aug.add_argument("--seed", type=non_negative, default=0, help="seed (default 0)")
    aug.add_argument(
        "--distinct",
        action="store_true",
        help="redraw a variant equal to its input or to an earlier variant (up to --max-tries)",
    )
    aug.add_argument(
        "--max-tries",
        type=positive,
        default=4,
        metavar="N",
        help="attempts per variant with --distinct (default 4)",
    )
    aug.add_argument(
        "--batch-size", type=positive, default=64, help="inputs per batch and checkpoint"
    )
    aug.add_argument(
        "--keep-original", action="store_true", help="also write each input (variant null)"
    )
    aug.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip bad records with a warning (default: stop before writing anything)",
    )
    aug.add_argument("--format", choices=FORMATS, help="input format")
    aug.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    aug.add_argument(
        "--restart", action="store_true", help="discard an interrupted run's files, start over"
    )
    aug.add_argument("-q", "--quiet", action="store_true", help="no progress bar or messages")
    aug.set_defaults(func=run)


def report(summary: Summary, distinct: bool) -> str:
    """``wrote 800 records for 200 input(s) to OUT; 111 of 800 variants unchanged (13.9 %)``."""
    skipped = f"; skipped {len(summary.skipped)} bad record(s)" if summary.skipped else ""
    resumed = f" (resumed after {summary.resumed_from})" if summary.resumed_from else ""
    line = f"wrote {summary.records_written} records for {summary.inputs} input(s){resumed} "
    line += f"to {summary.output}"
    if summary.variants:
        share = 100 * summary.unchanged / summary.variants
        line += f"; {summary.unchanged} of {summary.variants} variants unchanged ({share:.1f} %)"
        if distinct:
            line += f", {summary.not_distinct} could not be made distinct"
    return line + skipped


def run(args: argparse.Namespace) -> int:
    import_plugins(args.imports)
    pipeline = load_pipeline(args.config)
    field = args.field or pipeline.key or "text"

    def log(msg: str) -> None:
        if not args.quiet:
            print(f"augkit: {msg}", file=sys.stderr)

    summary = augment_corpus(
        args.input,
        args.output,
        pipeline,
        field=field,
        label_field=field_list("--label-field", args.label_field),
        drop_field=field_list("--drop-field", args.drop_field),
        n=args.n,
        seed=args.seed,
        distinct=args.distinct,
        max_tries=args.max_tries,
        batch_size=args.batch_size,
        keep_original=args.keep_original,
        skip_bad=args.skip_bad,
        fmt=args.format,
        overwrite=args.overwrite,
        restart=args.restart,
        log=log,
        progress_bar=not args.quiet,
    )
    if summary.inputs == 0:
        # Said even with --quiet: an empty output is rarely what was meant.
        why = f" (all {len(summary.skipped)} were bad and skipped)" if summary.skipped else ""
        warn(f"no records in {args.input!r}{why}; {summary.output} is empty")
    if not summary.already_complete:
        log(report(summary, args.distinct))
    return EXIT_OK
