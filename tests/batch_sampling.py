"""The check behind every ``sample_params_batch`` property test: batch == per item, draw for draw."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from augkit.seeding import (
    BatchStream,
    Stream,
    item_word,
    seed_epoch_word,
    stream_base,
    stream_bases,
)


def assert_batch_draws_as_items(op: Any, xs: list[Any], seed: int, stream: int = 1) -> list[Any]:
    """``op.sample_params_batch(xs, ...)`` equals ``op.sample_params(x, Stream)`` for every item.

    Items ``i`` sit at the seeding rule's ``(seed, epoch 0, index i)``, as in a
    batch. Equal means the same JSON (so the same values and the same plain
    Python types), and each item's counter ends where its own stream's does:
    the hook drew exactly the words ``sample_params`` draws. Returns the parameters.
    """
    words = [item_word(seed_epoch_word(seed, 0), i) for i in range(len(xs))]
    batch = BatchStream(stream_bases(np.array(words, dtype=np.uint64), stream))
    batched = op.sample_params_batch(xs, batch)
    streams = [Stream(stream_base(w, stream)) for w in words]
    alone = [op.sample_params(x, s) for x, s in zip(xs, streams)]
    assert json.dumps(batched) == json.dumps(alone)
    assert batch.d.tolist() == [s._d for s in streams]
    return list(batched)
