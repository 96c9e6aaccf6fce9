"""The errors augkit raises on its own account.

Everything a user can fix is an :class:`AugkitError`; the subclasses say
what kind of thing was wrong. Errors about a single bad argument stay plain
``TypeError`` / ``ValueError`` (with the argument's name and allowed range),
as Python's own functions do.
"""

from __future__ import annotations

__all__ = ["AugkitError", "ConfigError", "ModelUnavailableError", "file_problem"]


class AugkitError(Exception):
    """Base class of the errors augkit raises on its own account."""


class ConfigError(AugkitError, ValueError):
    """A configuration (dict / YAML / JSON) that cannot be turned into an object."""


class ModelUnavailableError(AugkitError, OSError):
    """A model-backed operator could not find or load its model."""


def file_problem(exc: OSError | UnicodeDecodeError, what: str, path: object) -> str:
    """Why a file cannot be read, in words: ``config file 'x.yaml' does not exist``.

    ``what`` names the file's role ("config file", "input file"); the
    readers of configs and corpora raise their own error class with it.
    """
    where = repr(str(path))
    if isinstance(exc, FileNotFoundError):
        return f"{what} {where} does not exist"
    if isinstance(exc, IsADirectoryError):
        return f"{what} {where} is a directory, not a file"
    if isinstance(exc, UnicodeDecodeError):
        return f"{what} {where} is not UTF-8 text"
    return f"cannot read {what} {where}: {exc.strerror or exc}"
