"""What the commands share: exit codes, errors, loading a config, option types."""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import AugkitError, ConfigError
from ..pipeline import Pipeline

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USER",
    "CommandError",
    "err",
    "field_list",
    "import_plugins",
    "load_pipeline",
    "non_negative",
    "positive",
    "warn",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE


class CommandError(AugkitError):
    """A problem with how the command was used; reported without a traceback."""


#: The sentence encoder of augkit search and augkit report unless --embedder/--model says.
DEFAULT_EMBEDDER = "sentence-transformers/all-MiniLM-L6-v2"


def import_plugins(modules: Sequence[str]) -> None:
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


def field_list(option: str, values: Sequence[str] | None) -> list[str]:
    """A repeatable, comma-separated field option (``--label-field a,b --label-field c``)."""
    names: list[str] = []
    for value in values or ():
        for part in value.split(","):
            name = part.strip()
            if not name:
                raise CommandError(f"{option} {value!r}: an empty field name")
            if name not in names:
                names.append(name)
    return names


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


positive = _int_at_least(1)
non_negative = _int_at_least(0)


def _finite_float_above(low: float, *, inclusive: bool) -> Callable[[str], float]:
    """An argparse ``type=`` for finite numbers > ``low`` (>= with ``inclusive``)."""
    bound = f"{'>=' if inclusive else '>'} {low:g}"

    def parse(value: str) -> float:
        try:
            v = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number {bound}, got {value!r}") from None
        if not (math.isfinite(v) and (v >= low if inclusive else v > low)):
            raise argparse.ArgumentTypeError(f"expected a number {bound}, got {value!r}")
        return v

    return parse


positive_float = _finite_float_above(0.0, inclusive=False)
non_negative_float = _finite_float_above(0.0, inclusive=True)


def magnitude_level(value: str) -> float:
    """An argparse ``type=`` for a magnitude: a number in ``(0, 1]``."""
    v = positive_float(value)
    if v > 1.0:
        raise argparse.ArgumentTypeError(f"expected a magnitude in (0, 1], got {value!r}")
    return v


def err(msg: str) -> None:
    print(f"augkit: error: {msg}", file=sys.stderr)


def warn(msg: str) -> None:
    print(f"augkit: warning: {msg}", file=sys.stderr)
