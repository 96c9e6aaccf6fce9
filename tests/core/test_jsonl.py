"""augkit._jsonl: one record per line whatever the text holds; NaN is refused, not written."""

from __future__ import annotations

import io
import json
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from augkit._jsonl import LineError, dumps_line, iter_jsonl, iter_lines, load_jsonl

# Every character str.splitlines() breaks at.
BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def test_every_line_break_character_is_escaped() -> None:
    assert all(len(f"a{c}b".splitlines()) == 2 for c in BREAKS)
    for c in BREAKS:
        line = dumps_line({"text": f"a{c}b", f"key{c}": c})
        assert line.endswith("\n") and len(line.splitlines()) == 1, repr(c)
        assert json.loads(line) == {"text": f"a{c}b", f"key{c}": c}
    assert dumps_line({"t": "\u2028é"}) == '{"t": "\\u2028é"}\n'  # other text stays UTF-8


@given(st.recursive(st.text() | st.integers() | st.booleans() | st.none(), st.lists, max_leaves=8))
def test_lines_round_trip_and_split_once(value: object) -> None:
    line = dumps_line({"v": value})
    assert len(line.splitlines()) == 1
    assert [v for _, v in iter_jsonl(io.BytesIO(line.encode("utf-8") * 2))] == [{"v": value}] * 2


@pytest.mark.parametrize(
    ("value", "where"),
    [(math.nan, "the value"), ({"label": [1, math.inf]}, "the value at ['label'][1]")],
)
def test_nan_and_infinity_are_refused(value: object, where: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"cannot write {where} as JSON: NaN")):
        dumps_line(value)


def test_reader_splits_on_newline_only() -> None:
    data = '\ufeff{"a": "x\u2028y"}\r\n\n{"a": "z\x85"}'.encode()
    assert list(iter_lines(io.BytesIO(data))) == [
        (1, '{"a": "x\u2028y"}'.encode()),
        (2, b""),
        (3, '{"a": "z\x85"}'.encode()),
    ]
    assert [v for _, v in iter_jsonl(io.BytesIO(data))] == [{"a": "x\u2028y"}, {"a": "z\x85"}]
    with pytest.raises(LineError, match=r"line 2: malformed JSON: .*\(column 2\)"):
        list(iter_jsonl(io.BytesIO(b'{"a": 1}\n{bad\n')))
    with pytest.raises(LineError, match="line 1: not valid UTF-8"):
        list(iter_jsonl(io.BytesIO(b'"\xff"\n')))


def test_load_jsonl_from_a_path(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "x.jsonl"
    path.write_text(dumps_line({"a": "\u2029"}) + dumps_line([1]), encoding="utf-8")
    assert load_jsonl(path) == [{"a": "\u2029"}, [1]] == load_jsonl(str(path))
