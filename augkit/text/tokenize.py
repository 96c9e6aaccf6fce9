"""Word boundaries that keep the text around them byte-identical.

Word-level operators (random insertion) need to know where words are without
rewriting anything else: this module returns ``(start, end)`` spans into the
original string, and :func:`insert_words` adds words at word boundaries while
leaving every other character, whitespace and punctuation where it was.

The rule, in full (it needs no model or dictionary and is the same for every
language):

- A **word** starts with a letter, a digit or ``_`` (``str.isalnum``) and runs
  over letters, digits, ``_`` and combining marks (Unicode category ``M``, so
  accents, Indic vowel signs, Arabic and Hebrew points and emoji variation
  selectors stay inside the word they follow). A single joiner between two
  word characters does not end the word: apostrophes (``'`` ``’`` ``ʼ``),
  hyphens (``-`` ``‐`` ``‑``), ``.``, ``·``, zero-width (non-)joiners, and
  ``,`` or ``:`` between two digits. So ``don't``, ``state-of-the-art``,
  ``e.g``, ``example.com``, ``3.14``, ``1,000`` and ``10:30`` are one word each.
- **Chinese characters, hiragana and katakana** are written without spaces,
  so each such character (with any combining marks after it) is a word of
  its own: the character-level fallback that BERT's tokenizer also uses.
  Thai, Lao, Khmer and Myanmar are also written without spaces but their
  characters are not words; a run of them is one word (nothing is ever
  inserted inside it), as no dictionary segmenter is used.
- Everything else (whitespace, punctuation, symbols, emoji) lies between
  words and is never split or changed.

Insertion (:func:`insert_words`) happens only at word boundaries: before a
word or after the last one. An inserted word is separated from a neighbour
word by one space, except between two space-less-script words (Chinese /
Japanese), and the separator is placed so that the new word never fuses with
a neighbour: tokenising the output gives the input's words with the new
words spliced in, and removing the inserted pieces gives the input back
exactly.
"""

from __future__ import annotations

import itertools
import re
import sys
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

__all__ = [
    "insert_words",
    "is_cjk_char",
    "is_word",
    "word_spans",
    "words",
]

# Scripts written without spaces whose characters are words of their own
# (the ranges BERT's BasicTokenizer treats as Chinese, plus the kana).
_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x309F),  # hiragana
    (0x30A0, 0x30FF),  # katakana
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9D),  # half-width katakana
    (0x20000, 0x2A6DF),  # CJK extension B
    (0x2A700, 0x2EBEF),  # CJK extensions C to F
    (0x2F800, 0x2FA1F),  # CJK compatibility supplement
    (0x30000, 0x3134F),  # CJK extension G
)

_APOSTROPHES_HYPHENS = "'\u2019\u02bc-\u2010\u2011.\u00b7\u200c\u200d"


def _char_class(ranges: Sequence[tuple[int, int]]) -> str:
    parts = []
    for lo, hi in ranges:
        parts.append(
            re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
        )
    return "".join(parts)


