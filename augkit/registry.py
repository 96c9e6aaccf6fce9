"""Operators and item lenses by name: what configs refer to.

Configs name operators (``{"type": "rotate", "params": {...}}``) and item
lenses (``"targets": {"type": "image_targets", ...}``), never modules.
:func:`register` and :func:`register_lens` add a class under a name;
built-in ones are found through the catalog (:mod:`augkit._catalog`), which
:mod:`augkit` installs here with :func:`use_catalog`, so their heavy modules
are imported only when a config asks for one of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import ConfigError

__all__ = [
    "get_operator_class",
    "lens_class",
    "lens_from_dict",
    "operator_from_dict",
    "register",
    "register_lens",
    "registered_operators",
    "use_catalog",
]

C = TypeVar("C", bound=type)


class _Kind:
    """One namespace of named classes: those registered, and those the catalog knows."""

    def __init__(self, what: str, hint: str) -> None:
        self.what = what
        self.hint = hint
        self.classes: dict[str, type] = {}
        self.catalog: dict[str, tuple[str, str]] = {}

    def names(self) -> list[str]:
        return sorted(set(self.classes) | set(self.catalog))

    def get(self, name: str) -> type:
        if name not in self.classes and name in self.catalog:
            importlib.import_module(self.catalog[name][0])
        try:
            return self.classes[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.what} type {name!r}; known: {', '.join(self.names())}{self.hint}"
            ) from None

    def add(self, name: str, cls: type) -> None:
        existing = self.classes.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"{self.what} name {name!r} is already registered to {existing!r}")
        self.classes[name] = cls


_OPERATORS = _Kind("operator", " (register your own with @augkit.register('name'))")
_LENSES = _Kind("item lens", "")


def use_catalog(
    operators: Mapping[str, tuple[str, str]], lenses: Mapping[str, tuple[str, str]]
) -> None:
    """Names of classes defined in modules not imported yet: name -> (module, class)."""
    _OPERATORS.catalog.update(operators)
    _LENSES.catalog.update(lenses)


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a registered name must be an identifier, got {name!r}")
    return name


def register(name: str) -> Callable[[C], C]:
    """Class decorator: make an operator constructible from configs by ``name``.

    The class gets ``name`` as its ``name`` attribute (what traces record).
    """
    name = _check_name(name)

    def deco(cls: C) -> C:
        _OPERATORS.add(name, cls)
        cls.name = name  # type: ignore[attr-defined]
        return cls

    return deco


def register_lens(name: str) -> Callable[[C], C]:
    """Class decorator: an item lens type that configs can name (``{"type": name, ...}``)."""
    name = _check_name(name)

    def deco(cls: C) -> C:
        _LENSES.add(name, cls)
        cls.lens_type = name  # type: ignore[attr-defined]
        return cls

    return deco


def get_operator_class(name: str) -> type:
    """The operator class registered as ``name`` (importing its module if it is built in)."""
    return _OPERATORS.get(name)


def registered_operators() -> list[str]:
    """Names of every operator that configs can refer to."""
    return _OPERATORS.names()


def lens_class(name: str | None = None) -> type:
    """The lens type configs call ``name``; ``None``: the default kind of ``targets``."""
    if name is None:
        # The catalog lists the default targets lens first (image targets today).
        name = next(iter(_LENSES.catalog), "") or next(iter(_LENSES.classes), "")
    return _LENSES.get(name)


def lens_from_dict(config: Mapping[str, Any]) -> Any:
    """The lens a config describes (the inverse of its ``to_dict``); ``type`` may be left out
    for the default kind of targets."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"an item lens config must be a mapping, got {type(config).__name__}")
    kind = config.get("type")
    if kind is not None and not isinstance(kind, str):
        raise ConfigError(f"an item lens 'type' must be a name, got {kind!r}")
    cls = lens_class(kind)
    params = {k: v for k, v in config.items() if k != "type"}
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad item lens {dict(config)!r}: {exc}") from None


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
