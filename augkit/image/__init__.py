"""Image operators (geometry). Imported lazily: OpenCV loads only when one is used."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    name: "augkit.image.geometry"
    for name in (
        "Rotate",
        "RandomCrop",
        "CenterCrop",
        "RandomResizedCrop",
        "HorizontalFlip",
        "VerticalFlip",
    )
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'augkit.image' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
