"""Traces: what a pipeline did to one item, enough to replay it exactly.

A trace records the item's coordinates in the seeding rule (seed, epoch,
index, variant, attempt), every applied step (operator, parameters, whether
it changed the item) and whether the output differs from the input. A step
of a nested pipeline holds the inner steps in its parameters
(``{"seed": ..., "steps": [...]}``), so traces nest as pipelines do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._json import to_jsonable
from .errors import ConfigError
from .seeding import STREAMS_VERSION
from .validation import check_int

__all__ = ["Step", "Trace"]


# Plain slotted dataclasses, not frozen: a frozen one costs three times as much to
# build (1.5 µs against 0.4), once per step of every traced item. Treat them as
# values all the same; replay never reads back what a caller changed.
@dataclass(slots=True)
class Step:
    """One applied operator: its position in the pipeline, name, parameters, and whether it
    changed the item (``None`` in traces written before augkit recorded it)."""

    op_index: int
    op: str
    params: dict[str, Any]
    state: int | None = None
    changed: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"op_index": self.op_index, "op": self.op, "params": self.params}
        if self.state is not None and self.state != self.op_index:
            d["state"] = self.state
        if self.changed is not None:
            d["changed"] = self.changed
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Step:
        """Inverse of :meth:`to_dict`; :class:`~augkit.ConfigError` names what is wrong."""
        if not isinstance(d, Mapping):
            raise ConfigError(
                f"malformed trace step: expected a mapping with op_index, op and params, "
                f"got {type(d).__name__}"
            )
        where = f"trace step {_short(d)}"
        op_index = _int_field(d, "op_index", where, _STEP_KEYS)
        op = _field(d, "op", where, _STEP_KEYS)
        if not isinstance(op, str):
            raise ConfigError(f"malformed {where}: 'op' must be an operator name (str)")
        params = d.get("params") or {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"malformed {where}: 'params' must be a mapping")
        state = _int_field(d, "state", where, _STEP_KEYS) if "state" in d else op_index
        changed = _bool_field(d, "changed", where)
        return cls(op_index=op_index, op=op, params=dict(params), state=state, changed=changed)


_STEP_KEYS = "op_index, op and params"
_TRACE_KEYS = "seed, epoch, index and steps"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field(d: Mapping[str, Any], key: str, where: str, keys: str) -> Any:
    try:
        return d[key]
    except KeyError:
        raise ConfigError(f"malformed {where}: no {key!r} (it needs {keys})") from None


def _bool_field(d: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = d.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"malformed {where}: {key!r} must be true, false or absent")


def _int_field(d: Mapping[str, Any], key: str, where: str, keys: str) -> int:
    try:
        return check_int(key, _field(d, key, where, keys), low=0)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"malformed {where}: {exc}") from None


@dataclass(slots=True)
class Trace:
    """How one item was augmented.

    ``seed``, ``epoch``, ``index``, ``variant`` and ``attempt`` are the
    item's coordinates in the seeding rule (``seed`` is the drawn entropy
    when the caller passed ``seed=None``), and ``steps`` the operators
    applied with their sampled parameters. ``changed`` says whether the
    output differs from the input; ``distinct`` is set when distinct
    variants were asked for: ``False`` flags a variant that stayed equal to
    the input or to an earlier variant after every try. ``quality`` is set
    by a filtered pipeline: the filter's decision on every attempt
    (``{"metric", "threshold", "accepted", "tries": [{"attempt",
    "distance", "accepted", "reason"}, ...]}``). A trace is plain
    JSON and :meth:`augkit.Pipeline.replay` reproduces the output from it
    without drawing any randomness.
    """

    seed: int
    epoch: int
    index: int
    steps: tuple[Step, ...] = field(default_factory=tuple)
    variant: int = 0
    attempt: int = 0
    changed: bool | None = None
    distinct: bool | None = None
    quality: dict[str, Any] | None = None
    #: The stream function that drew it (:data:`augkit.seeding.STREAMS_VERSION`);
    #: 1 for traces of augkit 0.1, which replay all the same (parameters are recorded).
    streams: int = STREAMS_VERSION

    @property
    def ops(self) -> list[str]:
        """Names of the applied operators, in order."""
        return [s.op for s in self.steps]

    def __len__(self) -> int:
        return len(self.steps)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "seed": self.seed,
            "epoch": self.epoch,
            "index": self.index,
            "streams": self.streams,
        }
        # Coordinates at their defaults are left out: a trace of a plain
        # augment() call reads as it did before variants existed.
        if self.variant:
            d["variant"] = self.variant
        if self.attempt:
            d["attempt"] = self.attempt
        d["steps"] = [s.to_dict() for s in self.steps]
        if self.changed is not None:
            d["changed"] = self.changed
        if self.distinct is not None:
            d["distinct"] = self.distinct
        if self.quality is not None:
            d["quality"] = self.quality
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Trace:
        """Inverse of :meth:`to_dict`; :class:`~augkit.ConfigError` names what is wrong."""
        if not isinstance(d, Mapping):
            raise ConfigError(
                f"a trace must be a mapping with {_TRACE_KEYS}, got {type(d).__name__}"
            )
        steps = d.get("steps", [])
        if isinstance(steps, (str, bytes, Mapping)) or not isinstance(steps, Sequence):
            raise ConfigError(
                f"malformed trace: 'steps' must be a list, got {type(steps).__name__}"
            )
        quality = d.get("quality")
        if quality is not None and not isinstance(quality, Mapping):
            raise ConfigError("malformed trace: 'quality' must be a mapping or absent")
        return cls(
            seed=_int_field(d, "seed", "trace", _TRACE_KEYS),
            epoch=_int_field(d, "epoch", "trace", _TRACE_KEYS),
            index=_int_field(d, "index", "trace", _TRACE_KEYS),
            steps=tuple(Step.from_dict(s) for s in steps),
            variant=_int_field(d, "variant", "trace", _TRACE_KEYS) if "variant" in d else 0,
            attempt=_int_field(d, "attempt", "trace", _TRACE_KEYS) if "attempt" in d else 0,
            changed=_bool_field(d, "changed", "trace"),
            distinct=_bool_field(d, "distinct", "trace"),
            quality=None if quality is None else dict(quality),
            streams=_int_field(d, "streams", "trace", _TRACE_KEYS) if "streams" in d else 1,
        )

    def to_json(self) -> str:
        return json.dumps(to_jsonable(self.to_dict()), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Trace:
        """Inverse of :meth:`to_json`; bad JSON or a bad trace is a :class:`~augkit.ConfigError`."""
        if not isinstance(text, (str, bytes, bytearray)):
            hint = "; for a dict use Trace.from_dict" if isinstance(text, Mapping) else ""
            raise TypeError(f"Trace.from_json takes JSON text, got {type(text).__name__}{hint}")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"a trace must be JSON text: {exc}") from None
        return cls.from_dict(data)
