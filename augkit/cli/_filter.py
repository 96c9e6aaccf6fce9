"""``augkit augment --filter filter.yaml``: a quality filter file, read, checked and fitted.

The file (YAML, or JSON with a ``.json`` suffix) is one mapping; every key
is optional::

    model: sentence-transformers/all-MiniLM-L6-v2  # hub name or local directory
    batch_size: 64         # embedding batch size
    metric: cosine         # cosine | euclidean | mahalanobis
    reference: original    # original | class (class needs labels)
    quantile: 0.95         # threshold: this quantile of the originals' distances
    label_check: false     # nearest class must be the item's label (needs labels)
    min_distance: 0.0      # reject near-copies at or below this distance
    shrinkage: ledoit-wolf # Mahalanobis covariance shrinkage (or a number, or null)
    relative: false        # relative Mahalanobis
    folds: null            # k folds instead of leave-one-out thresholds
    cross_fit: false       # with reference: class
    max_tries: 4           # attempts per output
    fallback: original     # original | last: what a still-rejected output becomes

The filter is fitted on the usable records of the augment command's
input (texts of its ``--field``, labels of its label field when the filter
needs them) before augmenting, and the pipeline becomes
``pipeline.filtered(qf, max_tries=..., fallback=...)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..corpus.readers import BadRecord, InputError, detect_format, read_records
from ._common import CommandError

__all__ = ["DEFAULT_MODEL", "FILTER_KEYS", "fit_filter", "load_filter_spec"]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_FILTER_OPTIONS = (
    "metric",
    "reference",
    "quantile",
    "label_check",
    "min_distance",
    "shrinkage",
    "relative",
    "folds",
    "cross_fit",
)
FILTER_KEYS = ("model", "batch_size", *_FILTER_OPTIONS, "max_tries", "fallback")


def load_filter_spec(path: str) -> dict[str, Any]:
    """The mapping of a filter file, its keys checked (not yet its values)."""
    p = Path(path)
    if not p.is_file():
        raise CommandError(
            f"--filter {path!r} does not exist"
            if not p.exists()
            else f"--filter {path!r} is not a file"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read --filter {path!r}: {exc}") from None
    try:
        if p.suffix.lower() == ".json":
            spec = json.loads(text)
        else:
            from .._config import yaml_module

            spec = yaml_module().safe_load(text)
    except ImportError as exc:
        raise CommandError(f"--filter {path!r}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError, json.JSONDecodeError
        raise CommandError(f"--filter {path!r} is not valid YAML/JSON: {exc}") from None
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise CommandError(
            f"--filter {path!r} must hold a mapping (metric: ..., quantile: ...), "
            f"got {type(spec).__name__}"
        )
    unknown = sorted(str(k) for k in spec if k not in FILTER_KEYS)
    if unknown:
        raise CommandError(
            f"--filter {path!r}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(FILTER_KEYS)}"
        )
    return spec


def fit_filter(
    spec: dict[str, Any],
    path: str,
    *,
    input_path: str,
    fmt: str | None,
    field: str,
    label_field: str | None,
) -> tuple[Any, dict[str, Any]]:
    """The fitted QualityFilter and the options of ``Pipeline.filtered`` (max_tries, fallback)."""
    from ..quality import QualityFilter, TextEmbedder
    from ..quality.filtered import FALLBACKS

    where = f"--filter {path!r}"
    model = spec.get("model", DEFAULT_MODEL)
    if not isinstance(model, str) or not model:
        raise CommandError(f"{where}: model must be a hub name or a local directory")
    batch_size = spec.get("batch_size", 64)
    max_tries = spec.get("max_tries", 4)
    for name, value in (("batch_size", batch_size), ("max_tries", max_tries)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise CommandError(f"{where}: {name} must be an integer >= 1, got {value!r}")
    fallback = spec.get("fallback", "original")
    if fallback not in FALLBACKS:
        raise CommandError(f"{where}: fallback must be one of {FALLBACKS}, got {fallback!r}")
    local = Path(model).expanduser()
    looks_like_path = (
        local.is_absolute() or model.startswith(("./", "../", "~")) or (model.count("/") > 1)
    )
    if looks_like_path and not local.is_dir():
        raise CommandError(f"{where}: model {model!r}: no such model directory")
    try:
        emb = TextEmbedder(str(local) if local.is_dir() else model, batch_size=batch_size)
        qf = QualityFilter(emb, **{k: spec[k] for k in _FILTER_OPTIONS if k in spec})
    except (TypeError, ValueError) as exc:
        raise CommandError(f"{where}: {exc}") from None
    needs_labels = qf.reference == "class" or qf.label_check
    if needs_labels and not label_field:
        raise CommandError(
            f"{where}: reference 'class' and label_check need labels: name the label field "
            "with --label-field (or in the pipeline config)"
        )
    p = Path(input_path)
    texts: list[str] = []
    labels: list[Any] = []
    try:
        records = read_records(
            p, detect_format(p, fmt), field, label_field if needs_labels else None
        )
        for rec in records:
            if isinstance(rec, BadRecord):
                continue
            texts.append(rec.data[field])
            if needs_labels and label_field is not None:
                labels.append(rec.data[label_field])
    except (InputError, OSError) as exc:
        raise CommandError(f"{where}: cannot read the originals: {exc}") from None
    try:
        qf.fit(texts, labels if needs_labels else None)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"{where}: fitting on {input_path!r}: {exc}") from None
    except ImportError as exc:
        raise CommandError(
            f"--filter needs torch and transformers ({exc}): pip install 'augkit[quality]'"
        ) from None
    return qf, {"max_tries": max_tries, "fallback": fallback}
