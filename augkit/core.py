"""The Augmenter protocol, its base classes, seeding helpers and errors.

Every augkit operator splits its work in two: :meth:`sample_params` draws all
randomness from a :class:`numpy.random.Generator`, :meth:`apply` is a pure
function of the input and those parameters. Everything else (traces, replay,
batching, the pipeline) is built on that split.
"""

from __future__ import annotations

import importlib
import inspect
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

__all__ = [
    "ANY",
    "IMAGE",
    "TEXT",
    "AugkitError",
    "Augmenter",
    "BaseAugmenter",
    "ConfigError",
    "ItemStreams",
    "ModelUnavailableError",
    "TextAugmenter",
    "check_batch",
    "check_choice",
    "check_fraction",
    "check_int",
    "check_number",
    "fresh_seed",
    "get_operator_class",
    "item_rng",
    "register",
    "registered_operators",
    "seed_key",
    "to_jsonable",
]

TEXT = "text"
IMAGE = "image"
ANY = "any"

Params = dict[str, Any]


# --------------------------------------------------------------------------- errors


class AugkitError(Exception):
    """Base class of the errors augkit raises on its own account."""


class ConfigError(AugkitError, ValueError):
    """A configuration (dict / YAML / JSON) that cannot be turned into an object."""


class ModelUnavailableError(AugkitError, OSError):
    """A model-backed operator could not find or load its model."""


# --------------------------------------------------------------------------- validation


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a float, or raise naming ``name`` and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    lo = "[" if low_inclusive else "("
    hi = "]" if high_inclusive else ")"
    rng = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if math.isnan(v):
        raise ValueError(f"{name} must be in {rng}, got NaN")
    too_low = low is not None and (v < low or (v == low and not low_inclusive))
    too_high = high is not None and (v > high or (v == high and not high_inclusive))
    if too_low or too_high:
        raise ValueError(f"{name} must be in {rng}, got {value!r}")
    return v


def check_fraction(name: str, value: Any) -> float:
    """A probability or rate in [0, 1]."""
    return check_number(name, value, low=0.0, high=1.0)


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the allowed range."""
    # The common case first: it is on the per-item path of every pipeline call.
    if type(value) is int and (low is None or value >= low) and (high is None or value <= high):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        rng = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ValueError(f"{name} must be an integer in {rng}, got {v}")
    return v


def check_choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    """``value`` if it is one of the ``allowed`` names, or raise naming ``name`` and them."""
    choices = ", ".join(repr(a) for a in allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}; got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def check_batch(name: str, xs: Any, *, one: str = "op(x)") -> list[Any]:
    """A batch as a list of its items; a str, bytes or mapping is one item, not a batch.

    Iterating ``"abc"`` would augment three one-character texts, and a dict
    its keys: both are a ``TypeError`` that names ``one``, the call for a
    single item.
    """
    if isinstance(xs, (str, bytes, bytearray, Mapping)):
        what = "a mapping" if isinstance(xs, Mapping) else type(xs).__name__
        raise TypeError(
            f"{name} must be a sequence of items such as a list, got {what}; "
            f"for one item use {one} or pass [x]"
        )
    try:
        return list(xs)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of items such as a list, got {type(xs).__name__}"
        ) from None


# --------------------------------------------------------------------------- seeding


def fresh_seed() -> int:
    """Draw a new 128-bit seed from the operating system's entropy."""
    return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]


_MAX_U64 = 2**64 - 1


def _check_seed(seed: Any) -> int:
    return check_int("seed", seed, low=0)


@lru_cache(maxsize=1024)
def seed_key(seed: int) -> tuple[int, int]:
    """The 128-bit Philox key of a user seed, drawn through :class:`~numpy.random.SeedSequence`."""
    words = np.random.SeedSequence(_check_seed(seed)).generate_state(2, np.uint64)
    return int(words[0]), int(words[1])


def _counter(epoch: int, index: int, stream: int) -> list[int]:
    # Philox counts blocks in word 0; words 1-3 name the stream. Every
    # (epoch, index, stream) thus owns 2**64 blocks no other item touches.
    return [
        0,
        check_int("stream", stream, low=0, high=_MAX_U64),
        check_int("index", index, low=0, high=_MAX_U64),
        check_int("epoch", epoch, low=0, high=_MAX_U64),
    ]


