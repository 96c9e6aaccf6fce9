"""Policy search: fit a pipeline's chain to a downstream score.

:func:`search_policy` is the cross-entropy method over the chain's start,
transitions and stop probabilities. The chain is the search distribution
itself: each round samples paths (sub-policies: a fixed sequence of
operators, the empty path being "no augmentation"), scores the pipeline that
runs each path, and refits the chain by reward-weighted maximum likelihood
(:meth:`augkit.MarkovChain.fit` with ``weights``) on the best of them,
moving part of the way towards the fit. Because the empty path is a walk of
the chain (its stop-at-start probability, kept above zero by smoothing), "no
augmentation" stays in the search space throughout, and its score is always
reported beside the result. A path's score cannot show what a mixture
gains from its items taking different paths, so each round's chain is also
scored as a whole, and the best-scoring chain is the result (``select``).

This module knows chains, pipelines and a ``score`` callable; nothing about
what the score measures (see :func:`augkit.policy.embedding_probe` for one).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base import check_magnitude
from ..markov import MarkovChain, sequence_chain
from ..pipeline import Pipeline
from ..validation import check_bool, check_choice, check_int, check_number

__all__ = ["SearchResult", "SearchRound", "magnitude_states", "no_augmentation", "search_policy"]

Path = tuple[int, ...]

#: How :func:`search_policy` picks its result.
SELECT = ("best", "last")


@dataclass(frozen=True)
class SearchRound:
    """One round of :func:`search_policy`.

    ``chain`` is the chain the round sampled from; ``score`` the mean score
    of its sampled paths (an estimate of that chain's expected score);
    ``paths`` and ``scores`` the sampled paths (operator indices, ``()``
    for no augmentation) and the score of each. ``chain_score`` is the
    score of the chain's own pipeline, every item drawing its own path
    (``None`` with ``select="last"``, which does not score it).
    """

    chain: MarkovChain
    score: float
    paths: tuple[Path, ...]
    scores: tuple[float, ...]
    chain_score: float | None = None

    @property
    def best_path(self) -> Path:
        """The round's highest-scoring path (the first of equals)."""
        return self.paths[int(np.argmax(self.scores))]


@dataclass(frozen=True)
class SearchResult:
    """What :func:`search_policy` found.

    ``pipeline`` runs the searched chain; ``score`` is its own score (the
    final chain's evaluation, or the round's with ``select="best"``: the
    highest of several noisy scores, so an optimistic estimate), ``baseline``
    the score of no augmentation
    (:func:`no_augmentation`). ``history`` has one :class:`SearchRound` per
    round; ``evaluations`` counts the calls of ``score`` (within
    ``budget``); ``seconds`` is the wall time of the search. ``states``
    says what each of the chain's states is: ``(i, magnitude)``, the index
    of the operator in the ``ops`` given and the magnitude it runs at
    (``None``: the operator as given, which declares no magnitude or was
    searched without ``magnitudes``).
    """

    pipeline: Pipeline
    score: float
    baseline: float
    history: list[SearchRound] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0
    states: tuple[tuple[int, float | None], ...] = ()

    @property
    def chain(self) -> MarkovChain:
        """The searched chain (``pipeline.chain``)."""
        return self.pipeline.chain

    @property
    def gain(self) -> float:
        """``score - baseline``: what the searched policy adds over no augmentation."""
        return self.score - self.baseline

    @property
    def helps(self) -> bool:
        """Whether the searched policy scored above no augmentation."""
        return self.score > self.baseline


def no_augmentation(ops: Sequence[Any], **item: Any) -> Pipeline:
    """The pipeline over ``ops`` that stops at once: every item comes back unchanged."""
    m = len(ops)
    return Pipeline(list(ops), MarkovChain(np.zeros(m), np.zeros((m, m))), **item)


def _path_pipeline(ops: list[Any], path: Path, item: dict[str, Any]) -> Pipeline:
    """The pipeline that runs exactly ``path`` (operator indices), every time."""
    if not path:
        return no_augmentation(ops, **item)
    # One state per position: a path may visit an operator twice, with other successors.
    return Pipeline(ops, sequence_chain(len(path)), state_ops=path, **item)


def magnitude_states(
    ops: Sequence[Any], magnitudes: Sequence[float] | None
) -> tuple[list[Any], list[tuple[int, float | None]]]:
    """The search's states: every operator, each one that declares a magnitude once per level.

    Returns the operators the chain's states run (``op.with_magnitude(m)``
    for the operators whose ``magnitude_params`` is not empty, in the order
    of ``magnitudes``; the others as given) and, per state, ``(index in ops,
    magnitude or None)``.
    """
    if magnitudes is None:
        return list(ops), [(i, None) for i in range(len(ops))]
    if isinstance(magnitudes, (str, bytes)) or not isinstance(magnitudes, Sequence):
        raise TypeError(
            f"magnitudes must be a sequence of numbers in (0, 1], got {type(magnitudes).__name__}"
        )
    levels = [check_magnitude(f"magnitudes[{j}]", m) for j, m in enumerate(magnitudes)]
    if not levels:
        raise ValueError("magnitudes must hold at least one level in (0, 1] (or be None)")
    if len(set(levels)) != len(levels):
        raise ValueError(f"magnitudes must be distinct, got {list(magnitudes)!r}")
    states: list[Any] = []
    what: list[tuple[int, float | None]] = []
    for i, op in enumerate(ops):
        if getattr(op, "magnitude_params", ()) and callable(getattr(op, "with_magnitude", None)):
            for m in levels:
                states.append(op.with_magnitude(m))
                what.append((i, m))
        else:
            states.append(op)
            what.append((i, None))
    return states, what


def _initial_chain(m: int, max_steps: int) -> MarkovChain:
    """No augmentation as likely as each operator first; after each step, stop half the time."""
    start = np.full(m, 1.0 / (m + 1))
    rows = np.full((m, m), 0.5 / m)
    return MarkovChain(start, rows, max_steps=max_steps)


def _mix(a: MarkovChain, b: MarkovChain, rate: float) -> MarkovChain:
    """``(1 - rate) * a + rate * b``, entrywise (stop probabilities mix the same way)."""
    return MarkovChain(
        (1 - rate) * a.start + rate * b.start,
        (1 - rate) * a.transitions + rate * b.transitions,
        max_steps=a.max_steps,
    )


def search_policy(
    ops: Sequence[Any],
    score: Callable[[Pipeline], float],
    budget: int = 40,
    seed: int = 0,
    time_limit: float | None = None,
    *,
    population: int = 8,
    elite: float = 0.25,
    rate: float = 0.7,
    smoothing: float = 0.1,
    max_steps: int = 2,
    start: MarkovChain | None = None,
    magnitudes: Sequence[float] | None = None,
    select: str = "best",
    progress: bool = True,
    **item: Any,
) -> SearchResult:
    """Search a chain over ``ops`` that maximises ``score`` (cross-entropy method).

    ``score`` is any callable ``Pipeline -> float`` (higher is better): an
    :func:`augkit.policy.embedding_probe`, or a user's own fine-tuning run.
    ``budget`` bounds the calls of ``score``: one for no augmentation (the
    :attr:`SearchResult.baseline`), one for the final chain, the rest for the
    rounds (each round's chain, with ``select="best"``, and its new paths).
    ``time_limit`` (seconds) stops the rounds early; the final evaluation
    still runs.

    Each round samples ``population`` paths from the current chain (at most
    ``max_steps`` operators each); every distinct path is scored once (a
    path seen before reuses its score, so ``score`` should be deterministic
    for a pipeline; repeats cost no budget). The best ``elite`` fraction of
    the sampled paths (ties included) is fitted by
    :meth:`~augkit.MarkovChain.fit` with ``smoothing`` (which keeps every
    operator, and no augmentation, possible) and the chain moves ``rate`` of
    the way to the fit. The rounds end when the budget or time is spent, or
    when a round samples no new path and the chain has stopped moving (at
    most ``budget`` rounds).

    ``select`` says which chain is the result. ``"best"`` (default) also
    scores each round's chain as a pipeline (its items draw different
    paths, which a path's score cannot show: a mixture of operators can beat
    every single path, as TrivialAugment does) and returns the best-scoring
    of those chains and the final one; each round then costs one evaluation
    more. ``"last"`` returns the chain the rounds ended with. On a noisy
    score the rounds can settle on the luckiest path after a round or two;
    ``"best"`` keeps the earlier, more mixed chains in the running.

    ``magnitudes`` (levels in ``(0, 1]``, for example ``(0.5, 1.0)``) makes
    each operator that declares a magnitude (a non-empty
    ``magnitude_params``, see :meth:`augkit.BaseAugmenter.with_magnitude`)
    one state per level, so the chain also chooses how strong each step is
    (AutoAugment's magnitudes, as states); :attr:`SearchResult.states` maps
    the states back. Operators that declare none keep one state.

    ``start`` replaces the initial chain (no augmentation as likely as each
    state; stop half the time after each step); it must have one state per
    operator (per operator and level with ``magnitudes``), and its
    ``max_steps`` is replaced by ``max_steps``. Deterministic for a
    ``seed`` (given a deterministic ``score``). ``progress`` shows a tqdm
    bar (when tqdm is installed). ``item``: ``key``, ``label`` or
    ``targets`` for the pipelines, as for :class:`augkit.Pipeline`.
    """
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
        raise TypeError(f"ops must be a list of operators, got {type(ops).__name__}")
    ops = list(ops)
    if not ops:
        raise ValueError("ops must hold at least one operator")
    if not callable(score):
        raise TypeError(f"score must be a callable Pipeline -> float, got {type(score).__name__}")
    budget = check_int("budget", budget, low=2)
    if time_limit is not None:
        time_limit = check_number("time_limit", time_limit, low=0.0, low_inclusive=False)
    population = check_int("population", population, low=2)
    elite = check_number("elite", elite, low=0.0, high=1.0, low_inclusive=False)
    rate = check_number("rate", rate, low=0.0, high=1.0, low_inclusive=False)
    smoothing = check_number("smoothing", smoothing, low=0.0, low_inclusive=False)
    max_steps = check_int("max_steps", max_steps, low=1)
    progress = check_bool("progress", progress)
    select = check_choice("select", select, SELECT)
    ops, states = magnitude_states(ops, magnitudes)
    m = len(ops)
    if start is None:
        chain = _initial_chain(m, max_steps)
    else:
        if not isinstance(start, MarkovChain):
            raise TypeError(f"start must be a MarkovChain, got {type(start).__name__}")
        if start.n_states != m:
            what, per = (
                ("operators", "operator")
                if magnitudes is None
                else ("(operator, magnitude) states", "operator and magnitude level")
            )
            raise ValueError(
                f"start has {start.n_states} states for {m} {what}: give one state per {per}"
            )
        chain = MarkovChain(start.start, start.transitions, max_steps=max_steps)
    began = time.monotonic()
    rng = np.random.default_rng(seed)
    cache: dict[Path, float] = {}
    n_elite = max(1, math.ceil(elite * population))
    bar = _progress_bar(budget, progress)

    def evaluate(pipeline: Pipeline) -> float:
        value = score(pipeline)
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"score must return a number, got {type(value).__name__}") from None
        if math.isnan(out):
            raise ValueError("score returned NaN")
        bar.update(1)
        return out

    try:
        baseline = evaluate(no_augmentation(ops, **item))
        cache[()] = baseline
        spent = 1
        history: list[SearchRound] = []
        per_round = 1 if select == "best" else 0  # the chain's own evaluation
        while spent < budget - 1 - per_round:
            if time_limit is not None and time.monotonic() - began >= time_limit:
                break
            chain_score = None
            if per_round:
                chain_score = evaluate(Pipeline(ops, chain, **item))
                spent += 1
            paths = [tuple(chain.sample(rng)) for _ in range(population)]
            new = list(dict.fromkeys(p for p in paths if p not in cache))
            if len(new) > budget - 1 - spent:
                # Not enough budget left for every new path of the round: keep the
                # paths whose scores are known or affordable, in sampling order.
                affordable = set(new[: budget - 1 - spent])
                paths = [p for p in paths if p in cache or p in affordable]
                new = [p for p in new if p in affordable]
            for p in new:
                cache[p] = evaluate(_path_pipeline(ops, p, item))
                spent += 1
            scores = [cache[p] for p in paths]
            history.append(
                SearchRound(chain, float(np.mean(scores)), tuple(paths), tuple(scores), chain_score)
            )
            order = np.argsort(-np.asarray(scores), kind="stable")
            cutoff = scores[int(order[min(n_elite, len(paths)) - 1])]
            weights = [1.0 if s >= cutoff else 0.0 for s in scores]
            fitted = MarkovChain.fit(
                [list(p) for p in paths],
                m,
                smoothing=smoothing,
                max_steps=max_steps,
                weights=weights,
            )
            moved = _mix(chain, fitted, rate)
            settled = not new and _distance(moved, chain) < 1e-4
            chain = moved
            if settled:
                break
            if len(history) >= budget:
                break  # rounds that find no new path cost nothing: bound them too
        pipeline = Pipeline(ops, chain, **item)
        final = evaluate(pipeline)
        spent += 1
        if select == "best":
            # The highest score wins; ties keep the final chain, then the earliest round.
            for r in history:
                if r.chain_score is not None and r.chain_score > final:
                    pipeline, final = Pipeline(ops, r.chain, **item), r.chain_score
    finally:
        bar.close()
    return SearchResult(
        pipeline=pipeline,
        score=final,
        baseline=baseline,
        history=history,
        evaluations=spent,
        seconds=time.monotonic() - began,
        states=tuple(states),
    )


def _distance(a: MarkovChain, b: MarkovChain) -> float:
    return float(max(np.abs(a.start - b.start).max(), np.abs(a.transitions - b.transitions).max()))


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, show: bool) -> Any:
    if not show:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: no bar then
        return _NoBar()
    return tqdm(total=total, desc="policy search", unit="eval")
