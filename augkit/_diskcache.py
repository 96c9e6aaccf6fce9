"""Build-once directories on disk, safe when several processes ask at once."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    """augkit's cache: ``$AUGKIT_CACHE``, else ``$XDG_CACHE_HOME/augkit``, else ``~/.cache/augkit``."""
    env = os.environ.get("AUGKIT_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "augkit"


def build_once(target: Path, build: Callable[[Path], object], done: Callable[[Path], bool]) -> Path:
    """``target``, built by ``build(tmp_dir)`` unless ``done(target)`` already holds.

    One process builds under a file lock while the others wait and reuse the
    result. The build goes to a temporary directory renamed into place, so a
    reader never sees a half-written directory, and a killed build leaves
    nothing that ``done`` accepts. ``build`` must write whatever ``done``
    checks for last.
    """
    from filelock import FileLock

    if done(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if done(target):  # another process built it while we waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
        try:
            build(tmp)
            if target.exists():  # a partial leftover of a killed build
                shutil.rmtree(target)
            os.replace(tmp, target)  # atomic: readers see nothing or everything
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
