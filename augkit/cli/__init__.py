"""The ``augkit`` command.

- ``augkit augment INPUT -o OUTPUT --config pipeline.yaml``: augment a corpus
  (JSONL, CSV/TSV or plain text) into JSONL with provenance; crash-safe and
  resumable (see :mod:`augkit.corpus`).
- ``augkit replay OUTPUT --input INPUT --config pipeline.yaml``: re-create
  augmented records from their traces and check them.
- ``augkit describe pipeline.yaml``: validate a config and print its chain.
- ``augkit demo [--out DIR]``: augment bundled sample texts and an image.

Exit codes: 0 success, 1 an unexpected internal error (a bug: run again with
``--traceback`` and report it), 2 a problem you can fix (usage, config,
input, an interrupted run that does not match), 130 interrupted by Ctrl-C,
141 (128 + SIGPIPE, as for other Unix tools) when whoever reads the output
closes the pipe early (``augkit replay ... | head -1``), without a message.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._jsonl import LineError, decode_line, iter_lines, parse_line
from .corpus import FORMATS, BadRecord, augment_corpus, detect_format, read_records, text_pipeline
from .errors import AugkitError, ConfigError, ModelUnavailableError
from .pipeline import Pipeline
from .trace import Trace

__all__ = ["CommandError", "load_pipeline", "main"]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE


class CommandError(AugkitError):
    """A problem with how the command was used; reported without a traceback."""


# --------------------------------------------------------------------------- helpers


def _import_plugins(modules: Sequence[str]) -> None:
    """Import modules that register custom operators (``--import my_package.ops``)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise CommandError(f"--import {name}: cannot import it ({exc})") from None


def load_pipeline(path: str | Path) -> Pipeline:
    """Read and validate a pipeline config with :meth:`Pipeline.load` (``.json``, ``.yaml``, ``.yml``).

    Every problem becomes a :class:`~augkit.ConfigError` that names the file.
    """
    try:
        return Pipeline.load(path)
    except ConfigError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        # Pipeline.load names the file in its own errors; anything else an
        # operator's constructor raises is a bad config too.
        raise ConfigError(f"invalid config {str(path)!r}: {exc}") from None
    except ImportError as exc:
        raise ConfigError(
            f"config {str(path)!r} uses an operator whose optional dependency is missing: {exc}"
        ) from None


def _parse_lines(spec: str) -> set[int]:
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


def _int_at_least(low: int) -> Callable[[str], int]:
    """An argparse ``type=`` for integers >= ``low``, with a message naming the bound."""

    def parse(value: str) -> int:
        try:
            v = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {low}, got {value!r}"
            ) from None
        if v < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {v}")
        return v

    return parse


_positive = _int_at_least(1)
_non_negative = _int_at_least(0)


def _err(msg: str) -> None:
    print(f"augkit: error: {msg}", file=sys.stderr)


def _warn(msg: str) -> None:
    print(f"augkit: warning: {msg}", file=sys.stderr)


# --------------------------------------------------------------------------- commands


def cmd_augment(args: argparse.Namespace) -> int:
    _import_plugins(args.imports)
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
        label_field=args.label_field,
        n=args.n,
        seed=args.seed,
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
        _warn(f"no records in {args.input!r}{why}; {summary.output} is empty")
    if not summary.already_complete:
        skipped = f"; skipped {len(summary.skipped)} bad record(s)" if summary.skipped else ""
        resumed = f" (resumed after {summary.resumed_from})" if summary.resumed_from else ""
        log(
            f"wrote {summary.records_written} records for {summary.inputs} input(s){resumed} "
            f"to {summary.output}{skipped}"
        )
    return EXIT_OK


def cmd_describe(args: argparse.Namespace) -> int:
    _import_plugins(args.imports)
    pipeline = load_pipeline(args.config)
    print(f"{args.config}: valid")
    print(pipeline.describe())
    try:
        pipeline.check_available()
    except ModelUnavailableError as exc:
        # The config is valid; it just cannot run on this machine as it is.
        sys.stdout.flush()
        _warn(f"augment would stop here before writing anything:\n{exc}")
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    _import_plugins(args.imports)
    loaded = load_pipeline(args.config)
    field = args.field or loaded.key or "text"
    pipeline = text_pipeline(loaded)
    wanted = _parse_lines(args.lines) if args.lines else None

    out_path = Path(args.output)
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

    need = {int(rec["source_index"]) for _, rec in selected}
    texts: dict[int, str] = {}
    fmt = detect_format(args.input, args.format)
    for item in read_records(args.input, fmt, field):
        if item.index in need and not isinstance(item, BadRecord):
            texts[item.index] = item.text
    for number, rec in selected:
        if (i := int(rec["source_index"])) not in texts:
            raise CommandError(f"{out_path}:{number}: the input has no usable record {i}")
    sources = [texts[int(rec["source_index"])] for _, rec in selected]
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
            print(f"  input:    {source!r}")
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
    sources: list[str],
) -> list[str]:
    """Every selected record replayed (originals as they are), batched by step and operator."""
    results = list(sources)
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
        results[j] = out
    return results


