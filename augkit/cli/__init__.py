"""The ``augkit`` command: the parser and the way out; one module per command.

- ``augkit augment INPUT -o OUTPUT --config pipeline.yaml`` (:mod:`.augment`):
  augment a corpus (JSONL, CSV/TSV or plain text) into JSONL, every record
  kept whole, with provenance; crash-safe and resumable (:mod:`augkit.corpus`).
- ``augkit replay OUTPUT --input INPUT --config pipeline.yaml``
  (:mod:`.replay`): re-create augmented records from their traces and check
  them.
- ``augkit describe pipeline.yaml`` (:mod:`.describe`): validate a config
  and print its chain.
- ``augkit search INPUT -c pipeline.yaml -o policy.yaml`` (:mod:`.search`):
  search a policy over the config's operators for a labelled JSONL file
  (:func:`augkit.policy.search_policy` scored by
  :func:`augkit.policy.embedding_probe`); writes the searched config, a JSON
  of the rounds and baseline, and a PNG of score per round.
- ``augkit report AUGMENTED --input ORIGINAL [-o DIR]`` (:mod:`.report`):
  measure an augmented JSONL file against its originals by embedding
  distance, per operator group (:class:`augkit.quality.QualityReport`);
  prints a markdown table, writes report.json and PNG plots.
- ``augkit demo [--out DIR]`` (:mod:`.demo`): augment bundled sample texts
  and an image.

Exit codes: 0 success, 1 an unexpected internal error (a bug: run again with
``--traceback`` and report it), 2 a problem you can fix (usage, config,
input, an interrupted run that does not match), 130 interrupted by Ctrl-C,
141 (128 + SIGPIPE, as for other Unix tools) when whoever reads the output
closes the pipe early (``augkit replay ... | head -1``), without a message.

The commands know how to read their options and report; what they do lives
in the library (:mod:`augkit.corpus`, :class:`augkit.Pipeline`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..errors import AugkitError
from . import augment, demo, describe, replay, report, search
from ._common import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_USER,
    CommandError,
    err,
    load_pipeline,
)

__all__ = ["CommandError", "build_parser", "load_pipeline", "main"]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

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
    augment.add_parser(sub, [imports])
    describe.add_parser(sub, [imports])
    replay.add_parser(sub, [imports])
    search.add_parser(sub, [imports])
    report.add_parser(sub, [])
    demo.add_parser(sub, [])
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
        err(str(exc))
        return EXIT_USER
    except KeyboardInterrupt:
        err("interrupted; run the same command again to resume")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if args.traceback:
            raise
        err(
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
