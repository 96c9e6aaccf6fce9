"""Serialisation: dict / JSON / YAML round trips, the registry, and cross-process determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import ConfigError, MarkovChain, Pipeline, register, registered_operators
from augkit.base import BaseAugmenter
from augkit.registry import get_operator_class
from tests.ops import AppendToken, DropChar, Scale

from .strategies import chains, seeds, texts

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=40, deadline=None)
@given(chain=chains(), xs=st.lists(texts, min_size=1, max_size=5), seed=seeds)
def test_round_trips_give_identical_outputs(chain: MarkovChain, xs: list[str], seed: int) -> None:
    ops = [[AppendToken(tokens=["x", "y"]), DropChar()][i % 2] for i in range(chain.n_states)]
    pipe = Pipeline(ops, chain, key=None)
    expected = pipe.augment_batch(xs, seed=seed)
    for again in (
        Pipeline.from_dict(pipe.to_dict()),
        Pipeline.from_dict(json.loads(json.dumps(pipe.to_dict()))),
        Pipeline.from_json(pipe.to_json()),
        Pipeline.from_yaml(pipe.to_yaml()),
    ):
        assert again.augment_batch(xs, seed=seed) == expected
        assert again.to_dict() == pipe.to_dict()


def test_some_of_round_trip_keeps_the_state_map() -> None:
    pipe = Pipeline.some_of([AppendToken(), DropChar(), AppendToken(tokens=["z"])], 2)
    again = Pipeline.from_yaml(pipe.to_yaml())
    assert again.state_ops == pipe.state_ops
    xs = ["one", "two", "three"]
    assert again.augment_batch(xs, seed=5) == pipe.augment_batch(xs, seed=5)


def test_config_shape() -> None:
    cfg = Pipeline.sequence([Scale(0.1, 0.9)], key="x").to_dict()
    assert cfg == {
        "format": "augkit.pipeline",
        "version": 2,
        "streams": 2,
        "key": "x",
        "label": "label",
        "operators": [{"type": "test_scale", "params": {"low": 0.1, "high": 0.9}}],
        "chain": {"start": [1.0], "transitions": [[0.0]], "max_steps": None},
    }


def test_version_1_configs_still_read() -> None:
    v1 = {
        "format": "augkit.pipeline",
        "version": 1,
        "key": "x",
        "operators": [{"type": "test_scale", "params": {"low": 0.1, "high": 0.9}}],
        "chain": {"start": [1.0], "transitions": [[0.0]], "max_steps": None},
    }
    pipe = Pipeline.from_dict(v1)
    assert pipe.key == "x" and pipe.to_dict()["version"] == 2
    item = {"x": 2.0, "y": "kept"}
    assert pipe.augment(item, seed=3) == Pipeline.sequence([Scale(0.1, 0.9)], key="x").augment(
        item, seed=3
    )


def good_config() -> dict[str, object]:
    return Pipeline.sequence([AppendToken()]).to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 99}, "format version 99"),
        ({"version": "1"}, "version must be a positive integer"),
        ({"format": "other"}, "not an augkit pipeline config"),
        ({"extra": 1}, "unknown keys"),
        ({"operators": []}, "non-empty list"),
        ({"operators": [{"type": "no_such_op"}]}, "unknown operator type 'no_such_op'"),
        ({"operators": [{"type": "test_scale", "params": {"bogus": 1}}]}, "bad parameters"),
        ({"operators": [{"type": "test_scale", "params": {"low": 2, "high": 1}}]}, "low must be"),
        ({"operators": [{"type": "os.system"}]}, "unknown operator type"),
        ({"chain": {"start": [0.5, 0.6], "transitions": [[0, 0], [0, 0]]}}, "start sums"),
        ({"state_ops": [3]}, r"state_ops\[0\] must be an integer in \[0, 0\]"),
    ],
)
def test_bad_configs_raise_config_errors(change: dict[str, object], message: str) -> None:
    cfg = {**good_config(), **change}
    with pytest.raises(ValueError, match=message):
        Pipeline.from_dict(cfg)


def test_yaml_uses_the_safe_loader() -> None:
    evil = "!!python/object/apply:os.system ['echo pwned']"
    with pytest.raises(ConfigError, match="invalid YAML"):
        Pipeline.from_yaml(evil)
    with pytest.raises(ConfigError, match="invalid JSON"):
        Pipeline.from_json("{not json")


def test_registry() -> None:
    assert "test_append_token" in registered_operators()
    assert "random_insertion" in registered_operators()  # built-in, loaded on demand
    assert get_operator_class("identity").__name__ == "Identity"
    with pytest.raises(ValueError, match="already registered"):

        @register("test_append_token")
        class Other(BaseAugmenter):
            pass

    with pytest.raises(ValueError, match="identifier"):
        register("not a name")


def test_unserialisable_parameters_are_reported() -> None:
    with pytest.raises(ConfigError, match="cannot be serialised"):
        AppendToken(tokens=[object()]).to_dict()  # type: ignore[list-item]


SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from augkit import Pipeline
from tests.ops import AppendToken, DropChar
pipe = Pipeline.markov([AppendToken(), DropChar()], [0.5, 0.5], [[0.4, 0.4], [0.4, 0.4]])
outs, traces = pipe.augment_batch(["a set of words", "{{x}}", ""] * 5, seed=77, epoch=3, return_traces=True)
print(json.dumps([outs, [t.to_dict() for t in traces]]))
"""