def cmd_demo(args: argparse.Namespace) -> int:
    from ._cli_demo import run_demo

    return run_demo(
        out=Path(args.out),
        seed=args.seed,
        marian_dir=args.marian_dir,
        mlm_dir=args.mlm_dir,
        pivot=args.pivot,
    )


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="augkit",
        description="Data augmentation with a seeded, traceable Markov-chain pipeline.",
        epilog="Exit codes: 0 ok, 1 internal error, 2 usage/config/input problem.",
    )
    parser.add_argument("--version", action="version", version=f"augkit {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="show Python tracebacks (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    imports = argparse.ArgumentParser(add_help=False)
    imports.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first, to register custom operators (repeatable)",
    )

    aug = sub.add_parser(
        "augment",
        parents=[imports],
        help="augment a corpus file into JSONL (resumable)",
        description=(
            "Augment every record of INPUT N times with the pipeline of --config and write "
            "JSONL records with source_index, variant and trace. Variant v of the input with "
            "source index i uses (seed, epoch=v, index=i). Interrupted runs resume when the "
            "same command is run again."
        ),
    )
    aug.add_argument("input", metavar="INPUT", help="JSONL, CSV/TSV or plain-text file")
    aug.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="JSONL file to write")
    aug.add_argument("-c", "--config", required=True, help="pipeline config (YAML or JSON)")
    aug.add_argument("--field", help="text field/column (default: the config's key, or 'text')")
    aug.add_argument("--label-field", help="label field/column copied to each output record")
    aug.add_argument("--n", type=_positive, default=4, help="variants per input (default 4)")
    aug.add_argument("--seed", type=_non_negative, default=0, help="seed (default 0)")
    aug.add_argument(
        "--batch-size", type=_positive, default=64, help="inputs per batch and checkpoint"
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
    aug.set_defaults(func=cmd_augment)

    desc = sub.add_parser(
        "describe", parents=[imports], help="validate a pipeline config and print its chain"
    )
    desc.add_argument("config", metavar="CONFIG")
    desc.set_defaults(func=cmd_describe)

    rep = sub.add_parser(
        "replay",
        parents=[imports],
        help="re-create augmented records from their traces and check them",
    )
    rep.add_argument("output", metavar="OUTPUT", help="a JSONL file written by augkit augment")
    rep.add_argument("--input", required=True, help="the input file given to augment")
    rep.add_argument("-c", "--config", required=True, help="the config given to augment")
    rep.add_argument("--field", help="text field (as given to augment)")
    rep.add_argument("--format", choices=FORMATS, help="input format")
    rep.add_argument("--lines", help="only these 1-based OUTPUT lines, e.g. 1,5-8 (and show them)")
    rep.set_defaults(func=cmd_replay)

    demo = sub.add_parser("demo", help="augment bundled sample texts and an image")
    demo.add_argument("--out", default="out/demo", help="directory for results (out/demo)")
    demo.add_argument("--seed", type=_non_negative, default=0)
    demo.add_argument(
        "--marian-dir",
        help="directory with local MarianMT models opus-mt-en-PIVOT and opus-mt-PIVOT-en "
        "(enables back-translation; env AUGKIT_MARIAN_DIR)",
    )
    demo.add_argument("--pivot", default="de", help="pivot language for back-translation (de)")
    demo.add_argument(
        "--mlm-dir", help="local masked-LM model directory (enables MaskedLM; env AUGKIT_MLM_DIR)"
    )
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
        # Flushed here, so that a reader that went away is noticed below and
        # not by the interpreter at exit ("Exception ignored ... BrokenPipeError").
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except AugkitError as exc:
        _err(str(exc))
        return EXIT_USER
    except KeyboardInterrupt:
        _err("interrupted; run the same command again to resume")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.traceback:
            raise
        _err(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "this is a bug; run again with --traceback and report it"
        )
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null, so the interpreter's last flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (captured in a test, or closed): nothing to flush


if __name__ == "__main__":
    sys.exit(main())
