"""Loading pretrained models: devices, dtypes, a per-process cache, offline errors.

Model-backed operators (back-translation, masked-LM insertion) load weights
lazily through :func:`load_pretrained`, which

- accepts a hub name (``"Helsinki-NLP/opus-mt-en-de"``) or a local directory,
- loads each (class, model, device, dtype) once per process and shares it
  read-only between operator instances (per-call settings such as beams or
  temperature are passed to ``generate``, never written into a shared model),
- turns "not found" into a :class:`~augkit.ModelUnavailableError` that says
  which model, where augkit looked, and how to provide it offline,
- never passes ``trust_remote_code``.

:func:`check_model_available` answers "would this load here?" without
loading anything (a directory with a config, or a hub name in the local
cache), for the operators' ``check_available`` hooks.

torch and transformers are imported inside the functions that need them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ModelUnavailableError

__all__ = [
    "check_device",
    "check_dtype_name",
    "check_installed",
    "check_model_available",
    "clear_model_cache",
    "is_offline",
    "load_pretrained",
    "resolve_device",
    "resolve_dtype",
]

_DEVICE_RE = re.compile(r"^(cpu|cuda|mps|cuda:\d+)$")
_DTYPES = ("float32", "float16", "bfloat16")

_cache: dict[tuple[Any, ...], Any] = {}
_cache_lock = threading.Lock()


def check_device(device: Any) -> str:
    """``device`` if it is spelled like one (no torch import, no availability check).

    Accepted: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``.
    """
    if not isinstance(device, str):
        raise TypeError(
            f"device must be a str such as 'cpu' or 'cuda:0', got {type(device).__name__}"
        )
    if device != "auto" and not _DEVICE_RE.match(device):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}")
    return device


def check_dtype_name(dtype: Any) -> str | None:
    """``None`` or one of ``float32/float16/bfloat16`` (no torch import)."""
    if dtype is not None and dtype not in _DTYPES:
        raise ValueError(f"dtype must be None, 'float32', 'float16' or 'bfloat16', got {dtype!r}")
    return dtype  # type: ignore[no-any-return]


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when available else ``"cpu"``; checks the others are available.

    Accepted: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``.
    """
    check_device(device)
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} was asked for but CUDA is not available here")
        if ":" in device:
            n = int(device.split(":", 1)[1])
            count = torch.cuda.device_count()
            if n >= count:
                raise ValueError(f"device {device!r}: only {count} CUDA device(s) (0..{count - 1})")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was asked for but MPS is not available here")
    return device


def resolve_dtype(dtype: Any) -> Any:
    """``None`` (the checkpoint's dtype), a name in ``float32/float16/bfloat16``, or a torch dtype."""
    if dtype is None:
        return None
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return getattr(torch, dtype)
    raise ValueError(
        f"dtype must be None, one of {', '.join(_DTYPES)} or a torch.dtype, got {dtype!r}"
    )


