"""ChunkRecombination's ``sample_params_batch`` draws what ``sample_params`` draws per item.

Shuffles (identity permutations redrawn, in numpy rounds then item by
item), splice positions and donors (replace and append, labelled pools
with labels that have no donors), drop masks (the one chunk brought back when
all would go) and repeat masks, with and without ``keep_first``, in every unit.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import item_rng
from augkit.items import Labelled
from augkit.text import ChunkRecombination
from tests.batch_sampling import assert_batch_draws_as_items

from .test_chunks import prose, units

seeds = st.integers(0, 2**64 - 1)
fractions = st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0])
texts = st.lists(prose(max_sentences=6), max_size=40)
POOL = ["A donor. Another donor.", "Neg one. Neg two. Neg three.", "Solo"]
POOL_LABELS = ["pos", "neg", "neg"]


@st.composite
def operators(draw: Any) -> ChunkRecombination:
    kw: dict[str, Any] = {
        "window_size": draw(st.integers(1, 4)),
        "keep_first": draw(st.booleans()),
        "drop": draw(fractions),
        "repeat": draw(fractions),
    }
    mode = draw(st.sampled_from(["shuffle", "splice", "labelled"]))
    if mode != "shuffle":
        kw.update(
            mode="splice",
            splice=draw(st.sampled_from(["replace", "append"])),
            rate=draw(fractions),
            pool=POOL,
            pool_labels=POOL_LABELS if mode == "labelled" else None,
        )
    return ChunkRecombination(draw(units), **kw)


@settings(max_examples=200)
@given(op=operators(), xs=texts, seed=seeds, data=st.data())
def test_the_hook_draws_as_per_item(
    op: ChunkRecombination, xs: list[str], seed: int, data: Any
) -> None:
    items: list[Any] = xs
    if op.needs_label:  # "other" has no donors: those items splice nothing
        labels = data.draw(st.lists(st.sampled_from(["pos", "neg", "other"]), min_size=len(xs)))
        items = [Labelled(x, y) for x, y in zip(xs, labels)]
    assert_batch_draws_as_items(op, items, seed)


@pytest.mark.parametrize("keep_first", [False, True])
def test_many_identity_shuffles_are_redrawn_as_per_item(keep_first: bool) -> None:
    # Two movable chunks: half the first shuffles are the identity, then a
    # quarter, ...: several numpy rounds, then the last few item by item.
    text = "First one. Second one." + (" Third one." if keep_first else "")
    params = assert_batch_draws_as_items(ChunkRecombination(keep_first=keep_first), [text] * 500, 9)
    fixed = int(keep_first)
    assert all(p["order"][fixed:] == [fixed + 1, fixed] for p in params)


def test_dropping_everything_brings_one_chunk_back_as_per_item() -> None:
    xs = ["One. Two. Three.", "One. Two.", "Alone.", ""] * 10
    params = assert_batch_draws_as_items(ChunkRecombination(drop=1.0, repeat=1.0), xs, 4)
    assert [len(p["order"]) for p in params[:4]] == [2, 2, 1, 0]


def test_augment_batch_through_the_hook_equals_per_item_calls() -> None:
    op = ChunkRecombination(drop=0.2, repeat=0.3)
    xs = [" ".join(f"Sentence {k}." for k in range(n % 5)) for n in range(30)]
    outs = op.augment_batch(xs, seed=8)  # 30 items: the hook's path
    assert outs == [op(x, rng=item_rng(8, 0, i)) for i, x in enumerate(xs)]
