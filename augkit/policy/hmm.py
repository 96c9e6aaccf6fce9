"""Hidden Markov chains of augmentation: hidden regimes that emit operators.

A :class:`HiddenMarkovChain` walks over hidden regimes (for example "mild"
and "strong") exactly as a :class:`~augkit.MarkovChain` walks over states:
``start`` and ``transitions`` with their remainders as stop probabilities,
and ``max_steps``. At every step the regime emits one operator, by its row
of ``emissions`` (rows sum to 1). :meth:`HiddenMarkovChain.fit` learns it by
Baum-Welch from operator sequences (for example the traces of samples a
quality filter accepted); :meth:`HiddenMarkovChain.to_pipeline` expands it
into the equivalent Markov pipeline over product states (regime, operator).

This module knows chains and pipelines; it knows nothing of search or
quality.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import ConfigError
from ..markov import MarkovChain
from ..pipeline import Pipeline
from ..seeding import Rng
from ..validation import check_int, check_number

__all__ = ["HiddenMarkovChain"]

_TOL = 1e-9
_KEYS = ("start", "transitions", "emissions", "max_steps")


class HiddenMarkovChain:
    """Hidden regimes ``0..h-1`` with an absorbing stop, each step emitting one of ``n_ops`` operators.

    ``start`` and ``transitions`` are those of a :class:`~augkit.MarkovChain`
    over the regimes (validated by it: ``1 - sum`` is the stop probability);
    ``emissions[r, o]`` is the probability that regime ``r`` runs operator
    ``o`` (each row sums to 1).

    >>> hmm = HiddenMarkovChain([1.0, 0.0], [[0.5, 0.0], [0.0, 0.0]], [[0.9, 0.1], [0.0, 1.0]])
    >>> hmm.expected_length()
    2.0
    >>> hmm.visit_frequencies().round(3).tolist()
    [1.8, 0.2]
    """

    def __init__(
        self,
        start: ArrayLike,
        transitions: ArrayLike,
        emissions: ArrayLike,
        max_steps: int | None = None,
    ) -> None:
        #: The walk over the hidden regimes.
        self.hidden = MarkovChain(start, transitions, max_steps)
        self.emissions = _emissions(emissions, self.hidden.n_states)
        self.emissions.setflags(write=False)
        #: Log-likelihood after each Baum-Welch iteration (set by :meth:`fit`; else empty).
        self.log_likelihoods: list[float] = []

    # ------------------------------------------------------------------ basics
    @property
    def start(self) -> NDArray[np.float64]:
        """Probability of each first regime (``1 - sum``: emit nothing)."""
        return self.hidden.start

    @property
    def transitions(self) -> NDArray[np.float64]:
        """Regime-to-regime probabilities; ``1 - sum(row)`` is the stop probability."""
        return self.hidden.transitions

    @property
    def stop(self) -> NDArray[np.float64]:
        """Stop probability after each regime."""
        stop: NDArray[np.float64] = self.hidden.stop
        return stop

    @property
    def max_steps(self) -> int | None:
        """Bound on the number of steps, or ``None``."""
        return self.hidden.max_steps

    @property
    def n_hidden(self) -> int:
        """Number of hidden regimes."""
        return self.hidden.n_states

    @property
    def n_ops(self) -> int:
        """Number of operators the regimes emit."""
        return int(self.emissions.shape[1])

    def __repr__(self) -> str:
        return (
            f"HiddenMarkovChain(start={self.start.tolist()}, "
            f"transitions={self.transitions.tolist()}, emissions={self.emissions.tolist()}, "
            f"max_steps={self.max_steps})"
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, HiddenMarkovChain)
            and self.hidden == other.hidden
            and np.array_equal(self.emissions, other.emissions)
        )

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ sampling
    def sample_with_regimes(self, rng: Rng) -> tuple[list[int], list[int]]:
        """One walk: the regimes visited and the operator each emitted."""
        regimes = self.hidden.sample(rng)
        cum = np.cumsum(self.emissions, axis=1)
        last = self.n_ops - 1
        ops = [min(int(np.searchsorted(cum[r], rng.random(), side="right")), last) for r in regimes]
        return regimes, ops

    def sample(self, rng: Rng) -> list[int]:
        """One walk's operator sequence (what :meth:`fit` learns from)."""
        return self.sample_with_regimes(rng)[1]

    # ------------------------------------------------------------------ the product chain
    def product_chain(self) -> tuple[MarkovChain, list[int]]:
        """The equivalent Markov chain over (regime, operator) states, and its ``state_ops``.

        State ``r * n_ops + o`` is "regime ``r`` emitted operator ``o``":
        start ``start[r] * emissions[r, o]``, transition to ``(r2, o2)``
        ``transitions[r, r2] * emissions[r2, o2]``, stop ``stop[r]``. Its walks,
        read through ``state_ops`` (``o``), have the operator sequences of this
        chain with the same probabilities.
        """
        e = self.emissions
        h, m = e.shape
        start = (self.start[:, None] * e).reshape(-1)
        # (r, o) -> (r2, o2): transitions[r, r2] * e[r2, o2], the same for every o.
        row = (self.transitions[:, :, None] * e[None, :, :]).reshape(h, h * m)
        trans = np.repeat(row, m, axis=0)
        state_ops = [o for _ in range(h) for o in range(m)]
        return MarkovChain(start, trans, self.max_steps), state_ops

    def to_pipeline(self, ops: Sequence[Any], **item: Any) -> Pipeline:
        """A :class:`~augkit.Pipeline` that samples the same operator sequences (see :meth:`product_chain`).

        ``ops`` are the ``n_ops`` operators, in the order the emissions name
        them; ``item`` (``key``, ``label``, ``targets``) as for the pipeline.
        The result is an ordinary pipeline: it serialises, replays and
        ``describe`` s like any other.
        """
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
            raise TypeError(f"ops must be a list of operators, got {type(ops).__name__}")
        if len(ops) != self.n_ops:
            raise ValueError(
                f"the chain emits {self.n_ops} operators but ops has {len(ops)}: give one "
                "operator per column of emissions"
            )
        chain, state_ops = self.product_chain()
        return Pipeline(list(ops), chain, state_ops=state_ops, **item)

    # ------------------------------------------------------------------ analysis
    def regime_frequencies(self) -> NDArray[np.float64]:
        """Expected number of steps spent in each regime in one walk (exact)."""
        return self.hidden.visit_frequencies()

    def visit_frequencies(self) -> NDArray[np.float64]:
        """Expected number of applications of each operator in one walk (exact)."""
        return np.asarray(self.regime_frequencies() @ self.emissions, dtype=np.float64)

    def expected_length(self) -> float:
        """Expected number of steps (operator applications) in one walk."""
        return self.hidden.expected_length()

    def log_likelihood(self, op_sequences: Iterable[Sequence[int]]) -> float:
        """Log-probability of the operator sequences under this chain (a sum over sequences).

        A sequence of exactly ``max_steps`` operators ended at the bound, so
        its probability has no stop factor (as in :meth:`MarkovChain.fit`).
        """
        data = _Sequences.of(op_sequences, self.n_ops, self.max_steps)
        return _e_step(self.start, self.transitions, self.emissions, data)[0]

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        op_sequences: Iterable[Sequence[int]],
        n_hidden: int = 2,
        n_ops: int | None = None,
        seed: int = 0,
        *,
        max_steps: int | None = None,
        max_iter: int = 200,
        tol: float = 1e-6,
        n_init: int = 1,
    ) -> HiddenMarkovChain:
        """Maximum-likelihood chain from operator sequences, by Baum-Welch (scaled forward-backward).

        Sequences may have different lengths (an empty one is a walk that
        stopped at once). ``n_ops`` defaults to one more than the largest
        operator seen; give ``len(ops)`` so that unseen operators get a
        column. Each of ``n_init`` starts draws random parameters from
        ``seed``; iterations stop after ``max_iter`` or when the
        log-likelihood gains less than ``tol`` per sequence. The start with
        the highest log-likelihood is returned, with its per-iteration
        log-likelihoods in :attr:`log_likelihoods` (non-decreasing, as EM
        guarantees). Regimes are found up to a relabelling. ``max_steps``
        censors sequences of exactly that length (no stop after them).
        """
        h = check_int("n_hidden", n_hidden, low=1)
        m_steps = None if max_steps is None else check_int("max_steps", max_steps, low=1)
        max_iter = check_int("max_iter", max_iter, low=1)
        tol = check_number("tol", tol, low=0.0)
        n_init = check_int("n_init", n_init, low=1)
        seqs = _lists(op_sequences)
        if n_ops is None:
            seen = [
                check_int(f"op_sequences[{k}][]", o, low=0) for k, s in enumerate(seqs) for o in s
            ]
            n_ops = max(seen, default=0) + 1
        n_ops = check_int("n_ops", n_ops, low=1)
        data = _Sequences.of(seqs, n_ops, m_steps)
        rng = np.random.default_rng(seed)
        best: HiddenMarkovChain | None = None
        for _ in range(n_init):
            start, trans, emis = _initial(rng, h, n_ops, data)
            history: list[float] = []
            for _ in range(max_iter):
                ll, stats = _e_step(start, trans, emis, data)
                history.append(ll)
                start, trans, emis = _m_step(stats, start, trans, emis)
                if len(history) > 1 and history[-1] - history[-2] < tol * data.n:
                    break
            history.append(_e_step(start, trans, emis, data)[0])
            model = cls(start, trans, emis, m_steps)
            model.log_likelihoods = history
            if best is None or history[-1] > best.log_likelihoods[-1]:
                best = model
        assert best is not None
        return best

    # ------------------------------------------------------------------ config
    def to_dict(self) -> dict[str, Any]:
        """``{"start", "transitions", "emissions", "max_steps"}`` as plain lists."""
        return {**self.hidden.to_dict(), "emissions": self.emissions.tolist()}

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> HiddenMarkovChain:
        """Inverse of :meth:`to_dict`; raises :class:`~augkit.ConfigError` on a bad config."""
        if not isinstance(config, Mapping):
            raise ConfigError(
                f"a hidden Markov chain config must be a mapping, got {type(config).__name__}"
            )
        unknown = set(config) - set(_KEYS)
        if unknown:
            raise ConfigError(f"unknown keys in hidden Markov chain config: {sorted(unknown)}")
        missing = {"start", "transitions", "emissions"} - set(config)
        if missing:
            raise ConfigError(f"hidden Markov chain config is missing {sorted(missing)}")
        try:
            return cls(
                config["start"], config["transitions"], config["emissions"], config.get("max_steps")
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid hidden Markov chain: {exc}") from None


# --------------------------------------------------------------------------- validation


def _emissions(value: ArrayLike, n_hidden: int) -> NDArray[np.float64]:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"emissions must be numeric, got {value!r}") from None
    if arr.ndim != 2:
        raise ValueError(
            f"emissions must be a matrix (one row per regime, one column per operator), "
            f"got an array of shape {arr.shape}"
        )
    if arr.shape[0] != n_hidden:
        raise ValueError(
            f"emissions has {arr.shape[0]} rows for {n_hidden} regimes: give one row per regime"
        )
    if arr.shape[1] == 0:
        raise ValueError("emissions must have at least one column (operator)")
    if np.isnan(arr).any():
        raise ValueError("emissions contains NaN")
    if not np.isfinite(arr).all():
        raise ValueError("emissions contains an infinite value")
    if (arr < 0).any():
        where = tuple(int(i) for i in np.argwhere(arr < 0)[0])
        raise ValueError(f"emissions has a negative entry at {where}: probabilities must be >= 0")
    sums = arr.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > _TOL)
    if bad.size:
        r = int(bad[0])
        raise ValueError(
            f"row {r} of emissions sums to {float(sums[r]):.12g}: each regime emits exactly one "
            "operator per step, so every row must sum to 1"
        )
    # Kept as given (within the tolerance): dividing by the row sums again would move
    # them by an ulp on every from_dict(to_dict()) round trip.
    return arr


