"""Any nlpaug augmenter as an augkit operator.

nlpaug draws its randomness from process-global sources: Python's
:mod:`random`, NumPy's legacy global ``np.random`` state and, for model-based
augmenters, torch's global generators. :class:`Nlpaug` makes the output a
function of the item's generator: :meth:`Nlpaug.sample_params` draws a seed,
and :meth:`Nlpaug.apply` runs nlpaug with those global sources seeded from
it, inside a process-wide lock, restoring their previous state afterwards.

This module does not import nlpaug: importing it takes seconds (it pulls in
transformers), so an adapter read from a config checks its spec without
nlpaug and builds the nlpaug object on first use.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import random
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._json import to_jsonable
from ..base import TextAugmenter
from ..errors import ConfigError, ModelUnavailableError
from ..registry import register
from ..seeding import Rng
from ..validation import check_choice

__all__ = ["NLPAUG_CLASSES", "ON_ERROR", "Nlpaug", "seeded_global_random"]

#: nlpaug classes that configs may name, and the module each lives in.
#: A fixed table rather than an import path: a config must never be able to
#: import and call an arbitrary object.
NLPAUG_CLASSES: dict[str, str] = {
    "KeyboardAug": "nlpaug.augmenter.char",
    "OcrAug": "nlpaug.augmenter.char",
    "RandomCharAug": "nlpaug.augmenter.char",
    "AntonymAug": "nlpaug.augmenter.word",
    "BackTranslationAug": "nlpaug.augmenter.word",
    "ContextualWordEmbsAug": "nlpaug.augmenter.word",
    "RandomWordAug": "nlpaug.augmenter.word",
    "ReservedAug": "nlpaug.augmenter.word",
    "SpellingAug": "nlpaug.augmenter.word",
    "SplitAug": "nlpaug.augmenter.word",
    "SynonymAug": "nlpaug.augmenter.word",
    "TfIdfAug": "nlpaug.augmenter.word",
    "WordEmbsAug": "nlpaug.augmenter.word",
    "AbstSummAug": "nlpaug.augmenter.sentence",
    "ContextualWordEmbsForSentenceAug": "nlpaug.augmenter.sentence",
    "LambadaAug": "nlpaug.augmenter.sentence",
    "RandomSentAug": "nlpaug.augmenter.sentence",
    "Sequential": "nlpaug.flow",
    "Sometimes": "nlpaug.flow",
}
_FLOWS = ("Sequential", "Sometimes")

ON_ERROR = ("raise", "keep")

# One lock for the whole process: the global random sources are shared by
# every adapter, so two adapters must not reseed them at the same time.
# Reentrant so that an nlpaug augmenter that itself calls an adapter works.
_LOCK = threading.RLock()


@contextmanager
def seeded_global_random() -> Iterator[Callable[[int], None]]:
    """Hold the lock, save the global random state, yield a reseeding function, restore.

    The yielded ``reseed(seed)`` seeds Python's :mod:`random`, NumPy's global
    legacy state and, when torch is already imported, torch's CPU generator
    (and the CUDA generators if CUDA is already initialised; never
    initialises it). Saving and restoring happen once for the whole block,
    which is what makes a batch cheaper than a loop of single calls.
    """
    with _LOCK:
        py_state = random.getstate()
        np_state = np.random.get_state()  # noqa: NPY002 - nlpaug's global state
        torch = sys.modules.get("torch")
        torch_state = None
        cuda_states = None
        if torch is not None:
            torch_state = torch.get_rng_state()
            if torch.cuda.is_initialized():
                cuda_states = torch.cuda.get_rng_state_all()

        def reseed(seed: int) -> None:
            random.seed(seed)
            np.random.seed(seed)  # noqa: NPY002
            if torch is not None:
                torch.default_generator.manual_seed(seed)
                if cuda_states is not None:
                    torch.cuda.manual_seed_all(seed)

        try:
            yield reseed
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)  # noqa: NPY002
            if torch is not None:
                torch.set_rng_state(torch_state)
                if cuda_states is not None:
                    torch.cuda.set_rng_state_all(cuda_states)


# --------------------------------------------------------------------------- specs


def _normalise_spec(spec: Any, where: str = "augmenter") -> dict[str, Any]:
    """Validate a spec ``{"class": name, "kwargs": {...}}`` and return a JSON-safe copy."""
    if isinstance(spec, Nlpaug):
        if spec.spec is None:
            raise ConfigError(f"{where}: {spec!r} was built from an object, not a spec")
        return copy.deepcopy(spec.spec)
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"{where} must be a spec mapping {{'class': name, 'kwargs': {{...}}}}, "
            f"got {type(spec).__name__}"
        )
    unknown = set(spec) - {"class", "kwargs"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {sorted(map(str, unknown))} (allowed: class, kwargs)"
        )
    name = spec.get("class")
    if name not in NLPAUG_CLASSES:
        raise ConfigError(
            f"{where}: nlpaug class {name!r} is not one that configs may name; "
            f"allowed: {', '.join(sorted(NLPAUG_CLASSES))} (wrap other augmenters with "
            "Nlpaug(obj); such an adapter cannot be written to a config)"
        )
    kwargs = spec.get("kwargs") or {}
    if not isinstance(kwargs, Mapping):
        raise ConfigError(f"{where}: kwargs must be a mapping, got {type(kwargs).__name__}")
    out: dict[str, Any] = {}
    for k, v in kwargs.items():
        if not isinstance(k, str):
            raise ConfigError(f"{where}: kwargs names must be str, got {k!r}")
        if k == "flow" and name in _FLOWS:
            if isinstance(v, (str, Mapping)) or not isinstance(v, Sequence):
                raise ConfigError(f"{where}: flow must be a list of specs")
            out[k] = [_normalise_spec(s, f"{where}.flow[{i}]") for i, s in enumerate(v)]
            continue
        try:
            out[k] = to_jsonable(v)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{where}: argument {k}={v!r} of {name} cannot be written to a config ({exc}); "
                "build the augmenter yourself and wrap it with Nlpaug(obj) instead"
            ) from None
    return {"class": name, "kwargs": out}


# NLTK resources that nlpaug's WordNet augmenters use (package to install ->
# resource paths, any one of which will do), and that nlpaug would download
# at construction when they are missing. The tagger lost its "_eng" suffix
# before nltk 3.9; WordNet may be installed zipped.
_WORDNET_RESOURCES = {
    "wordnet": ("corpora/wordnet", "corpora/wordnet.zip"),
    "averaged_perceptron_tagger_eng": (
        "taggers/averaged_perceptron_tagger_eng/",
        "taggers/averaged_perceptron_tagger/",
    ),
}
# Open Multilingual Wordnet: only for languages other than English.
_OMW = {"omw-1.4": ("corpora/omw-1.4", "corpora/omw-1.4.zip")}


def _check_wordnet_data(name: str, kwargs: Mapping[str, Any]) -> None:
    """Refuse to build a WordNet augmenter whose data is missing, before nlpaug downloads it."""
    try:
        import nltk
    except ImportError:
        raise ImportError(f"nlpaug's {name} needs nltk: pip install nltk") from None
    needed = dict(_WORDNET_RESOURCES)
    if kwargs.get("lang", "eng") != "eng":
        needed.update(_OMW)
    missing = []
    for package, resources in needed.items():
        for resource in resources:
            try:
                nltk.data.find(resource)
                break
            except LookupError:
                continue
        else:
            missing.append(package)
    if missing:
        raise ModelUnavailableError(
            f"nlpaug's {name} needs NLTK data that is not installed: {', '.join(missing)} "
            f"(searched {', '.join(map(str, nltk.data.path))}). nlpaug would download it at "
            "run time; augkit does not. Install it once with: python -m nltk.downloader "
            + " ".join(missing)
        )


_NEEDS_NLPAUG = "the nlpaug adapter needs nlpaug: pip install 'augkit[nlpaug]'"


def _needs_wordnet(spec: Mapping[str, Any]) -> bool:
    return bool(
        spec["class"] in ("SynonymAug", "AntonymAug")
        and spec["kwargs"].get("aug_src", "wordnet") == "wordnet"
    )


def _walk(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """A normalised spec and the specs of its flow, depth first."""
    yield spec
    if spec["class"] in _FLOWS:
        for inner in spec["kwargs"].get("flow", []):
            yield from _walk(inner)


def _build(spec: Mapping[str, Any]) -> Any:
    """Construct the nlpaug object a normalised spec describes."""
    name = spec["class"]
    if _needs_wordnet(spec):
        _check_wordnet_data(name, spec["kwargs"])
    try:
        module = importlib.import_module(NLPAUG_CLASSES[name])
    except ImportError:
        raise ImportError(_NEEDS_NLPAUG) from None
    kwargs = dict(spec["kwargs"])
    if "flow" in kwargs and name in _FLOWS:
        kwargs["flow"] = [_build(s) for s in kwargs["flow"]]
    try:
        return getattr(module, name)(**kwargs)
    except (TypeError, ValueError, NotImplementedError) as exc:
        raise ConfigError(f"cannot build nlpaug {name}(**{spec['kwargs']!r}): {exc}") from None


def _spec_repr(spec: Mapping[str, Any]) -> str:
    args = ", ".join(
        f"{k}=[{', '.join(_spec_repr(s) for s in v)}]" if k == "flow" else f"{k}={v!r}"
        for k, v in spec["kwargs"].items()
    )
    return f"{spec['class']}({args})"


# --------------------------------------------------------------------------- operator


@register("nlpaug")
class Nlpaug(TextAugmenter):
    """Wrap an nlpaug augmenter (or flow) as an augkit text operator.

    ``augmenter`` is an nlpaug object (anything with an ``augment`` method),
    or a spec ``{"class": "RandomWordAug", "kwargs": {"action": "swap"}}``
    naming one of :data:`NLPAUG_CLASSES` (see :meth:`from_spec`). Only
    adapters built from a spec can be written to a config.

    ``on_error="raise"`` (default) lets exceptions from nlpaug through;
    ``"keep"`` returns the input unchanged instead (some nlpaug augmenters
    fail on inputs they do not expect, for example nlpaug 1.1.11's
    ``RandomWordAug(action="crop")`` on short texts, for some seeds).

    Output quirks of nlpaug are smoothed over: a list result gives its first
    element, an empty list or ``None`` gives the input back, and empty or
    whitespace-only text is returned unchanged without calling nlpaug.

    A spec-built adapter builds its nlpaug object at once, so nlpaug's own
    argument errors show here; with ``lazy=True`` (what configs use, see
    :meth:`from_config`) only the spec is checked now, without importing
    nlpaug, and the object is built on first use or by :meth:`load`.
    """

    def __init__(self, augmenter: Any, *, on_error: str = "raise", lazy: bool = False) -> None:
        self.on_error = check_choice("on_error", on_error, ON_ERROR)
        if not isinstance(lazy, bool):
            raise TypeError(f"lazy must be True or False, got {type(lazy).__name__}")
        self.spec: dict[str, Any] | None
        self._augmenter: Any = None
        if isinstance(augmenter, (Mapping, Nlpaug)):
            self.spec = _normalise_spec(augmenter)
            if not lazy:
                self._augmenter = _build(self.spec)
        else:
            if not callable(getattr(augmenter, "augment", None)):
                raise TypeError(
                    f"augmenter must be an nlpaug augmenter (with an augment method) or a spec "
                    f"mapping, got {type(augmenter).__name__}"
                )
            self.spec = None
            self._augmenter = augmenter

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> Nlpaug:
        """An adapter from a config's params, built lazily (``lazy=True``).

        Reading a config (``Pipeline.from_dict`` / ``load``, ``augkit
        describe``) thus checks the spec without importing nlpaug; nlpaug
        checks the arguments when the augmenter is first used (or at
        :meth:`load`).
        """
        return cls(**params, lazy=True)

    @property
    def augmenter(self) -> Any:
        """The nlpaug object; built on first use when the adapter was made with ``lazy=True``."""
        if self._augmenter is None:
            with _LOCK:
                if self._augmenter is None:
                    assert self.spec is not None  # object-built adapters always hold one
                    self._augmenter = _build(self.spec)
        return self._augmenter

    def load(self) -> Nlpaug:
        """Build the nlpaug object now (imports nlpaug, checks its arguments); returns ``self``."""
        _ = self.augmenter
        return self

    def check_available(self) -> None:
        """Raise if nlpaug, or the NLTK data a WordNet augmenter needs, is not installed.

        Cheap: nlpaug is looked up, not imported (``ImportError`` if it is
        missing); the WordNet data of ``SynonymAug`` / ``AntonymAug`` is looked
        up with nltk (:class:`~augkit.ModelUnavailableError` with the command
        that installs it). The augmenter's own arguments are nlpaug's to check,
        when it is built.
        """
        if self._augmenter is not None or self.spec is None:
            return
        try:
            found = importlib.util.find_spec("nlpaug") is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise ImportError(_NEEDS_NLPAUG)
        for spec in _walk(self.spec):
            if _needs_wordnet(spec):
                _check_wordnet_data(spec["class"], spec["kwargs"])

    @classmethod
    def from_spec(cls, name: str, *, on_error: str = "raise", **kwargs: Any) -> Nlpaug:
        """``Nlpaug.from_spec("RandomWordAug", action="swap")``: build by class name and kwargs.

        For the flows ``Sequential`` and ``Sometimes``, ``flow`` is a list of
        specs (mappings) or spec-built :class:`Nlpaug` adapters.
        """
        return cls({"class": name, "kwargs": kwargs}, on_error=on_error)

    # ------------------------------------------------------------------ protocol
    def sample_params(self, x: Any, rng: Rng) -> dict[str, Any]:
        # np.random.seed takes seeds below 2**32; random and torch take any.
        return {"seed": int(rng.integers(0, 2**32))}

    def _apply_batch(self, xs: list[Any], params: list[dict[str, Any]]) -> list[str]:
        """Every item under its own seed of the global random state, restored afterwards."""
        seeds = [_seed_of(p) for p in params]
        outs: list[str] = list(xs)
        todo = [i for i, x in enumerate(xs) if x.strip()]
        if not todo:
            return outs
        # Built (if lazy) before the seeded block: whatever the constructor
        # draws must not shift the first item's random stream.
        augmenter = self.augmenter
        with seeded_global_random() as reseed:
            for i in todo:
                reseed(seeds[i])
                outs[i] = self._augment_one(augmenter, xs[i])
        return outs

    def _augment_one(self, augmenter: Any, x: str) -> str:
        try:
            # nlpaug's defaults are n=1 and one thread; its thread pool would
            # interleave draws from the shared global state unreproducibly.
            result = augmenter.augment(x)
        except Exception:
            if self.on_error == "keep":
                return x
            raise
        if result is None:
            return x
        if isinstance(result, str):
            return result
        if isinstance(result, (list, tuple)):
            if not result:
                return x
            if isinstance(result[0], str):
                return result[0]
        raise TypeError(
            f"{type(augmenter).__name__}.augment returned {type(result).__name__} "
            f"({result!r:.80}), expected str or a list of str"
        )

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        if self.spec is None:
            raise ConfigError(
                f"Nlpaug({type(self.augmenter).__name__}) was built from an nlpaug object, "
                "which cannot be described in a config; build it with "
                "Nlpaug.from_spec(class_name, **kwargs) (classes: "
                f"{', '.join(sorted(NLPAUG_CLASSES))}) to make it serialisable"
            )
        return {"augmenter": copy.deepcopy(self.spec), "on_error": self.on_error}

    def __repr__(self) -> str:
        inner = (
            f"from_spec: {_spec_repr(self.spec)}"
            if self.spec is not None
            else type(self.augmenter).__name__
        )
        return f"Nlpaug({inner}, on_error={self.on_error!r})"


def _seed_of(params: Mapping[str, Any]) -> int:
    seed = params.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"params['seed'] must be an integer in [0, 2**32), got {seed!r}")
    return int(seed)