def _ranges(codepoints: Sequence[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for c in codepoints:
        if out and out[-1][1] == c - 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The word pattern and the 'word character' pattern, built once per process.

    Python's ``re`` has no ``\\p{M}``; scanning the Unicode database for
    combining marks takes about 0.1 s and is done on first use only.
    """
    marks = _char_class(
        _ranges([c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c))[0] == "M"])
    )
    cjk = _char_class(_CJK_RANGES)
    word_char = f"[^\\W{cjk}]"  # \w minus the space-less scripts
    mark = f"[{marks}]"
    joiner = f"(?:[{re.escape(_APOSTROPHES_HYPHENS)}]|(?<=\\d)[,:](?=\\d))"
    word = f"{word_char}{mark}*(?:{joiner}?{word_char}{mark}*)*"
    pattern = re.compile(f"[{cjk}]{mark}*|{word}")
    # A character that could continue a word to its right (used to decide
    # whether an insertion needs a separating space on its left).
    continues = re.compile(f"\\w|{mark}")
    return pattern, continues


@lru_cache(maxsize=4096)
def _spans_cached(text: str) -> tuple[tuple[int, int], ...]:
    pattern, _ = _patterns()
    return tuple(m.span() for m in pattern.finditer(text))


def word_spans(text: str) -> tuple[tuple[int, int], ...]:
    """``(start, end)`` of every word of ``text``, in order (see the module docs for the rule).

    ``text[start:end]`` is the word exactly as written. Empty and
    whitespace-only text has no words. Results are cached per text, so
    sampling and applying on the same text tokenise it once.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return _spans_cached(text)


def words(text: str) -> list[str]:
    """The words of ``text`` as written (see :func:`word_spans`)."""
    return [text[a:b] for a, b in word_spans(text)]


def is_cjk_char(ch: str) -> bool:
    """True for a character of a space-less script that counts as a word on its own."""
    c = ord(ch)
    return any(lo <= c <= hi for lo, hi in _CJK_RANGES)


def is_word(s: str) -> bool:
    """True if ``s`` is made of words only, with nothing between them.

    That is one word (``"cat"``, ``"don't"``), or a run of Chinese/Japanese
    characters (``"猫咪"``). Such strings can be inserted without changing how
    the text around them tokenises.
    """
    if not isinstance(s, str) or not s:
        return False
    return _is_word_cached(s)


@lru_cache(maxsize=65536)
def _is_word_cached(s: str) -> bool:
    spans = word_spans(s)
    pos = 0
    for a, b in spans:
        if a != pos:
            return False
        pos = b
    if pos != len(s):
        return False
    # More than one word is only allowed for space-less scripts: "ab" is one
    # word anyway, so several words mean CJK characters.
    return len(spans) == 1 or all(is_cjk_char(s[a]) for a, _ in spans)


def _spaceless(word: str) -> bool:
    return bool(word) and is_cjk_char(word[0])


def _sep(left: str, right: str) -> str:
    """What goes between two adjacent words: nothing in Chinese/Japanese, else a space."""
    return "" if _spaceless(left[-1:]) and _spaceless(right[:1]) else " "


def insert_words(
    text: str,
    slots: Sequence[int],
    new_words: Sequence[str],
    spans: Sequence[tuple[int, int]] | None = None,
) -> str:
    """Insert ``new_words[i]`` at word boundary ``slots[i]`` of ``text``.

    Slot ``k`` (``0 <= k < n_words``) is just before word ``k``; slot
    ``n_words`` is just after the last word. Words given for the same slot
    appear in the order given. Each new word must satisfy :func:`is_word`.
    Text without words has no slots and comes back unchanged only when no
    words are to be inserted.
    """
    if spans is None:
        spans = word_spans(text)
    if len(slots) != len(new_words):
        raise ValueError(f"got {len(slots)} slots but {len(new_words)} words")
    if not slots:
        return text
    n = len(spans)
    if n == 0:
        raise ValueError("text has no words, so it has no insertion slots")
    by_slot: dict[int, list[str]] = {}
    for slot, w in zip(slots, new_words):
        if isinstance(slot, bool) or not isinstance(slot, int):
            raise TypeError(f"slots must be integers, got {type(slot).__name__}")
        if not 0 <= slot <= n:
            raise ValueError(f"slot must be in [0, {n}] for a text of {n} words, got {slot}")
        if not is_word(w):
            raise ValueError(f"cannot insert {w!r}: not a single word")
        by_slot.setdefault(slot, []).append(w)

    _, continues = _patterns()
    pieces: list[str] = []
    pos = 0
    for slot in sorted(by_slot):
        group = by_slot[slot]
        inner = group[0]
        for prev, cur in itertools.pairwise(group):
            inner += _sep(prev, cur) + cur
        if slot < n:
            p = spans[slot][0]
            right = text[spans[slot][0] : spans[slot][1]]
            left = _left_sep(text, p, spans, slot, group[0], continues)
            piece = left + inner + _sep(group[-1], right)
        else:
            p = spans[-1][1]
            last = text[spans[-1][0] : spans[-1][1]]
            piece = _sep(last, group[0]) + inner
        pieces.append(text[pos:p])
        pieces.append(piece)
        pos = p
    pieces.append(text[pos:])
    return "".join(pieces)


def _left_sep(
    text: str,
    p: int,
    spans: Sequence[tuple[int, int]],
    slot: int,
    first: str,
    continues: re.Pattern[str],
) -> str:
    """The separator between what precedes position ``p`` and a word inserted there.

    Usually nothing (the gap before word ``slot`` already separates). A space
    is needed when the previous word touches this one (``"love我"``), or when
    a single joiner after a word character would glue the new word on
    (``"1,"`` before an inserted ``"5"``).
    """
    if p == 0:
        return ""
    c = text[p - 1]
    if continues.match(c):
        if slot > 0 and spans[slot - 1][1] == p:
            prev = text[spans[slot - 1][0] : spans[slot - 1][1]]
            return _sep(prev, first)
        return ""  # an orphan combining mark after a non-word character
    if (c in _APOSTROPHES_HYPHENS or c in ",:") and p >= 2 and continues.match(text[p - 2]):
        return " "
    return ""
