"""The CTranslate2 backend of back-translation: the same Marian model, converted, int8 on CPU.

The model named by the user (hub name or local directory) is converted once
with ``ctranslate2.converters.TransformersConverter`` and cached on disk,
keyed by the source model (for a local directory: its path and the size and
modification time of its files), the quantisation and the CTranslate2
version. The tokenizer stays the ``transformers`` one, so texts are split and
joined exactly as with the torch backend.

CTranslate2 decodes greedily or with beams. It has no hook for per-item
seeded noise, and its sampling generator is process-global and seeded once
per thread, so sampled output could not be made a function of the item
alone; the operator therefore refuses ``temperature`` with this backend.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._diskcache import build_once, cache_dir
from ._translate_common import (
    Decoding,
    count_tokens,
    encode,
    load_tokenizer,
    output_cap,
    position_limit,
    quiet_sacremoses,
)

__all__ = ["CT2Hop", "compute_type_for", "converted_model"]

_translators: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def compute_type_for(device: str, dtype: Any) -> str:
    """CTranslate2 compute type: int8 by default (int8_float16 on CUDA), else the dtype's name."""
    if dtype is None:
        return "int8_float16" if device.startswith("cuda") else "int8"
    name = str(dtype).removeprefix("torch.")
    if name not in ("float32", "float16", "bfloat16"):
        raise ValueError(f"dtype {dtype!r} has no CTranslate2 compute type")
    return name


def _fingerprint(model: str) -> dict[str, Any]:
    local = Path(model).expanduser()
    if not local.is_dir():
        return {"hub": model}
    stats = [(p, p.stat()) for p in sorted(local.rglob("*")) if p.is_file()]
    return {
        "dir": str(local.resolve()),
        "files": [[str(p.relative_to(local)), st.st_size, st.st_mtime_ns] for p, st in stats],
    }


def converted_model(model: str, quantization: str | None) -> Path:
    """The CTranslate2 conversion of ``model``, converted on first use and cached on disk.

    A file lock and an atomic rename let several processes ask at once.
    """
    import ctranslate2

    key = {
        "source": _fingerprint(model),
        "quantization": quantization,
        "ctranslate2": ctranslate2.__version__,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(model).name)[:60]
    target = cache_dir() / "ctranslate2" / f"{stem}-{quantization or 'float32'}-{digest}"

    def convert(tmp: Path) -> None:
        local = Path(model).expanduser()
        # The same test as _fingerprint's: "~/models/x" is a directory, not a hub name.
        source = str(local.resolve()) if local.is_dir() else model
        converter = ctranslate2.converters.TransformersConverter(source)
        with quiet_sacremoses():
            converter.convert(str(tmp), quantization=quantization, force=True)
        (tmp / "augkit-source.json").write_text(json.dumps(key, indent=1) + "\n")

    return build_once(target, convert, lambda p: (p / "model.bin").is_file())


def _translator(path: Path, device: str, compute_type: str, threads: int) -> Any:
    """One ``ctranslate2.Translator`` per (converted model, device, compute type, threads)."""
    import ctranslate2

    kind, _, index = device.partition(":")
    key = (str(path), kind, int(index or 0), compute_type, threads)
    with _lock:
        tr = _translators.get(key)
        if tr is None:
            tr = ctranslate2.Translator(
                str(path),
                device=kind,
                device_index=int(index or 0),
                compute_type=compute_type,
                inter_threads=1,
                intra_threads=threads,
            )
            _translators[key] = tr
        return tr


def clear_translators() -> None:
    """Drop the loaded CTranslate2 translators (the next use loads again)."""
    with _lock:
        _translators.clear()


class CT2Hop:
    """One translation model run with CTranslate2 (see :class:`~._translate_common.Hop`)."""

    def __init__(self, model: str, *, device: str, dtype: Any, decoding: Decoding) -> None:
        import torch

        if decoding.sampling:
            raise ValueError("the ctranslate2 backend does not sample; use backend='torch'")
        if device not in ("cpu",) and not device.startswith("cuda"):
            raise ValueError(f"the ctranslate2 backend runs on cpu or cuda, not {device!r}")
        self.model = model
        self.decoding = decoding
        # The tokenizer first: a missing model fails here with augkit's offline message.
        self.tokenizer = load_tokenizer(model)
        compute_type = compute_type_for(device, dtype)
        quantization = "int8" if compute_type.startswith("int8") else None
        path = converted_model(model, quantization)
        config = json.loads((path / "config.json").read_text())
        self.translator = _translator(path, device, compute_type, torch.get_num_threads())
        # Converted Marian models keep no position limit in config.json; the
        # source model's limit is what the torch backend uses, so read that.
        self.max_positions = int(config.get("max_position_embeddings") or _source_limit(model))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return count_tokens(self.tokenizer, texts)

    def translate(
        self, texts: Sequence[str], seeds: Sequence[int] | None, num_return: int = 1
    ) -> list[list[str]]:
        if seeds is not None:
            raise ValueError("the ctranslate2 backend does not sample")
        if not texts:
            return []
        tok = self.tokenizer
        ids = encode(tok, texts)
        caps = [output_cap(len(x), self.max_positions) for x in ids]
        results = self.translator.translate_batch(
            [tok.convert_ids_to_tokens(x) for x in ids],
            # CTranslate2 sorts by length and pads per batch of this size itself.
            max_batch_size=self.decoding.batch_size,
            batch_type="examples",
            beam_size=max(self.decoding.num_beams, num_return),
            num_hypotheses=num_return,
            max_input_length=0,  # never truncate; inputs were split beforehand
            max_decoding_length=max(caps),
        )
        out = []
        for result, cap in zip(results, caps):
            # Greedy decoding is left to right, so cutting at the item's own cap
            # equals decoding with that cap (</s> takes the last slot).
            hyps = [h[: cap - 1] for h in result.hypotheses[:num_return]]
            out.append(
                [
                    tok.decode(tok.convert_tokens_to_ids(h), skip_special_tokens=True).strip()
                    for h in hyps
                ]
            )
        return out


def _source_limit(model: str) -> int:
    from transformers import AutoConfig

    from ..models import load_pretrained

    config = load_pretrained(AutoConfig.from_pretrained, model)
    return position_limit(config)
