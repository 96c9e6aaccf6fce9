"""The operator contract, checked: one function for every operator, built in or yours.

>>> from augkit import Identity
>>> from augkit.testing import check_operator
>>> check_operator(Identity(), ["a text", ""])

:func:`check_operator` runs an operator on example inputs and raises
:class:`ContractError` (an ``AssertionError``) naming the first rule it
breaks. The rules are what the rest of augkit builds on:

1. **protocol**: ``modality`` is ``"text"``, ``"image"`` or ``"any"``;
   ``sample_params`` and ``apply`` exist;
2. **parameters** are a mapping of plain JSON values (numpy scalars are
   converted), the same for the same generator state;
3. **purity**: ``apply`` is deterministic and leaves its input unchanged;
4. **kinds kept**: a str stays a str, an array keeps its type and dtype, a
   tensor its dtype and device, a PIL image its mode;
5. **replay**: ``apply`` gives the same output for the parameters as drawn,
   as JSON values, and after a JSON round trip;
6. **batch == per item**: ``apply_batch`` (when the operator has one) equals
   ``apply`` item by item, ``sample_params_batch`` (when it has one) draws
   from a :class:`~augkit.seeding.BatchStream` exactly what ``sample_params``
   draws from each item's :class:`~augkit.seeding.Stream`, and
   ``Pipeline.augment_batch`` equals ``augment``;
7. **calls**: ``op(x, rng=g)`` (for augkit's own operators and pipelines)
   is ``apply(x, sample_params(x, g))``;
8. **in a pipeline**: traces replay, also from JSON; a config round trip
   (when the operator has ``to_dict`` and its name is registered) gives the
   same outputs;
9. **variants**: ``augment(x, n=3)`` gives three outputs equal to the batch
   path, each reproducible; with ``distinct=True`` every variant differs
   from the input and the earlier ones, or its trace says it could not;
10. **magnitude** (when ``magnitude_params`` is not empty): every name in it
    is a constructor argument; ``with_magnitude(1.0)`` is an equal copy
    (same config, same outputs); ``with_magnitude(0.5)`` is the same type,
    changes no other argument, and passes rules 1 to 9 itself.

Label-aware operators (``needs_label``) take
:class:`augkit.items.Labelled` examples.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._json import to_jsonable
from ..base import BaseAugmenter
from ..errors import ConfigError
from ..items import Labelled, values_equal
from ..pipeline import Pipeline
from ..protocol import MODALITIES, Augmenter
from ..registry import get_operator_class
from ..seeding import (
    BatchStream,
    Stream,
    item_rng,
    item_word,
    seed_epoch_word,
    stream_base,
    stream_bases,
)
from ..trace import Trace

__all__ = ["ContractError", "check_operator"]


class ContractError(AssertionError):
    """An operator broke a rule of the contract (the message names the rule and the input)."""


def _fail(rule: str, detail: str) -> None:
    raise ContractError(f"{rule}: {detail}")


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(x: Any) -> tuple[Any, ...]:
    """What must survive an operator: the type, and dtype/device/mode where there is one."""
    value = x.value if isinstance(x, Labelled) else x
    out: tuple[Any, ...] = (type(value),)
    for attr in ("dtype", "device", "mode"):
        if hasattr(value, attr) and not callable(getattr(value, attr)):
            out += (str(getattr(value, attr)),)
    return out


def _snapshot(x: Any) -> Any:
    try:
        return copy.deepcopy(x)
    except Exception:  # an object that cannot be copied cannot be checked for mutation
        return None


def check_operator(
    op: Any,
    examples: Sequence[Any],
    *,
    seeds: Sequence[int] = (0, 1, 7),
    distinct_possible: bool = False,
    item: Mapping[str, Any] | None = None,
) -> None:
    """Check ``op`` against the operator contract (module doc) on ``examples``.

    ``examples`` are inputs the operator takes (:class:`~augkit.items.Labelled`
    ones for a label-aware operator). With ``distinct_possible=True`` every
    example must admit three distinct variants within the default tries
    (otherwise only the flagging is checked). ``item``: the item lens of the
    pipelines the operator is checked in (``{"targets": ImageTargets()}``;
    default: items as they are). Raises :class:`ContractError`.
    """
    _check_operator(op, examples, seeds, distinct_possible, item, magnitude=True)


def _check_operator(
    op: Any,
    examples: Sequence[Any],
    seeds: Sequence[int],
    distinct_possible: bool,
    item: Mapping[str, Any] | None,
    *,
    magnitude: bool,
) -> None:
    examples = list(examples)
    if not examples:
        raise ValueError("examples must hold at least one input")
    name = getattr(op, "name", type(op).__name__)
    # 1. protocol
    if not isinstance(op, Augmenter):
        _fail("protocol", f"{name} lacks modality, sample_params or apply")
    if op.modality not in MODALITIES:
        _fail("protocol", f"{name}.modality is {op.modality!r}, not one of {MODALITIES}")
    needs_label = bool(getattr(op, "needs_label", False))
    # augkit's own calling convention; a duck-typed operator's __call__ is its own business.
    own_call = isinstance(op, (BaseAugmenter, Pipeline))
    for x in examples:
        if needs_label != isinstance(x, Labelled):
            _fail(
                "examples",
                f"{name} {'needs' if needs_label else 'does not take'} Labelled inputs; "
                f"got {_short(x)}",
            )

    for seed in seeds:
        all_params = []
        for i, x in enumerate(examples):
            # 2. parameters
            params = op.sample_params(x, item_rng(seed, 0, i))
            if not isinstance(params, Mapping):
                _fail("parameters", f"{name}.sample_params returned {type(params).__name__}")
            try:
                plain = to_jsonable(params)
            except (TypeError, ValueError) as exc:
                _fail("parameters", f"{name} parameters are not JSON values: {exc}")
            again = to_jsonable(op.sample_params(x, item_rng(seed, 0, i)))
            if again != plain:
                _fail("parameters", f"{name} drew {again} then {plain} from one generator state")
            # 3. purity, 4. kinds
            before = _snapshot(x)
            out = op.apply(x, plain)
            if before is not None and not values_equal(before, x):
                _fail("purity", f"{name}.apply changed its input {_short(before)}")
            if not values_equal(op.apply(x, plain), out):
                _fail("purity", f"{name}.apply gave two outputs for {_short(x)}")
            if _kind(out) != _kind(x):
                _fail("kinds", f"{name} turned {_kind(x)} into {_kind(out)}")
            # 5. replay through JSON; untraced pipelines apply the parameters as drawn
            restored = json.loads(json.dumps(plain))
            if not values_equal(op.apply(x, restored), out):
                _fail("replay", f"{name}.apply differs after a JSON round trip of {plain}")
            if not values_equal(op.apply(x, params), out):
                _fail("replay", f"{name}.apply differs on the parameters as drawn and as JSON")
            # 7. calls: rng= is the generator sample_params draws from
            if own_call and i == 0:
                called = op(x, rng=item_rng(seed))
                if not values_equal(called, op.apply(x, op.sample_params(x, item_rng(seed)))):
                    _fail("call", f"{name}(x, rng=g) is not apply(x, sample_params(x, g))")
            all_params.append(plain)
        # 6. batch == per item
        _check_batch_sampling(op, name, examples, seed)
        batch = getattr(op, "apply_batch", None)
        if callable(batch):
            outs = batch(examples, all_params)
            singles = [op.apply(x, p) for x, p in zip(examples, all_params)]
            if len(outs) != len(examples) or not all(map(values_equal, outs, singles)):
                _fail("batch", f"{name}.apply_batch differs from apply item by item")
        _check_in_pipeline(op, name, examples, seed, distinct_possible, dict(item or {}))
    # 10. magnitude
    if magnitude and len(getattr(op, "magnitude_params", ())) > 0:
        _check_magnitude(op, name, examples, seeds, item)


def _registered(op: Any) -> bool:
    try:
        return get_operator_class(str(getattr(op, "name", ""))) is type(op)
    except ConfigError:
        return False


def _check_batch_sampling(op: Any, name: str, examples: list[Any], seed: int) -> None:
    hook = getattr(op, "sample_params_batch", None)
    if not callable(hook):
        return
    # Enough items for the numpy path, each example several times at other coordinates.
    xs = (examples * (40 // len(examples) + 1))[:40]
    words = [item_word(seed_epoch_word(seed, 0), i) for i in range(len(xs))]
    batched = hook(xs, BatchStream(stream_bases(np.array(words, dtype=np.uint64), 1)))
    if len(batched) != len(xs):
        _fail("batch", f"{name}.sample_params_batch returned {len(batched)} for {len(xs)} inputs")
    for i, (x, p) in enumerate(zip(xs, batched)):
        alone = to_jsonable(op.sample_params(x, Stream(stream_base(words[i], 1))))
        if to_jsonable(p) != alone:
            _fail(
                "batch",
                f"{name}.sample_params_batch drew {to_jsonable(p)} for {_short(x)}, "
                f"sample_params {alone}",
            )


def _check_in_pipeline(
    op: Any,
    name: str,
    examples: list[Any],
    seed: int,
    distinct_possible: bool,
    lens: dict[str, Any],
) -> None:
    # Labelled examples become (value, label) tuples: the pipeline's lens splits them.
    items = [(x.value, x.label) if isinstance(x, Labelled) else x for x in examples]
    pipe = Pipeline.sequence([op], **(lens or {"key": None}))
    outs, traces = pipe.augment_batch(items, seed=seed, return_traces=True)
    for i, item in enumerate(items):
        alone, trace = pipe.augment(item, seed=seed, index=i, return_trace=True)
        if not values_equal(alone, outs[i]):
            _fail("batch", f"Pipeline.augment_batch differs from augment for {_short(item)}")
        if trace != traces[i]:
            _fail("batch", f"traces differ between augment_batch and augment: {trace}")
        # 8. replay
        if not values_equal(pipe.replay(item, trace), outs[i]):
            _fail("replay", f"a {name} trace does not replay for {_short(item)}")
        if not values_equal(pipe.replay(item, Trace.from_json(trace.to_json())), outs[i]):
            _fail("replay", f"a {name} trace does not replay after JSON for {_short(item)}")
    # Configs name registered operators: an unregistered class has nothing to be read back as.
    if callable(getattr(op, "to_dict", None)) and _registered(op):
        restored = Pipeline.from_json(pipe.to_json())
        if not all(map(values_equal, restored.augment_batch(items, seed=seed), outs)):
            _fail("config", f"{name} gives other outputs after a config round trip")
    # 9. variants
    first = items[0]
    variants, vtraces = pipe.augment(first, seed=seed, n=3, return_trace=True)
    if len(variants) != 3 or [t.variant for t in vtraces] != [0, 1, 2]:
        _fail("variants", f"augment(n=3) gave {len(variants)} outputs")
    batched = pipe.augment_batch([first], seed=seed, n=3)[0]
    if not all(map(values_equal, variants, batched)):
        _fail("variants", "augment(n=3) differs from augment_batch(n=3)")
    if not values_equal(variants[0], pipe.augment(first, seed=seed)):
        _fail("variants", "variant 0 differs from a plain augment() call")
    for out, t in zip(variants, vtraces):
        if not values_equal(pipe.replay(first, Trace.from_json(t.to_json())), out):
            _fail("variants", f"variant {t.variant} of {name} does not replay from its trace")
    distinct, dtraces = pipe.augment(first, seed=seed, n=3, distinct=True, return_trace=True)
    value = first[0] if isinstance(first, tuple) else first
    seen = [value]
    for out, t in zip(distinct, dtraces):
        v = out[0] if isinstance(out, tuple) else out
        clash = any(values_equal(v, s) for s in seen)
        if t.distinct is None or t.distinct == clash:
            _fail("variants", f"distinct flag {t.distinct} for a variant that clashes: {clash}")
        if clash and distinct_possible:
            _fail("variants", f"{name} could not make 3 distinct variants of {_short(first)}")
        seen.append(v)


def _check_magnitude(
    op: Any,
    name: str,
    examples: list[Any],
    seeds: Sequence[int],
    item: Mapping[str, Any] | None,
) -> None:
    declared = tuple(op.magnitude_params)
    if not callable(getattr(op, "with_magnitude", None)) or not callable(
        getattr(op, "get_config", None)
    ):
        _fail("magnitude", f"{name} declares magnitude_params but has no with_magnitude")
    config = op.get_config()
    missing = [p for p in declared if p not in config]
    if missing:
        _fail("magnitude", f"{name}.magnitude_params names {missing}, not constructor arguments")
    same = op.with_magnitude(1.0)
    if type(same) is not type(op) or same.get_config() != config:
        _fail("magnitude", f"{name}.with_magnitude(1.0) is not an equal copy")
    pipes = [Pipeline.sequence([o], **(item or {})) for o in (op, same)]
    for seed in seeds:
        a, b = (p.augment_batch(examples, seed=seed) for p in pipes)
        if not all(map(values_equal, a, b)):
            _fail("magnitude", f"{name}.with_magnitude(1.0) gives other outputs (seed {seed})")
    half = op.with_magnitude(0.5)
    if type(half) is not type(op):
        _fail("magnitude", f"{name}.with_magnitude(0.5) is a {type(half).__name__}")
    changed = {k for k, v in half.get_config().items() if v != config.get(k)}
    if not changed <= set(declared):
        _fail("magnitude", f"{name}.with_magnitude(0.5) changed {sorted(changed - set(declared))}")
    _check_operator(half, examples, seeds, False, item, magnitude=False)