def item_rng(seed: int, epoch: int = 0, index: int = 0, stream: int = 0) -> np.random.Generator:
    """The :class:`~numpy.random.Generator` of one item: the seeding rule of augkit.

    The randomness used for an item is a function of ``(seed, epoch, index)``
    only, never of the batch it is in, the worker that runs it, or the order
    of calls. ``seed`` goes through :class:`~numpy.random.SeedSequence` to a
    128-bit key of the counter-based Philox generator; ``(epoch, index,
    stream)`` select a disjoint block of its counter space. A pipeline samples
    an item's path from stream 0 and the parameters of step ``k`` from stream
    ``k``; a stand-alone operator uses stream 0.

    Counter-based streams are the point: re-positioning one generator costs
    under a microsecond, where building a SeedSequence-seeded generator per
    item costs about 12 (see :class:`ItemStreams`).
    """
    # Explicit uint64 arrays: numpy converts a list of large Python ints
    # through float64 and would silently round the key.
    bitgen = np.random.Philox(
        counter=np.array(_counter(epoch, index, stream), dtype=np.uint64),
        key=np.array(seed_key(seed), dtype=np.uint64),
    )
    return np.random.Generator(bitgen)


class ItemStreams:
    """Many items' generators from one Philox object, re-positioned in place.

    ``at(epoch, index, stream)`` returns a generator in exactly the state of
    ``item_rng(seed, epoch, index, stream)``. It is the same object every
    time, so it is valid only until the next ``at`` call: hand it to one
    ``sample_params`` call at a time, never keep it. Not thread-safe; use
    one instance per thread.
    """

    __slots__ = ("_bitgen", "_counter", "_state", "generator", "seed")

    def __init__(self, seed: int) -> None:
        self.seed = _check_seed(seed)
        key = np.array(seed_key(self.seed), dtype=np.uint64)
        self._bitgen = np.random.Philox(key=key)
        self.generator = np.random.Generator(self._bitgen)
        self._counter = np.zeros(4, dtype=np.uint64)
        self._state: dict[str, Any] = {
            "bit_generator": "Philox",
            "state": {"counter": self._counter, "key": key},
            "buffer": np.zeros(4, dtype=np.uint64),
            "buffer_pos": 4,
            "has_uint32": 0,
            "uinteger": 0,
        }

    def at(self, epoch: int, index: int, stream: int) -> np.random.Generator:
        """The generator of stream ``stream`` of item ``(epoch, index)``; see the class doc."""
        c = self._counter
        c[0] = 0
        c[1] = stream
        c[2] = index
        c[3] = epoch
        self._bitgen.state = self._state  # type: ignore[assignment]
        return self.generator


# --------------------------------------------------------------------------- JSON


