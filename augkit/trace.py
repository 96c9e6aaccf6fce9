"""Traces: what a pipeline did to one item, enough to replay it exactly."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .core import ConfigError, check_int, to_jsonable

__all__ = ["Step", "Trace"]


@dataclass(frozen=True)
class Step:
    """One applied operator: its position in the pipeline, its name, its parameters."""

    op_index: int
    op: str
    params: dict[str, Any]
    state: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"op_index": self.op_index, "op": self.op, "params": self.params}
        if self.state is not None and self.state != self.op_index:
            d["state"] = self.state
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
        return cls(op_index=op_index, op=op, params=dict(params), state=state)


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


def _int_field(d: Mapping[str, Any], key: str, where: str, keys: str) -> int:
    try:
        return check_int(key, _field(d, key, where, keys), low=0)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"malformed {where}: {exc}") from None


@dataclass(frozen=True)
class Trace:
    """How one item was augmented.

    ``seed``, ``epoch`` and ``index`` are the inputs of the seeding rule
    (``seed`` is the drawn entropy when the caller passed ``seed=None``), and
    ``steps`` the operators applied with their sampled parameters. A trace is
    plain JSON and :meth:`augkit.Pipeline.replay` reproduces the output from it
    without drawing any randomness.
    """

    seed: int
    epoch: int
    index: int
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def ops(self) -> list[str]:
        """Names of the applied operators, in order."""
        return [s.op for s in self.steps]

    def __len__(self) -> int:
        return len(self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "epoch": self.epoch,
            "index": self.index,
            "steps": [s.to_dict() for s in self.steps],
        }

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
        return cls(
            seed=_int_field(d, "seed", "trace", _TRACE_KEYS),
            epoch=_int_field(d, "epoch", "trace", _TRACE_KEYS),
            index=_int_field(d, "index", "trace", _TRACE_KEYS),
            steps=tuple(Step.from_dict(s) for s in steps),
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