def _lists(op_sequences: Any) -> list[list[Any]]:
    """``op_sequences`` as lists, each checked to be a sequence (not a str)."""
    if isinstance(op_sequences, (str, bytes, Mapping)) or not isinstance(op_sequences, Iterable):
        raise TypeError(
            "op_sequences must be a list of operator-index sequences, got "
            f"{type(op_sequences).__name__}"
        )
    out = []
    for k, seq in enumerate(op_sequences):
        if isinstance(seq, (str, bytes, Mapping)) or not isinstance(seq, Iterable):
            raise TypeError(
                f"op_sequences[{k}] must be a sequence of operator indices, got "
                f"{type(seq).__name__}"
            )
        out.append(list(seq))
    return out


class _Sequences:
    """Operator sequences as arrays for forward-backward over all of them at once.

    The non-empty sequences are sorted longest first and stored time-major
    (``obs[t, i]``), so the sequences still running at step ``t`` are the
    prefix ``[:running[t]]``: slices instead of masks.
    """

    def __init__(self, seqs: list[list[int]], max_steps: int | None) -> None:
        self.n = len(seqs)
        self.n_empty = sum(1 for s in seqs if not s)
        nonempty = sorted((s for s in seqs if s), key=len, reverse=True)
        self.lengths = np.array([len(s) for s in nonempty], dtype=np.int64)
        longest = int(self.lengths[0]) if nonempty else 0
        self.obs = np.zeros((longest, len(nonempty)), dtype=np.int64)
        for i, s in enumerate(nonempty):
            self.obs[: len(s), i] = s
        self.running = [int((self.lengths > t).sum()) for t in range(longest)]
        self.censored = (
            np.zeros(len(nonempty), dtype=bool) if max_steps is None else self.lengths == max_steps
        )

    @classmethod
    def of(
        cls, op_sequences: Iterable[Sequence[int]], n_ops: int, max_steps: int | None
    ) -> _Sequences:
        seqs: list[list[int]] = []
        for k, seq in enumerate(_lists(op_sequences)):
            ops = [check_int(f"op_sequences[{k}][]", o, low=0, high=n_ops - 1) for o in seq]
            if max_steps is not None and len(ops) > max_steps:
                raise ValueError(
                    f"op_sequences[{k}] has {len(ops)} steps, more than max_steps={max_steps}"
                )
            seqs.append(ops)
        if not seqs:
            raise ValueError("op_sequences is empty: nothing to fit")
        return cls(seqs, max_steps)


