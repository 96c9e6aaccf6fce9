"""A finite Markov chain over operator states with an absorbing stop state, and its builders.

``start[j]`` is the probability that the first step is state ``j``;
``1 - sum(start)`` is the probability of doing nothing. Row ``i`` of
``transitions`` gives the next state after ``i``; ``1 - sum(row i)`` is the
probability of stopping after ``i``. ``max_steps`` bounds the walk.

The usual compositions are special cases of the chain: :func:`sequence_chain`,
:func:`one_of_chain`, :func:`sometimes_chain` and :func:`some_of_chain` build
them (``augkit.Pipeline.sequence`` and friends call these). A builder returns
the chain and, where it needs more states than operators, ``state_ops``: the
operator each state runs.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import ConfigError
from .seeding import Rng
from .validation import check_fraction, check_int, check_number

__all__ = [
    "MarkovChain",
    "one_of_chain",
    "sequence_chain",
    "some_of_chain",
    "sometimes_chain",
]

_TOL = 1e-9
_DIRECT_SUM_LIMIT = 4096


class MarkovChain:
    """States ``0..n-1`` plus an absorbing stop; validated on construction.

    >>> chain = MarkovChain(start=[1.0, 0.0], transitions=[[0.0, 0.5], [0.0, 0.0]])
    >>> chain.expected_length()
    1.5
    """

    def __init__(
        self,
        start: ArrayLike,
        transitions: ArrayLike,
        max_steps: int | None = None,
    ) -> None:
        self.start = _probabilities("start", start, ndim=1)
        n = self.start.shape[0]
        if n == 0:
            raise ValueError("start must have at least one state")
        self.transitions = _probabilities("transitions", transitions, ndim=2)
        rows, cols = self.transitions.shape
        if rows != cols:
            raise ValueError(
                f"transitions must be square, one row and one column per state, got {rows}x{cols}"
            )
        if rows != n:
            # Either may be the wrong one: say both, and what must agree.
            raise ValueError(
                f"start has {n} entries but transitions is {rows}x{rows}: both need one "
                "entry (start) and one row and column (transitions) per state"
            )
        self.max_steps = None if max_steps is None else check_int("max_steps", max_steps, low=1)
        self.stop = np.clip(1.0 - self.transitions.sum(axis=1), 0.0, 1.0)
        # Python lists: bisect on a list is ~20x faster than np.searchsorted
        # on a tiny array, and sampling is the pipeline's per-item hot path.
        self._cum_start = _cumulative(self.start, 1.0 - float(self.start.sum()))
        self._cum_rows = [_cumulative(row, stop) for row, stop in zip(self.transitions, self.stop)]
        if self.max_steps is None:
            trapped = self._states_without_stop()
            if trapped:
                raise ValueError(
                    f"the stop state cannot be reached from state(s) {trapped}, which the "
                    "chain can enter: the walk could go on forever; give max_steps or let "
                    "those rows sum to less than 1"
                )
        for arr in (self.start, self.transitions, self.stop):
            arr.setflags(write=False)
        self.fixed_path = self._fixed_path()
        # Cumulative rows as one matrix (row n = start), +inf past a row that
        # never stops: the vectorised twin of the bisect lists above.
        self._cum_matrix = np.array([*self._cum_rows, self._cum_start], dtype=np.float64)

    def _fixed_path(self) -> tuple[int, ...] | None:
        """The one path a chain with a single outcome per step can take, or ``None``.

        ``Pipeline.sequence`` is such a chain: sampling it would draw uniforms
        to arrive where it must.
        """
        path: list[int] = []
        row, stop = self.start, self.stop_at_start
        while True:
            outcomes = np.flatnonzero(row > 0)
            if stop > 0:
                if len(outcomes) or stop < 1.0:
                    return None
                return tuple(path)
            if len(outcomes) != 1 or row[outcomes[0]] < 1.0:
                return None
            state = int(outcomes[0])
            path.append(state)
            if self.max_steps is not None and len(path) >= self.max_steps:
                return tuple(path)
            if len(path) > self.n_states and self.max_steps is None:
                return None  # unreachable: validation refuses a walk that cannot stop
            row, stop = self.transitions[state], float(self.stop[state])

    # ------------------------------------------------------------------ basics
    @property
    def n_states(self) -> int:
        return int(self.start.shape[0])

    @property
    def stop_at_start(self) -> float:
        """Probability that the walk is empty."""
        return float(max(0.0, 1.0 - self.start.sum()))

    def __repr__(self) -> str:
        return (
            f"MarkovChain(start={self.start.tolist()}, transitions={self.transitions.tolist()}, "
            f"max_steps={self.max_steps})"
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MarkovChain)
            and self.max_steps == other.max_steps
            and np.array_equal(self.start, other.start)
            and np.array_equal(self.transitions, other.transitions)
        )

    __hash__ = None  # type: ignore[assignment]

    def _reachable(self) -> set[int]:
        seen = {int(j) for j in np.flatnonzero(self.start > 0)}
        todo = list(seen)
        while todo:
            i = todo.pop()
            for j in np.flatnonzero(self.transitions[i] > 0):
                if int(j) not in seen:
                    seen.add(int(j))
                    todo.append(int(j))
        return seen

    def _states_without_stop(self) -> list[int]:
        # States from which stop is reachable, by backward closure from the
        # states with a positive stop probability.
        can_stop = {int(i) for i in np.flatnonzero(self.stop > 0)}
        changed = True
        while changed:
            changed = False
            for i in range(self.n_states):
                if i not in can_stop and any(self.transitions[i, j] > 0 for j in can_stop):
                    can_stop.add(i)
                    changed = True
        return sorted(self._reachable() - can_stop)

    # ------------------------------------------------------------------ sampling
    def sample(self, rng: Rng) -> list[int]:
        """One walk: the list of visited states, at most ``max_steps`` long.

        Each step draws one ``rng.random()`` and picks the state whose
        interval of the cumulative row holds it (stop beyond the row's sum).
        """
        path: list[int] = []
        n = len(self._cum_start)
        limit = self.max_steps
        rows = self._cum_rows
        state = bisect_right(self._cum_start, rng.random())
        while state < n:
            path.append(state)
            if limit is not None and len(path) >= limit:
                break
            state = bisect_right(rows[state], rng.random())
        return path

    def sample_batch(self, random: Callable[[], NDArray[np.float64]], n: int) -> list[list[int]]:
        """``n`` walks at once: ``random()`` gives the next uniform of every walk.

        The same walks as :meth:`sample` on each walk's own sequence of
        uniforms (:meth:`sample_states`, as lists).
        """
        return [[s for s in row if s >= 0] for row in self.sample_states(random, n).tolist()]

    def sample_states(self, random: Callable[[], NDArray[np.float64]], n: int) -> NDArray[np.int64]:
        """:meth:`sample_batch` as an ``(n, longest walk)`` array, ``-1`` after a walk stops.

        One comparison against the cumulative rows per step instead of a
        bisect per walk and step; walks that have stopped draw (and ignore)
        the uniforms of later rounds, which no other draw uses.
        """
        m = self.n_states
        cols: list[NDArray[np.int64]] = []
        state = np.full(n, m)  # row m of the matrix is the start
        active = np.ones(n, dtype=bool)
        while True:
            u = random()
            nxt = (self._cum_matrix[state] <= u[:, None]).sum(axis=1)
            active &= nxt < m
            if not active.any():
                break
            cols.append(np.where(active, nxt, -1))
            state = np.where(active, nxt, state)
            if self.max_steps is not None and len(cols) >= self.max_steps:
                break
        if not cols:
            return np.full((n, 0), -1, dtype=np.int64)
        return np.stack(cols, axis=1).astype(np.int64, copy=False)

    def sample_from_stream(self, rng: Rng) -> list[int]:
        """:meth:`sample` for a generator used for nothing else afterwards.

        Gives the same path as :meth:`sample` on a generator in the same
        state, but draws the uniforms in blocks (one call instead of one per
        step, the pipeline's per-item hot path), so it may leave ``rng``
        further advanced than :meth:`sample` would.
        """
        path: list[int] = []
        n = len(self._cum_start)
        limit = self.max_steps
        rows = self._cum_rows
        block = 8 if limit is None else min(limit + 1, 8)
        us: list[float] = rng.random(block).tolist()
        state = bisect_right(self._cum_start, us[0])
        k = 1
        while state < n:
            path.append(state)
            if limit is not None and len(path) >= limit:
                break
            if k == len(us):
                us.extend(rng.random(block).tolist())
            state = bisect_right(rows[state], us[k])
            k += 1
        return path

    # ------------------------------------------------------------------ analysis
    def visit_frequencies(self) -> NDArray[np.float64]:
        """Expected number of visits to each state in one walk (exact).

        Without ``max_steps`` this is ``start @ N`` with the fundamental matrix
        ``N = (I - Q)^-1``. With ``max_steps = m`` it is
        ``start @ (I + Q + ... + Q^(m-1))``, summed term by term (exact up to
        rounding) for ``m`` up to 4096 and as ``start @ (I - Q^m) @ N`` beyond
        that when ``I - Q`` is well conditioned. States the walk cannot enter
        are left out of ``Q``.
        """
        # States the walk can never enter get 0 visits; leaving them out also
        # keeps I - Q invertible when such a state is a closed loop.
        reach = sorted(self._reachable())
        out = np.zeros(self.n_states)
        if not reach:
            return out
        q = self.transitions[np.ix_(reach, reach)]
        start = self.start[reach]
        eye = np.eye(len(reach))
        m = self.max_steps
        if m is None:
            out[reach] = np.linalg.solve((eye - q).T, start)
        elif m > _DIRECT_SUM_LIMIT and np.linalg.cond(eye - q) < 1e8:
            out[reach] = start @ (eye - np.linalg.matrix_power(q, m)) @ np.linalg.inv(eye - q)
        else:
            # The closed form cancels catastrophically when Q is close to
            # stochastic (1 - q^m over 1 - q); m vector-matrix products do not.
            row = start.copy()
            for _ in range(m):
                out[reach] += row
                row = row @ q
        return out

    def expected_length(self) -> float:
        """Expected number of steps (operator applications) in one walk."""
        return float(self.visit_frequencies().sum())

    def stationary(self) -> NDArray[np.float64]:
        """Stationary distribution of the operator-to-operator transitions.

        It exists when the walk never stops on its own (every row sums to 1,
        so only ``max_steps`` ends it) and is unique when those transitions
        form one closed class. Otherwise a ``ValueError`` says why; for chains
        that stop, ``visit_frequencies() / expected_length()`` is the long-run
        share of steps per operator.
        """
        if np.any(self.stop > _TOL):
            rows = np.flatnonzero(self.stop > _TOL).tolist()
            raise ValueError(
                f"no stationary distribution over operators: the walk stops from state(s) "
                f"{rows}, so all mass ends in the stop state; use visit_frequencies() / "
                "expected_length() for the long-run share of steps"
            )
        n = self.n_states
        p = self.transitions / self.transitions.sum(axis=1, keepdims=True)
        a = np.vstack([p.T - np.eye(n), np.ones((1, n))])
        if np.linalg.matrix_rank(a[:-1]) < n - 1:
            raise ValueError(
                "the stationary distribution is not unique: the transitions have more than "
                "one closed class"
            )
        b = np.zeros(n + 1)
        b[-1] = 1.0
        pi, *_ = np.linalg.lstsq(a, b, rcond=None)
        pi = np.clip(pi, 0.0, None)
        return np.asarray(pi / pi.sum(), dtype=np.float64)

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        sequences: Iterable[Sequence[int]],
        n_states: int,
        smoothing: float = 0.0,
        max_steps: int | None = None,
        weights: Iterable[float] | None = None,
    ) -> MarkovChain:
        """Maximum-likelihood chain from observed state sequences.

        Counts first states (an empty sequence counts as stopping at once),
        transitions, and stops after the last state. ``smoothing`` adds that
        pseudo-count to every outcome (each state and stop) of the start and
        of every row (Laplace smoothing). With ``max_steps``, a sequence of
        exactly that length is censored: it ends because of the bound, so it
        adds no stop count. A state never left (no outgoing counts, no
        smoothing) gets a row that stops.

        ``weights`` gives each sequence a non-negative, finite weight (one per
        sequence): its counts are multiplied by it, which is weighted maximum
        likelihood (with rewards as weights, the policy search's refit). An
        integer weight ``w`` fits as ``w`` copies of the sequence; equal
        weights fit as no weights at all.
        """
        n = check_int("n_states", n_states, low=1)
        alpha = check_number("smoothing", smoothing, low=0.0)
        m = None if max_steps is None else check_int("max_steps", max_steps, low=1)
        seqs = list(sequences)
        w = [1.0] * len(seqs) if weights is None else _sequence_weights(weights, len(seqs))
        start_counts = np.zeros(n + 1)  # last column = stop
        counts = np.zeros((n, n + 1))
        for k, (seq, wk) in enumerate(zip(seqs, w)):
            states = [check_int(f"sequences[{k}][]", s, low=0, high=n - 1) for s in seq]
            if m is not None and len(states) > m:
                raise ValueError(f"sequences[{k}] has {len(states)} steps, more than max_steps={m}")
            if not states:
                start_counts[n] += wk
                continue
            start_counts[states[0]] += wk
            for a, b in itertools.pairwise(states):
                counts[a, b] += wk
            if m is None or len(states) < m:
                counts[states[-1], n] += wk
        if not seqs:
            raise ValueError("sequences is empty: nothing to fit")
        if sum(w) == 0 and alpha == 0:
            raise ValueError(
                "weights are all 0 (and smoothing is 0): nothing to fit; give some sequence "
                "a positive weight"
            )
        start_counts += alpha
        counts += alpha
        start = start_counts[:n] / start_counts.sum()
        totals = counts.sum(axis=1, keepdims=True)
        rows = np.divide(counts[:, :n], totals, out=np.zeros((n, n)), where=totals > 0)
        return cls(start, rows, max_steps=m)

    # ------------------------------------------------------------------ config
    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.tolist(),
            "transitions": self.transitions.tolist(),
            "max_steps": self.max_steps,
        }

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> MarkovChain:
        if not isinstance(config, Mapping):
            raise ConfigError(f"a chain config must be a mapping, got {type(config).__name__}")
        unknown = set(config) - {"start", "transitions", "max_steps"}
        if unknown:
            raise ConfigError(f"unknown keys in chain config: {sorted(unknown)}")
        missing = {"start", "transitions"} - set(config)
        if missing:
            raise ConfigError(f"chain config is missing {sorted(missing)}")
        try:
            return cls(config["start"], config["transitions"], config.get("max_steps"))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid chain: {exc}") from None


def _sequence_weights(weights: Iterable[float], n_seq: int) -> list[float]:
    """``weights`` of :meth:`MarkovChain.fit` as floats: one per sequence, finite and >= 0."""
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Iterable):
        raise TypeError(
            f"weights must be a sequence of numbers (one per sequence), got {type(weights).__name__}"
        )
    out = []
    for k, v in enumerate(weights):
        x = check_number(f"weights[{k}]", v, low=0.0)
        if not math.isfinite(x):
            raise ValueError(f"weights[{k}] must be finite, got {v!r}")
        out.append(x)
    if len(out) != n_seq:
        raise ValueError(
            f"weights has {len(out)} entries for {n_seq} sequences: give one per sequence"
        )
    return out


def _probabilities(name: str, value: ArrayLike, *, ndim: int) -> NDArray[np.float64]:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {value!r}") from None
    if arr.ndim != ndim:
        shape = "a vector" if ndim == 1 else "a square matrix"
        raise ValueError(f"{name} must be {shape}, got an array of shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains an infinite value")
    if (arr < 0).any():
        where = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"{name} has a negative entry at {where}: probabilities must be >= 0")
    sums = arr.sum(axis=-1)
    over = np.flatnonzero(np.atleast_1d(sums) > 1.0 + _TOL)
    if over.size:
        what = name if ndim == 1 else f"row {int(over[0])} of {name}"
        total = float(np.atleast_1d(sums)[over[0]])
        raise ValueError(f"{what} sums to {total:.12g} > 1 (the remainder is the stop probability)")
    # Rows within tolerance above 1 are scaled down so the stop probability is exactly 0.
    scale = np.maximum(np.atleast_1d(sums), 1.0)
    return np.asarray(arr / (scale if ndim == 1 else scale[:, None]), dtype=np.float64)


def _cumulative(row: NDArray[np.float64], stop: float) -> list[float]:
    """Cumulative sums for sampling; a row that never stops ends at +inf.

    Without the +inf a row summing to 1 would, through rounding of its
    cumulative sum, stop with probability ~1e-16 all the same.
    """
    cum: list[float] = np.cumsum(row).tolist()
    if stop <= 0.0:
        last = int(np.flatnonzero(row > 0)[-1]) if (row > 0).any() else len(cum) - 1
        for j in range(last, len(cum)):
            cum[j] = math.inf
    return cum


# --------------------------------------------------------------------------- builders


def sequence_chain(n: int) -> MarkovChain:
    """Every one of ``n`` states once, in order: start at 0, ``i -> i+1`` with probability 1."""
    n = check_int("number of operators", n, low=1)
    start = np.zeros(n)
    start[0] = 1.0
    return MarkovChain(start, np.eye(n, k=1))


def one_of_chain(n: int, weights: ArrayLike | None = None, p: float = 1.0) -> MarkovChain:
    """With probability ``p``, exactly one of ``n`` states, chosen by ``weights``; then stop."""
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights must have one entry per operator ({n}), got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    start = check_fraction("p", p) * w / w.sum()
    return MarkovChain(start, np.zeros((n, n)))


def sometimes_chain(n: int, p: float | Iterable[float] = 0.5) -> MarkovChain:
    """Each of ``n`` states visited independently with probability ``p``, in order.

    The chain jumps from state ``i`` to ``j > i`` with the probability that
    ``j`` is the next one whose coin comes up heads,
    ``p_j * prod(1 - p_k for i < k < j)``, and stops when none does. ``p``
    may be one probability or one per state.
    """
    if isinstance(p, (str, bytes)) or not isinstance(p, Iterable):
        # One probability; check_fraction names what is wrong with it.
        probs = [check_fraction("p", p)] * n
    else:
        probs = [check_fraction(f"p[{i}]", v) for i, v in enumerate(p)]
        if len(probs) != n:
            raise ValueError(
                f"p has {len(probs)} entries for {n} operators (give one probability, "
                "or one per operator)"
            )

    def first_heads(after: int) -> NDArray[np.float64]:
        row = np.zeros(n)
        miss = 1.0
        for j in range(after + 1, n):
            row[j] = miss * probs[j]
            miss *= 1.0 - probs[j]
        return row

    return MarkovChain(first_heads(-1), np.array([first_heads(i) for i in range(n)]))


def some_of_chain(m: int, n: int) -> tuple[MarkovChain, list[int]]:
    """``n`` distinct of ``m`` operators, a uniformly random subset, in order; and ``state_ops``.

    A chain over operators alone cannot remember which ones it used, so
    this chain's states are pairs (operator ``i``, ``k``-th pick). The
    probabilities are those of drawing the subset in increasing order:
    after picking ``i`` as the ``k``-th of ``n``, the next is ``j > i``
    with probability ``C(m-1-j, n-k-1) / C(m-1-i, n-k)``.
    """
    n = check_int("n", n, low=1, high=m)
    states = [(i, k) for k in range(1, n + 1) for i in range(m) if k - 1 <= i <= m - 1 - (n - k)]
    index = {s: t for t, s in enumerate(states)}
    start = np.zeros(len(states))
    trans = np.zeros((len(states), len(states)))
    for (i, k), t in index.items():
        if k == 1:
            start[t] = math.comb(m - 1 - i, n - 1) / math.comb(m, n)
        if k < n:
            for j in range(i + 1, m):
                nxt = index.get((j, k + 1))
                if nxt is not None:
                    trans[t, nxt] = math.comb(m - 1 - j, n - k - 1) / math.comb(m - 1 - i, n - k)
    return MarkovChain(start, trans, max_steps=n), [i for i, _ in states]
