"""Text operators. Imported lazily, so ``import augkit.text`` stays cheap.

- :class:`RandomInsertion` with word sources :class:`Vocabulary`, :class:`Synonyms`, :class:`MaskedLM`
- :class:`ChunkRecombination`
- :class:`BackTranslation`
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "RandomInsertion": "augkit.text.insertion",
    "Vocabulary": "augkit.text.insertion",
    "Synonyms": "augkit.text.insertion",
    "MaskedLM": "augkit.text.insertion",
    "ChunkRecombination": "augkit.text.chunks",
    "BackTranslation": "augkit.text.backtranslation",
    "split_sentences": "augkit.text.sentences",
    "sentence_spans": "augkit.text.sentences",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'augkit.text' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
