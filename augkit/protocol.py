"""What an augkit operator is: three members, nothing else required.

An operator is any object with

- ``modality``: what it takes, ``"text"``, ``"image"`` or ``"any"``;
- ``sample_params(x, rng)``: every random choice for input ``x``, drawn
  from the :class:`numpy.random.Generator` ``rng``, as a dict (the trace);
- ``apply(x, params)``: the augmented input, a pure function of ``x`` and
  ``params``.

Calling an operator is ``apply(x, sample_params(x, rng))``. This split is
what makes traces, replay, batching and property tests possible.

These members are optional, and used when present:

- ``name`` (str): how traces and configs call it (default: the class name in
  snake_case);
- ``apply_batch(xs, params)``: real batched work, equal to ``apply`` per item;
- ``validate_input(x)``: raise ``TypeError`` / ``ValueError`` for inputs it
  cannot take, before any randomness is drawn;
- ``needs_label`` (bool): the operator reads the item's label (it then gets
  :class:`augkit.items.Labelled` ``(value, label)`` pairs and returns the value);
- ``to_dict()`` for configs, ``check_available()`` for models;
- ``magnitude_params`` (the constructor arguments that set its strength) and
  ``with_magnitude(m)`` (a copy at ``m`` in ``(0, 1]`` of that strength), which
  :func:`augkit.policy.search_policy` explores with ``magnitudes=``.

:class:`augkit.BaseAugmenter` provides all of them; :class:`augkit.Pipeline`
accepts a bare protocol object as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from .seeding import Rng

__all__ = [
    "ANY",
    "IMAGE",
    "MODALITIES",
    "TEXT",
    "Augmenter",
    "Params",
    "operator_name",
    "snake_case",
]

TEXT = "text"
IMAGE = "image"
ANY = "any"
MODALITIES = (TEXT, IMAGE, ANY)

Params = dict[str, Any]


@runtime_checkable
class Augmenter(Protocol):
    """The operator protocol: ``modality``, ``sample_params`` and ``apply`` (see the module)."""

    modality: str

    def sample_params(self, x: Any, rng: Rng) -> Mapping[str, Any]: ...

    def apply(self, x: Any, params: Mapping[str, Any]) -> Any: ...


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(class_name: str) -> str:
    """``"RandomCrop"`` -> ``"random_crop"``, ``"HTTPThing"`` -> ``"http_thing"``."""
    return _CAMEL.sub("_", class_name).lower()


def operator_name(op: Any) -> str:
    """``op.name`` when it is a non-empty str, else its class name in snake_case."""
    name = getattr(op, "name", None)
    if isinstance(name, str) and name:
        return name
    return snake_case(type(op).__name__)
