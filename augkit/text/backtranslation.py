"""Back-translation: paraphrase text by translating it to a pivot language and back.

:class:`BackTranslation` chains translation models (by default the
``Helsinki-NLP/opus-mt-{src}-{tgt}`` MarianMT models; any hub name or local
directory works) and runs them in real batches:

- inputs are sorted by token length, batched, padded per batch and decoded
  under ``torch.inference_mode()``; outputs come back in input order;
- a text longer than ``max_input_tokens`` is split at sentence boundaries
  (words, then characters, if one sentence alone is too long), translated in
  pieces and rejoined with the original separators: never truncated;
- empty and whitespace-only texts come back unchanged and never reach a model;
- decoding is greedy or beam search (deterministic) by default; with
  ``temperature`` it samples, as UDA does, by Gumbel-max with noise seeded per
  item, so an item's output depends on its own generator only, not on the
  batch it is translated in;
- models load lazily through :func:`augkit.models.load_pretrained` (once per
  process per model, device and dtype; never mutated) and instances pickle
  without weights, so DataLoader workers receive them cheaply.

``backend="ctranslate2"`` runs the same models converted to CTranslate2 (int8
on CPU), a few times faster on CPU; it decodes greedily or with beams only.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..base import TextAugmenter
from ..errors import ModelUnavailableError
from ..protocol import Params
from ..registry import register
from ..seeding import Rng, batch_rngs
from ..validation import check_choice, check_int, check_number
from .sentences import sentence_spans, strip_span

__all__ = ["BACKENDS", "BackTranslation", "default_model_name"]

BACKENDS = ("torch", "ctranslate2")

_LANG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*$")
_WORD_RE = re.compile(r"\S+")
# A line: text up to any line break str.splitlines() knows.
_LINE_RE = re.compile(r"[^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")

# Spare tokens below the model's position limit when packing pieces: the
# token count of joined pieces can exceed the sum of their counts by a little.
_PACK_MARGIN = 8


def default_model_name(source: str, target: str) -> str:
    """The opus-mt model for one direction: ``Helsinki-NLP/opus-mt-{source}-{target}``."""
    return f"Helsinki-NLP/opus-mt-{source}-{target}"


def _check_lang(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a language code (str), got {type(value).__name__}")
    if not _LANG_RE.match(value):
        raise ValueError(f"{name} must be a language code such as 'en' or 'de', got {value!r}")
    return value


def _check_model(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"{name} must be a hub name or a directory (str or path), got {type(value).__name__}"
        )
    text = os.fspath(value)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{name} must be a non-empty hub name or directory, got {value!r}")
    return text


@register("back_translation")
class BackTranslation(TextAugmenter):
    """Paraphrase by translating ``source`` -> ``pivot`` (-> more pivots) -> ``source``.

    Parameters
    ----------
    source:
        Language of the input texts (also used to find sentence boundaries).
    pivot:
        Pivot language, or a sequence of them for a chain
        (``pivot=["de", "fr"]`` translates en -> de -> fr -> en).
    forward_model, backward_model:
        Model of the first hop (source -> first pivot) and of the last hop
        (last pivot -> source): a hub name or a local directory. ``None``
        means ``Helsinki-NLP/opus-mt-{src}-{tgt}``.
    pivot_models:
        For a chain: models of the hops between pivots, one per hop
        (``None`` entries use the default name).
    device:
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    batch_size:
        Texts per ``generate`` call (after sorting by length).
    max_input_tokens:
        Longer texts are split at sentence boundaries and rejoined.
    num_beams:
        1 is greedy decoding; more is beam search. Both are deterministic.
    temperature:
        Set it (UDA uses 0.8) to sample instead; each item's sample is a
        function of the generator it is augmented with, whatever the batch.
    top_k:
        With ``temperature``: sample among the ``top_k`` likeliest tokens only.
    dtype:
        ``None`` (the checkpoint's), ``"float32"``, ``"float16"`` or
        ``"bfloat16"``. For ``backend="ctranslate2"`` it is the compute type
        and ``None`` means int8 (int8_float16 on CUDA).
    backend:
        ``"torch"`` (transformers ``generate``) or ``"ctranslate2"``.

    Several distinct outputs per text come from :meth:`paraphrases`; as an
    operator (``__call__``, pipelines) it returns one string per string.
    """

    def __init__(
        self,
        source: str = "en",
        pivot: str | Sequence[str] = "de",
        forward_model: str | os.PathLike[str] | None = None,
        backward_model: str | os.PathLike[str] | None = None,
        pivot_models: Sequence[str | os.PathLike[str] | None] | None = None,
        device: str = "auto",
        batch_size: int = 32,
        max_input_tokens: int = 256,
        num_beams: int = 1,
        temperature: float | None = None,
        top_k: int | None = None,
        dtype: str | None = None,
        backend: str = "torch",
    ) -> None:
        self.source = _check_lang("source", source)
        if isinstance(pivot, str):
            pivots = [_check_lang("pivot", pivot)]
            self.pivot: str | list[str] = pivot
        elif isinstance(pivot, Sequence) and len(pivot) > 0:
            pivots = [_check_lang("pivot[]", p) for p in pivot]
            self.pivot = pivots[0] if len(pivots) == 1 else pivots
        else:
            raise TypeError("pivot must be a language code or a non-empty sequence of them")
        self.forward_model = _check_model("forward_model", forward_model)
        self.backward_model = _check_model("backward_model", backward_model)
        if pivot_models is None:
            self.pivot_models: list[str | None] | None = None
        else:
            if isinstance(pivot_models, (str, os.PathLike)) or not isinstance(
                pivot_models, Sequence
            ):
                raise TypeError("pivot_models must be a sequence with one model per pivot hop")
            if len(pivot_models) != len(pivots) - 1:
                raise ValueError(
                    f"pivot_models must have {len(pivots) - 1} entries (one per hop between "
                    f"the pivots {pivots}), got {len(pivot_models)}"
                )
            self.pivot_models = [_check_model("pivot_models[]", m) for m in pivot_models]
        self.backend = check_choice("backend", backend, BACKENDS)
        from ..models import resolve_device, resolve_dtype

        resolve_device(device)  # validate now; "auto" is resolved again where the model loads
        self.device = device
        if dtype is not None:
            import torch

            if isinstance(dtype, torch.dtype):
                dtype = str(dtype).removeprefix("torch.")
            resolve_dtype(dtype)
        self.dtype = dtype
        self.batch_size = check_int("batch_size", batch_size, low=1)
        self.max_input_tokens = check_int("max_input_tokens", max_input_tokens, low=8)
        self.num_beams = check_int("num_beams", num_beams, low=1)
        if temperature is not None:
            temperature = check_number(
                "temperature", temperature, low=0.0, high=100.0, low_inclusive=False
            )
            if num_beams != 1:
                raise ValueError("sampling (temperature set) decodes one beam: use num_beams=1")
            if backend == "ctranslate2":
                raise ValueError(
                    "backend='ctranslate2' cannot sample reproducibly per item; "
                    "use backend='torch' with temperature"
                )
        self.temperature = temperature
        if top_k is not None:
            top_k = check_int("top_k", top_k, low=1)
            if temperature is None:
                raise ValueError("top_k restricts sampling: set temperature as well")
        self.top_k = top_k
        self._init_runtime()

    # ------------------------------------------------------------------ models
    @property
    def languages(self) -> list[str]:
        """The languages in translation order, source first and last."""
        pivots = [self.pivot] if isinstance(self.pivot, str) else list(self.pivot)
        return [self.source, *pivots, self.source]

    @property
    def models(self) -> list[str]:
        """The model of each hop (hub names or directories), in order."""
        langs = self.languages
        hops = len(langs) - 1
        names = []
        for h in range(hops):
            given: str | None
            if h == 0:
                given = self.forward_model
            elif h == hops - 1:
                given = self.backward_model
            else:
                given = None if self.pivot_models is None else self.pivot_models[h - 1]
            names.append(given or default_model_name(langs[h], langs[h + 1]))
        return names

    def _init_runtime(self) -> None:
        self._hops: list[Any] | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Settings only: the models stay in the process cache and are loaded
        # again (once per process) on first use after unpickling.
        state = self.__dict__.copy()
        state.pop("_hops", None)
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    def check_available(self) -> None:
        """Raise :class:`~augkit.ModelUnavailableError` unless every hop's model would load here.

        Loads nothing: each model must be a directory with a ``config.json``
        or, offline, a hub name in the local cache (see
        :func:`augkit.models.check_model_available`); the backend's package
        must be installed (``ImportError`` otherwise). Every missing model is
        named, with the command that provides it.
        """
        if self._hops is not None:
            return  # loaded already
        from ..models import check_installed, check_model_available

        check_installed("transformers", "back-translation needs pip install 'augkit[translate]'")
        if self.backend == "ctranslate2":
            check_installed("ctranslate2", "backend='ctranslate2' needs pip install ctranslate2")
        roles: dict[str, list[str]] = {}
        for role, model in zip(self._model_roles(), self.models):
            roles.setdefault(model, []).append(role)
        problems = []
        for model, names in roles.items():
            try:
                check_model_available(model)
            except ModelUnavailableError as exc:
                problems.append(f"{', '.join(names)}: {exc}")
        if problems:
            raise ModelUnavailableError("\n".join(problems))

    def _model_roles(self) -> list[str]:
        """The argument that names each hop's model, in the order of :attr:`models`."""
        between = [f"pivot_models[{i}]" for i in range(len(self.languages) - 3)]
        return ["forward_model", *between, "backward_model"]

    def load(self) -> BackTranslation:
        """Load the models now instead of on first use; returns ``self``."""
        self._get_hops()
        return self

    def _get_hops(self) -> list[Any]:
        with self._lock:
            if self._hops is None:
                from ..models import resolve_device
                from ._translate_common import Decoding

                device = resolve_device(self.device)
                decoding = Decoding(
                    num_beams=self.num_beams,
                    temperature=self.temperature,
                    top_k=self.top_k,
                    batch_size=self.batch_size,
                )
                if self.backend == "ctranslate2":
                    from ._translate_ct2 import CT2Hop as hop_cls
                else:
                    from ._translate_torch import TorchHop as hop_cls  # type: ignore[assignment]
                self._hops = [
                    hop_cls(m, device=device, dtype=self.dtype, decoding=decoding)
                    for m in self.models
                ]
            return self._hops

    # ------------------------------------------------------------------ protocol
    def sample_params(self, x: str, rng: Rng) -> Params:
        """Greedy/beam decoding draws nothing; sampling draws the item's noise seed."""
        if self.temperature is None:
            return {}
        return {"seed": int(rng.integers(0, 2**63 - 1))}

    def _apply_batch(self, xs: list[str], params: list[Params]) -> list[str]:
        """Translate every text through every hop, one batched call per hop."""
        seeds = self._seeds(params)
        candidates = self._translate(xs, seeds, num_return=1)
        return [c[0] if c and c[0].strip() else x for x, c in zip(xs, candidates)]

    def _seeds(self, params: Sequence[Params]) -> list[int] | None:
        if self.temperature is None:
            return None
        seeds = []
        for p in params:
            seed = p.get("seed") if isinstance(p, dict) else None
            if seed is None:
                raise ValueError("sampling back-translation needs params with a 'seed'")
            seeds.append(check_int("seed", seed, low=0))
        return seeds

    def paraphrases(
        self,
        xs: Sequence[str],
        n: int,
        *,
        seed: int | None = None,
        rngs: Sequence[np.random.Generator] | None = None,
        epoch: int = 0,
        indices: Sequence[int] | None = None,
    ) -> list[list[str]]:
        """Up to ``n`` distinct paraphrases of each text, none equal to the text itself.

        Item ``i`` uses ``item_rng(seed, epoch, indices[i])`` as in
        :meth:`augment_batch`. With ``temperature``, each paraphrase is a
        sample with its own noise seed drawn from the item's generator (the
        first seed is the one :meth:`sample_params` draws, so the first sample
        is the operator's output for that generator); duplicates are drawn
        again, up to four rounds. Without ``temperature``, the last hop runs
        beam search with ``max(num_beams, n)`` beams and returns its ``n``
        best hypotheses. Lists can come out shorter than ``n`` when the model
        has fewer distinct answers; empty texts get none.
        """
        n = check_int("n", n, low=1)
        xs = list(xs)
        for x in xs:
            self.validate_input(x)
        gens = batch_rngs(len(xs), seed=seed, rngs=rngs, epoch=epoch, indices=indices)
        results: list[list[str]] = [[] for _ in xs]

        def add(i: int, text: str) -> None:
            if text.strip() and text.strip() != xs[i].strip() and text not in results[i]:
                if len(results[i]) < n:
                    results[i].append(text)

        if self.temperature is None:
            for i, cands in enumerate(self._translate(xs, None, num_return=n)):
                for c in cands:
                    add(i, c)
            return results
        active = [i for i, x in enumerate(xs) if x.strip()]
        for _ in range(4):
            units: list[int] = []
            seeds: list[int] = []
            for i in active:
                for _ in range(n - len(results[i])):
                    units.append(i)
                    seeds.append(self.sample_params(xs[i], gens[i])["seed"])
            if not units:
                break
            outs = self._translate([xs[i] for i in units], seeds, num_return=1)
            for i, cands in zip(units, outs):
                add(i, cands[0])
            active = [i for i in active if len(results[i]) < n]
        return results

    # ------------------------------------------------------------------ work
    def _translate(
        self, texts: list[str], seeds: list[int] | None, num_return: int
    ) -> list[list[str]]:
        """Every text through every hop; ``num_return`` candidates from the last hop.

        Each text is cut once, with the first model's tokenizer, into *units*
        (lines, and groups of sentences up to ``max_input_tokens``); every unit
        goes through all hops on its own and the units are rejoined with the
        original separators, so line breaks survive. A later hop splits a unit
        again only if its translation grew past that hop's limit. Whitespace
        around a text is kept; empty and whitespace-only texts come back as
        they are, without loading a model.
        """
        out: list[list[str]] = [[t] * num_return for t in texts]
        active = [i for i, t in enumerate(texts) if t.strip()]
        if not active:
            return out
        from ._translate_common import derive_seed

        hops = self._get_hops()
        langs = self.languages
        # units[i][j]: the candidates (1, or num_return after the last hop) of
        # unit j of text i; seps[i]: the original text between its units.
        units: dict[int, list[list[str]]] = {}
        seps: dict[int, list[str]] = {}
        for i in active:
            core = texts[i].strip()
            spans = self._split(core, hops[0], langs[0])
            units[i] = [[core[a:b]] for a, b in spans]
            seps[i] = _gaps(core, spans)
        for h, hop in enumerate(hops):
            k = num_return if h == len(hops) - 1 else 1
            pieces: list[str] = []
            piece_seeds: list[int] = []
            layouts: list[list[str]] = []
            for i in active:
                for j, unit in enumerate(units[i]):
                    text = unit[0]
                    # An earlier hop can return nothing but whitespace (seen for
                    # a lone control character): it still goes on as one piece,
                    # so every unit keeps exactly its own slots in `translated`.
                    spans = [(0, len(text))]
                    if h > 0:
                        spans = self._split(text, hop, langs[h]) or spans
                    layouts.append(_gaps(text, spans))
                    for m, (a, b) in enumerate(spans):
                        pieces.append(text[a:b])
                        if seeds is not None:
                            # Noise of each piece at each hop: a function of the
                            # item's seed and the piece's place, nothing else.
                            piece_seeds.append(derive_seed(seeds[i], h, j, m))
            translated = hop.translate(pieces, piece_seeds if seeds is not None else None, k)
            pos = 0
            layout_iter = iter(layouts)
            for i in active:
                for j in range(len(units[i])):
                    inner = next(layout_iter)
                    parts = translated[pos : pos + len(inner) + 1]
                    pos += len(inner) + 1
                    units[i][j] = [_join([p[r] for p in parts], inner) for r in range(k)]
        for i in active:
            lead = texts[i][: len(texts[i]) - len(texts[i].lstrip())]
            trail = texts[i][len(texts[i].rstrip()) :]
            for r in range(num_return):
                out[i][r] = lead + _join([u[r] for u in units[i]], seps[i]) + trail
        return out

    def _split(self, text: str, hop: Any, language: str) -> list[tuple[int, int]]:
        """Spans of ``text``, in order, each short enough for ``hop``'s model.

        Lines first (translation models drop line breaks, so lines are
        translated apart and rejoined with their breaks), then sentences
        (:func:`augkit.text.sentences.sentence_spans`) of a line that is too
        long, words of a sentence that is, halves of a word that is;
        consecutive pieces of a line are packed back together up to the limit.
        Spans exclude surrounding whitespace; between them is only whitespace.
        """
        limit = max(4, min(self.max_input_tokens, hop.max_positions - _PACK_MARGIN))
        out: list[tuple[int, int]] = []
        for line in _LINE_RE.finditer(text):
            span = strip_span(text, *line.span())
            if span is not None:
                a, b = span
                out.extend(
                    (a + x, a + y) for x, y in self._split_line(text[a:b], hop, limit, language)
                )
        return out

    def _split_line(self, text: str, hop: Any, limit: int, language: str) -> list[tuple[int, int]]:
        # A sentencepiece token covers at least one byte, plus </s> and a
        # possible leading "▁": short texts need no tokenizing to know they fit.
        if len(text.encode("utf-8")) + 4 <= limit or hop.count_tokens([text])[0] <= limit:
            return [(0, len(text))]
        spans = sentence_spans(text, language) or [(0, len(text))]
        fitted = self._fit(text, spans, hop, limit, words_first=True)
        # Greedy packing of consecutive pieces (each count includes one </s>),
        # so the model sees whole groups of sentences rather than single ones.
        groups: list[list[tuple[int, int]]] = []
        budget = 0
        for span, count in fitted:
            if groups and budget + count - 1 <= limit:
                groups[-1].append(span)
                budget += count - 1
            else:
                groups.append([span])
                budget = count
        # Joined text can tokenize a little longer than its parts: measure the
        # packed groups and unpack any that went over the limit.
        merged = [(g[0][0], g[-1][1]) for g in groups]
        multi = [k for k, g in enumerate(groups) if len(g) > 1]
        counts = hop.count_tokens([text[merged[k][0] : merged[k][1]] for k in multi])
        over = {k for k, c in zip(multi, counts) if c > limit}
        out: list[tuple[int, int]] = []
        for k, g in enumerate(groups):
            out.extend(g if k in over else [merged[k]])
        return out

    def _fit(
        self, text: str, spans: list[tuple[int, int]], hop: Any, limit: int, words_first: bool
    ) -> list[tuple[tuple[int, int], int]]:
        counts = hop.count_tokens([text[a:b] for a, b in spans])
        out: list[tuple[tuple[int, int], int]] = []
        for (a, b), count in zip(spans, counts):
            if count <= limit or b - a <= 1:
                out.append(((a, b), count))
                continue
            # A sentence too long is split at words; a word too long in halves.
            words = (
                [(a + m.start(), a + m.end()) for m in _WORD_RE.finditer(text[a:b])]
                if words_first
                else []
            )
            if len(words) > 1:
                out.extend(self._fit(text, words, hop, limit, words_first=False))
            else:
                mid = (a + b) // 2
                out.extend(self._fit(text, [(a, mid), (mid, b)], hop, limit, words_first=False))
        return out


def _gaps(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The text between consecutive spans (the inverse of :func:`_join`)."""
    return [text[b:a] for (_, b), (a, _) in itertools.pairwise(spans)]


def _join(parts: list[str], seps: list[str]) -> str:
    out = parts[0]
    for sep, part in zip(seps, parts[1:]):
        out += sep + part
    return out
