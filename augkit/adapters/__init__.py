"""augkit.adapters: other libraries' augmenters as augkit operators (imported lazily)."""

from __future__ import annotations

from .._catalog import exports_of
from .._lazy import lazy_getattr

_EXPORTS = exports_of(__name__)
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
