"""The before/after table in docs/random_insertion.md is what the operator produces today."""

from __future__ import annotations

import pytest

from augkit.text import Synonyms
from augkit.text.tokenize import words

from . import doc_table


@pytest.mark.skipif(not Synonyms.available(), reason="the table has WordNet rows")
def test_doc_table_is_current(tiny_mlm_dir: object) -> None:
    doc = doc_table.DOC.read_text(encoding="utf-8")
    table = doc_table.render_table()
    assert doc_table.current_table(doc) == table, (
        "docs/random_insertion.md is out of date: run python -m tests.insertion.doc_table"
    )
    # Every row only adds words to its example.
    for row in table.splitlines()[2:]:
        _, before, after = (c.strip().strip("`") for c in row.strip().strip("|").split(" | "))
        it = iter(words(after))
        assert all(w in it for w in words(before))
        assert len(words(after)) >= len(words(before))
