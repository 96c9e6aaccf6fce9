"""Offline corpus augmentation: read a JSONL / CSV / text file, write augmented JSONL.

The engine of ``augkit augment`` (:mod:`augkit.cli`); from Python,
:func:`augment_corpus`. Four modules, each with one concern:

- :mod:`augkit.corpus.readers`: the input formats, which records can be
  augmented (:class:`Record`) and which cannot (:class:`BadRecord`);
- :mod:`augkit.corpus.journal`: the crash-safe, resumable output files
  (``OUTPUT.partial``, ``OUTPUT.progress.json``, ``OUTPUT.done.json``);
- :mod:`augkit.corpus.runner`: the run itself: records through the
  pipeline's lens, ``n`` variants each (seeding rule, output records,
  ``distinct``), written batch by batch through the journal.
- :mod:`augkit.corpus.sharded`: the same records as shards plus a manifest,
  from an engine that may return them in any order (``--engine ray``,
  :func:`augkit.ray.augment_corpus_on_ray`); resumable shard by shard.

See :mod:`augkit.corpus.runner` for the item model, the seeding rule and the
output, and ``docs/cli.md`` for the command.
"""

from .journal import ResumeError, done_path_for, paths_for
from .readers import (
    FORMATS,
    RESERVED,
    BadRecord,
    InputError,
    Record,
    detect_format,
    read_records,
    scan_input,
)
from .runner import ItemFailedError, Summary, augment_corpus, record_pipeline

__all__ = [
    "FORMATS",
    "RESERVED",
    "BadRecord",
    "InputError",
    "ItemFailedError",
    "Record",
    "ResumeError",
    "Summary",
    "augment_corpus",
    "detect_format",
    "done_path_for",
    "paths_for",
    "read_records",
    "record_pipeline",
    "scan_input",
]
