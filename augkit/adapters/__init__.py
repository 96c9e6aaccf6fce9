"""augkit.adapters: other libraries' augmenters as augkit operators (imported lazily)."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"Nlpaug": "augkit.adapters.nlpaug"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'augkit.adapters' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
