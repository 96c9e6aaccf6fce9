"""JSON Lines as augkit reads and writes them: one JSON value per line, and only ``\\n`` ends a line.

JSON lets U+0085 (NEL), U+2028 and U+2029 stand unescaped inside strings,
but Python's :meth:`str.splitlines` and other tools (JavaScript, many
editors) take them for line breaks and cut a record in two. So augkit

- writes every record with :func:`dumps_line`: those characters escaped
  (``\\u2028``; the JSON value is the same), NaN and infinities refused
  (``allow_nan=False``: they are not JSON), one ``\\n`` at the end;
- reads with :func:`iter_lines` / :func:`iter_jsonl`, which split on
  ``b"\\n"`` only (a ``\\r`` before it is dropped), so files written by other
  tools with those characters raw are read correctly too.

The corpus reader, ``augkit replay`` and ``augkit demo`` all go through here.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator
from typing import IO, Any, Literal, Protocol

# Characters that str.splitlines() breaks at and json.dumps(ensure_ascii=False)
# leaves raw (it escapes everything below U+0020 already).
_RAW_SEPARATORS = re.compile("[\x85\u2028\u2029]")
_BOM = b"\xef\xbb\xbf"


class LineError(ValueError):
    """A line that is not what it should be; ``reason`` says why (without the line number)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(reason if line is None else f"line {line}: {reason}")


class _Readable(Protocol):
    """A package resource (``importlib.resources.files(...) / name``) or anything that opens."""

    def open(self, mode: Literal["rb"]) -> IO[bytes]: ...


def dumps_line(obj: Any) -> str:
    """``obj`` as one JSONL line ending in ``"\n"``: UTF-8 text, line separators escaped.

    Raises ``ValueError`` naming where a NaN or infinite number is (JSON has
    no such values).
    """
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    except ValueError:
        where = find_non_finite(obj)
        what = f"the value at {where}" if where else "the value"
        raise ValueError(
            f"cannot write {what} as JSON: NaN and infinite numbers are not JSON"
        ) from None
    if _RAW_SEPARATORS.search(text):
        text = _RAW_SEPARATORS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text + "\n"


def find_non_finite(value: Any, where: str = "") -> str | None:
    """Where in ``value`` (a JSON-like structure) a NaN or infinity is, or None if nowhere.

    The place is a path like ``"[2]"`` or ``"['score']"`` appended to
    ``where``; ``""`` (with the default ``where``) is ``value`` itself.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return where
    if isinstance(value, dict):
        for k, v in value.items():
            found = find_non_finite(v, f"{where}[{k!r}]")
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = find_non_finite(v, f"{where}[{i}]")
            if found is not None:
                return found
    return None


def iter_lines(f: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(line number from 1, line)`` for each line of a binary file.

    Lines end at ``b"\\n"`` only; the ``\\n`` and a ``\\r`` before it are
    removed, and a UTF-8 byte-order mark at the start of the file is dropped.
    """
    for number, raw in enumerate(f, 1):
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        yield number, raw


def decode_line(raw: bytes) -> str:
    """``raw`` as UTF-8 text, or :class:`LineError` saying where it is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LineError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def parse_line(text: str) -> Any:
    """The JSON value of one line, or :class:`LineError` with the parser's message and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(f"malformed JSON: {exc.msg} (column {exc.colno})") from None


def iter_jsonl(f: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line; :class:`LineError` names a bad line."""
    for number, raw in iter_lines(f):
        if not raw.strip():
            continue
        try:
            yield number, parse_line(decode_line(raw))
        except LineError as exc:
            raise LineError(exc.reason, number) from None


def load_jsonl(path: str | os.PathLike[str] | _Readable) -> list[Any]:
    """Every value of a JSONL file (a path, or a resource with ``open``), blank lines skipped."""
    f = open(path, "rb") if isinstance(path, (str, os.PathLike)) else path.open("rb")
    with f:
        return [value for _, value in iter_jsonl(f)]
