"""augkit.adapters: other libraries' augmenters as augkit operators (imported lazily)."""

from __future__ import annotations

from .._lazy import lazy_getattr

_EXPORTS = {"Nlpaug": "augkit.adapters.nlpaug"}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
