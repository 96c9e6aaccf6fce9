"""Operators by name: what configs refer to.

Configs name operators (``{"type": "rotate", "params": {...}}``), never
modules. :func:`register` adds a class under a name; built-in operators are
found through the catalog (:mod:`augkit._catalog`), which :mod:`augkit`
installs here with :func:`use_catalog`, so their heavy modules are imported
only when a config asks for one of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import ConfigError

__all__ = [
    "get_operator_class",
    "operator_from_dict",
    "register",
    "registered_operators",
    "use_catalog",
]

_REGISTRY: dict[str, type] = {}
_CATALOG: dict[str, tuple[str, str]] = {}

C = TypeVar("C", bound=type)


def use_catalog(table: Mapping[str, tuple[str, str]]) -> None:
    """Names of operators defined in modules not imported yet: name -> (module, class)."""
    _CATALOG.update(table)


def register(name: str) -> Callable[[C], C]:
    """Class decorator: make an operator constructible from configs by ``name``.

    The class gets ``name`` as its ``name`` attribute (what traces record).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"operator name must be an identifier, got {name!r}")

    def deco(cls: C) -> C:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"operator name {name!r} is already registered to {existing!r}")
        cls.name = name  # type: ignore[attr-defined]
        _REGISTRY[name] = cls
        return cls

    return deco


def get_operator_class(name: str) -> type:
    """The operator class registered as ``name`` (importing its module if it is built in)."""
    if name not in _REGISTRY and name in _CATALOG:
        module, _ = _CATALOG[name]
        importlib.import_module(module)
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(registered_operators())
        raise ConfigError(
            f"unknown operator type {name!r}; known: {known} "
            "(register your own with @augkit.register('name'))"
        ) from None


def registered_operators() -> list[str]:
    """Names of every operator that configs can refer to."""
    return sorted(set(_REGISTRY) | set(_CATALOG))


def operator_from_dict(config: Mapping[str, Any]) -> Any:
    """Look up ``config["type"]`` and build it from ``config["params"]``.

    Classes with a ``from_config(params)`` classmethod (every
    :class:`~augkit.BaseAugmenter`, :class:`~augkit.Pipeline`) build
    themselves; others get ``cls(**params)``. Any ``TypeError`` /
    ``ValueError`` of the constructor becomes a :class:`ConfigError`.
    """
    if not isinstance(config, Mapping):
        raise ConfigError(f"an operator config must be a mapping, got {type(config).__name__}")
    unknown = set(config) - {"type", "params"}
    if unknown:
        raise ConfigError(f"unknown keys in operator config: {sorted(unknown)}")
    if "type" not in config:
        raise ConfigError("operator config has no 'type'")
    cls = get_operator_class(str(config["type"]))
    params = config.get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"'params' of operator {config['type']!r} must be a mapping")
    build = getattr(cls, "from_config", None)
    try:
        return build(params) if callable(build) else cls(**params)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        # Constructors validate with ValueError/TypeError; from a config either
        # is a bad config, as Pipeline.from_dict promises.
        raise ConfigError(f"bad parameters for operator {config['type']!r}: {exc}") from None
