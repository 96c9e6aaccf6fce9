"""Traces: what a pipeline did to one item, enough to replay it exactly."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .core import ConfigError, to_jsonable

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
        try:
            return cls(
                op_index=int(d["op_index"]),
                op=str(d["op"]),
                params=dict(d.get("params") or {}),
                state=int(d.get("state", d["op_index"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"malformed trace step {d!r}: {exc}") from None


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
        if not isinstance(d, Mapping):
            raise ConfigError(f"a trace must be a mapping, got {type(d).__name__}")
        try:
            return cls(
                seed=int(d["seed"]),
                epoch=int(d["epoch"]),
                index=int(d["index"]),
                steps=tuple(Step.from_dict(s) for s in d.get("steps", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"malformed trace: {exc}") from None

    def to_json(self) -> str:
        return json.dumps(to_jsonable(self.to_dict()), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Trace:
        return cls.from_dict(json.loads(text))
