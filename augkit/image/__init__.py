"""Image operators (geometry). Imported lazily: OpenCV loads only when one is used."""

from __future__ import annotations

from .._catalog import exports_of
from .._lazy import lazy_getattr

_EXPORTS = exports_of(__name__)
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
