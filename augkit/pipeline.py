"""Pipeline: operators whose order is sampled from a Markov chain, run by one loop.

Per item, the seeding rule (:mod:`augkit.seeding`) gives independent random
streams: stream 0 samples the item's path through the chain, stream ``k + 1``
the parameters of its ``k``-th step. Execution samples every path first and
then runs step by step, calling each operator once per step with all the
items that need it; because every item owns its streams, the result is the
same as running the item alone. The same loop (:meth:`Pipeline._run`) serves
``augment``, ``augment_batch``, replay and nested pipelines; only where the
parameters come from differs (drawn from streams, or read from traces).

A pipeline is itself an operator (``modality``, ``sample_params``,
``apply``), so pipelines nest: a nested pipeline's step draws a child seed
from its stream and runs the inner pipeline at that seed, batched like any
other step; its parameters are ``{"seed": child, "steps": [...]}``, the
inner trace, so nested traces replay and serialise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _config
from ._json import to_jsonable
from .base import BATCH_MIN, BaseAugmenter, TextAugmenter, checked_outputs, draw_params
from .errors import ConfigError, ModelUnavailableError
from .items import FieldLens, ItemLens, Labelled, values_equal
from .markov import MarkovChain, one_of_chain, sequence_chain, some_of_chain, sometimes_chain
from .protocol import ANY, TEXT, Augmenter, Params, operator_name
from .registry import get_operator_class, lens_from_dict, operator_from_dict, register
from .seeding import (
    ATTEMPT_BITS,
    STREAM_STEP,
    STREAMS_VERSION,
    U64,
    VARIANT_BITS,
    BatchStream,
    Rng,
    Stream,
    as_seed,
    draw_seed,
    epoch_word,
    item_word,
    item_words,
    resolve_indices,
    seed_epoch_word,
    seed_word,
    seeds_of,
    stream_base,
    stream_bases,
)
from .trace import Step, Trace
from .validation import MAX_U64, check_batch, check_bool, check_int

__all__ = ["CONFIG_SUFFIXES", "FORMAT", "FORMAT_VERSION", "Pipeline"]

FORMAT = "augkit.pipeline"
#: 2: "label" and "targets" beside "key", nested pipelines, operators without label_key.
FORMAT_VERSION = 2
CONFIG_SUFFIXES = _config.CONFIG_SUFFIXES

_DEFAULT = object()
_M64 = 2**64 - 1


# --------------------------------------------------------------------------- operators


class _Op:
    """One operator as the loop calls it, whatever it is.

    A :class:`BaseAugmenter` is validated by the loop, once, and its
    ``_apply_batch`` hook runs directly; a bare protocol object runs through
    its own ``apply_batch`` when it has one, else ``apply`` per item; a
    nested :class:`Pipeline` is run by the loop itself (``nested``).
    """

    __slots__ = (
        "draws",
        "name",
        "needs_label",
        "nested",
        "op",
        "run",
        "run_one",
        "sample_batch",
        "validate",
        "validate_many",
    )

    def __init__(self, op: Any) -> None:
        self.op = op
        self.name = operator_name(op)
        self.nested: Pipeline | None = op if isinstance(op, Pipeline) else None
        self.needs_label = bool(getattr(op, "needs_label", False))
        # The optional hook that draws a whole group's parameters from a BatchStream.
        batch = getattr(op, "sample_params_batch", None)
        self.sample_batch: Callable[[list[Any], BatchStream], list[Params]] | None = (
            batch if callable(batch) else None
        )
        name = self.name
        if isinstance(op, BaseAugmenter):
            cls = type(op)
            # Operators that keep BaseAugmenter's sample_params draw nothing:
            # positioning their stream would cost a measurable share of a cheap step.
            self.draws = cls.sample_params is not BaseAugmenter.sample_params
            self.validate: Callable[[Any], None] | None = (
                None if cls.validate_input is BaseAugmenter.validate_input else op.validate_input
            )
            # TextAugmenter's own check, for a whole group in one pass.
            self.validate_many: Callable[[list[Any]], None] | None = (
                op.validate_inputs
                if isinstance(op, TextAugmenter)
                and cls.validate_input is TextAugmenter.validate_input
                else None
            )
            if cls._apply_batch is BaseAugmenter._apply_batch:
                apply = op.apply  # the default hook is this loop: skip a call and a length check
                self.run: Callable[[list[Any], list[Params]], list[Any]] = lambda xs, ps: list(
                    map(apply, xs, ps)
                )
                self.run_one: Callable[[Any, Params], Any] = apply
            else:
                hook = op._apply_batch
                self.run = lambda xs, ps: checked_outputs(name, hook(xs, ps), len(xs))
                self.run_one = lambda x, p: self.run([x], [p])[0]
            return
        self.draws = True
        validate = getattr(op, "validate_input", None)
        self.validate = validate if callable(validate) else None
        self.validate_many = None
        batch = getattr(op, "apply_batch", None)
        if callable(batch):
            self.run = lambda xs, ps: checked_outputs(name, batch(xs, ps), len(xs))
            self.run_one = lambda x, p: self.run([x], [p])[0]
        else:
            apply = op.apply
            self.run = lambda xs, ps: [apply(x, p) for x, p in zip(xs, ps)]
            self.run_one = apply


def _operator_config(op: Any) -> dict[str, Any]:
    if isinstance(op, Pipeline):
        return {"type": "pipeline", "params": op.to_dict()}
    to_dict = getattr(op, "to_dict", None)
    if not callable(to_dict):
        raise ConfigError(
            f"{operator_name(op)} ({type(op).__name__}) has no to_dict(), so the pipeline "
            "cannot be written as a config; subclass augkit.BaseAugmenter and register it"
        )
    config: dict[str, Any] = to_dict()
    return config


# --------------------------------------------------------------------------- where parameters come from


class _Draw:
    """Parameters drawn by the seeding rule, each item at its own coordinates.

    ``coords[i] = (seed, epoch, index, variant, attempt)``; items of one batch
    usually share the seed and epoch, a nested pipeline's items each have
    their own seed. Each item's word is computed once; its streams are
    positions on that word's counter (:mod:`augkit.seeding`).
    """

    def __init__(self, coords: list[tuple[int, int, int, int, int]]) -> None:
        self.coords = coords
        self.words = _item_words(coords)
        self._stream: Stream | None = None
        self._array: U64 | None = None

    def close(self) -> None:
        pass

    def rng(self, i: int, stream: int) -> Stream:
        """Stream ``stream`` of item ``i``: one object, re-positioned (valid until the next call)."""
        s = self._stream
        if s is None:
            s = self._stream = Stream(0)
        s._base = stream_base(self.words[i], stream)
        s._d = 0
        s._generator = None
        return s

    def batch(self, members: list[int], stream: int) -> BatchStream:
        """Stream ``stream`` of the items ``members``, as numpy arrays."""
        if self._array is None:
            self._array = np.array(self.words, dtype=np.uint64)
        return BatchStream(stream_bases(self._array[members], stream))

    def paths(self, pipe: Pipeline) -> list[list[int]]:
        chain = pipe.chain
        n = len(self.coords)
        fixed = chain.fixed_path
        if fixed is not None:  # one outcome per row: nothing to sample (paths are read only)
            return [fixed] * n  # type: ignore[list-item]
        if n >= BATCH_MIN:
            return chain.sample_batch(self.batch(list(range(n)), 0).random, n)
        return [chain.sample(self.rng(i, 0)) for i in range(n)]

    def params(
        self, members: list[int], k: int, op: _Op, feed: list[Any], traced: bool
    ) -> list[Params]:
        """Step ``k``'s parameters of the items ``members``; JSON-safe when they are traced.

        Untraced parameters are applied as drawn: converting them costs more
        than a cheap step, and the contract (``check_operator``, rule 5) holds
        an operator to give the same output either way.
        """
        if not op.draws:
            # BaseAugmenter's own sample_params: no draw, no stream to position.
            return [{} for _ in feed]
        words = [self.words[i] for i in members]
        drawn = draw_params(op.name, op.op.sample_params, op.sample_batch, feed, words, k + 1)
        return [to_jsonable(p) for p in drawn] if traced else drawn

    def param(self, i: int, k: int, op: _Op, x: Any, traced: bool) -> Params:
        """:meth:`params` of one item (the per-item hot path: :meth:`rng` written out)."""
        if not op.draws:
            return {}
        s = self._stream
        if s is None:
            s = self._stream = Stream(0)
        s._base = (self.words[i] + (k + 1) * STREAM_STEP) & _M64
        s._d = 0
        s._generator = None
        p = op.op.sample_params(x, s)
        return to_jsonable(p) if traced else p  # type: ignore[no-any-return]

    def child(self, members: list[int], k: int) -> _Draw:
        """A nested pipeline's source: a child seed per item, drawn from its step's stream."""
        seeds = [draw_seed(self.rng(i, k + 1)) for i in members]
        return _Draw([(s, 0, 0, 0, 0) for s in seeds])

    def nested_params(
        self, members: list[int], k: int, child: _Draw | _Replay, inner: list[list[Step]]
    ) -> list[Params]:
        """A nested step's parameters: the child seed and the inner run's steps."""
        assert isinstance(child, _Draw)
        return [_nested_record(c[0], st) for c, st in zip(child.coords, inner)]


def _item_words(coords: list[tuple[int, int, int, int, int]]) -> list[int]:
    """Each item's word; a batch sharing seed and epoch is computed in numpy."""
    if len(coords) == 1:
        seed, epoch, index, variant, attempt = coords[0]
        return [item_word(seed_epoch_word(seed, epoch), index, variant, attempt)]
    if len(coords) >= BATCH_MIN and len({(c[0], c[1]) for c in coords}) == 1:
        n = len(coords)
        cols = [np.fromiter((c[k] for c in coords), dtype=np.uint64, count=n) for k in (2, 3, 4)]
        first = seed_epoch_word(coords[0][0], coords[0][1])
        return item_words(first, cols[0], cols[1], cols[2]).tolist()  # type: ignore[no-any-return]
    epochs: dict[tuple[int, int], int] = {}
    out = []
    for seed, epoch, index, variant, attempt in coords:
        ew = epochs.get((seed, epoch))
        if ew is None:
            ew = epoch_word(seed_word(seed), epoch)
            epochs[(seed, epoch)] = ew
        out.append(item_word(ew, index, variant, attempt))
    return out


