"""augkit.models without a hub: what a missing model's error says, and the cheap availability check."""

from __future__ import annotations

from pathlib import Path

import pytest

from augkit import ModelUnavailableError
from augkit.models import check_model_available, describe_missing


def test_missing_model_message_gives_a_command_that_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """huggingface_hub ships `hf` now; `huggingface-cli` is gone from current releases."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    msg = describe_missing("Helsinki-NLP/opus-mt-en-de", "not found")
    assert "hf download Helsinki-NLP/opus-mt-en-de --local-dir ./models/opus-mt-en-de" in msg
    assert "huggingface-cli" not in msg
    assert "HF_HUB_OFFLINE is set" in msg and "pass its path" in msg


def test_check_model_available_loads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    saved = tmp_path / "saved"
    saved.mkdir()
    with pytest.raises(ModelUnavailableError, match=r"has no config\.json"):
        check_model_available(saved)
    (saved / "config.json").write_text("{}")  # not a usable model, but nothing is loaded
    check_model_available(saved)
    check_model_available(str(saved))
    with pytest.raises(ModelUnavailableError, match="is a file"):
        check_model_available(saved / "config.json")
    missing = str(tmp_path / "models" / "nope")
    with pytest.raises(
        ModelUnavailableError, match=r"(?s)no such directory.*not a hub name either"
    ):
        check_model_available(missing)
    with pytest.raises(ModelUnavailableError, match="not in the local Hugging Face cache") as info:
        check_model_available("augkit-test/not-cached-anywhere")
    assert "hf download augkit-test/not-cached-anywhere --local-dir" in str(info.value)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    check_model_available("augkit-test/not-cached-anywhere")  # online: downloaded on first use
    with pytest.raises(TypeError, match="hub name or a directory"):
        check_model_available(3)  # type: ignore[arg-type]