def is_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set to a true value."""
    return any(
        os.environ.get(v, "").strip().lower() in {"1", "true", "yes", "on"}
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _hub_cache_dir() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # pragma: no cover - huggingface_hub always comes with transformers
        return os.path.expanduser("~/.cache/huggingface/hub")


def describe_missing(name_or_path: str, reason: str) -> str:
    """The message of a :class:`~augkit.ModelUnavailableError` for ``name_or_path``."""
    path = Path(name_or_path).expanduser()
    looked = [f"a local directory {str(path.resolve())!r} (does not exist)"]
    if not _is_hub_name(name_or_path):
        return (
            f"model {name_or_path!r} is not available: {reason}\n"
            f"  looked in: {looked[0]}; it is not a hub name either (those look like "
            "'Helsinki-NLP/opus-mt-en-de')\n"
            "  pass the directory a model was saved to (save_pretrained, or "
            "hf download REPO --local-dir DIR), or a hub name."
        )
    looked.append(f"the Hugging Face cache {_hub_cache_dir()!r}")
    if is_offline():
        looked.append("not the hub: HF_HUB_OFFLINE is set")
    else:
        looked.append("the Hugging Face hub (unreachable or the model does not exist)")
    return (
        f"model {name_or_path!r} is not available: {reason}\n"
        f"  looked in: {'; '.join(looked)}\n"
        "  to provide it offline: on a machine with internet run\n"
        f"    hf download {name_or_path} --local-dir ./models/{path.name}\n"
        "  (hf comes with huggingface_hub), copy that directory here and pass its path "
        "instead of the hub name (or copy the hub cache and set HF_HOME)."
    )


def _is_hub_name(name: str) -> bool:
    """Whether ``name`` is spelled like a hub repository id (``org/name`` or ``name``)."""
    try:
        from huggingface_hub.utils import validate_repo_id  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - huggingface_hub always comes with transformers
        return name.count("/") <= 1 and not name.startswith((".", "/", "~"))
    try:
        validate_repo_id(name)
    except ValueError:
        return False
    return True


def check_installed(module: str, install: str) -> None:
    """Raise ``ImportError`` saying ``install`` unless ``module`` is importable (not imported)."""
    import importlib.util

    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ImportError(f"{module} is not installed: {install}")


def check_model_available(name_or_path: str | os.PathLike[str]) -> None:
    """Raise :class:`~augkit.ModelUnavailableError` unless ``name_or_path`` would load here.

    Loads nothing and never contacts the hub: a local directory must hold a
    ``config.json`` (what ``save_pretrained`` and ``hf download`` write); a
    hub name must be in the local Hugging Face cache when ``HF_HUB_OFFLINE``
    is set. Online, a hub name that is not cached passes: ``from_pretrained``
    downloads it on first use.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"model must be a hub name or a directory, got {type(name_or_path).__name__}"
        )
    name = os.fspath(name_or_path)
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise ModelUnavailableError(
                f"model {name!r}: the directory {str(local.resolve())!r} has no config.json, "
                "so it is not a saved model (save_pretrained or hf download REPO --local-dir "
                "DIR writes one)"
            )
        return
    if local.exists():
        raise ModelUnavailableError(
            f"model {name!r} is a file; give the directory that holds the model's files"
        )
    if not _is_hub_name(name):
        raise ModelUnavailableError(describe_missing(name, "no such directory"))
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        return
    if is_offline():
        raise ModelUnavailableError(
            describe_missing(name, "not in the local Hugging Face cache, and HF_HUB_OFFLINE is set")
        )


def load_pretrained(
    loader: Callable[..., Any],
    name_or_path: str,
    *,
    device: str | None = None,
    dtype: Any = None,
    **kwargs: Any,
) -> Any:
    """``loader(name_or_path, **kwargs)`` once per process, moved to ``device``, in eval mode.

    ``loader`` is a ``from_pretrained`` classmethod (model or tokenizer). The
    result is cached by (loader, path, device, dtype, kwargs) and shared; do
    not mutate it. Missing models raise :class:`~augkit.ModelUnavailableError`.
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"model must be a hub name or a directory, got {type(name_or_path).__name__}"
        )
    name = os.fspath(name_or_path)
    if not name.strip():
        raise ValueError("model name or path is empty")
    local = Path(name).expanduser()
    source = str(local.resolve()) if local.is_dir() else name
    torch_dtype = resolve_dtype(dtype)
    key = (
        getattr(loader, "__qualname__", repr(loader)),
        getattr(loader, "__self__", None),
        source,
        device,
        str(torch_dtype),
        tuple(sorted(kwargs.items())),
    )
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        if kwargs.pop("trust_remote_code", False):
            raise ValueError("augkit never loads models with trust_remote_code")
        extra: dict[str, Any] = dict(kwargs)
        if is_offline() or local.is_dir():
            extra["local_files_only"] = True
        if torch_dtype is not None:
            extra["dtype"] = torch_dtype
        try:
            obj = loader(source, **extra)
        except (OSError, ValueError) as exc:
            if local.is_dir():
                raise ModelUnavailableError(
                    f"could not load {loader.__qualname__} from directory {source!r}: {exc}"
                ) from exc
            raise ModelUnavailableError(describe_missing(name, str(exc).splitlines()[0])) from exc
        if device is not None and hasattr(obj, "to"):
            obj = obj.to(device)
        if hasattr(obj, "eval"):
            obj.eval()
        _cache[key] = obj
        return obj


def clear_model_cache() -> None:
    """Drop every cached model (frees memory; the next use loads again)."""
    with _cache_lock:
        _cache.clear()
