"""FilteredPipeline: a pipeline whose outputs a quality filter rejects are redrawn.

``pipe.filtered(qf, max_tries=4)`` (:meth:`augkit.Pipeline.filtered`)
returns one. It runs the pipeline as usual, embeds every output of the
call in one batch, and lets the filter decide; each rejected output is
redrawn from its next *attempt* coordinate of the seeding rule
(``(seed, epoch, index, variant, attempt)``), all the rejected outputs of
a round again in one batch, until it is accepted or ``max_tries``
attempts are spent. Because a decision depends only on the output and
its own original (:meth:`QualityFilter.decide`), and every attempt is its
own coordinate, the filtered pipeline is as reproducible as the pipeline:
an item gives the same output alone or in any batch, and its trace
records every attempt's distance and reason (``Trace.quality``) and
replays.

An output that is still rejected after ``max_tries`` attempts is replaced
by its original (``fallback="original"``, the default: a filter should
not let a rejected item through) or kept (``fallback="last"``); its trace
says so (``quality["accepted"] is False``). With ``distinct=True`` an
accepted output must also differ from its input and earlier variants,
within the same attempts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError
from ..items import values_equal
from ..pipeline import Pipeline
from ..seeding import ATTEMPT_BITS
from ..trace import Step, Trace
from ..validation import check_choice, check_int

__all__ = ["FALLBACKS", "FilteredPipeline"]

FALLBACKS = ("original", "last")

# Pipelines (by id) inside one of their own augment calls, per thread: the filter runs
# there; any other call of their loop with fresh draws (nested in another pipeline, or
# sample_params) would run unfiltered, so it is refused instead.
_ACTIVE = threading.local()


class FilteredPipeline(Pipeline):
    """A :class:`~augkit.Pipeline` plus a fitted quality filter that redraws rejected outputs.

    Build one with ``pipeline.filtered(quality_filter, max_tries=4)``.
    ``pipeline`` and ``quality_filter`` stay available as attributes; the
    item lens, operators and chain are the pipeline's. It filters what
    :meth:`augment`, :meth:`augment_batch` and calls return; replay needs
    no filter (the trace holds the accepted attempt's steps). It cannot be
    nested in another pipeline, and its config is its pipeline's (the
    fitted filter is data, not configuration). Its ``max_tries`` bounds
    every output's attempts, those for ``distinct=True`` included (a
    call's ``max_tries`` is not used).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        quality_filter: Any,
        *,
        max_tries: int = 4,
        fallback: str = "original",
    ) -> None:
        if not isinstance(pipeline, Pipeline):
            raise TypeError(f"pipeline must be an augkit Pipeline, got {type(pipeline).__name__}")
        if isinstance(pipeline, FilteredPipeline):
            raise TypeError(
                "this pipeline is filtered already: filter its .pipeline with one filter, or "
                "combine the checks in one QualityFilter"
            )
        decide = getattr(quality_filter, "decide", None)
        if not callable(decide) or getattr(quality_filter, "threshold_", None) is None:
            raise ValueError(
                "quality_filter must be a fitted QualityFilter: call "
                "quality_filter.fit(originals, labels) first"
            )
        # The same pipeline, shared state and all (its operators are read-only once built).
        self.__dict__.update(pipeline.__dict__)
        self.pipeline = pipeline
        self.quality_filter = quality_filter
        self.max_tries = check_int("max_tries", max_tries, low=1, high=2**ATTEMPT_BITS)
        self.fallback = check_choice("fallback", fallback, FALLBACKS)

    def __repr__(self) -> str:
        return (
            f"FilteredPipeline({self.pipeline!r}, {self.quality_filter!r}, "
            f"max_tries={self.max_tries}, fallback={self.fallback!r})"
        )

    def describe(self, indent: str = "") -> str:
        """The pipeline's description, then the filter's."""
        return (
            self.pipeline.describe(indent)
            + f"\n{indent}filtered by {self.quality_filter!r}, max_tries={self.max_tries}, "
            f"fallback={self.fallback!r}"
        )

    def with_item(self, **item: Any) -> Pipeline:
        """The filtered pipeline over another item lens (see :meth:`Pipeline.with_item`)."""
        return FilteredPipeline(
            self.pipeline.with_item(**item),
            self.quality_filter,
            max_tries=self.max_tries,
            fallback=self.fallback,
        )

    def to_dict(self) -> dict[str, Any]:
        raise ConfigError(
            "a filtered pipeline has no config of its own: save its .pipeline, and fit the "
            "QualityFilter again on the originals where you load it"
        )

    # ------------------------------------------------------------------ running
    def augment(self, x: Any, *, return_trace: bool = False, **kwargs: Any) -> Any:
        """:meth:`Pipeline.augment`, filtered (always through the traced path: it decides)."""
        out, trace = super().augment(x, return_trace=True, **kwargs)
        return (out, trace) if return_trace else out

    def _augment(
        self,
        items: list[Any],
        seed: Any,
        epoch: int,
        indices: Sequence[int] | None,
        n: int | None,
        distinct: bool,
        max_tries: int,
        traced: bool,
    ) -> tuple[list[Any], list[Trace]]:
        # Always traced: the untraced fast paths of Pipeline do not redraw.
        active = _ACTIVE.__dict__.setdefault("ids", set())
        active.add(id(self))
        try:
            outs, traces = super()._augment(
                items, seed, epoch, indices, n, distinct, max_tries, True
            )
        finally:
            active.discard(id(self))
        return outs, traces if traced else []

    def _run(self, values: list[Any], labels: list[Any], source: Any, *args: Any, **kw: Any) -> Any:
        if id(self) not in _ACTIVE.__dict__.get("ids", ()) and hasattr(source, "coords"):
            raise TypeError(
                "a filtered pipeline filters what its own augment calls return; nested in another "
                "pipeline (or through sample_params) it would run unfiltered: nest its .pipeline "
                "and filter the outer pipeline instead"
            )
        return super()._run(values, labels, source, *args, **kw)

    def _redraw(
        self,
        values: list[Any],
        labels: list[Any],
        nv: int,
        outs: list[Any],
        steps: list[list[Step]],
        attempts: list[int],
        flags: list[bool | None],
        distinct: bool,
        max_tries: int,
        run: Callable[[list[int]], tuple[list[Any], list[list[Step]]]],
    ) -> list[dict[str, Any]] | None:
        """Filter every output; redraw the rejected ones from their next attempt, in rounds.

        Without ``distinct``, every output is decided on its own. With it,
        per item, variant ``v`` is settled before ``v + 1`` is looked at (it
        must differ from the final earlier variants), as
        :meth:`Pipeline._make_distinct` does. Either way the result is the
        same alone or in any batch.
        """
        qf = self.quality_filter
        ys = qf.check_inputs(len(values), _labels_or_none(labels), values)
        e_orig = qf.embed_unique("originals", values)
        threshold = float(qf.threshold_)
        notes: list[dict[str, Any]] = [
            {"metric": qf.metric, "threshold": threshold, "accepted": False, "tries": []}
            for _ in outs
        ]
        ok = [False] * len(outs)
        settled = [0] * len(values)
        retry: list[int] = []  # this round's outputs to redraw

        def settle(j: int, unique: bool) -> bool:
            """Accept output ``j``, queue its redraw, or give up on it; True when it is final."""
            if ok[j] and not unique:
                notes[j]["tries"][-1].update(accepted=False, reason="not_distinct")
            if ok[j] and unique:
                notes[j]["accepted"] = True
            elif attempts[j] + 1 < self.max_tries:
                attempts[j] += 1
                retry.append(j)
                return False
            elif not ok[j] and self.fallback == "original":
                outs[j] = values[j // nv]
                if steps:
                    steps[j] = []
                notes[j]["fallback"] = "original"
            if distinct:
                flags[j] = unique and (ok[j] or self.fallback == "last")
            return True

        pending = list(range(len(outs)))
        while pending:
            items = [j // nv for j in pending]
            verdict = qf.decide(
                qf.embed("outputs", [outs[j] for j in pending]),  # one batch per round
                None if ys is None else [ys[i] for i in items],
                e_orig[items],
            )
            for k, j in enumerate(pending):
                ok[j] = bool(verdict.accepted[k])
                notes[j]["tries"].append(
                    {
                        "attempt": attempts[j],
                        "distance": float(verdict.distance[k]),
                        "accepted": ok[j],
                        "reason": verdict.reason[k],
                    }
                )
            retry.clear()
            if not distinct:  # variants are independent: every pending one at once
                for j in pending:
                    settle(j, True)
            else:
                for i in range(len(values)):
                    while settled[i] < nv:
                        j = i * nv + settled[i]
                        earlier = [values[i], *outs[i * nv : j]]
                        if not settle(j, not any(values_equal(outs[j], e) for e in earlier)):
                            break
                        settled[i] += 1
            if retry:
                new_outs, new_steps = run(retry)
                for k, j in enumerate(retry):
                    outs[j] = new_outs[k]
                    if steps:
                        steps[j] = new_steps[k]
            pending = list(retry)
        return notes


def _labels_or_none(labels: list[Any]) -> list[Any] | None:
    """The items' labels as the lens found them; None when no item has one."""
    return None if all(y is None for y in labels) else labels
