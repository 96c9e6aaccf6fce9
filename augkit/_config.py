"""Reading and writing pipeline config files: JSON or YAML text, files by suffix."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError, file_problem

#: Config file suffixes Pipeline.load and Pipeline.save know, and their format.
CONFIG_SUFFIXES = {".json": "JSON", ".yaml": "YAML", ".yml": "YAML"}


def read_config_file(path: str | os.PathLike[str]) -> tuple[Path, str, str]:
    """``(path, format, text)`` of a config file; every problem is a ConfigError naming it."""
    p, kind = config_file(path, "load")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file_problem(exc, "config file", p)) from None
    return p, kind, text


def config_file(path: Any, method: str) -> tuple[Path, str]:
    """``path`` as a Path, and the format its suffix names; errors name the allowed suffixes."""
    if not isinstance(path, (str, os.PathLike)):
        hint = "; for a config dict use Pipeline.from_dict" if isinstance(path, Mapping) else ""
        raise TypeError(
            f"Pipeline.{method} takes a file path (str or os.PathLike), got "
            f"{type(path).__name__}{hint}"
        )
    p = Path(path)
    kind = CONFIG_SUFFIXES.get(p.suffix.lower())
    if kind is None:
        allowed = ", ".join(f"{s} ({k})" for s, k in CONFIG_SUFFIXES.items())
        raise ConfigError(
            f"cannot tell the format of config file {str(p)!r} from its suffix "
            f"{p.suffix or '(none)'!r}; name it with one of {allowed}"
        )
    return p, kind


def config_text(method: str, text: Any, kind: str) -> str:
    """``text`` if it can be config text; a clear error for a path or a file name given instead."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if isinstance(text, os.PathLike):
        raise TypeError(
            f"Pipeline.{method} takes {kind} text, got a path ({os.fspath(text)!r}); "
            "to read a file use Pipeline.load(path)"
        )
    if not isinstance(text, str):
        raise TypeError(f"Pipeline.{method} takes {kind} text (a str), got {type(text).__name__}")
    name = text.strip()
    if (
        name
        and "\n" not in name
        and (Path(name).suffix.lower() in CONFIG_SUFFIXES or os.path.isfile(name))
    ):
        raise ConfigError(
            f"Pipeline.{method} takes {kind} text, and {name!r} looks like a file name; "
            f"to read a file use Pipeline.load({name!r})"
        )
    return text


def json_kind(value: Any) -> str:
    """What a parsed config value is, in words: ``a list``, ``a string ('pipe.yaml')``."""
    if value is None:
        return "nothing (an empty document)"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def yaml_module() -> Any:
    try:
        import yaml
    except ImportError:
        raise ImportError(
            "YAML configs need PyYAML: pip install 'augkit[yaml]' (or use to_json/from_json)"
        ) from None
    return yaml
