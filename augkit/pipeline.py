"""Pipeline: operators whose order is sampled from a Markov chain.

Per item, the seeding rule ``(seed, epoch, index)`` gives independent
random streams (:func:`augkit.item_rng`): stream 0 samples the item's path
through the chain, stream ``k`` the parameters of its ``k``-th step. Batched
execution samples every path first and then runs step by step, calling each
operator once per step with all the items that need it; because every item
owns its streams, the result is the same as running the item alone.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .core import (
    ANY,
    Augmenter,
    BaseAugmenter,
    ConfigError,
    ItemStreams,
    ModelUnavailableError,
    check_batch,
    check_fraction,
    check_int,
    fresh_seed,
    give_back_streams,
    operator_from_dict,
    resolve_indices,
    take_streams,
    to_jsonable,
)
from .markov import MarkovChain
from .trace import Step, Trace

__all__ = ["CONFIG_SUFFIXES", "FORMAT", "FORMAT_VERSION", "Pipeline"]

FORMAT = "augkit.pipeline"
FORMAT_VERSION = 1

_MISSING = object()
_MAX_U64 = 2**64 - 1

#: Config file suffixes :meth:`Pipeline.load` and :meth:`Pipeline.save` know, and their format.
CONFIG_SUFFIXES = {".json": "JSON", ".yaml": "YAML", ".yml": "YAML"}


class Pipeline:
    """Operators plus a :class:`MarkovChain` that decides which run, in which order.

    Chain state ``s`` runs operator ``ops[state_ops[s]]`` (by default state
    ``s`` is operator ``s``; :meth:`some_of` uses more states than operators).
    With ``key``, items are mappings and only ``item[key]`` is augmented; the
    other fields pass through unchanged.
    """

    def __init__(
        self,
        ops: Sequence[Augmenter],
        chain: MarkovChain,
        *,
        key: str | None = None,
        state_ops: Sequence[int] | None = None,
    ) -> None:
        self.ops: tuple[Augmenter, ...] = tuple(ops)
        if not self.ops:
            raise ValueError("ops must hold at least one operator")
        for i, op in enumerate(self.ops):
            if not isinstance(op, Augmenter):
                raise TypeError(
                    f"ops[{i}] ({type(op).__name__}) is not an augkit Augmenter: it needs "
                    "modality, name, sample_params, apply, apply_batch, __call__, "
                    "augment_batch, validate_input and to_dict (subclass augkit.BaseAugmenter)"
                )
        if not isinstance(chain, MarkovChain):
            raise TypeError(f"chain must be a MarkovChain, got {type(chain).__name__}")
        self.chain = chain
        if state_ops is None:
            if chain.n_states != len(self.ops):
                raise ValueError(
                    f"the chain has {chain.n_states} states but there are {len(self.ops)} "
                    "operators (give state_ops to map states to operators)"
                )
            self.state_ops: tuple[int, ...] = tuple(range(len(self.ops)))
        else:
            self.state_ops = tuple(
                check_int("state_ops[]", s, low=0, high=len(self.ops) - 1) for s in state_ops
            )
            if len(self.state_ops) != chain.n_states:
                raise ValueError(
                    f"state_ops has {len(self.state_ops)} entries for {chain.n_states} chain states"
                )
        if key is not None and not isinstance(key, str):
            raise TypeError(f"key must be a str or None, got {type(key).__name__}")
        self.key = key
        self.modality = _common_modality(self.ops)
        # Protocol-only operators (not BaseAugmenter subclasses) count as drawing.
        self._draws = [type(op).sample_params is not BaseAugmenter.sample_params for op in self.ops]

    # ------------------------------------------------------------------ constructors
    @classmethod
    def markov(
        cls,
        ops: Sequence[Augmenter],
        start: ArrayLike,
        transitions: ArrayLike,
        max_steps: int | None = None,
        *,
        key: str | None = None,
    ) -> Pipeline:
        """A pipeline whose chain you give directly (see :class:`MarkovChain`).

        ``start`` has one probability per operator, ``transitions`` one row
        and one column per operator.
        """
        _check_nonempty(ops)
        _check_chain_shape(len(ops), start, transitions)
        return cls(ops, MarkovChain(start, transitions, max_steps), key=key)

    @classmethod
    def sequence(cls, ops: Sequence[Augmenter], *, key: str | None = None) -> Pipeline:
        """Every operator once, in order: start at 0, ``i -> i+1`` with probability 1."""
        _check_nonempty(ops)
        n = len(ops)
        start = np.zeros(n)
        start[0] = 1.0
        return cls.markov(ops, start, np.eye(n, k=1), key=key)

    @classmethod
    def one_of(
        cls,
        ops: Sequence[Augmenter],
        weights: ArrayLike | None = None,
        *,
        p: float = 1.0,
        key: str | None = None,
    ) -> Pipeline:
        """With probability ``p``, exactly one operator, chosen by ``weights``; then stop."""
        _check_nonempty(ops)
        n = len(ops)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"weights must have one entry per operator ({n}), got shape {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero")
        start = check_fraction("p", p) * w / w.sum()
        return cls.markov(ops, start, np.zeros((n, n)), key=key)

    @classmethod
    def sometimes(
        cls,
        op: Augmenter | Sequence[Augmenter],
        p: float | Sequence[float] = 0.5,
        *,
        key: str | None = None,
    ) -> Pipeline:
        """Each operator applied independently with probability ``p``, in list order.

        With one operator: ``op`` with probability ``p``, otherwise nothing.
        With a list (nlpaug's ``Sometimes`` flow, albumentations' per-transform
        ``p``): the chain jumps from operator ``i`` to ``j > i`` with the
        probability that ``j`` is the next one whose coin comes up heads,
        ``p_j * prod(1 - p_k for i < k < j)``, and stops when none does.
        ``p`` may be one probability or one per operator.
        """
        ops = [op] if isinstance(op, Augmenter) else list(op)
        _check_nonempty(ops)
        m = len(ops)
        if isinstance(p, (str, bytes)) or not isinstance(p, Iterable):
            # One probability; check_fraction names what is wrong with it.
            probs = [check_fraction("p", p)] * m
        else:
            probs = [check_fraction(f"p[{i}]", v) for i, v in enumerate(p)]
            if len(probs) != m:
                raise ValueError(
                    f"p has {len(probs)} entries for {m} operators (give one probability, "
                    "or one per operator)"
                )

        def first_heads(after: int) -> np.ndarray:
            row = np.zeros(m)
            miss = 1.0
            for j in range(after + 1, m):
                row[j] = miss * probs[j]
                miss *= 1.0 - probs[j]
            return row

        start = first_heads(-1)
        trans = np.array([first_heads(i) for i in range(m)])
        return cls.markov(ops, start, trans, key=key)

    @classmethod
    def some_of(cls, ops: Sequence[Augmenter], n: int, *, key: str | None = None) -> Pipeline:
        """``n`` distinct operators, a uniformly random subset, applied in list order.

        A chain over operators alone cannot remember which ones it used, so
        this chain's states are pairs (operator ``i``, ``k``-th pick). The
        probabilities are those of drawing the subset in increasing order:
        after picking ``i`` as the ``k``-th of ``n``, the next is ``j > i``
        with probability ``C(m-1-j, n-k-1) / C(m-1-i, n-k)``.
        """
        _check_nonempty(ops)
        m = len(ops)
        n = check_int("n", n, low=1, high=m)
        states = [
            (i, k) for k in range(1, n + 1) for i in range(m) if k - 1 <= i <= m - 1 - (n - k)
        ]
        index = {s: t for t, s in enumerate(states)}
        start = np.zeros(len(states))
        trans = np.zeros((len(states), len(states)))
        for (i, k), t in index.items():
            if k == 1:
                start[t] = math.comb(m - 1 - i, n - 1) / math.comb(m, n)
            if k < n:
                for j in range(i + 1, m):
                    nxt = index.get((j, k + 1))
                    if nxt is not None:
                        trans[t, nxt] = math.comb(m - 1 - j, n - k - 1) / math.comb(
                            m - 1 - i, n - k
                        )
        chain = MarkovChain(start, trans, max_steps=n)
        return cls(ops, chain, key=key, state_ops=[i for i, _ in states])

    # ------------------------------------------------------------------ running
    def __call__(
        self,
        x: Any,
        *,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        epoch: int = 0,
        index: int = 0,
    ) -> Any:
        """Augment one item (see :meth:`augment`); ``rng`` draws the seed from your generator."""
        if rng is not None:
            if seed is not None:
                raise ValueError("give seed or rng, not both")
            seed = int(rng.integers(0, 2**63 - 1))
        return self.augment(x, seed=seed, epoch=epoch, index=index)

    def augment(
        self,
        x: Any,
        *,
        seed: int | None = None,
        epoch: int = 0,
        index: int = 0,
        return_trace: bool = False,
    ) -> Any:
        """Augment one item as item ``index`` of epoch ``epoch``.

        Returns the output, or ``(output, trace)`` with ``return_trace=True``.
        ``seed=None`` draws fresh entropy; the trace records it.
        """
        seed = fresh_seed() if seed is None else check_int("seed", seed, low=0)
        epoch = check_int("epoch", epoch, low=0, high=_MAX_U64)
        index = check_int("index", index, low=0, high=_MAX_U64)
        # One item without _run's grouping by step and operator: this is the
        # per-item hot path of Dataset.__getitem__.
        streams = take_streams(seed)
        try:
            path = self.chain.sample_from_stream(streams.at(epoch, index, 0))
            value = self._get(x)
            steps: list[Step] = []
            for k, state in enumerate(path):
                op_index = self.state_ops[state]
                op = self.ops[op_index]
                params = self._draw_params(op_index, value, streams, epoch, index, k)
                value = op.apply(value, params)
                if return_trace:
                    steps.append(Step(op_index, op.name, params, state))
        finally:
            give_back_streams(streams)
        out = self._put(x, value)
        return (out, Trace(seed, epoch, index, tuple(steps))) if return_trace else out

    def augment_batch(
        self,
        xs: Sequence[Any],
        *,
        seed: int | None = None,
        epoch: int = 0,
        indices: Sequence[int] | None = None,
        return_traces: bool = False,
    ) -> Any:
        """Augment a batch; item ``i`` equals ``augment(xs[i], index=indices[i])``.

        Each operator is called once per step (through ``apply_batch``) with
        every item whose path needs it at that step. Returns the list of
        outputs, or ``(outputs, traces)`` with ``return_traces=True``. A str
        (or bytes, or a mapping) is one item, not a batch: a ``TypeError``.
        """
        xs = check_batch("xs", xs, one="augment(x)")
        idx = resolve_indices(len(xs), indices)
        outs, traces = self._run(xs, seed, epoch, idx, traced=return_traces)
        return (outs, traces) if return_traces else outs

    def _run(
        self, xs: list[Any], seed: int | None, epoch: int, indices: list[int], *, traced: bool
    ) -> tuple[list[Any], list[Trace]]:
        seed = fresh_seed() if seed is None else check_int("seed", seed, low=0)
        epoch = check_int("epoch", epoch, low=0, high=_MAX_U64)
        streams = take_streams(seed)
        try:
            sample_path = self.chain.sample_from_stream
            paths = [sample_path(streams.at(epoch, i, 0)) for i in indices]
            values = [self._get(x) for x in xs]
            steps: list[list[tuple[int, dict[str, Any]]]] = [[] for _ in xs]
            for k in range(max(map(len, paths), default=0)):
                at_step = [self.state_ops[p[k]] if len(p) > k else None for p in paths]
                for op_index, members in _groups(at_step):
                    params = [
                        self._draw_params(op_index, values[i], streams, epoch, indices[i], k)
                        for i in members
                    ]
                    outs = self._apply_group(op_index, [values[i] for i in members], params)
                    for i, out, p in zip(members, outs, params):
                        values[i] = out
                        steps[i].append((op_index, p))
        finally:
            give_back_streams(streams)
        results = [self._put(x, v) for x, v in zip(xs, values)]
        traces: list[Trace] = []
        if traced:
            names = [op.name for op in self.ops]
            traces = [
                Trace(
                    seed,
                    epoch,
                    i,
                    tuple(Step(o, names[o], p, path[k]) for k, (o, p) in enumerate(st)),
                )
                for i, st, path in zip(indices, steps, paths)
            ]
        return results, traces

    def replay(self, x: Any, trace: Trace | Mapping[str, Any]) -> Any:
        """Reproduce the output recorded by ``trace``; draws no randomness."""
        return self.replay_batch([x], [trace])[0]

    def replay_batch(
        self, xs: Sequence[Any], traces: Sequence[Trace | Mapping[str, Any]]
    ) -> list[Any]:
        """:meth:`replay` for many items, batched by step and operator."""
        xs = check_batch("xs", xs, one="replay(x, trace)")
        ts = [
            t if isinstance(t, Trace) else Trace.from_dict(t)
            for t in check_batch("traces", traces, one="replay(x, trace)")
        ]
        if len(ts) != len(xs):
            raise ValueError(f"got {len(xs)} items but {len(ts)} traces")
        for t in ts:
            for s in t.steps:
                if not 0 <= s.op_index < len(self.ops) or self.ops[s.op_index].name != s.op:
                    raise ValueError(
                        f"trace step {s.op!r} at operator index {s.op_index} does not match "
                        f"this pipeline's operators {[op.name for op in self.ops]}"
                    )
        values = [self._get(x) for x in xs]
        for k in range(max((len(t) for t in ts), default=0)):
            at_step = [t.steps[k].op_index if len(t) > k else None for t in ts]
            for op_index, members in _groups(at_step):
                outs = self._apply_group(
                    op_index,
                    [values[i] for i in members],
                    [ts[i].steps[k].params for i in members],
                )
                for i, out in zip(members, outs):
                    values[i] = out
        return [self._put(x, v) for x, v in zip(xs, values)]

    def _draw_params(
        self, op_index: int, value: Any, streams: ItemStreams, epoch: int, index: int, k: int
    ) -> dict[str, Any]:
        """Step ``k``'s parameters for one item, from its stream ``k + 1``, as applied and traced."""
        op = self.ops[op_index]
        op.validate_input(value)
        # Operators that keep BaseAugmenter's sample_params draw nothing:
        # positioning their stream would cost a measurable share of a cheap step.
        rng = streams.at(epoch, index, k + 1) if self._draws[op_index] else streams.generator
        params: dict[str, Any] = to_jsonable(op.sample_params(value, rng))
        return params

    def _apply_group(
        self, op_index: int, inputs: list[Any], params: list[dict[str, Any]]
    ) -> list[Any]:
        op = self.ops[op_index]
        outs = op.apply_batch(inputs, params)
        if len(outs) != len(inputs):
            raise RuntimeError(
                f"{op.name}.apply_batch returned {len(outs)} outputs for {len(inputs)} inputs"
            )
        return outs

    def _get(self, item: Any) -> Any:
        if self.key is None:
            return item
        if not isinstance(item, Mapping):
            raise TypeError(
                f"this pipeline augments field {self.key!r} of mapping items, "
                f"got {type(item).__name__}"
            )
        value = item.get(self.key, _MISSING)
        if value is _MISSING:
            raise KeyError(f"item has no field {self.key!r} (fields: {sorted(map(str, item))})")
        return value

    def _put(self, item: Any, value: Any) -> Any:
        if self.key is None:
            return value
        out = dict(item)
        out[self.key] = value
        return out

    # ------------------------------------------------------------------ availability
    def check_available(self) -> None:
        """Raise :class:`~augkit.ModelUnavailableError` if any operator cannot run here.

        Asks every operator that has a ``check_available`` method (see
        :meth:`augkit.BaseAugmenter.check_available`: cheap, offline, no
        weights loaded) and reports all of them at once, one line per
        operator: ``operator 0 (back_translation): model ... is not available``.
        A missing package (``ImportError``) is reported the same way.
        """
        problems = []
        for i, op in enumerate(self.ops):
            check = getattr(op, "check_available", None)
            if not callable(check):
                continue  # a protocol-only operator says nothing about models
            try:
                check()
            except (ModelUnavailableError, ImportError) as exc:
                problems.append(f"operator {i} ({op.name}): {exc}")
        if problems:
            raise ModelUnavailableError("\n".join(problems))

    # ------------------------------------------------------------------ analysis
    def expected_length(self) -> float:
        """Expected number of operator applications per item."""
        return self.chain.expected_length()

    def visit_frequencies(self) -> np.ndarray:
        """Expected applications of each *operator* per item (chain states summed)."""
        per_state = self.chain.visit_frequencies()
        out = np.zeros(len(self.ops))
        np.add.at(out, np.asarray(self.state_ops), per_state)
        return out

    def describe(self) -> str:
        """A human-readable summary of operators, chain and its expectations."""
        names = [f"{i}: {op!r}" for i, op in enumerate(self.ops)]
        lines = [f"Pipeline ({self.modality}) with {len(self.ops)} operator(s)", *names]
        if self.state_ops != tuple(range(len(self.ops))):
            lines.append(f"chain states -> operators: {list(self.state_ops)}")
        ch = self.chain
        lines.append(f"start: {_fmt(ch.start)}  (stop at once: {ch.stop_at_start:.4g})")
        lines.append("transitions (row = from, last column = stop):")
        for i in range(ch.n_states):
            lines.append(f"  {i}: {_fmt(ch.transitions[i])} | {ch.stop[i]:.4g}")
        lines.append(f"max_steps: {ch.max_steps}")
        lines.append(f"expected length: {self.expected_length():.4g}")
        lines.append(f"expected applications per operator: {_fmt(self.visit_frequencies())}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Pipeline(ops={list(self.ops)!r}, chain={self.chain!r}, key={self.key!r})"

    # ------------------------------------------------------------------ config
    def to_dict(self) -> dict[str, Any]:
        """A plain, versioned config; operators are referred to by registered name."""
        d: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "key": self.key,
            "operators": [op.to_dict() for op in self.ops],
            "chain": self.chain.to_dict(),
        }
        if self.state_ops != tuple(range(len(self.ops))):
            d["state_ops"] = list(self.state_ops)
        return d

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> Pipeline:
        """Inverse of :meth:`to_dict`; raises :class:`ConfigError` on a bad config."""
        if not isinstance(config, Mapping):
            raise ConfigError(
                "a pipeline config must be a mapping with 'operators' and 'chain', "
                f"got {_json_kind(config)}"
            )
        fmt = config.get("format", FORMAT)
        if fmt != FORMAT:
            raise ConfigError(f"not an augkit pipeline config (format {fmt!r})")
        version = config.get("version", FORMAT_VERSION)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ConfigError(f"version must be a positive integer, got {version!r}")
        if version > FORMAT_VERSION:
            raise ConfigError(
                f"config has format version {version}; this augkit reads up to {FORMAT_VERSION}"
            )
        unknown = set(config) - {"format", "version", "key", "operators", "chain", "state_ops"}
        if unknown:
            raise ConfigError(f"unknown keys in pipeline config: {sorted(unknown)}")
        ops_cfg = config.get("operators")
        if not isinstance(ops_cfg, Sequence) or isinstance(ops_cfg, str) or not ops_cfg:
            raise ConfigError("'operators' must be a non-empty list of operator configs")
        ops = [operator_from_dict(c) for c in ops_cfg]
        if "chain" not in config:
            raise ConfigError("pipeline config has no 'chain'")
        chain = MarkovChain.from_dict(config["chain"])
        try:
            return cls(ops, chain, key=config.get("key"), state_ops=config.get("state_ops"))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid pipeline: {exc}") from None

    def to_json(self, **kwargs: Any) -> str:
        """The config as JSON text (``indent=2`` unless you pass another)."""
        return json.dumps(self.to_dict(), **{"indent": 2, **kwargs})

    @classmethod
    def from_json(cls, text: str | bytes) -> Pipeline:
        """A pipeline from JSON config *text*; to read a file use :meth:`load`."""
        text = _config_text("from_json", text, "JSON")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON: {exc}") from None
        return cls.from_dict(data)

    def to_yaml(self) -> str:
        """The config as YAML text (needs PyYAML)."""
        yaml = _yaml()
        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def from_yaml(cls, text: str | bytes) -> Pipeline:
        """A pipeline from YAML config *text*, read with ``yaml.safe_load`` (no arbitrary
        objects); to read a file use :meth:`load`."""
        text = _config_text("from_yaml", text, "YAML")
        yaml = _yaml()
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Pipeline:
        """Read a config file; the suffix says the format (see :data:`CONFIG_SUFFIXES`).

        ``.json`` is read as JSON, ``.yaml`` / ``.yml`` as YAML; any other
        suffix is a :class:`~augkit.ConfigError` naming the allowed ones.
        Every problem (a missing or unreadable file, a bad config) is a
        ``ConfigError`` that names the file; a missing optional package is
        an ``ImportError``.
        """
        p, kind = _config_file(path, "load")
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file {str(p)!r} does not exist") from None
        except IsADirectoryError:
            raise ConfigError(f"config {str(p)!r} is a directory, not a file") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config file {str(p)!r} is not UTF-8 text") from None
        except OSError as exc:
            raise ConfigError(f"cannot read config {str(p)!r}: {exc.strerror or exc}") from None
        try:
            return cls.from_json(text) if kind == "JSON" else cls.from_yaml(text)
        except ConfigError as exc:
            raise ConfigError(f"invalid config {str(p)!r}: {exc}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the config to a file, in the format its suffix names (as :meth:`load` reads)."""
        p, kind = _config_file(path, "save")
        text = self.to_json() + "\n" if kind == "JSON" else self.to_yaml()
        p.write_text(text, encoding="utf-8")


def _config_file(path: Any, method: str) -> tuple[Path, str]:
    """``path`` as a Path, and the format its suffix names; errors name the allowed suffixes."""
    if not isinstance(path, (str, os.PathLike)):
        hint = "; for a config dict use Pipeline.from_dict" if isinstance(path, Mapping) else ""
        raise TypeError(
            f"Pipeline.{method} takes a file path (str or os.PathLike), got "
            f"{type(path).__name__}{hint}"
        )
    p = Path(path)
    kind = CONFIG_SUFFIXES.get(p.suffix.lower())
    if kind is None:
        allowed = ", ".join(f"{s} ({k})" for s, k in CONFIG_SUFFIXES.items())
        raise ConfigError(
            f"cannot tell the format of config file {str(p)!r} from its suffix "
            f"{p.suffix or '(none)'!r}; name it with one of {allowed}"
        )
    return p, kind


def _config_text(method: str, text: Any, kind: str) -> str:
    """``text`` if it can be config text; a clear error for a path or a file name given instead."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if isinstance(text, os.PathLike):
        raise TypeError(
            f"Pipeline.{method} takes {kind} text, got a path ({os.fspath(text)!r}); "
            "to read a file use Pipeline.load(path)"
        )
    if not isinstance(text, str):
        raise TypeError(f"Pipeline.{method} takes {kind} text (a str), got {type(text).__name__}")
    name = text.strip()
    if (
        name
        and "\n" not in name
        and (Path(name).suffix.lower() in CONFIG_SUFFIXES or os.path.isfile(name))
    ):
        raise ConfigError(
            f"Pipeline.{method} takes {kind} text, and {name!r} looks like a file name; "
            f"to read a file use Pipeline.load({name!r})"
        )
    return text


def _json_kind(value: Any) -> str:
    """What a parsed config value is, in words: ``a list``, ``a string ('pipe.yaml')``."""
    if value is None:
        return "nothing (an empty document)"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise ImportError(
            "YAML configs need PyYAML: pip install 'augkit[yaml]' (or use to_json/from_json)"
        ) from None
    return yaml


def _groups(op_at_step: list[int | None]) -> list[tuple[int, list[int]]]:
    """``(operator, item positions)`` for one step, by operator index; None = path ended."""
    groups: dict[int, list[int]] = {}
    for i, op_index in enumerate(op_at_step):
        if op_index is not None:
            groups.setdefault(op_index, []).append(i)
    return sorted(groups.items())


def _check_chain_shape(n: int, start: ArrayLike, transitions: ArrayLike) -> None:
    """Name the argument whose length does not match the ``n`` operators (before the chain
    itself, which cannot know which of ``start`` and ``transitions`` is the wrong one)."""
    try:
        start_shape = np.shape(start)  # type: ignore[arg-type]
        trans_shape = np.shape(transitions)  # type: ignore[arg-type]
    except ValueError:
        return  # ragged: MarkovChain says what is wrong
    if len(start_shape) == 1 and start_shape[0] != n:
        raise ValueError(
            f"start has {start_shape[0]} entries for {n} operator(s): give one probability "
            "per operator"
        )
    if len(trans_shape) == 2 and trans_shape != (n, n):
        raise ValueError(
            f"transitions is {trans_shape[0]}x{trans_shape[1]} for {n} operator(s): it must be "
            f"{n}x{n}, one row and one column per operator"
        )


def _check_nonempty(ops: Sequence[Augmenter]) -> None:
    if len(ops) == 0:
        raise ValueError("ops must hold at least one operator")


def _common_modality(ops: Sequence[Augmenter]) -> str:
    kinds = {op.modality for op in ops} - {ANY}
    if len(kinds) > 1:
        detail = ", ".join(f"{type(op).__name__}={op.modality!r}" for op in ops)
        raise ValueError(f"operators of incompatible modalities in one pipeline: {detail}")
    return kinds.pop() if kinds else ANY


def _fmt(arr: np.ndarray) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in arr) + "]"
