"""Sentence boundaries, from sentencex (rule-based, ~300 languages, no model files).

Chunk recombination and back-translation both need sentences whose text is
byte-identical to the input, so this module returns spans into the original
string rather than rewritten pieces.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["sentence_spans", "split_sentences", "strip_span"]


@lru_cache(maxsize=1)
def _segment() -> Any:
    try:
        from sentencex import segment
    except ImportError:
        raise ImportError(
            "sentence splitting needs sentencex: pip install 'augkit[text]'"
        ) from None
    return segment


def sentence_spans(text: str, language: str = "en") -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence in ``text``, surrounding whitespace excluded.

    ``text[start:end]`` is the sentence exactly as written; the whitespace
    between spans is what separated the sentences. Empty and whitespace-only
    text has no sentences.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    spans: list[tuple[int, int]] = []
    pos = 0
    for piece in _segment()(language, text):
        # sentencex returns consecutive pieces that concatenate to the input;
        # searching from the current position keeps that true even if a
        # future release normalised a piece.
        stripped = piece.strip()
        if not stripped:
            pos += len(piece)
            continue
        start = text.find(stripped, pos)
        if start < 0:  # pragma: no cover - defensive, never seen
            start = pos
            stripped = text[pos : pos + len(piece)].strip()
        end = start + len(stripped)
        spans.append((start, end))
        pos = end
    return spans


def split_sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of ``text``, each byte-identical to the input (see :func:`sentence_spans`)."""
    return [text[a:b] for a, b in sentence_spans(text, language)]


def strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``(start, end)`` narrowed to exclude surrounding whitespace; None if only whitespace."""
    piece = text[start:end]
    stripped = piece.lstrip()
    if not stripped:
        return None
    a = start + len(piece) - len(stripped)
    return a, a + len(stripped.rstrip())
