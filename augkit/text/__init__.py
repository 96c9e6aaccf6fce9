"""Text operators. Imported lazily, so ``import augkit.text`` stays cheap.

- :class:`RandomInsertion` with word sources :class:`Vocabulary`, :class:`Synonyms`, :class:`MaskedLM`
- :class:`ChunkRecombination`
- :class:`BackTranslation`
"""

from __future__ import annotations

from .._lazy import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _EXPORTS)
