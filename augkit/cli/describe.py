"""``augkit describe``: validate a pipeline config and print its chain."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import ModelUnavailableError
from ._common import EXIT_OK, import_plugins, load_pipeline, warn

__all__ = ["add_parser", "run"]


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    desc = sub.add_parser(
        "describe", parents=parents, help="validate a pipeline config and print its chain"
    )
    desc.add_argument("config", metavar="CONFIG")
    desc.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import_plugins(args.imports)
    pipeline = load_pipeline(args.config)
    print(f"{args.config}: valid")
    print(pipeline.describe())
    try:
        pipeline.check_available()
    except ModelUnavailableError as exc:
        # The config is valid; it just cannot run on this machine as it is.
        sys.stdout.flush()
        warn(f"augment would stop here before writing anything:\n{exc}")
    return EXIT_OK
