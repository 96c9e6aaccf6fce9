"""The crash-safe journal of a corpus run: what is written, how far it got, and whether it is done.

A run writes ``OUTPUT.partial`` batch by batch. After each batch the file is
flushed and fsynced, then a small progress record ``OUTPUT.progress.json``
(input position reached, byte length of the output so far, counts, a
fingerprint of the run) is replaced atomically. Running the same job again
after a crash (even ``kill -9`` in the middle of a batch) truncates
``OUTPUT.partial`` to the recorded length, dropping any partial line or
unrecorded records, and continues from the recorded input position. A run
that fails before its first batch is recorded removes both files again.

When everything is written, the progress record is marked complete with the
output's SHA-256, ``OUTPUT.partial`` is renamed to ``OUTPUT`` and the record
to ``OUTPUT.done.json``, in that order: a file named ``OUTPUT`` is always
complete, and a crash between the steps is finished by the next run. A
progress record whose fingerprint differs from the current run's is never
resumed; a finished ``OUTPUT`` whose done record has the current
fingerprint, size and SHA-256 is "already complete".

This module knows nothing about records, formats or pipelines: it appends
bytes and compares fingerprints (plain JSON dicts the runner builds).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..errors import AugkitError

__all__ = [
    "COUNTS",
    "PROGRESS_FORMAT",
    "PROGRESS_VERSION",
    "Journal",
    "ResumeError",
    "done_path_for",
    "file_sha256",
    "fingerprint_diffs",
    "fsync_dir",
    "paths_for",
    "write_json_atomic",
]

PROGRESS_FORMAT = "augkit.augment-progress"
#: 2: variant v uses the variant coordinate (1: epoch=v); counts of unchanged variants.
PROGRESS_VERSION = 2
#: What a progress record counts: the input position reached, and what is written so far.
COUNTS = ("next_index", "records", "lines", "bytes", "variants", "unchanged", "not_distinct")


class ResumeError(AugkitError):
    """An earlier run's files are in the way, or do not match this run."""


