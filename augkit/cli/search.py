"""``augkit search``: search a policy for a labelled JSONL file (:func:`augkit.policy.search_policy`).

The operators come from a pipeline config (``--config``, as for ``augment``;
its chain is not used); the score is :func:`augkit.policy.embedding_probe`
with a :class:`augkit.quality.TextEmbedder`. Writes the searched pipeline's
config (same operators and item settings, the searched chain), a JSON of
the rounds and the no-augmentation baseline, and a PNG of score per round.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from .._jsonl import LineError, iter_jsonl
from ..pipeline import Pipeline
from ._common import (
    DEFAULT_EMBEDDER,
    EXIT_OK,
    CommandError,
    import_plugins,
    load_pipeline,
    magnitude_level,
    non_negative,
    positive,
    positive_float,
    warn,
)

__all__ = ["DEFAULT_EMBEDDER", "add_parser", "history_json", "plot_history", "run"]

_SUFFIXES = (".yaml", ".yml", ".json")


def add_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "search",
        parents=parents,
        help="search an augmentation policy for a labelled JSONL file",
        description=(
            "Search a chain over the operators of --config that maximises the k-fold accuracy "
            "of a logistic regression on frozen embeddings of INPUT's texts plus their "
            "augmented copies (augkit.policy.search_policy with embedding_probe). Writes "
            "OUTPUT (the searched pipeline config: the config's operators and item settings, "
            "the searched chain), a JSON of the rounds with the no-augmentation baseline, and "
            "a PNG of score per round."
        ),
    )
    cmd.add_argument("input", metavar="INPUT", help="JSONL file, one object per line")
    cmd.add_argument(
        "-c",
        "--config",
        required=True,
        help="pipeline config (YAML or JSON) whose operators are searched over",
    )
    cmd.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTPUT",
        help="searched pipeline config to write (.yaml, .yml or .json)",
    )
    cmd.add_argument("--key", help="text field (default: the config's key, or 'text')")
    cmd.add_argument("--label", help="label field (default: the config's label, or 'label')")
    cmd.add_argument(
        "--embedder",
        default=DEFAULT_EMBEDDER,
        help=f"encoder: a hub name or a local model directory (default {DEFAULT_EMBEDDER})",
    )
    cmd.add_argument(
        "--budget", type=positive, default=40, help="calls of the score, at least 2 (default 40)"
    )
    cmd.add_argument("--seed", type=non_negative, default=0, help="seed (default 0)")
    cmd.add_argument("--folds", type=positive, default=5, help="probe folds (default 5)")
    cmd.add_argument(
        "--time-limit",
        type=positive_float,
        metavar="SECONDS",
        help="stop the rounds after this long (the final evaluation still runs)",
    )
    cmd.add_argument(
        "--max-steps", type=positive, default=2, help="operators per item at most (default 2)"
    )
    cmd.add_argument(
        "--magnitudes",
        type=magnitude_level,
        nargs="+",
        metavar="M",
        help="also search these strengths in (0, 1] of each operator that declares a "
        "magnitude (e.g. 0.5 1.0): one state per operator and level",
    )
    cmd.add_argument(
        "--history",
        metavar="PATH",
        help="JSON of the rounds and baseline (default: OUTPUT with suffix .history.json)",
    )
    cmd.add_argument(
        "--plot", metavar="PATH", help="PNG of score per round (default: OUTPUT with suffix .png)"
    )
    cmd.add_argument("--no-plot", action="store_true", help="do not draw the plot")
    cmd.add_argument("--overwrite", action="store_true", help="replace existing output files")
    cmd.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    cmd.set_defaults(func=run)


def _stem(output: Path) -> Path:
    return output.with_suffix("")


def read_examples(path: str, key: str, label: str) -> tuple[list[str], list[Any]]:
    """The texts and labels of a JSONL file; a :class:`CommandError` names a bad line."""
    p = Path(path)
    if not p.is_file():
        raise CommandError(f"input {path!r} does not exist" if not p.exists() else
                           f"input {path!r} is not a file")  # fmt: skip
    texts: list[str] = []
    labels: list[Any] = []
    try:
        with p.open("rb") as f:
            for number, record in iter_jsonl(f):
                where = f"{path}: line {number}"
                if not isinstance(record, dict):
                    raise CommandError(f"{where}: expected a JSON object, got {record!r:.60}")
                for name, what in ((key, "text"), (label, "label")):
                    if name not in record:
                        raise CommandError(
                            f"{where}: no field {name!r} (the {what}; fields: "
                            f"{sorted(record)}); choose it with --{'key' if what == 'text' else what}"
                        )
                text, value = record[key], record[label]
                if not isinstance(text, str):
                    raise CommandError(
                        f"{where}: field {key!r} must be a string, got {type(text).__name__}"
                    )
                if value is None or not isinstance(value, Hashable) or isinstance(value, float):
                    raise CommandError(
                        f"{where}: label {label!r} must be a string, integer or boolean, "
                        f"got {value!r:.60}"
                    )
                texts.append(text)
                labels.append(value)
    except LineError as exc:
        raise CommandError(f"{path}: {exc}") from None
    except OSError as exc:
        raise CommandError(f"cannot read input {path!r}: {exc}") from None
    if not texts:
        raise CommandError(f"input {path!r} holds no records")
    return texts, labels


def check_folds(labels: list[Any], folds: int) -> None:
    counts = Counter(str(v) for v in labels)
    if len(counts) < 2:
        raise CommandError(
            f"the labels hold one class ({next(iter(counts))!r}); a search needs at least two"
        )
    if folds < 2:
        raise CommandError("--folds must be at least 2")
    few = {c: n for c, n in counts.items() if n < folds}
    if few:
        shown = ", ".join(f"{c!r}: {n}" for c, n in sorted(few.items()))
        raise CommandError(
            f"--folds {folds} needs at least {folds} examples of every class; too few for "
            f"{shown}: lower --folds or add examples"
        )


def history_json(result: Any, ops: list[Any], **extra: Any) -> dict[str, Any]:
    """A plain-JSON record of a :class:`~augkit.policy.SearchResult`."""
    given = [getattr(op, "name", type(op).__name__) for op in ops]
    # One name per state of the chain: "rotate@0.5" for an operator at a searched magnitude.
    states = result.states or tuple((i, None) for i in range(len(ops)))
    names = [given[i] + ("" if m is None else f"@{m:g}") for i, m in states]
    rounds = []
    for i, r in enumerate(result.history, 1):
        rounds.append(
            {
                "round": i,
                "score": r.score,
                "chain_score": r.chain_score,
                "best_score": max(r.scores),
                "best_path": [names[j] for j in r.best_path],
                "paths": [[names[j] for j in p] for p in r.paths],
                "scores": list(r.scores),
                "chain": r.chain.to_dict(),
            }
        )
    return {
        **extra,
        "operators": names,
        "baseline": result.baseline,
        "score": result.score,
        "gain": result.gain,
        "helps": result.helps,
        "evaluations": result.evaluations,
        "seconds": round(result.seconds, 3),
        "chain": result.chain.to_dict(),
        "rounds": rounds,
    }


def plot_history(history: dict[str, Any], path: Path) -> None:
    """Score per round (mean and best of the round's paths), the baseline as a line."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.add_subplot()
    rounds = history["rounds"]
    x = [r["round"] for r in rounds]
    ax.plot(x, [r["score"] for r in rounds], marker="o", label="round mean (sampled paths)")
    ax.plot(x, [r["best_score"] for r in rounds], marker="^", linestyle=":", label="round best")
    ax.axhline(history["baseline"], color="grey", linestyle="--", label="no augmentation")
    last = (x[-1] if x else 0) + 1
    ax.scatter([last], [history["score"]], color="black", marker="*", s=90, zorder=3,
               label="searched policy (final)")  # fmt: skip
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("round (the star: the searched chain's own score)")
    ax.set_ylabel("probe accuracy")
    ax.set_title("augkit search: score per round")
    ax.legend(loc="best", fontsize="small")
    fig.savefig(path, dpi=100)


def _check_embedder(name: str) -> None:
    """A name written as a path must be a directory (a hub name is ``namespace/name``)."""
    looks_like_path = (
        os.path.isabs(name)
        or name.startswith(("./", "../", "~", ".\\", "..\\"))
        or name.replace("\\", "/").count("/") > 1
    )
    p = Path(name).expanduser()
    if looks_like_path and not p.is_dir():
        raise CommandError(
            f"--embedder {name!r}: no such model directory (give a local directory or a hub "
            "name such as sentence-transformers/all-MiniLM-L6-v2)"
        )


def run(args: argparse.Namespace) -> int:
    import_plugins(args.imports)
    output = Path(args.output)
    if output.suffix.lower() not in _SUFFIXES:
        raise CommandError(f"--output {args.output!r}: the suffix must be one of {_SUFFIXES}")
    history_path = (
        Path(args.history) if args.history else _stem(output).with_suffix(".history.json")
    )
    plot_path = None if args.no_plot else (
        Path(args.plot) if args.plot else _stem(output).with_suffix(".png")
    )  # fmt: skip
    if not args.overwrite:
        for p in (output, history_path, plot_path):
            if p is not None and p.exists():
                raise CommandError(f"{str(p)!r} exists; use --overwrite to replace it")
    if plot_path is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CommandError(
                "the plot needs matplotlib (pip install matplotlib); or pass --no-plot"
            ) from None
    config = load_pipeline(args.config)
    cfg = config.to_dict()
    if "targets" in cfg or any(getattr(op, "modality", "text") != "text" for op in config.ops):
        raise CommandError(f"config {args.config!r} is not a text pipeline: search needs text")
    key = args.key or cfg.get("key") or "text"
    label = args.label or cfg.get("label") or "label"
    texts, labels = read_examples(args.input, key, label)
    check_folds(labels, args.folds)
    if args.budget < 2:
        raise CommandError("--budget must be at least 2 (the baseline and the final policy)")

    _check_embedder(args.embedder)
    from ..policy import embedding_probe, search_policy
    from ..quality import TextEmbedder

    local = Path(args.embedder).expanduser()
    emb = TextEmbedder(str(local) if local.is_dir() else args.embedder)
    try:
        score = embedding_probe(emb, texts, labels, folds=args.folds, seed=args.seed)
    except (TypeError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    except ImportError as exc:
        raise CommandError(
            f"augkit search needs scikit-learn, torch and transformers ({exc}): "
            "pip install 'augkit[cli,policy,quality]'"
        ) from None
    ops = list(config.ops)
    result = search_policy(
        ops,
        score,
        budget=args.budget,
        seed=args.seed,
        time_limit=args.time_limit,
        max_steps=args.max_steps,
        magnitudes=args.magnitudes,
        progress=not args.quiet,
    )
    cfg.pop("state_ops", None)
    cfg["operators"] = [op.to_dict() for op in result.pipeline.ops]
    cfg["chain"] = result.chain.to_dict()
    searched = Pipeline.from_dict(cfg)
    history = history_json(
        result,
        ops,
        input=str(args.input),
        config=str(args.config),
        pipeline=str(output),
        embedder=str(args.embedder),
        examples=len(texts),
        budget=args.budget,
        seed=args.seed,
        folds=args.folds,
        time_limit=args.time_limit,
        magnitudes=args.magnitudes,
    )
    for p in (output, history_path, plot_path):
        if p is not None and p.parent != Path(""):
            os.makedirs(p.parent, exist_ok=True)
    searched.save(output)
    history_path.write_text(json.dumps(history, indent=2) + "\n", encoding="utf-8")
    if plot_path is not None:
        plot_history(history, plot_path)
    if not args.quiet:
        verdict = "helps" if result.helps else "does NOT help: no augmentation scores as well"
        print(
            f"no augmentation: {result.baseline:.4f}; searched policy: {result.score:.4f} "
            f"({result.gain:+.4f}, {verdict}); {result.evaluations} evaluations in "
            f"{result.seconds:.1f} s"
        )
        print(searched.describe())
        print(f"wrote {output}, {history_path}" + (f", {plot_path}" if plot_path else ""))
    if not result.helps and not args.quiet:
        warn("augmentation did not beat no augmentation on this data")
    return EXIT_OK