# --------------------------------------------------------------------------- Baum-Welch


def _initial(
    rng: np.random.Generator, h: int, m: int, data: _Sequences
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Random positive parameters; the empty walks' share is the data's, so none is impossible."""
    empty = data.n_empty / data.n
    start = (1.0 - empty) * rng.dirichlet(np.ones(h))
    trans = rng.dirichlet(np.ones(h + 1), size=h)[:, :h]
    emis = rng.dirichlet(np.ones(m), size=h)
    return start, trans, emis


def _e_step(
    start: NDArray[np.float64],
    trans: NDArray[np.float64],
    emis: NDArray[np.float64],
    data: _Sequences,
) -> tuple[float, tuple[NDArray[np.float64], ...]]:
    """Scaled forward-backward over every sequence at once: the log-likelihood and expected counts.

    ``alpha[t]`` is normalised to sum 1 by ``c[t]``; the end of a sequence
    (stop, or nothing when censored) is one more factor ``c_end``, so
    ``log P = sum(log c) + log c_end`` and ``gamma = alpha * beta``.
    Returns the counts of first regimes (with stop-at-once last), of
    regime-to-regime moves and stops after each regime, and of emissions.
    """
    h = start.shape[0]
    m = emis.shape[1]
    stop = np.clip(1.0 - trans.sum(axis=1), 0.0, 1.0)
    start_counts = np.zeros(h + 1)
    trans_counts = np.zeros((h, h + 1))
    emis_counts = np.zeros((h, m))
    stop_at_once = max(0.0, 1.0 - float(start.sum()))
    ll = 0.0
    if data.n_empty:
        start_counts[h] = data.n_empty
        ll += data.n_empty * (float(np.log(stop_at_once)) if stop_at_once > 0 else -np.inf)
    longest, n = data.obs.shape
    if n == 0:
        return ll, (start_counts, trans_counts, emis_counts)
    run = data.running
    b = emis.T[data.obs]  # (longest, n, h): emission probability of each observed operator
    alpha = np.zeros((longest, n, h))
    beta = np.zeros((longest, n, h))
    c = np.ones((longest, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = start[None, :] * b[0]
        for t in range(longest):
            k = run[t]
            if t > 0:
                a = (alpha[t - 1, :k] @ trans) * b[t, :k]
            c[t, :k] = a.sum(axis=1)
            alpha[t, :k] = a / c[t, :k, None]
        cols = np.arange(n)
        last = data.lengths - 1
        end = np.where(data.censored[:, None], 1.0, stop[None, :])
        c_end = (alpha[last, cols] * end).sum(axis=1)
        ll += float(np.log(c).sum() + np.log(c_end).sum())
        if not np.isfinite(ll):
            return ll, (start_counts, trans_counts, emis_counts)
        beta[last, cols] = end / c_end[:, None]
        for t in range(longest - 2, -1, -1):
            k = run[t + 1]  # the sequences that go on after step t
            ahead = b[t + 1, :k] * beta[t + 1, :k] / c[t + 1, :k, None]
            beta[t, :k] = ahead @ trans.T
            # Expected moves t -> t+1: alpha_t(i) trans(i, j) b_{t+1}(j) beta_{t+1}(j) / c_{t+1}.
            trans_counts[:, :h] += trans * (alpha[t, :k].T @ ahead)
    gamma = alpha * beta  # zero past each sequence's end (alpha and beta are)
    start_counts[:h] += gamma[0].sum(axis=0)
    stopped = ~data.censored
    trans_counts[:, h] += gamma[last[stopped], cols[stopped]].sum(axis=0)
    flat = data.obs.reshape(-1)
    for r in range(h):
        emis_counts[r] = np.bincount(flat, weights=gamma[:, :, r].reshape(-1), minlength=m)
    return ll, (start_counts, trans_counts, emis_counts)


def _m_step(
    stats: tuple[NDArray[np.float64], ...],
    start: NDArray[np.float64],
    trans: NDArray[np.float64],
    emis: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Normalised expected counts; a regime the data never visits keeps its parameters."""
    start_counts, trans_counts, emis_counts = stats
    h = start.shape[0]
    total = start_counts.sum()
    new_start = start_counts[:h] / total if total > 0 else start
    row_totals = trans_counts.sum(axis=1, keepdims=True)
    new_trans = np.where(
        row_totals > 0, trans_counts[:, :h] / np.maximum(row_totals, 1e-300), trans
    )
    emis_totals = emis_counts.sum(axis=1, keepdims=True)
    new_emis = np.where(emis_totals > 0, emis_counts / np.maximum(emis_totals, 1e-300), emis)
    return new_start, new_trans, new_emis
