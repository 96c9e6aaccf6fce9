"""augkit.models without a hub: what a missing model's error says."""

from __future__ import annotations

import pytest

from augkit.models import describe_missing


def test_missing_model_message_gives_a_command_that_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """huggingface_hub ships `hf` now; `huggingface-cli` is gone from current releases."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    msg = describe_missing("Helsinki-NLP/opus-mt-en-de", "not found")
    assert "hf download Helsinki-NLP/opus-mt-en-de --local-dir ./models/opus-mt-en-de" in msg
    assert "huggingface-cli" not in msg
    assert "HF_HUB_OFFLINE is set" in msg and "pass its path" in msg
