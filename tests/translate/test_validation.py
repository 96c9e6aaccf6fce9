"""Constructor validation, device strings, default model names, the offline error.

None of these tests needs the tiny model; the offline tests point at model
names that exist nowhere.
"""

from __future__ import annotations

from typing import Any

import pytest

import augkit
from augkit import ModelUnavailableError
from augkit.registry import get_operator_class
from augkit.text import BackTranslation

pytestmark = pytest.mark.xdist_group("translate")


def test_registered_under_its_name() -> None:
    assert get_operator_class("back_translation") is BackTranslation
    assert BackTranslation.name == "back_translation"
    assert BackTranslation().modality == "text"


def test_default_models_are_the_opus_mt_pair() -> None:
    bt = BackTranslation("en", "de")
    assert bt.models == ["Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-de-en"]
    chain = BackTranslation("en", ["de", "fr"], forward_model="./fwd")
    assert chain.models == [
        "./fwd",
        "Helsinki-NLP/opus-mt-de-fr",
        "Helsinki-NLP/opus-mt-fr-en",
    ]
    assert chain.languages == ["en", "de", "fr", "en"]
    mixed = BackTranslation("en", ["de", "fr"], pivot_models=[None], backward_model="b")
    assert mixed.models[1:] == ["Helsinki-NLP/opus-mt-de-fr", "b"]


def test_constructing_loads_nothing() -> None:
    bt = BackTranslation(forward_model="augkit-test/none", backward_model="augkit-test/none")
    assert bt._hops is None
    assert "forward_model='augkit-test/none'" in repr(bt)


def test_path_objects_become_strings(tmp_path: Any) -> None:
    bt = BackTranslation(forward_model=tmp_path, backward_model=tmp_path)
    assert bt.forward_model == str(tmp_path)
    assert bt.to_dict()["params"]["backward_model"] == str(tmp_path)


@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_valid_devices(device: str) -> None:
    assert BackTranslation(device=device).device == device


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:x", "CPU", "cuda0", "", "tpu:0"])
def test_malformed_device_strings_are_rejected(device: str) -> None:
    with pytest.raises(ValueError, match="device"):
        BackTranslation(device=device)


def test_device_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="device"):
        BackTranslation(device=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_devices_without_cuda(device: str) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        BackTranslation(device=device)


def test_cuda_index_beyond_the_devices() -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    n = torch.cuda.device_count()
    assert BackTranslation(device=f"cuda:{n - 1}").device == f"cuda:{n - 1}"
    with pytest.raises(ValueError, match="CUDA device"):
        BackTranslation(device=f"cuda:{n}")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"max_input_tokens": 4}, ValueError, "max_input_tokens"),
        ({"num_beams": 0}, ValueError, "num_beams"),
        ({"temperature": 0}, ValueError, "temperature"),
        ({"temperature": -1.0}, ValueError, "temperature"),
        ({"temperature": float("nan")}, ValueError, "temperature"),
        ({"temperature": "hot"}, TypeError, "temperature"),
        ({"temperature": 0.8, "num_beams": 2}, ValueError, "num_beams=1"),
        ({"top_k": 5}, ValueError, "temperature"),
        ({"temperature": 0.8, "top_k": 0}, ValueError, "top_k"),
        ({"backend": "onnx"}, ValueError, "backend"),
        ({"backend": "ctranslate2", "temperature": 0.8}, ValueError, "ctranslate2"),
        ({"dtype": "float8"}, ValueError, "dtype"),
        ({"source": ""}, ValueError, "source"),
        ({"source": 5}, TypeError, "source"),
        ({"pivot": "d e"}, ValueError, "pivot"),
        ({"pivot": []}, TypeError, "pivot"),
        ({"pivot": ["de", "fr"], "pivot_models": []}, ValueError, "pivot_models"),
        ({"pivot": ["de", "fr"], "pivot_models": "m"}, TypeError, "pivot_models"),
        ({"forward_model": ""}, ValueError, "forward_model"),
        ({"backward_model": 3}, TypeError, "backward_model"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        BackTranslation(**kwargs)


def test_dtype_accepts_names_and_torch_dtypes() -> None:
    import torch

    assert BackTranslation(dtype="bfloat16").dtype == "bfloat16"
    assert BackTranslation(dtype=torch.float16).dtype == "float16"  # type: ignore[arg-type]


def test_inputs_must_be_strings() -> None:
    bt = BackTranslation(forward_model="x/y", backward_model="x/y")
    with pytest.raises(TypeError, match="str"):
        bt.augment_batch(["ok", b"bytes"], seed=0)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="str"):
        bt.apply_batch([None], [{}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="parameter sets"):
        bt.apply_batch(["a", "b"], [{}])
    with pytest.raises(ValueError, match="n must be"):
        bt.paraphrases(["a"], 0)


def test_sampling_params_need_a_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    bt = BackTranslation(temperature=0.8, forward_model="x/y", backward_model="x/y")
    p = bt.sample_params("text", augkit.item_rng(0))
    assert set(p) == {"seed"} and isinstance(p["seed"], int) and p["seed"] >= 0
    assert p == bt.sample_params("other text", augkit.item_rng(0))
    with pytest.raises(ValueError, match="seed"):
        bt.apply_batch(["text"], [{}])


def test_offline_error_names_model_places_and_remedy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    name = "augkit-test/opus-mt-xx-yy-does-not-exist"
    bt = BackTranslation(forward_model=name, backward_model=name, device="cpu")
    with pytest.raises(ModelUnavailableError) as info:
        bt("A sentence to translate.", seed=0)
    msg = str(info.value)
    assert name in msg
    assert "looked in" in msg and "cache" in msg
    assert "HF_HUB_OFFLINE" in msg
    assert "--local-dir" in msg and "pass its path" in msg
    assert bt._hops is None  # nothing half-loaded stays behind


def test_offline_error_for_default_hub_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bt = BackTranslation("xx", "yy", device="cpu")
    with pytest.raises(ModelUnavailableError, match="Helsinki-NLP/opus-mt-xx-yy"):
        bt.load()


def test_offline_error_with_ctranslate2_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bt = BackTranslation("xx", "yy", device="cpu", backend="ctranslate2")
    with pytest.raises(ModelUnavailableError, match="opus-mt-xx-yy"):
        bt("text", seed=0)


def test_a_directory_that_is_not_a_model(tmp_path: Any) -> None:
    (tmp_path / "readme.txt").write_text("not a model")
    bt = BackTranslation(forward_model=tmp_path, backward_model=tmp_path, device="cpu")
    with pytest.raises(ModelUnavailableError, match=str(tmp_path.name)):
        bt("text", seed=0)