def test_outputs_are_identical_across_processes_and_hash_seeds() -> None:
    results = set()
    for hash_seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT.format(root=str(ROOT))],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        results.add(proc.stdout)
    assert len(results) == 1


# ----------------------------------------------------------------- files: Pipeline.load / save


@pytest.mark.parametrize("name", ["pipe.json", "pipe.yaml", "pipe.yml", "PIPE.YAML"])
@pytest.mark.parametrize("as_path", [True, False])
def test_save_and_load_by_suffix(tmp_path: Path, name: str, as_path: bool) -> None:
    pipe = Pipeline.sometimes([AppendToken(), DropChar()], p=[0.5, 0.7], key="text")
    target = tmp_path / name
    pipe.save(target if as_path else str(target))
    text = target.read_text(encoding="utf-8")
    if name.endswith(".json"):
        assert json.loads(text) == pipe.to_dict()
    else:
        assert Pipeline.from_yaml(text).to_dict() == pipe.to_dict() and not text.startswith("{")
    again = Pipeline.load(target if as_path else str(target))
    assert again.to_dict() == pipe.to_dict()


def test_load_and_save_errors_name_the_file_and_the_suffixes(tmp_path: Path) -> None:
    pipe = Pipeline.sequence([AppendToken()])
    allowed = r"\.json \(JSON\), \.yaml \(YAML\), \.yml \(YAML\)"
    for bad in ("pipe.txt", "pipe"):
        with pytest.raises(ConfigError, match=f"{bad}.*{allowed}"):
            pipe.save(tmp_path / bad)
        with pytest.raises(ConfigError, match=allowed):
            Pipeline.load(tmp_path / bad)
    with pytest.raises(ConfigError, match=r"missing\.yaml' does not exist"):
        Pipeline.load(tmp_path / "missing.yaml")
    (tmp_path / "bad.json").write_text('{"operators": []}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"invalid config .*bad\.json.*non-empty list"):
        Pipeline.load(tmp_path / "bad.json")
    with pytest.raises(TypeError, match=r"takes a file path.*got dict; for a config dict use"):
        Pipeline.load(pipe.to_dict())  # type: ignore[arg-type]


def test_from_yaml_and_from_json_given_a_file_say_to_use_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9: from_yaml("pipe.yaml") said "must be a mapping, got str"; a Path raised
    AttributeError."""
    Pipeline.sequence([AppendToken()]).save(tmp_path / "pipe.yaml")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ConfigError, match=r"from_yaml takes YAML text.*Pipeline\.load\('pipe.yaml'\)"
    ):
        Pipeline.from_yaml("pipe.yaml")
    with pytest.raises(TypeError, match=r"from_yaml takes YAML text, got a path.*Pipeline\.load"):
        Pipeline.from_yaml(tmp_path / "pipe.yaml")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"from_json takes JSON text, got a path"):
        Pipeline.from_json(tmp_path / "pipe.json")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"from_json takes JSON text.*looks like a file name"):
        Pipeline.from_json("other.json")  # not there: still a file name, not JSON
    # A document that is not a mapping says what a config is.
    with pytest.raises(ConfigError, match="mapping with 'operators' and 'chain', got a list"):
        Pipeline.from_yaml("- a\n- b\n")
    with pytest.raises(ConfigError, match="got nothing"):
        Pipeline.from_yaml("")


def test_version_1_label_aware_splicing_moves_its_fields_to_the_pipeline() -> None:
    from augkit.text import ChunkRecombination

    def v1(*ops: dict[str, object]) -> dict[str, object]:
        return {
            "format": "augkit.pipeline",
            "version": 1,
            "key": None,
            "operators": list(ops),
            "chain": {"start": [1.0] + [0.0] * (len(ops) - 1),
                      "transitions": [[0.0] * len(ops) for _ in ops], "max_steps": None},
        }  # fmt: skip

    splice = {
        "type": "chunk_recombination",
        "params": {"mode": "splice", "pool": ["A. B."], "pool_labels": [1], "label_key": "y",
                   "text_key": "body"},
    }  # fmt: skip
    pipe = Pipeline.from_dict(v1(splice))
    assert (pipe.key, pipe.lens.label) == ("body", "y")  # type: ignore[attr-defined]
    assert pipe({"body": "One. Two.", "y": 1}, seed=0)["y"] == 1
    other = {**splice, "params": {**splice["params"], "label_key": "z"}}
    with pytest.raises(ConfigError, match=r"different label values: operators\[0\]"):
        Pipeline.from_dict(v1(splice, other))
    with pytest.raises(TypeError, match=r"no longer takes label_key.*label='y'"):
        ChunkRecombination(label_key="y")