def paths_for(output: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """``(output, output.partial, output.progress.json)``: the files of a run in progress."""
    out = Path(output)
    return out, out.with_name(out.name + ".partial"), out.with_name(out.name + ".progress.json")


def done_path_for(output: str | os.PathLike[str]) -> Path:
    """``output.done.json``: the record of the finished run that wrote ``output``."""
    out = Path(output)
    return out.with_name(out.name + ".done.json")


def file_sha256(f: IO[bytes]) -> str:
    """The SHA-256 of what is left to read in ``f``, read 1 MiB at a time."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: f.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    # Makes a rename/creation in the directory durable; not possible on Windows.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON: written to a temporary file, fsynced, renamed."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _lock(f: IO[bytes], partial: Path) -> None:
    """Refuse to run beside another process writing the same output (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise ResumeError(
            f"another augkit process is writing {str(partial)!r}; wait for it to finish"
        ) from None


def _short(value: Any) -> str:
    s = json.dumps(value)
    return s[:14] + "…" if len(s) > 16 else s


def fingerprint_diffs(
    old: Mapping[str, Any], new: Mapping[str, Any], names: Mapping[str, str]
) -> list[str]:
    """One line per setting that differs between two fingerprints: ``--seed: 0 then, 1 now``.

    ``names`` says how each key is named in messages (a key not in it as itself).
    """
    return [
        f"{names.get(k, k)}: {_short(old.get(k))} then, {_short(new.get(k))} now"
        for k in sorted(set(new) | set(old))
        if old.get(k) != new.get(k)
    ]


def _read_record(path: Path) -> dict[str, Any]:
    """A progress or done record, checked for shape; ``ValueError`` says what is wrong."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != PROGRESS_FORMAT:
        raise ValueError("not an augkit progress record")
    if data.get("version") == 1:
        raise ValueError(
            "written by augkit 0.1, whose variants used another seeding coordinate (epoch=v)"
        )
    if data.get("version") != PROGRESS_VERSION:
        raise ValueError(f"progress record version {data.get('version')!r} is not known here")
    for k in COUNTS:
        if not isinstance(data[k], int) or isinstance(data[k], bool) or data[k] < 0:
            raise ValueError(f"bad {k!r}")
    if not isinstance(data["fingerprint"], dict):
        raise ValueError("bad fingerprint")
    return data


class Journal:
    """The files of one run that writes ``output``, identified by its ``fingerprint``.

    ``names`` says how each fingerprint key is named in messages (``"seed":
    "--seed"``); ``say`` receives progress messages. Use
    :meth:`previous_run` first, then :meth:`writing` around the batches.
    """

    def __init__(
        self,
        output: str | os.PathLike[str],
        fingerprint: dict[str, Any],
        *,
        names: Mapping[str, str] | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.output, self.partial, self.progress = paths_for(output)
        self.done = done_path_for(output)
        self.fingerprint = fingerprint
        self.names = dict(names or {})
        self.say = say or (lambda msg: None)
        #: The counts of the interrupted run being resumed (None: a fresh run).
        self.state: dict[str, Any] | None = None
        self._file: IO[bytes] | None = None
        self._complete = False

    # ------------------------------------------------------------------ before writing
    def previous_run(self, *, restart: bool, overwrite: bool) -> dict[str, Any] | None:
        """The done record when ``output`` is already this run's complete output, else None.

        Finishes the renames of a run that stopped while tidying up, loads
        the progress of an interrupted run with the same fingerprint (to
        resume: :attr:`state`), and raises :class:`ResumeError` when
        earlier files are in the way: another run's progress (unless
        ``restart``), an existing ``output`` that is not this run's (unless
        ``overwrite``), or a partial file without a progress record.
        """
        out, partial, progress = self.output, self.partial, self.progress
        state = self._load_progress(restart)
        if state is not None and state.get("complete"):
            # An earlier run finished writing and was stopped while tidying up.
            if partial.exists():
                os.replace(partial, out)
                fsync_dir(out.parent)
            if out.exists():
                os.replace(progress, self.done)
                fsync_dir(out.parent)
                return state
            progress.unlink()
            state = None  # the finished output was removed since; start over
        if out.exists() and not overwrite:
            # Raises unless OUTPUT is what this very run would write.
            return self._check_done()
        if state is None and not restart and partial.exists() and partial.stat().st_size > 0:
            raise ResumeError(
                f"{str(partial)!r} exists without a progress record, so it cannot be resumed; "
                "pass --restart to discard it"
            )
        self.state = state
        return None

    def diffs(self, old: dict[str, Any]) -> list[str]:
        """One line per setting that differs from fingerprint ``old``: ``--seed: 0 then, 1 now``."""
        return fingerprint_diffs(old, self.fingerprint, self.names)

    def _load_progress(self, restart: bool) -> dict[str, Any] | None:
        path = self.progress
        if not path.exists():
            return None
        if restart:
            path.unlink()
            return None
        try:
            data = _read_record(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ResumeError(
                f"the progress record {str(path)!r} is unreadable ({exc}); "
                "pass --restart to discard the interrupted run and start over"
            ) from None
        diffs = self.diffs(data["fingerprint"])
        if diffs:
            raise ResumeError(
                f"{str(path)!r} records an interrupted run with different settings, so its "
                "output cannot be continued:\n  "
                + "\n  ".join(diffs)
                + "\nre-run with the original settings to resume, or pass --restart to start over"
            )
        return data

    def _check_done(self) -> dict[str, Any]:
        """The done record of ``output`` if it is the complete output of this run; else raise."""
        out, done_path = self.output, self.done
        replace = (
            "pass --overwrite to replace it (it is replaced only once the new output is complete)"
        )
        if not done_path.exists():
            raise ResumeError(
                f"{str(out)!r} already exists and there is no record of the run that wrote it "
                f"({done_path.name}); {replace}"
            )
        try:
            record = _read_record(done_path)
            if not record.get("complete") or not isinstance(record.get("sha256"), str):
                raise ValueError("not the record of a finished run")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ResumeError(
                f"the run record {str(done_path)!r} is unreadable ({exc}); {replace}"
            ) from None
        diffs = self.diffs(record["fingerprint"])
        if diffs:
            raise ResumeError(
                f"{str(out)!r} already exists, written with different settings:\n  "
                + "\n  ".join(diffs)
                + f"\n{replace}"
            )
        with out.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size != record["bytes"] or file_sha256(f) != record["sha256"]:
                raise ResumeError(
                    f"{str(out)!r} was changed after augkit wrote it (it no longer matches "
                    f"{done_path.name}); {replace}"
                )
        return record

    # ------------------------------------------------------------------ writing
    @contextmanager
    def writing(self) -> Iterator[dict[str, Any]]:
        """Open ``output.partial`` where the last recorded batch ended; yields the counts.

        Inside, :meth:`append` each batch and :meth:`finish` at the end; the
        renames that put ``output`` in place follow when the file is closed. An
        exception that leaves a fresh run with no recorded batch removes the
        run's files: a run that fails before its first batch leaves nothing.
        """
        partial = self.partial
        fresh = self.state is None
        fd = os.open(partial, os.O_RDWR | os.O_CREAT, 0o644)
        with os.fdopen(fd, "r+b") as f:
            _lock(f, partial)
            if self.state is None:
                self.state = dict.fromkeys(COUNTS, 0)
                write_json_atomic(self.progress, self._progress(complete=False))
            state = self.state
            size = os.fstat(f.fileno()).st_size
            done_bytes = int(state["bytes"])
            if size < done_bytes:
                raise ResumeError(
                    f"{str(partial)!r} is shorter ({size} bytes) than its progress record says "
                    f"({done_bytes}); it was changed outside augkit. Pass --restart to start over"
                )
            if done_bytes:
                f.seek(done_bytes - 1)
                if f.read(1) != b"\n":
                    raise ResumeError(
                        f"{str(partial)!r} does not end a line where its progress record says; "
                        "pass --restart to start over"
                    )
            if size > done_bytes:
                self.say(f"dropping {size - done_bytes} unrecorded byte(s) at the end of {partial}")
            f.truncate(done_bytes)
            f.seek(done_bytes)
            os.fsync(f.fileno())
            self._file = f
            try:
                yield state
            except BaseException:
                if fresh and not state["next_index"]:
                    # Failed before its first batch was recorded (a model that does
                    # not load, an operator that rejects its arguments): leave
                    # nothing behind, as a run that fails its checks does.
                    self.progress.unlink(missing_ok=True)
                    partial.unlink(missing_ok=True)
                raise
            finally:
                self._file = None
        if self._complete:
            # The order makes every crash recoverable: a complete progress record and
            # OUTPUT.partial (rename it), or OUTPUT (rename the record to OUTPUT.done.json).
            os.replace(partial, self.output)
            fsync_dir(self.output.parent)
            os.replace(self.progress, self.done)
            fsync_dir(self.output.parent)

    def append(self, data: bytes, *, next_index: int, **counts: int) -> None:
        """Write one batch durably, then record it: the input position and what it added."""
        f, state = self._file, self.state
        assert f is not None and state is not None, "append() is for inside writing()"
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
        state["next_index"] = next_index
        state["bytes"] += len(data)
        for k, v in counts.items():
            state[k] += v
        write_json_atomic(self.progress, self._progress(complete=False))

    def finish(self) -> dict[str, Any]:
        """Mark the run complete; ``output`` is put in place when :meth:`writing` ends.

        Returns the done record.
        """
        f, state = self._file, self.state
        assert f is not None and state is not None, "finish() is for inside writing()"
        f.seek(0)
        state["sha256"] = file_sha256(f)
        record = self._progress(complete=True)
        write_json_atomic(self.progress, record)
        self._complete = True
        return record

    def _progress(self, *, complete: bool) -> dict[str, Any]:
        state = self.state
        assert state is not None
        record: dict[str, Any] = {
            "format": PROGRESS_FORMAT,
            "version": PROGRESS_VERSION,
            "fingerprint": self.fingerprint,
            **{k: int(state[k]) for k in COUNTS},
            "complete": complete,
        }
        if complete:
            record["sha256"] = state["sha256"]  # of the whole output
        return record
