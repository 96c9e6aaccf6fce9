"""The base class of augkit's operators, and the two smallest operators.

:class:`BaseAugmenter` gives an operator everything beyond the three-member
protocol (:mod:`augkit.protocol`): a seeded ``__call__``, ``augment_batch``,
one final ``apply_batch`` (lengths checked, inputs validated once, then the
``_apply_batch`` hook where real batched work goes), configs read back from
the constructor's arguments, ``repr`` and an availability check for models.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, final

import numpy as np

from ._json import to_jsonable
from .errors import ConfigError
from .protocol import ANY, TEXT, Params, snake_case
from .registry import operator_from_dict, register
from .seeding import (
    BatchStream,
    Rng,
    Stream,
    as_seed,
    batch_rngs,
    epoch_word,
    item_word,
    one_rng,
    resolve_indices,
    seed_word,
    stream_base,
    stream_bases,
)
from .validation import MAX_U64, check_batch, check_int, check_number

__all__ = ["BaseAugmenter", "Identity", "TextAugmenter", "checked_outputs", "scale_magnitude"]

_Op = TypeVar("_Op", bound="BaseAugmenter")


#: From this many items on, a group's parameters are drawn in numpy through an
#: operator's ``sample_params_batch`` hook; below it, item by item. The values
#: are the same either way; small groups are faster item by item
#: (benchmarks/pipeline_overhead.py).
BATCH_MIN = 24


def draw_params(
    who: str,
    sample: Callable[[Any, Any], Any],
    sample_batch: Callable[[list[Any], BatchStream], Any] | None,
    xs: list[Any],
    words: list[int],
    stream: int,
) -> list[Any]:
    """Every item's parameters from stream ``stream`` of its word: the seeding rule.

    ``sample_params_batch`` (when the operator has it) draws a large group
    at once from a :class:`~augkit.seeding.BatchStream`; otherwise one
    :class:`~augkit.seeding.Stream`, re-positioned per item, goes to
    ``sample_params``. Both give each item the same values.
    """
    if sample_batch is not None and len(xs) >= BATCH_MIN:
        bases = stream_bases(np.array(words, dtype=np.uint64), stream)
        out = list(sample_batch(xs, BatchStream(bases)))
        if len(out) != len(xs):
            raise RuntimeError(
                f"{who}.sample_params_batch returned {len(out)} parameter sets for {len(xs)} inputs"
            )
        return out
    s = Stream(0)
    params = []
    for x, w in zip(xs, words):
        s._base = stream_base(w, stream)
        s._d = 0
        s._generator = None
        params.append(sample(x, s))
    return params


def checked_outputs(who: str, outs: Any, n: int) -> list[Any]:
    """``outs`` as a list of ``n`` outputs, or a ``RuntimeError`` naming the operator ``who``."""
    out = outs if isinstance(outs, list) else list(outs)
    if len(out) != n:
        raise RuntimeError(f"{who}.apply_batch returned {len(out)} outputs for {n} inputs")
    return out


class BaseAugmenter:
    """Everything an operator needs beyond ``modality``, ``sample_params`` and ``apply``.

    Subclasses set ``modality``, implement :meth:`apply` (and
    :meth:`sample_params` if they are random), keep each constructor argument
    as an attribute of the same name (that is how :meth:`get_config`,
    ``repr`` and configs work, as in scikit-learn), and override
    :meth:`_apply_batch` when one batched call is cheaper than a loop. They
    do not override :meth:`apply_batch`: it checks and validates, then calls
    the hook.
    """

    modality: str = ANY
    #: The name in traces and configs: the registered name, else the class name in snake_case.
    name: str = "base_augmenter"
    #: True: the operator reads the item's label; it gets ``Labelled(value, label)`` items.
    needs_label: bool = False
    #: The constructor arguments that set the operator's strength (numbers, or sequences
    #: of numbers such as a ``(min, max)`` range), which :meth:`with_magnitude` scales.
    #: Empty: the operator declares no magnitude. A class attribute, or set per
    #: instance when the configuration decides which arguments matter.
    magnitude_params: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "apply_batch" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides apply_batch, which BaseAugmenter keeps final (it "
                "checks lengths and validates inputs once); override _apply_batch instead"
            )
        if "name" not in cls.__dict__:
            cls.name = snake_case(cls.__name__)

    # -- the two halves -------------------------------------------------
    def validate_input(self, x: Any) -> None:
        """Raise ``TypeError``/``ValueError`` for inputs this operator cannot take."""

    def sample_params(self, x: Any, rng: Rng) -> Params:
        """Draw every random choice for input ``x`` from ``rng``."""
        return {}

    def apply(self, x: Any, params: Params) -> Any:
        """Apply the operator with fixed parameters; pure and deterministic.

        Implement ``apply``, or :meth:`_apply_batch` for operators whose work
        is batched by nature (a model), or both; the one not implemented
        follows from the other.
        """
        if type(self)._apply_batch is BaseAugmenter._apply_batch:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither apply nor _apply_batch"
            )
        return self._apply_batch([x], [params])[0]

    @final
    def apply_batch(self, xs: Sequence[Any], params: Sequence[Params]) -> list[Any]:
        """``apply`` for many inputs: lengths checked, each input validated once, one call of
        the :meth:`_apply_batch` hook."""
        xs = check_batch("xs", xs, one="apply(x, params)")
        params = check_batch("params", params, one="apply(x, params)")
        if len(xs) != len(params):
            raise ValueError(f"got {len(xs)} inputs but {len(params)} parameter sets")
        for x in xs:
            self.validate_input(x)
        return checked_outputs(self.name, self._apply_batch(xs, params), len(xs))

    def _apply_batch(self, xs: list[Any], params: list[Params]) -> list[Any]:
        """The batched work behind :meth:`apply_batch`: inputs already validated.

        ``[apply(x, p) for x, p in zip(xs, params)]`` by default; override it
        where one call for many items is cheaper (a model's forward pass).
        """
        return [self.apply(x, p) for x, p in zip(xs, params)]

    # -- convenience ----------------------------------------------------
    def __call__(self, x: Any, *, seed: int | None = None, rng: Rng | None = None) -> Any:
        """Augment one input: ``apply(x, sample_params(x, rng))``.

        ``seed`` gives the same result as item 0 of :meth:`augment_batch` with
        that seed; ``rng`` uses a generator you manage. With neither, fresh
        entropy is drawn.
        """
        gen = one_rng(seed, rng)
        self.validate_input(x)
        params = self.sample_params(x, gen)
        if type(self)._apply_batch is BaseAugmenter._apply_batch:
            return self.apply(x, params)  # what the default hook would do, one call less
        return self._apply_batch([x], [params])[0]

    def augment_batch(
        self,
        xs: Sequence[Any],
        *,
        seed: int | None = None,
        rngs: Sequence[np.random.Generator] | None = None,
        epoch: int = 0,
        indices: Sequence[int] | None = None,
    ) -> list[Any]:
        """Augment a batch; item ``i`` uses ``item_rng(seed, epoch, indices[i])`` (or ``rngs[i]``).

        The result for an item does not depend on the rest of the batch.
        """
        xs = check_batch("xs", xs, one="op(x)")
        for x in xs:
            self.validate_input(x)
        if rngs is not None:
            gens = batch_rngs(len(xs), seed=seed, rngs=rngs, epoch=epoch, indices=indices)
            params = [self.sample_params(x, g) for x, g in zip(xs, gens)]
        else:
            idx = resolve_indices(len(xs), indices)
            ew = epoch_word(
                seed_word(as_seed(seed)), check_int("epoch", epoch, low=0, high=MAX_U64)
            )
            words = [item_word(ew, i) for i in idx]
            batch = getattr(self, "sample_params_batch", None)
            params = draw_params(self.name, self.sample_params, batch, xs, words, 0)
        return checked_outputs(self.name, self._apply_batch(xs, params), len(xs))

    # -- availability -------------------------------------------------
    def check_available(self) -> None:
        """Raise if a model, data file or library this operator needs is missing here.

        Cheap and offline: it resolves paths and cache entries, and loads no
        weights, so :meth:`augkit.Pipeline.check_available` (which ``augkit
        augment`` runs before it creates any output file, and ``augkit
        describe`` reports as a warning) can ask every operator. Raises
        :class:`ModelUnavailableError` naming what is missing and how to
        provide it (``ImportError`` for a missing package).

        Model-backed operators override it. The default asks the components
        the operator holds (attribute values with a ``check_available`` method
        of their own, such as a word source), so an operator that takes a
        model-backed component needs no code for it.
        """
        for value in getattr(self, "__dict__", {}).values():
            check = getattr(value, "check_available", None)
            if callable(check) and not isinstance(value, type) and value is not self:
                check()

    # -- configuration --------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, read back from attributes of the same name."""
        config: dict[str, Any] = {}
        for pname, param in inspect.signature(type(self).__init__).parameters.items():
            if pname == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if not hasattr(self, pname):
                raise TypeError(
                    f"{type(self).__name__} does not keep constructor argument {pname!r} "
                    "as an attribute; override get_config()"
                )
            config[pname] = getattr(self, pname)
        return config

    def to_dict(self) -> dict[str, Any]:
        """``{"type": name, "params": {...}}`` with JSON-safe parameters."""
        try:
            params = to_jsonable(self.get_config())
        except TypeError as exc:
            raise ConfigError(f"{self!r} cannot be serialised: {exc}") from None
        return {"type": self.name, "params": params}

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> BaseAugmenter:
        """Build an operator from :meth:`to_dict`'s output (any registered type)."""
        return operator_from_dict(config)  # type: ignore[no-any-return]

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> BaseAugmenter:
        """This class built from the ``params`` of a config: ``cls(**params)``.

        :func:`operator_from_dict` (and so every config reader) calls it;
        override it to build differently from a config, for example to defer
        importing a heavy library until the operator is first used.
        """
        return cls(**params)

    def with_magnitude(self: _Op, magnitude: float) -> _Op:
        """A copy of this operator at ``magnitude`` (in ``(0, 1]``) of its strength.

        Each of :attr:`magnitude_params` is multiplied by ``magnitude``
        (:func:`scale_magnitude`); the other arguments are kept, and
        ``with_magnitude(1.0)`` is an equal copy. The operator as constructed
        is magnitude 1: ``Rotate(30).with_magnitude(0.5)`` rotates within
        ±15°. :func:`augkit.policy.search_policy` searches over such copies
        (its ``magnitudes``), as AutoAugment searches magnitude levels.

        >>> from augkit.image import Rotate
        >>> Rotate(30).with_magnitude(0.5).degrees
        (-15.0, 15.0)
        """
        if not self.magnitude_params:
            raise TypeError(
                f"{type(self).__name__} declares no magnitude (its magnitude_params is empty)"
            )
        m = check_magnitude("magnitude", magnitude)
        config = self.get_config()
        for pname in self.magnitude_params:
            config[pname] = scale_magnitude(config[pname], m)
        return type(self).from_config(config)  # type: ignore[return-value]

    def __repr__(self) -> str:
        try:
            cfg = self.get_config()
        except TypeError:
            return f"{type(self).__name__}()"
        args = ", ".join(f"{k}={v!r}" for k, v in cfg.items())
        return f"{type(self).__name__}({args})"


class TextAugmenter(BaseAugmenter):
    """Base of text operators: inputs must be ``str``."""

    modality: str = TEXT

    def validate_input(self, x: Any) -> None:
        if not isinstance(x, str):
            raise TypeError(f"{type(self).__name__} takes str, got {type(x).__name__}")

    def validate_inputs(self, xs: list[Any]) -> None:
        """:meth:`validate_input` for many inputs at once (the pipeline's per-step check)."""
        if not set(map(type, xs)) <= {str}:  # map(type) runs in C: a fifth of all()'s cost
            for x in xs:
                self.validate_input(x)


@register("identity")
class Identity(BaseAugmenter):
    """Returns its input unchanged; useful as an explicit 'no-op' state of a chain."""

    modality: str = ANY

    def apply(self, x: Any, params: Params) -> Any:
        return x


def check_magnitude(name: str, value: Any) -> float:
    """``value`` as a magnitude: a finite number in ``(0, 1]``."""
    return check_number(name, value, low=0.0, high=1.0, low_inclusive=False)


def scale_magnitude(value: Any, magnitude: float) -> Any:
    """``value`` (a number, or a sequence of numbers) times ``magnitude``.

    Floats are multiplied; integers are multiplied and rounded, and stay at
    least 1 when they were positive (a strength never rounds away to
    nothing); sequences are scaled element by element into a tuple.

    >>> scale_magnitude((-30.0, 30.0), 0.5), scale_magnitude(3, 0.25), scale_magnitude(0.2, 0.5)
    ((-15.0, 15.0), 1, 0.1)
    """
    if isinstance(value, bool):
        raise TypeError(f"a magnitude parameter must be a number, got {value!r}")
    if isinstance(value, int):
        return max(1, round(value * magnitude)) if value > 0 else value
    if isinstance(value, float):
        return value * magnitude
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return tuple(scale_magnitude(v, magnitude) for v in value)
    raise TypeError(
        f"a magnitude parameter must be a number or a sequence of numbers, got "
        f"{type(value).__name__}"
    )
