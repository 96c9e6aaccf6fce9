"""The errors augkit raises on its own account.

Everything a user can fix is an :class:`AugkitError`; the subclasses say
what kind of thing was wrong. Errors about a single bad argument stay plain
``TypeError`` / ``ValueError`` (with the argument's name and allowed range),
as Python's own functions do.
"""

from __future__ import annotations

__all__ = ["AugkitError", "ConfigError", "ModelUnavailableError"]


class AugkitError(Exception):
    """Base class of the errors augkit raises on its own account."""


class ConfigError(AugkitError, ValueError):
    """A configuration (dict / YAML / JSON) that cannot be turned into an object."""


class ModelUnavailableError(AugkitError, OSError):
    """A model-backed operator could not find or load its model."""