class _Replay:
    """Parameters read from recorded steps (traces): no randomness at all."""

    def __init__(self, steps: Sequence[Sequence[Step]]) -> None:
        self.steps = steps

    def close(self) -> None:
        pass

    def paths(self, pipe: Pipeline) -> list[list[int]]:
        return [[s.state if s.state is not None else s.op_index for s in st] for st in self.steps]

    def params(
        self, members: list[int], k: int, op: _Op, feed: list[Any], traced: bool
    ) -> list[Params]:
        return [self.steps[i][k].params for i in members]

    def param(self, i: int, k: int, op: _Op, x: Any, traced: bool) -> Params:
        return self.steps[i][k].params

    def child(self, members: list[int], k: int) -> _Replay:
        return _Replay([_nested_steps(self.steps[i][k].params) for i in members])

    def nested_params(
        self, members: list[int], k: int, child: _Draw | _Replay, inner: list[list[Step]]
    ) -> list[Params]:
        """Replayed nested steps keep their recorded parameters."""
        return [self.steps[i][k].params for i in members]


def _nested_record(seed: int, steps: list[Step]) -> Params:
    """The parameters of a nested pipeline's step: its seed and its steps, as JSON."""
    return {"seed": seed, "steps": [s.to_dict() for s in steps]}


def _nested_steps(params: Mapping[str, Any]) -> list[Step]:
    steps = params.get("steps") if isinstance(params, Mapping) else None
    if not isinstance(steps, list):
        raise ValueError("a nested pipeline's parameters must hold its 'steps' (a list)")
    return [Step.from_dict(s) for s in steps]


# --------------------------------------------------------------------------- the pipeline


