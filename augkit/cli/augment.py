"""``augkit augment``: augment a corpus file into JSONL (:func:`augkit.corpus.augment_corpus`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..corpus import FORMATS, Summary, augment_corpus
from ..corpus.sharded import ShardedSummary
from ..items import FieldLens
from ._common import (
    EXIT_OK,
    CommandError,
    field_list,
    import_plugins,
    load_pipeline,
    non_negative,
    positive,
    warn,
)

__all__ = ["ENGINES", "SHARD_SIZE", "add_parser", "report", "run"]

ENGINES = ("process", "ray")
SHARD_SIZE = 10_000
#: The options only --engine ray reads, as ``args`` names them.
_RAY_OPTIONS = {
    "address": "--address",
    "concurrency": "--concurrency",
    "num_gpus": "--num-gpus",
    "shard_size": "--shard-size",
}


def non_negative_float(value: str) -> float:
    """An argparse ``type=`` for numbers >= 0."""
    try:
        v = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value!r}") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value!r}")
    return v


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
    aug.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help="JSONL file to write; with --engine ray a directory of shards plus manifest.json",
    )
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
        "--filter",
        metavar="FILTER",
        help="quality filter file (YAML/JSON: metric, reference, quantile, label_check, "
        "min_distance, model, max_tries, fallback, ...), fitted on INPUT's records before "
        "augmenting; rejected outputs are redrawn (docs/cli.md)",
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
    ray = aug.add_argument_group(
        "distributed (--engine ray)",
        "Augment with Ray Data actors and write OUTPUT/part-NNNNN.jsonl plus "
        "OUTPUT/manifest.json; the shards, read in order, are the single-process output. "
        "Re-running after a failure redoes only the shards not written. Needs the ray extra "
        "(pip install 'augkit[ray]'). See docs/ray.md.",
    )
    ray.add_argument(
        "--engine",
        choices=ENGINES,
        default="process",
        help="process: this process, one output file (default); ray: Ray Data, shards",
    )
    ray.add_argument(
        "--address",
        help="the Ray cluster to join ('auto': the one this machine is part of; default: start "
        "a local one)",
    )
    ray.add_argument("--concurrency", type=positive, metavar="N", help="actors (default 2)")
    ray.add_argument(
        "--num-gpus", type=non_negative_float, metavar="G", help="GPUs per actor (default 0)"
    )
    ray.add_argument(
        "--shard-size",
        type=positive,
        metavar="N",
        help=f"inputs per shard (default {SHARD_SIZE})",
    )
    aug.set_defaults(func=run)


def report(summary: Summary, distinct: bool) -> str:
    """``wrote 800 records for 200 input(s) to OUT; 111 of 800 variants unchanged (13.9 %)``."""
    skipped = f"; skipped {len(summary.skipped)} bad record(s)" if summary.skipped else ""
    resumed = f" (resumed after {summary.resumed_from})" if summary.resumed_from else ""
    line = f"wrote {summary.records_written} records for {summary.inputs} input(s){resumed} "
    line += f"to {summary.output}"
    if isinstance(summary, ShardedSummary):
        kept = f", {summary.shards_kept} kept from the earlier run" if summary.shards_kept else ""
        line += f" in {summary.shards} shard(s){kept}"
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

    options: dict[str, Any] = dict(
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
    )
    if args.filter is not None:
        if args.engine == "ray":
            raise CommandError(
                "--filter is not available with --engine ray yet; run it with --engine "
                "process, or call augkit.ray.augment_dataset(..., filter=...) from Python"
            )
        from ._filter import fit_filter, load_filter_spec

        spec = load_filter_spec(args.filter)
        labels = options["label_field"]
        lens = pipeline.lens
        own = lens.label if isinstance(lens, FieldLens) else None
        label_field = labels[0] if labels else (own if isinstance(own, str) else None)
        log(f"fitting the quality filter of {args.filter} on {args.input}")
        qf, filter_options = fit_filter(
            spec,
            args.filter,
            input_path=args.input,
            fmt=args.format,
            field=field,
            label_field=label_field,
        )
        pipeline = pipeline.filtered(qf, **filter_options)
    summary: Summary
    if args.engine == "ray":
        try:
            from ..ray import augment_corpus_on_ray
        except ImportError as exc:  # pragma: no cover - the dev install has ray
            raise CommandError(
                f"--engine ray needs Ray Data: pip install 'augkit[ray]' ({exc})"
            ) from None
        summary = augment_corpus_on_ray(
            args.input,
            args.output,
            pipeline,
            address=args.address,
            concurrency=args.concurrency or 2,
            num_gpus=args.num_gpus or 0,
            shard_size=args.shard_size or SHARD_SIZE,
            quiet=args.quiet,
            **options,
        )
    else:
        given = [flag for name, flag in _RAY_OPTIONS.items() if getattr(args, name) is not None]
        if given:
            raise CommandError(f"{', '.join(given)} only apply with --engine ray")
        summary = augment_corpus(
            args.input, args.output, pipeline, progress_bar=not args.quiet, **options
        )
    if summary.inputs == 0:
        # Said even with --quiet: an empty output is rarely what was meant.
        why = f" (all {len(summary.skipped)} were bad and skipped)" if summary.skipped else ""
        warn(f"no records in {args.input!r}{why}; {summary.output} is empty")
    if not summary.already_complete:
        log(report(summary, args.distinct))
    return EXIT_OK
