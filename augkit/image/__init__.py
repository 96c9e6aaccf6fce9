"""Image operators (geometry). Imported lazily: OpenCV loads only when one is used."""

from __future__ import annotations

from .._lazy import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _EXPORTS)