@register("pipeline")
class Pipeline:
    """Operators plus a :class:`MarkovChain` that decides which run, in which order.

    Chain state ``s`` runs operator ``ops[state_ops[s]]`` (by default state
    ``s`` is operator ``s``; :meth:`some_of` uses more states than operators).

    Items are split by one lens (:mod:`augkit.items`): ``key`` names the
    field of mapping items to augment (default ``"text"`` for text
    pipelines; tuples ``(x, y)`` augment ``x``; plain values are augmented
    whole), ``label`` the field holding the label for label-aware operators;
    every other field passes through. ``targets`` (an
    :class:`augkit.image.ImageTargets`) declares an image item's masks,
    boxes and keypoints once, for every operator. Operators are anything
    with ``modality``, ``sample_params`` and ``apply``, pipelines included;
    a nested pipeline works on the values its outer pipeline hands it (only
    the outermost pipeline's lens splits items).
    """

    name = "pipeline"

    def __init__(
        self,
        ops: Sequence[Any],
        chain: MarkovChain,
        *,
        key: Any = _DEFAULT,
        label: str | Sequence[str] | None = "label",
        targets: ItemLens | None = None,
        state_ops: Sequence[int] | None = None,
    ) -> None:
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Iterable):
            raise TypeError(f"ops must be a list of operators, got {type(ops).__name__}")
        self.ops: tuple[Any, ...] = tuple(ops)
        if not self.ops:
            raise ValueError("ops must hold at least one operator")
        for i, op in enumerate(self.ops):
            if not isinstance(op, Augmenter):
                missing = [m for m in ("modality", "sample_params", "apply") if not hasattr(op, m)]
                raise TypeError(
                    f"ops[{i}] ({type(op).__name__}) is not an augkit operator: it lacks "
                    f"{', '.join(missing)} (an operator needs modality, sample_params(x, rng) "
                    "and apply(x, params))"
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
                check_int(f"state_ops[{s}]", v, low=0, high=len(self.ops) - 1)
                for s, v in enumerate(state_ops)
            )
            if len(self.state_ops) != chain.n_states:
                raise ValueError(
                    f"state_ops has {len(self.state_ops)} entries for {chain.n_states} chain states"
                )
        self.modality = _common_modality(self.ops)
        if targets is not None:
            if not isinstance(targets, ItemLens):
                raise TypeError(
                    "targets must be an item lens such as augkit.image.ImageTargets, got "
                    f"{type(targets).__name__}"
                )
            if key is not _DEFAULT and key is not None:
                raise ValueError("give key= (a field of text items) or targets=, not both")
            if label != "label":
                raise ValueError(
                    "label= names the label field of text items; with targets=, the item's "
                    "label fields are the targets' label_fields"
                )
            self.lens: ItemLens = targets
        else:
            default_key = "text" if self.modality == TEXT else None
            self.lens = FieldLens(default_key if key is _DEFAULT else key, label)
        #: Whether the lens was declared (or adopted from a nested pipeline), not a default.
        self.lens_declared = targets is not None or key is not _DEFAULT or label != "label"
        self._bind_ops()
        self._agree_with_nested_lenses()

    def _bind_ops(self) -> None:
        """The loop's view of the operators: call adapters, and each chain state's adapter."""
        self._ops = [_Op(op) for op in self.ops]
        self._nested = any(op.nested is not None for op in self._ops)
        self._state_op = tuple(self._ops[o] for o in self.state_ops)
        self._state_op_index = np.array(self.state_ops, dtype=np.int64)

    def _agree_with_nested_lenses(self) -> None:
        """One lens for the whole tree: adopt the one nested pipelines declare, or refuse.

        A nested pipeline works on the values its outer pipeline hands it, so
        its own lens never runs; a lens it declares is taken up by an outer
        pipeline that declares none, and must equal the outer one's otherwise
        (a silently ignored ``targets=`` would read boxes in the wrong format).
        """
        for i, op in enumerate(self._ops):
            inner = op.nested
            if inner is None or not inner.lens_declared or inner.lens == self.lens:
                continue
            if self.lens_declared:
                raise ValueError(
                    f"ops[{i}] is a pipeline with item lens {inner.lens!r}, but this pipeline's "
                    f"is {self.lens!r}: a nested pipeline works on its outer pipeline's values, "
                    "so declare key/label/targets once, on the outermost pipeline"
                )
            self.lens = inner.lens
            self.lens_declared = True

    def __getstate__(self) -> dict[str, Any]:
        # The call adapters hold bound methods and closures: rebuilt, not pickled
        # (DataLoader workers started with spawn receive the pipeline pickled).
        state = self.__dict__.copy()
        for derived in ("_ops", "_state_op", "_state_op_index", "_nested"):
            state.pop(derived, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._bind_ops()

    # ------------------------------------------------------------------ constructors
    @classmethod
    def markov(
        cls,
        ops: Sequence[Any],
        start: ArrayLike,
        transitions: ArrayLike,
        max_steps: int | None = None,
        **item: Any,
    ) -> Pipeline:
        """A pipeline whose chain you give directly (see :class:`MarkovChain`).

        ``start`` has one probability per operator, ``transitions`` one row
        and one column per operator. ``item``: ``key``, ``label`` or
        ``targets`` (see the class).
        """
        _check_nonempty(ops)
        _check_chain_shape(len(ops), start, transitions)
        return cls(ops, MarkovChain(start, transitions, max_steps), **item)

    @classmethod
    def sequence(cls, ops: Sequence[Any], **item: Any) -> Pipeline:
        """Every operator once, in order."""
        _check_nonempty(ops)
        return cls(ops, sequence_chain(len(ops)), **item)

    @classmethod
    def one_of(
        cls, ops: Sequence[Any], weights: ArrayLike | None = None, *, p: float = 1.0, **item: Any
    ) -> Pipeline:
        """With probability ``p``, exactly one operator, chosen by ``weights``; then stop."""
        _check_nonempty(ops)
        return cls(ops, one_of_chain(len(ops), weights, p), **item)

    @classmethod
    def sometimes(
        cls, op: Any | Sequence[Any], p: float | Sequence[float] = 0.5, **item: Any
    ) -> Pipeline:
        """Each operator applied independently with probability ``p``, in list order.

        With one operator: ``op`` with probability ``p``, otherwise nothing.
        With a list (nlpaug's ``Sometimes`` flow, albumentations' per-transform
        ``p``): see :func:`augkit.markov.sometimes_chain`. ``p`` may be one
        probability or one per operator.
        """
        ops = [op] if isinstance(op, Augmenter) else op
        _check_nonempty(ops)
        return cls(list(ops), sometimes_chain(len(ops), p), **item)

    @classmethod
    def some_of(cls, ops: Sequence[Any], n: int, **item: Any) -> Pipeline:
        """``n`` distinct operators, a uniformly random subset, applied in list order."""
        _check_nonempty(ops)
        chain, state_ops = some_of_chain(len(ops), n)
        return cls(ops, chain, state_ops=state_ops, **item)

    def with_item(self, **item: Any) -> Pipeline:
        """The same operators and chain with another item lens.

        ``key=`` / ``label=`` change those of a text pipeline's lens (the one
        not given is kept); ``targets=`` replaces the lens. A pipeline with
        ``targets`` has no key or label to change: asking is a ``ValueError``.
        """
        unknown = set(item) - {"key", "label", "targets"}
        if unknown:
            raise TypeError(f"with_item takes key, label or targets, got {sorted(unknown)}")
        if "targets" not in item:
            if not isinstance(self.lens, FieldLens):
                raise ValueError(
                    f"this pipeline's items are declared by {self.lens!r}, which has no key or "
                    "label; give with_item(targets=...) to change them"
                )
            item = {"key": self.lens.key, "label": self.lens.label, **item}
        return Pipeline(self.ops, self.chain, state_ops=self.state_ops, **item)

    def with_operators(self, ops: Sequence[Any]) -> Pipeline:
        """The same chain, state mapping and item lens over other operators, one per operator.

        For operators rebuilt from other data, for example one fold's
        training texts (:func:`augkit.policy.embedding_probe` does this with
        its ``operators=``): ``ops[i]`` takes the place of ``self.ops[i]``.
        """
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
            raise TypeError(f"ops must be a list of operators, got {type(ops).__name__}")
        if len(ops) != len(self.ops):
            raise ValueError(
                f"got {len(ops)} operators for a pipeline of {len(self.ops)}: give one per operator"
            )
        if isinstance(self.lens, FieldLens):
            item: dict[str, Any] = {"key": self.lens.key, "label": self.lens.label}
        else:
            item = {"targets": self.lens}
        return Pipeline(list(ops), self.chain, state_ops=self.state_ops, **item)

    @property
    def key(self) -> str | None:
        """The augmented field of mapping items (``None``: items are augmented whole)."""
        return getattr(self.lens, "key", None)

    @property
    def needs_label(self) -> bool:
        """Whether any operator (of nested pipelines too) reads the item's label."""
        return any(op.needs_label for op in self._ops)

    # ------------------------------------------------------------------ the loop
    def _run(
        self,
        values: list[Any],
        labels: list[Any],
        source: _Draw | _Replay,
        traced: bool,
        changes: bool | None = None,
    ) -> tuple[list[Any], list[list[Step]]]:
        """Every item through its path, step by step, one batched call per operator and step.

        ``values`` are replaced in place by the outputs. With ``traced``, each
        item's steps come back too (parameters, state and, with ``changes``,
        which defaults to ``traced``, whether each step changed the item).
        """
        changes = traced if changes is None else changes
        try:
            paths = source.paths(self)
            if len(paths) == 1 and not (
                self._nested and any(self._ops[self.state_ops[s]].nested for s in paths[0])
            ):
                return self._run_one(values, labels, source, traced, changes, paths[0])
            steps: list[list[Step]] = [[] for _ in values] if traced else []
            longest = max(map(len, paths), default=0)
            state_ops = self.state_ops
            for k in range(longest):
                at_step = [state_ops[p[k]] if len(p) > k else None for p in paths]
                for op_index, members in _groups(at_step):
                    op = self._ops[op_index]
                    inputs = [values[i] for i in members]
                    if op.nested is not None:
                        child = source.child(members, k)
                        # The inner steps are the nested step's parameters: always
                        # recorded; whether they changed anything only when asked.
                        outs, inner = op.nested._run(
                            list(inputs), [labels[i] for i in members], child, True, changes
                        )
                        params = source.nested_params(members, k, child, inner)
                    else:
                        feed = _checked_feed(op, inputs, labels, members)
                        params = source.params(members, k, op, feed, traced)
                        outs = op.run(feed, params)
                    if not traced:
                        for i, out in zip(members, outs):
                            values[i] = out
                        continue
                    for i, x, out, p in zip(members, inputs, outs, params):
                        values[i] = out
                        changed = (not values_equal(x, out)) if changes else None
                        steps[i].append(Step(op_index, op.name, p, paths[i][k], changed))
            return values, steps
        finally:
            source.close()

    def _run_one(
        self,
        values: list[Any],
        labels: list[Any],
        source: _Draw | _Replay,
        traced: bool,
        changes: bool,
        path: list[int],
    ) -> tuple[list[Any], list[list[Step]]]:
        """:meth:`_run` for one item on a path without nested pipelines.

        The same steps in the same order, scalar instead of grouped: one item
        is what ``Dataset.__getitem__`` asks for, and the grouping's lists cost
        more than a cheap operator (benchmarks/pipeline_overhead.py). Property
        tests hold the two equal (batch == per item).
        """
        value, label = values[0], labels[0]
        steps: list[Step] = []
        for k, state in enumerate(path):
            op_index = self.state_ops[state]
            op = self._ops[op_index]
            x = Labelled(value, label) if op.needs_label else value
            if op.validate is not None:
                op.validate(x)
            params = source.param(0, k, op, x, traced)
            out = op.run_one(x, params)
            if traced:
                changed = (not values_equal(value, out)) if changes else None
                steps.append(Step(op_index, op.name, params, state, changed))
            value = out
        values[0] = value
        return values, [steps] if traced else []

    def _one(self, value: Any, label: Any, w: int) -> Any:
        """One item, untraced, of a pipeline without nested pipelines, at item word ``w``.

        :meth:`_run_one` with its source written out: one :class:`Stream`
        re-positioned for the path (stream 0) and each step (stream
        ``k + 1``). This is ``Dataset.__getitem__``'s call, where every
        function call is a measurable share of a cheap step
        (benchmarks/pipeline_overhead.py); property tests hold it equal to
        the batch.
        """
        s = Stream(w)
        fixed = self.chain.fixed_path
        path: Sequence[int] = self.chain.sample(s) if fixed is None else fixed
        ops = self._state_op
        for k, state in enumerate(path):
            op = ops[state]
            x = Labelled(value, label) if op.needs_label else value
            # A str needs no call of TextAugmenter's own check (validate_many's owners).
            if op.validate is not None and (op.validate_many is None or type(x) is not str):
                op.validate(x)
            if op.draws:
                s._base = (w + (k + 1) * STREAM_STEP) & _M64
                s._d = 0
                s._generator = None
                value = op.run_one(x, op.op.sample_params(x, s))
            else:
                value = op.run_one(x, {})
        return value

    def _run_untraced(self, values: list[Any], labels: list[Any], words: U64) -> list[Any]:
        """:meth:`_run` for a batch of :data:`BATCH_MIN` or more items drawn by the seeding
        rule, untraced, without nested pipelines: the same draws, with the paths as one
        numpy array and each step's groups found in numpy.

        ``words`` are the items' words; ``values`` are replaced in place.
        """
        n = len(values)
        fixed = self.chain.fixed_path
        if fixed is not None:
            ops_at = np.broadcast_to(
                self._state_op_index[np.array(fixed, dtype=np.int64)], (n, len(fixed))
            )
        else:
            states = self.chain.sample_states(BatchStream(stream_bases(words, 0)).random, n)
            ops_at = np.where(states >= 0, self._state_op_index[states], -1)
        word_list: list[int] | None = None
        for k in range(ops_at.shape[1]):
            column = ops_at[:, k]
            if fixed is not None:
                groups: list[tuple[int, NDArray[np.int64] | None]] = [(int(column[0]), None)]
            else:
                present = np.unique(column)
                present = present[present >= 0]
                if len(present) == 1 and column[-1] >= 0 and column.min() >= 0:
                    groups = [(int(present[0]), None)]
                else:
                    groups = [(int(o), np.flatnonzero(column == o)) for o in present]
            for op_index, members in groups:
                op = self._ops[op_index]
                if members is None:
                    rows: list[int] | None = None
                    inputs = values
                    mwords = words
                else:
                    rows = members.tolist()
                    inputs = [values[i] for i in rows]
                    mwords = words[members]
                feed = _checked_feed(op, inputs, labels, rows)
                if not op.draws:
                    params: list[Params] = [{} for _ in feed]
                elif op.sample_batch is not None and len(feed) >= BATCH_MIN:
                    params = list(op.sample_batch(feed, BatchStream(stream_bases(mwords, k + 1))))
                    if len(params) != len(feed):
                        raise RuntimeError(
                            f"{op.name}.sample_params_batch returned {len(params)} parameter "
                            f"sets for {len(feed)} inputs"
                        )
                else:
                    if word_list is None:
                        word_list = words.tolist()
                    item_words_ = word_list if rows is None else [word_list[i] for i in rows]
                    params = draw_params(
                        op.name, op.op.sample_params, None, feed, item_words_, k + 1
                    )
                outs = op.run(feed, params)
                if rows is None:
                    values[:] = outs
                else:
                    for i, out in zip(rows, outs):
                        values[i] = out
        return values

    def _augment(
        self,
        items: list[Any],
        seed: Any,
        epoch: int,
        indices: Sequence[int] | None,
        n: int | None,
        distinct: bool,
        max_tries: int,
        traced: bool,
    ) -> tuple[list[Any], list[Trace]]:
        """``n`` variants of every item (one when ``n`` is None), by the seeding rule.

        ``seed`` is the call's seed, or a list with each item's own (drawn
        from ``rngs=``). Returns the outputs and traces grouped per item and
        variant, flattened item-major (``item * n + variant``).
        """
        seeds = seed if isinstance(seed, list) else [as_seed(seed)] * len(items)
        epoch = check_int("epoch", epoch, low=0, high=MAX_U64)
        idx = resolve_indices(len(items), indices)
        nv = 1 if n is None else check_int("n", n, low=1, high=2**VARIANT_BITS - 1)
        distinct = check_bool("distinct", distinct)
        max_tries = check_int("max_tries", max_tries, low=1, high=2**ATTEMPT_BITS)
        record = traced or distinct
        plain = type(self.lens) is FieldLens and set(map(type, items)) <= {str}
        if not record and not self._nested and type(seed) is int and len(items) * nv >= BATCH_MIN:
            # Every item at one seed, untraced: the numpy path (same draws as _run).
            index = np.repeat(np.array(idx, dtype=np.uint64), nv)
            variant = np.tile(np.arange(nv, dtype=np.uint64), len(items))
            words = item_words(
                seed_epoch_word(seeds[0], epoch), index, variant, np.zeros_like(index)
            )
            if plain:
                values = list(items) if nv == 1 else [x for x in items for _ in range(nv)]
                return self._run_untraced(values, [None] * len(values), words), []
            splits = [self.lens.split(x) for x in items]
            values = [s[0] for s in splits for _ in range(nv)]
            labels = [s[1] for s in splits for _ in range(nv)]
            outs = self._run_untraced(values, labels, words)
            return [splits[j // nv][2](out) for j, out in enumerate(outs)], []
        splits = [self.lens.split(x) for x in items]
        values = [s[0] for s in splits]
        labels = [s[1] for s in splits]
        jobs = [(i, v) for i in range(len(items)) for v in range(nv)]
        attempts = [0] * len(jobs)

        def run(js: list[int]) -> tuple[list[Any], list[list[Step]]]:
            coords = [
                (seeds[jobs[j][0]], epoch, idx[jobs[j][0]], jobs[j][1], attempts[j]) for j in js
            ]
            return self._run(
                [values[jobs[j][0]] for j in js],
                [labels[jobs[j][0]] for j in js],
                _Draw(coords),
                traced=record,
            )

        outs, steps = run(list(range(len(jobs))))
        flags: list[bool | None] = [None] * len(jobs)
        notes = self._redraw(
            values, labels, nv, outs, steps, attempts, flags, distinct, max_tries, run
        )
        results = [splits[i][2](out) for (i, _), out in zip(jobs, outs)]
        traces: list[Trace] = []
        if traced:
            traces = [
                Trace(
                    seeds[i],
                    epoch,
                    idx[i],
                    tuple(steps[j]),
                    variant=v,
                    attempt=attempts[j],
                    changed=not values_equal(values[i], outs[j]),
                    distinct=flags[j],
                    quality=None if notes is None else notes[j],
                )
                for j, (i, v) in enumerate(jobs)
            ]
        return results, traces

    def _redraw(
        self,
        values: list[Any],
        labels: list[Any],
        nv: int,
        outs: list[Any],
        steps: list[list[Step]],
        attempts: list[int],
        flags: list[bool | None],
        distinct: bool,
        max_tries: int,
        run: Callable[[list[int]], tuple[list[Any], list[list[Step]]]],
    ) -> list[dict[str, Any]] | None:
        """Redraw the outputs that must be redrawn (here: those ``distinct`` refuses).

        The one hook of a pipeline that filters its outputs (see :meth:`filtered`): it may
        redraw output ``j`` from its next attempt coordinate (``attempts[j] += 1`` and
        ``run``) and returns, per output, what its trace records of that (``Trace.quality``).
        """
        if distinct:
            self._make_distinct(values, nv, outs, steps, attempts, flags, max_tries, run)
        return None

    def filtered(self, quality_filter: Any, *, max_tries: int = 4, **options: Any) -> Pipeline:
        """This pipeline with the outputs ``quality_filter`` rejects redrawn, up to ``max_tries``
        attempts each, every attempt from its own coordinate (so batch == per item still).

        ``quality_filter`` is a fitted filter with a ``filtered_pipeline(pipeline, max_tries,
        **options)`` method, which builds the pipeline (``docs/quality.md``).
        """
        make = getattr(quality_filter, "filtered_pipeline", None)
        if not callable(make):
            raise TypeError(
                f"quality_filter must be a fitted quality filter (it has a filtered_pipeline "
                f"method), got {type(quality_filter).__name__}"
            )
        pipe: Pipeline = make(self, max_tries=max_tries, **options)
        return pipe

    @staticmethod
    def _make_distinct(
        values: list[Any],
        nv: int,
        outs: list[Any],
        steps: list[list[Step]],
        attempts: list[int],
        flags: list[bool | None],
        max_tries: int,
        run: Callable[[list[int]], tuple[list[Any], list[list[Step]]]],
    ) -> None:
        """Redraw variants equal to the input or an earlier variant, in rounds of batched retries.

        Per item, variant ``v`` is settled before ``v + 1`` is looked at (it
        must differ from the input and from the *final* earlier variants), so
        the result is the same alone or in any batch. A variant still equal
        after ``max_tries`` attempts is kept and flagged ``distinct=False``.
        """
        settled = [0] * len(values)  # per item: how many of its variants are final
        while True:
            retry: list[int] = []
            for i in range(len(values)):
                while settled[i] < nv:
                    j = i * nv + settled[i]
                    earlier = [values[i], *outs[i * nv : j]]
                    if not any(values_equal(outs[j], e) for e in earlier):
                        flags[j] = True
                    elif attempts[j] + 1 < max_tries:
                        attempts[j] += 1
                        retry.append(j)
                        break
                    else:
                        flags[j] = False
                    settled[i] += 1
            if not retry:
                return
            new_outs, new_steps = run(retry)
            for j, out, st in zip(retry, new_outs, new_steps):
                outs[j] = out
                steps[j] = st

    # ------------------------------------------------------------------ running
    def augment(
        self,
        x: Any,
        *,
        seed: int | None = None,
        rng: Rng | None = None,
        epoch: int = 0,
        index: int = 0,
        n: int | None = None,
        distinct: bool = False,
        max_tries: int = 4,
        return_trace: bool = False,
    ) -> Any:
        """Augment one item as item ``index`` of epoch ``epoch``.

        Returns the output, or with ``n`` a list of ``n`` variants (variant
        ``v`` is its own coordinate of the seeding rule). ``distinct=True``
        redraws a variant equal to the input or to an earlier variant, up to
        ``max_tries`` attempts in all, each from its own coordinate; one that
        stays equal is kept and flagged in its trace (``distinct=False``).
        ``return_trace=True`` returns ``(output, trace)`` (lists with ``n``).
        ``seed=None`` draws fresh entropy; the trace records it. ``rng`` is
        used as every operator uses it: the pipeline draws from it (the seed
        of the run, as :meth:`sample_params` does).
        """
        if type(index) is not int or not 0 <= index <= MAX_U64:  # checked only when unusual
            index = check_int("index", index, low=0, high=MAX_U64)
        if max_tries != 4:
            check_int("max_tries", max_tries, low=1, high=2**ATTEMPT_BITS)
        if rng is None and type(seed) is int and seed >= 0:
            seeds: int | list[int] = seed
        else:
            seeds = seeds_of(1, seed, None if rng is None else [rng])
        if n is None and distinct is False and not return_trace:
            # One plain output (Dataset.__getitem__): the same loop, without the
            # bookkeeping of variants and traces.
            value, label, put = self.lens.split(x)
            first = seeds if type(seeds) is int else seeds[0]  # type: ignore[index]
            if type(epoch) is not int or not 0 <= epoch <= MAX_U64:
                epoch = check_int("epoch", epoch, low=0, high=MAX_U64)
            if not self._nested:
                return put(self._one(value, label, item_word(seed_epoch_word(first, epoch), index)))
            coords = (first, epoch, index, 0, 0)
            return put(self._run([value], [label], _Draw([coords]), traced=False)[0][0])
        outs, traces = self._augment(
            [x], seeds, epoch, [index], n, distinct, max_tries, return_trace
        )
        if n is None:
            return (outs[0], traces[0]) if return_trace else outs[0]
        return (outs, traces) if return_trace else outs

    def augment_batch(
        self,
        xs: Sequence[Any],
        *,
        seed: int | None = None,
        rngs: Sequence[np.random.Generator] | None = None,
        epoch: int = 0,
        indices: Sequence[int] | None = None,
        n: int | None = None,
        distinct: bool = False,
        max_tries: int = 4,
        return_traces: bool = False,
    ) -> Any:
        """Augment a batch; item ``i`` equals ``augment(xs[i], index=indices[i], ...)``.

        Each operator is called once per step with every item (and variant)
        whose path needs it at that step (its ``_apply_batch`` hook, or the
        ``apply_batch`` of a duck-typed operator). Returns the list of
        outputs, with ``n`` a list of ``n`` variants per item, and with
        ``return_traces=True`` ``(outputs, traces)`` of the same shape.
        ``rngs`` gives each item a generator to draw its seed from (as
        :meth:`augment`'s ``rng``), in place of ``seed``. A str (or bytes, or
        a mapping) is one item, not a batch: a ``TypeError``.
        """
        items = check_batch("xs", xs, one="augment(x)")
        seeds = seeds_of(len(items), seed, rngs)
        outs, traces = self._augment(
            items, seeds, epoch, indices, n, distinct, max_tries, return_traces
        )
        if n is None:
            return (outs, traces) if return_traces else outs
        per_item = [outs[k : k + n] for k in range(0, len(outs), n)]
        traces_per_item = [traces[k : k + n] for k in range(0, len(traces), n)]
        return (per_item, traces_per_item) if return_traces else per_item

    def __call__(
        self,
        x: Any,
        *,
        seed: int | None = None,
        rng: Rng | None = None,
        epoch: int = 0,
        index: int = 0,
    ) -> Any:
        """Augment one item (see :meth:`augment`)."""
        return self.augment(x, seed=seed, rng=rng, epoch=epoch, index=index)

    def replay(self, x: Any, trace: Trace | Mapping[str, Any]) -> Any:
        """Reproduce the output recorded by ``trace``; draws no randomness."""
        return self.replay_batch([x], [trace])[0]

    def replay_batch(
        self, xs: Sequence[Any], traces: Sequence[Trace | Mapping[str, Any]]
    ) -> list[Any]:
        """:meth:`replay` for many items, batched by step and operator."""
        items = check_batch("xs", xs, one="replay(x, trace)")
        ts = [
            t if isinstance(t, Trace) else Trace.from_dict(t)
            for t in check_batch("traces", traces, one="replay(x, trace)")
        ]
        if len(ts) != len(items):
            raise ValueError(f"got {len(items)} items but {len(ts)} traces")
        for t in ts:
            self._check_steps(t.steps)
        splits = [self.lens.split(x) for x in items]
        outs, _ = self._run(
            [s[0] for s in splits], [s[1] for s in splits], _Replay([t.steps for t in ts]), False
        )
        return [s[2](out) for s, out in zip(splits, outs)]

    def _check_steps(self, steps: Sequence[Step]) -> None:
        names = [op.name for op in self._ops]
        for s in steps:
            if not 0 <= s.op_index < len(self.ops) or names[s.op_index] != s.op:
                raise ValueError(
                    f"trace step {s.op!r} at operator index {s.op_index} does not match "
                    f"this pipeline's operators {names}"
                )
            nested = self._ops[s.op_index].nested
            if nested is not None:
                nested._check_steps(_nested_steps(s.params))

    # ------------------------------------------------------------------ as an operator
    def validate_input(self, x: Any) -> None:
        """Nothing to check here: each operator validates its input at its own step."""

    def sample_params(self, x: Any, rng: Rng) -> Params:
        """``{"seed": s, "steps": [...]}``: a seed drawn from ``rng`` and the run it gives.

        ``x`` is an operator's input (a value, or :class:`~augkit.items.Labelled`
        when the pipeline needs labels), not an item: a nested pipeline does
        not apply its own lens.
        """
        seed = draw_seed(rng)
        value, label = (x.value, x.label) if isinstance(x, Labelled) else (x, None)
        _, steps = self._run([value], [label], _Draw([(seed, 0, 0, 0, 0)]), traced=True)
        return _nested_record(seed, steps[0])

    def apply(self, x: Any, params: Params) -> Any:
        """The output ``params`` (from :meth:`sample_params`) describe; no randomness."""
        return self.apply_batch([x], [params])[0]

    def apply_batch(self, xs: Sequence[Any], params: Sequence[Params]) -> list[Any]:
        """:meth:`apply` for many inputs, batched by step and operator."""
        xs = check_batch("xs", xs, one="apply(x, params)")
        params = check_batch("params", params, one="apply(x, params)")
        if len(xs) != len(params):
            raise ValueError(f"got {len(xs)} inputs but {len(params)} parameter sets")
        steps = [_nested_steps(p) for p in params]
        for st in steps:
            self._check_steps(st)
        values = [x.value if isinstance(x, Labelled) else x for x in xs]
        labels = [x.label if isinstance(x, Labelled) else None for x in xs]
        outs, _ = self._run(values, labels, _Replay(steps), traced=False)
        return outs

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
        for i, op in enumerate(self._ops):
            check = getattr(op.op, "check_available", None)
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
        """Expected number of operator applications per item (a nested pipeline counts once)."""
        return self.chain.expected_length()

    def visit_frequencies(self) -> np.ndarray:
        """Expected applications of each *operator* per item (chain states summed)."""
        per_state = self.chain.visit_frequencies()
        out = np.zeros(len(self.ops))
        np.add.at(out, np.asarray(self.state_ops), per_state)
        return out

    def describe(self, indent: str = "") -> str:
        """A human-readable summary of operators, chain and its expectations."""
        lines = [f"Pipeline ({self.modality}) with {len(self.ops)} operator(s), item {self.lens!r}"]
        for i, op in enumerate(self.ops):
            if isinstance(op, Pipeline):
                lines.append(f"{i}: nested " + op.describe(indent + "   ").lstrip())
            else:
                lines.append(f"{i}: {op!r}")
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
        return "\n".join(indent + line for line in lines)

    def __repr__(self) -> str:
        return f"Pipeline(ops={list(self.ops)!r}, chain={self.chain!r}, item={self.lens!r})"

    # ------------------------------------------------------------------ config
    def to_dict(self) -> dict[str, Any]:
        """A plain, versioned config; operators are referred to by registered name."""
        d: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "streams": STREAMS_VERSION,
        }
        if self.lens_declared:  # a default lens follows from the modality when read back
            if isinstance(self.lens, FieldLens):
                d["key"], d["label"] = self.lens.key, self.lens.label
            else:
                d["targets"] = self.lens.to_dict()
        d["operators"] = [_operator_config(op) for op in self.ops]
        d["chain"] = self.chain.to_dict()
        if self.state_ops != tuple(range(len(self.ops))):
            d["state_ops"] = list(self.state_ops)
        return d

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> Pipeline:
        """A nested pipeline's config (``{"type": "pipeline", "params": ...}``)."""
        return cls.from_dict(params)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> Pipeline:
        """Inverse of :meth:`to_dict`; raises :class:`ConfigError` on a bad config.

        Reads format version 1 too (ChunkRecombination's ``label_key`` /
        ``text_key`` become the pipeline's ``label`` / ``key``).
        """
        if not isinstance(config, Mapping):
            raise ConfigError(
                "a pipeline config must be a mapping with 'operators' and 'chain', "
                f"got {_config.json_kind(config)}"
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
        if version == 1:
            config = _from_version_1(config)
        unknown = set(config) - {
            "format", "version", "streams", "key", "label", "targets", "operators", "chain",
            "state_ops",
        }  # fmt: skip
        streams = config.get("streams", STREAMS_VERSION)
        if streams != STREAMS_VERSION:
            raise ConfigError(
                f"this config asks for random streams version {streams!r}; this augkit draws "
                f"with version {STREAMS_VERSION} (outputs of other versions still replay from "
                "their traces, which carry their parameters)"
            )
        if unknown:
            raise ConfigError(f"unknown keys in pipeline config: {sorted(unknown)}")
        ops_cfg = config.get("operators")
        if not isinstance(ops_cfg, Sequence) or isinstance(ops_cfg, str) or not ops_cfg:
            raise ConfigError("'operators' must be a non-empty list of operator configs")
        ops = [operator_from_dict(c) for c in ops_cfg]
        if "chain" not in config:
            raise ConfigError("pipeline config has no 'chain'")
        chain = MarkovChain.from_dict(config["chain"])
        item: dict[str, Any] = {k: config[k] for k in ("key", "label") if k in config}
        if config.get("targets") is not None:
            if item:
                raise ConfigError(
                    "a pipeline config has key/label (text items) or targets, not both"
                )
            targets = config["targets"]
            if isinstance(targets, Mapping) and "type" not in targets:
                targets = {"type": "image_targets", **targets}  # the one kind of targets today
            item = {"targets": lens_from_dict(targets)}
        try:
            return cls(ops, chain, state_ops=config.get("state_ops"), **item)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid pipeline: {exc}") from None

    def to_json(self, **kwargs: Any) -> str:
        """The config as JSON text (``indent=2`` unless you pass another)."""
        return json.dumps(self.to_dict(), **{"indent": 2, **kwargs})

    @classmethod
    def from_json(cls, text: str | bytes) -> Pipeline:
        """A pipeline from JSON config *text*; to read a file use :meth:`load`."""
        text = _config.config_text("from_json", text, "JSON")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON: {exc}") from None
        return cls.from_dict(data)

    def to_yaml(self) -> str:
        """The config as YAML text (needs PyYAML)."""
        yaml = _config.yaml_module()
        return str(yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def from_yaml(cls, text: str | bytes) -> Pipeline:
        """A pipeline from YAML config *text*, read with ``yaml.safe_load`` (no arbitrary
        objects); to read a file use :meth:`load`."""
        text = _config.config_text("from_yaml", text, "YAML")
        yaml = _config.yaml_module()
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
        p, kind, text = _config.read_config_file(path)
        try:
            return cls.from_json(text) if kind == "JSON" else cls.from_yaml(text)
        except ConfigError as exc:
            raise ConfigError(f"invalid config {str(p)!r}: {exc}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the config to a file, in the format its suffix names (as :meth:`load` reads)."""
        p, kind = _config.config_file(path, "save")
        text = self.to_json() + "\n" if kind == "JSON" else self.to_yaml()
        p.write_text(text, encoding="utf-8")


def _from_version_1(config: Mapping[str, Any]) -> dict[str, Any]:
    """A version-1 config in version-2 form (see :meth:`Pipeline.from_dict`).

    Version 1 put item settings on operators (ChunkRecombination's
    ``label_key``, image operators' ``bbox_format`` ...). An operator class
    with a ``from_v1_params(params)`` classmethod returns its version-2
    parameters and what it declared about the item (``{"key": (value,
    given), "targets.bbox_format": (value, given), ...}``); the declarations
    of all operators must agree, and become the pipeline's.
    """
    out = {k: v for k, v in config.items() if k != "key"}
    declared: dict[str, list[tuple[int, str, Any, bool]]] = {}
    if config.get("key") is not None:
        declared["key"] = [(-1, "the pipeline", config["key"], True)]
    operators = []
    for i, op in enumerate(config.get("operators") or []):
        hook = None
        if isinstance(op, Mapping) and isinstance(op.get("type"), str):
            try:
                hook = getattr(get_operator_class(op["type"]), "from_v1_params", None)
            except ConfigError:
                hook = None  # an unknown type: operator_from_dict says so below
        if hook is not None:
            params, said = hook(dict(op.get("params") or {}))
            op = {**op, "params": params}
            for setting, (value, given) in said.items():
                declared.setdefault(setting, []).append((i, str(op["type"]), value, given))
        operators.append(op)
    out["operators"] = operators
    settings: dict[str, Any] = {}
    for setting, votes in declared.items():
        values = list(dict.fromkeys(repr(v) for _, _, v, _ in votes))
        if len(values) > 1:
            detail = ", ".join(
                f"{'the pipeline' if i < 0 else f'operators[{i}] ({kind})'} {value!r}"
                f"{'' if given else ' (the default)'}"
                for i, kind, value, given in votes
            )
            top, _, sub = setting.partition(".")
            where = f"`{top}: {{{sub}: ...}}`" if sub else f"`{top}: ...`"
            raise ConfigError(
                f"this version-1 config gives its operators different {sub or top} values: "
                f"{detail}. Item settings are now declared once for the whole pipeline: give "
                f"every operator the same {sub or top}, or write the config as version 2 with "
                f"{where} and nothing on the operators"
            )
        settings[setting] = votes[0][2]
    targets = {k.partition(".")[2]: v for k, v in settings.items() if k.startswith("targets.")}
    if targets:
        if "key" in settings or "label" in settings:
            raise ConfigError(
                "this version-1 config has a text key or label and image targets; a pipeline "
                "has one item lens"
            )
        out["targets"] = targets  # the default kind of targets (registry.lens_class)
    else:
        out["key"] = settings.get("key")
        out["label"] = settings.get("label", "label")
    out["version"] = FORMAT_VERSION
    return out


def _checked_feed(
    op: _Op, inputs: list[Any], labels: list[Any], rows: list[int] | None
) -> list[Any]:
    """A group's inputs as ``op`` takes them (:class:`Labelled` when it reads labels; ``rows``
    are the group's positions in ``labels``, None for all), validated once."""
    if op.needs_label:
        feed = [Labelled(v, labels[i]) for v, i in zip(inputs, rows or range(len(inputs)))]
    else:
        feed = inputs
    if op.validate_many is not None:
        op.validate_many(feed)
    elif op.validate is not None:
        for x in feed:
            op.validate(x)
    return feed


def _groups(op_at_step: list[int | None]) -> list[tuple[int, list[int]]]:
    """``(operator, item positions)`` for one step, by operator index; None = path ended."""
    if len(op_at_step) == 1:  # one item (Dataset.__getitem__): nothing to group
        return [] if op_at_step[0] is None else [(op_at_step[0], [0])]
    kinds = set(op_at_step)
    if len(kinds) == 1:  # every item at the same operator (a sequence): one group
        only = kinds.pop()
        return [] if only is None else [(only, list(range(len(op_at_step))))]
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


def _check_nonempty(ops: Any) -> None:
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
        raise TypeError(f"ops must be a list of operators, got {type(ops).__name__}")
    if len(ops) == 0:
        raise ValueError("ops must hold at least one operator")


def _common_modality(ops: Sequence[Any]) -> str:
    kinds = {op.modality for op in ops} - {ANY}
    if len(kinds) > 1:
        detail = ", ".join(f"{type(op).__name__}={op.modality!r}" for op in ops)
        raise ValueError(f"operators of incompatible modalities in one pipeline: {detail}")
    return kinds.pop() if kinds else ANY


def _fmt(arr: np.ndarray) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in arr) + "]"