def to_jsonable(value: Any) -> Any:
    """Convert parameters to plain JSON types (numpy scalars/arrays, tuples -> lists).

    The pipeline applies the converted parameters, so what a trace replays
    after a JSON round trip is exactly what was applied.
    """
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if not math.isfinite(value):
            raise ValueError(f"parameters must be finite to be traced, got {value}")
        return value
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise TypeError(f"parameter names must be str, got {type(k).__name__}")
            out[k] = to_jsonable(v)
        return out
    if t is list or t is tuple:
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return to_jsonable(float(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, Mapping):
        return to_jsonable(dict(value))
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot represent {type(value).__name__} in JSON parameters")


# --------------------------------------------------------------------------- protocol


@runtime_checkable
class Augmenter(Protocol):
    """What every augkit operator is.

    ``modality`` names what it accepts (``"text"``, ``"image"`` or ``"any"``).
    ``sample_params`` draws all randomness; ``apply`` and ``apply_batch`` are
    pure and deterministic. ``__call__`` and ``augment_batch`` are the two
    together. Implementations get all of this from :class:`BaseAugmenter`.
    """

    modality: str
    name: str

    def validate_input(self, x: Any) -> None: ...

    def sample_params(self, x: Any, rng: np.random.Generator) -> Params: ...

    def apply(self, x: Any, params: Params) -> Any: ...

    def apply_batch(self, xs: Sequence[Any], params: Sequence[Params]) -> list[Any]: ...

    def __call__(
        self, x: Any, *, seed: int | None = None, rng: np.random.Generator | None = None
    ) -> Any: ...

    def augment_batch(
        self,
        xs: Sequence[Any],
        *,
        seed: int | None = None,
        rngs: Sequence[np.random.Generator] | None = None,
    ) -> list[Any]: ...

    def to_dict(self) -> dict[str, Any]: ...


# --------------------------------------------------------------------------- registry

_REGISTRY: dict[str, type[BaseAugmenter]] = {}

# Built-in operators live in modules with heavy optional imports, so they are
# registered when their module is imported. This fixed table says which
# module defines which name; configs only ever name operators, never modules.
_BUILTIN_MODULES: dict[str, str] = {
    "random_insertion": "augkit.text.insertion",
    "chunk_recombination": "augkit.text.chunks",
    "back_translation": "augkit.text.backtranslation",
    "nlpaug": "augkit.adapters.nlpaug",
    "rotate": "augkit.image.geometry",
    "random_crop": "augkit.image.geometry",
    "center_crop": "augkit.image.geometry",
    "random_resized_crop": "augkit.image.geometry",
    "horizontal_flip": "augkit.image.geometry",
    "vertical_flip": "augkit.image.geometry",
    "identity": "augkit.core",
}

A = TypeVar("A", bound="type[BaseAugmenter]")


def register(name: str) -> Callable[[A], A]:
    """Class decorator: make an operator constructible from configs by ``name``."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"operator name must be an identifier, got {name!r}")

    def deco(cls: A) -> A:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"operator name {name!r} is already registered to {existing!r}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def get_operator_class(name: str) -> type[BaseAugmenter]:
    """The registered operator class called ``name``."""
    if name not in _REGISTRY and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        known = sorted(set(_REGISTRY) | set(_BUILTIN_MODULES))
        raise ConfigError(
            f"unknown operator type {name!r}; known: {', '.join(known)} "
            "(register your own with @augkit.register('name'))"
        ) from None


def registered_operators() -> list[str]:
    """Names of every operator that configs can refer to."""
    return sorted(set(_REGISTRY) | set(_BUILTIN_MODULES))


# --------------------------------------------------------------------------- base class


class BaseAugmenter:
    """Defaults for the :class:`Augmenter` protocol.

    Subclasses set ``modality``, implement :meth:`apply` (and
    :meth:`sample_params` if they are random), keep each constructor argument
    as an attribute of the same name (that is how :meth:`get_config`,
    ``repr`` and configs work, as in scikit-learn), and override
    :meth:`apply_batch` when a batched call is cheaper than a loop.
    """

    modality: str = ANY
    name: str = "augmenter"

    # -- the two halves -------------------------------------------------
    def validate_input(self, x: Any) -> None:
        """Raise ``TypeError``/``ValueError`` for inputs this operator cannot take."""

    def sample_params(self, x: Any, rng: np.random.Generator) -> Params:
        """Draw every random choice for input ``x`` from ``rng``."""
        return {}

    def apply(self, x: Any, params: Params) -> Any:
        """Apply the operator with fixed parameters; pure and deterministic."""
        raise NotImplementedError

    def apply_batch(self, xs: Sequence[Any], params: Sequence[Params]) -> list[Any]:
        """``[apply(x, p) for x, p in zip(xs, params)]``; overridden where batching pays."""
        if len(xs) != len(params):
            raise ValueError(f"got {len(xs)} inputs but {len(params)} parameter sets")
        return [self.apply(x, p) for x, p in zip(xs, params)]

    # -- convenience ----------------------------------------------------
    def __call__(
        self, x: Any, *, seed: int | None = None, rng: np.random.Generator | None = None
    ) -> Any:
        """Augment one input: ``apply(x, sample_params(x, rng))``.

        ``seed`` gives the same result as item 0 of :meth:`augment_batch` with
        that seed; ``rng`` uses a generator you manage. With neither, fresh
        entropy is drawn.
        """
        gen = _one_rng(seed, rng)
        self.validate_input(x)
        return self.apply(x, self.sample_params(x, gen))

    def augment_batch(
        self,
        xs: Sequence[Any],
        *,
        seed: int | None = None,
        rngs: Sequence[np.random.Generator] | None = None,
        epoch: int = 0,
        indices: Sequence[int] | None = None,
    ) -> list[Any]:
        """Augment a batch; item ``i`` uses ``item_rng(seed, epoch, indices[i])``.

        The result for an item does not depend on the rest of the batch.
        """
        xs = check_batch("xs", xs)
        for x in xs:
            self.validate_input(x)
        params = _sample_batch(self, xs, seed=seed, rngs=rngs, epoch=epoch, indices=indices)
        return self.apply_batch(xs, params)

    # -- availability ---------------------------------------------------
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
        return operator_from_dict(config)

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> BaseAugmenter:
        """This class built from the ``params`` of a config: ``cls(**params)``.

        :func:`operator_from_dict` (and so every config reader) calls it;
        override it to build differently from a config, for example to defer
        importing a heavy library until the operator is first used.
        """
        return cls(**params)

    def __repr__(self) -> str:
        try:
            cfg = self.get_config()
        except TypeError:
            return f"{type(self).__name__}()"
        args = ", ".join(f"{k}={v!r}" for k, v in cfg.items())
        return f"{type(self).__name__}({args})"


def operator_from_dict(config: Mapping[str, Any]) -> BaseAugmenter:
    """Look up ``config["type"]`` in the registry and construct it from ``config["params"]``."""
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
    try:
        return cls.from_config(params)
    except (TypeError, ValueError) as exc:
        # Constructors validate with ValueError/TypeError; from a config either
        # is a bad config, as Pipeline.from_dict promises.
        raise ConfigError(f"bad parameters for operator {config['type']!r}: {exc}") from None


def _one_rng(seed: int | None, rng: np.random.Generator | None) -> np.random.Generator:
    if seed is not None and rng is not None:
        raise ValueError("give seed or rng, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        return rng
    return item_rng(fresh_seed() if seed is None else seed, 0, 0)


def _sample_batch(
    op: Augmenter,
    xs: list[Any],
    *,
    seed: int | None,
    rngs: Sequence[np.random.Generator] | None,
    epoch: int,
    indices: Sequence[int] | None,
) -> list[Params]:
    if rngs is not None:
        gens = batch_rngs(len(xs), seed=seed, rngs=rngs, epoch=epoch, indices=indices)
        return [op.sample_params(x, g) for x, g in zip(xs, gens)]
    idx = resolve_indices(len(xs), indices)
    epoch = check_int("epoch", epoch, low=0, high=_MAX_U64)
    streams = take_streams(fresh_seed() if seed is None else _check_seed(seed))
    try:
        return [op.sample_params(x, streams.at(epoch, i, 0)) for x, i in zip(xs, idx)]
    finally:
        give_back_streams(streams)


def batch_rngs(
    n: int,
    *,
    seed: int | None = None,
    rngs: Sequence[np.random.Generator] | None = None,
    epoch: int = 0,
    indices: Sequence[int] | None = None,
) -> list[np.random.Generator]:
    """One generator per item of a batch, by the seeding rule."""
    if rngs is not None:
        if seed is not None or indices is not None:
            raise ValueError("give rngs, or seed (with epoch/indices), not both")
        gens = list(rngs)
        if len(gens) != n:
            raise ValueError(f"rngs has {len(gens)} generators for {n} inputs")
        for g in gens:
            if not isinstance(g, np.random.Generator):
                raise TypeError(f"rngs must hold numpy.random.Generator, got {type(g).__name__}")
        return gens
    idx = resolve_indices(n, indices)
    s = fresh_seed() if seed is None else seed
    epoch = check_int("epoch", epoch, low=0, high=_MAX_U64)
    return [item_rng(s, epoch, i) for i in idx]


# Building a Philox generator costs ~10 µs, re-positioning one <1 µs: each
# thread keeps a few ItemStreams per seed. A caller takes its instance out of
# the pool while it runs, so a nested call with the same seed (an operator
# that runs a pipeline) builds its own instead of moving the caller's.
_pool = threading.local()


def take_streams(seed: int) -> ItemStreams:
    """An :class:`ItemStreams` for ``seed`` from this thread's pool (or a new one)."""
    cache: dict[int, ItemStreams] | None = getattr(_pool, "streams", None)
    if cache is not None:
        streams = cache.pop(seed, None)
        if streams is not None:
            return streams
    return ItemStreams(seed)


def give_back_streams(streams: ItemStreams) -> None:
    """Return an :class:`ItemStreams` taken with :func:`take_streams`."""
    cache: dict[int, ItemStreams] | None = getattr(_pool, "streams", None)
    if cache is None:
        cache = _pool.streams = {}
    if len(cache) >= 8:
        cache.pop(next(iter(cache)))
    cache[streams.seed] = streams


def resolve_indices(n: int, indices: Sequence[int] | None) -> list[int]:
    """``indices`` validated (non-negative ints, one per item), or ``range(n)``."""
    if indices is None:
        return list(range(n))
    idx = [check_int("indices[]", i, low=0, high=_MAX_U64) for i in indices]
    if len(idx) != n:
        raise ValueError(f"indices has {len(idx)} entries for {n} inputs")
    return idx


# --------------------------------------------------------------------------- small bases


class TextAugmenter(BaseAugmenter):
    """Base of text operators: inputs must be ``str``."""

    modality: str = TEXT

    def validate_input(self, x: Any) -> None:
        if not isinstance(x, str):
            raise TypeError(f"{type(self).__name__} takes str, got {type(x).__name__}")


@register("identity")
class Identity(BaseAugmenter):
    """Returns its input unchanged; useful as an explicit 'no-op' state of a chain."""

    modality: str = ANY

    def apply(self, x: Any, params: Params) -> Any:
        return x
