"""Hypothesis strategies shared by the foundation tests."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from augkit import MarkovChain


@st.composite
def distributions(
    draw: Any, n: int, *, min_stop: float = 0.0, allow_full: bool = True
) -> list[float]:
    """``n`` probabilities summing to at most 1, leaving at least ``min_stop`` for stop."""
    weights = draw(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=n + 1, max_size=n + 1))
    # Zero out some entries so sparse chains (unreachable states) are covered.
    mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    w = np.array([0.0 if m else x for x, m in zip(weights[:n], mask)] + [weights[n]])
    if allow_full and draw(st.booleans()):
        w[n] = 0.0  # this row never stops on its own
    if w.sum() == 0:
        w[n] = 1.0
    p = w / w.sum()
    if p[n] < min_stop:
        p[:n] *= (1.0 - min_stop) / max(p[:n].sum(), 1e-300)
        p[n] = min_stop
    return [float(v) for v in p[:n]]


@st.composite
def chains(draw: Any, max_states: int = 5, bounded: bool | None = None) -> MarkovChain:
    """Valid chains: unbounded ones always can stop; bounded ones may loop forever."""
    n = draw(st.integers(1, max_states))
    if bounded is None:
        bounded = draw(st.booleans())
    if bounded:
        max_steps = draw(st.integers(1, 6))
        start = draw(distributions(n))
        rows = [draw(distributions(n)) for _ in range(n)]
        return MarkovChain(start, rows, max_steps=max_steps)
    start = draw(distributions(n))
    rows = [draw(distributions(n, min_stop=0.15, allow_full=False)) for _ in range(n)]
    return MarkovChain(start, rows)


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40)
seeds = st.integers(0, 2**64)
