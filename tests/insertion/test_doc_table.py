"""The before/after table in docs/random_insertion.md is what the operator produces today."""

from __future__ import annotations

import pytest

from augkit.text import Synonyms
from augkit.text.tokenize import words

from . import doc_table


def _rows(table: str) -> list[tuple[str, str, str]]:
    out = []
    for row in table.splitlines()[2:]:
        source, before, after = (c.strip() for c in row.strip().strip("|").split(" | "))
        out.append((source, before.strip("`"), after.strip("`")))
    return out


@pytest.mark.skipif(not Synonyms.available(), reason="the table has WordNet rows")
def test_doc_table_is_current(tiny_mlm_dir: object) -> None:
    doc = doc_table.DOC.read_text(encoding="utf-8")
    shown, fresh = _rows(doc_table.current_table(doc)), _rows(doc_table.render_table())
    assert [r[:2] for r in shown] == [r[:2] for r in fresh], (
        "docs/random_insertion.md is out of date: run python -m tests.insertion.doc_table"
    )
    for (source, before, after), (_, _, now) in zip(shown, fresh):
        if "MaskedLM" not in source:
            # Vocabulary and WordNet draws are integer arithmetic on numpy's
            # generator: the same words on every machine.
            assert after == now, "docs/random_insertion.md is out of date: regenerate the table"
        # The masked-LM rows come from a model's floating-point scores, which
        # can round differently on another CPU: only their shape is checked.
        for out in (after, now):
            it = iter(words(out))
            assert all(w in it for w in words(before))  # only adds words
            assert len(words(out)) >= len(words(before))
