"""Nlpaug adapter: outputs are a function of the item's rng, global state is untouched, configs."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import ConfigError, ModelUnavailableError, Pipeline, Trace, item_rng
from augkit.registry import get_operator_class

pytest.importorskip("nlpaug")
torch = pytest.importorskip("torch")

import nlpaug.augmenter.char as nac  # noqa: E402
import nlpaug.augmenter.word as naw  # noqa: E402
from nlpaug.augmenter.word import WordAugmenter  # noqa: E402

from augkit.adapters.nlpaug import NLPAUG_CLASSES, Nlpaug  # noqa: E402

# nlpaug augmenters that work offline (no WordNet / model downloads), as specs.
OFFLINE_SPECS: dict[str, dict[str, Any]] = {
    "word_swap": {"class": "RandomWordAug", "kwargs": {"action": "swap"}},
    "word_delete": {"class": "RandomWordAug", "kwargs": {"action": "delete", "aug_p": 0.5}},
    "word_substitute": {
        "class": "RandomWordAug",
        "kwargs": {"action": "substitute", "target_words": ["foo", "bar"]},
    },
    "char_insert": {"class": "RandomCharAug", "kwargs": {"action": "insert"}},
    "char_substitute": {"class": "RandomCharAug", "kwargs": {"action": "substitute"}},
    "char_swap": {"class": "RandomCharAug", "kwargs": {"action": "swap"}},
    "char_delete": {"class": "RandomCharAug", "kwargs": {"action": "delete"}},
    "keyboard": {"class": "KeyboardAug", "kwargs": {}},
    "ocr": {"class": "OcrAug", "kwargs": {}},
    "split": {"class": "SplitAug", "kwargs": {}},
    "spelling": {"class": "SpellingAug", "kwargs": {}},
    "sequential": {
        "class": "Sequential",
        "kwargs": {
            "flow": [
                {"class": "RandomWordAug", "kwargs": {"action": "swap"}},
                {"class": "RandomCharAug", "kwargs": {"action": "insert"}},
            ]
        },
    },
    "sometimes": {
        "class": "Sometimes",
        "kwargs": {
            "flow": [
                {"class": "RandomWordAug", "kwargs": {"action": "delete"}},
                {"class": "KeyboardAug", "kwargs": {}},
            ],
            "aug_p": 0.5,
        },
    },
}
OPS = {name: Nlpaug(spec) for name, spec in OFFLINE_SPECS.items()}
op_names = st.sampled_from(sorted(OPS))

SENTENCE = "The quick brown fox jumps over the lazy dog while a gentle breeze moves old trees."
SPECIAL = [
    "",
    " ",
    "\n\t ",
    "word",
    "😀 🎉 👍🏽 family 👨‍👩‍👧 flags 🇫🇷🇩🇪",
    "שלום עולם مرحبا بالعالم",
    "e\u0301 a\u0308 Z\u0336a\u0336l\u0336g\u0336o\u0336",
    "中文没有空格的句子。",
    "\u200f\u202e RTL \u200d\u200b",
    "\x00\x01 control",
    SENTENCE,
]
texts = st.one_of(st.text(max_size=120), st.sampled_from(SPECIAL))
seeds = st.integers(0, 2**64)


def global_state() -> tuple[Any, Any, Any]:
    return random.getstate(), np.random.get_state(), torch.get_rng_state()  # noqa: NPY002


def assert_same_state(a: tuple[Any, Any, Any], b: tuple[Any, Any, Any]) -> None:
    assert a[0] == b[0], "python random state changed"
    assert a[1][0] == b[1][0] and np.array_equal(a[1][1], b[1][1]) and a[1][2:] == b[1][2:]
    assert torch.equal(a[2], b[2]), "torch CPU generator state changed"


# ----------------------------------------------------------------- determinism


@settings(max_examples=120, deadline=None)
@given(name=op_names, text=texts, seed=seeds)
def test_same_seed_same_output_and_never_raises(name: str, text: str, seed: int) -> None:
    op = OPS[name]
    out = op(text, seed=seed)
    assert isinstance(out, str)
    assert op(text, seed=seed) == out
    # The adapter's output does not depend on what the global state was.
    random.seed(seed % 1000)
    np.random.seed(seed % 1000)  # noqa: NPY002
    assert op(text, seed=seed) == out
    if not text.strip():
        assert out == text


@pytest.mark.parametrize("name", sorted(OPS))
def test_seed_changes_output_and_matches_seeded_nlpaug(name: str) -> None:
    """The seed really drives nlpaug: different seeds differ, and the adapter
    equals calling the same nlpaug object with its global sources seeded."""
    op = OPS[name]
    outs = [op.apply(SENTENCE, {"seed": s}) for s in range(12)]
    assert len(set(outs)) >= 4, outs
    state = global_state()
    try:
        for s in (0, 7, 2**32 - 1):
            random.seed(s)
            np.random.seed(s)  # noqa: NPY002
            torch.manual_seed(s)
            assert op.apply(SENTENCE, {"seed": s}) == op.augmenter.augment(SENTENCE)[0]
    finally:
        random.setstate(state[0])
        np.random.set_state(state[1])  # noqa: NPY002
        torch.set_rng_state(state[2])


@settings(max_examples=40, deadline=None)
@given(name=op_names, xs=st.lists(texts, max_size=8), seed=seeds)
def test_batch_equals_per_item(name: str, xs: list[str], seed: int) -> None:
    op = OPS[name]
    outs = op.augment_batch(xs, seed=seed)
    assert outs == [op(x, rng=item_rng(seed, 0, i)) for i, x in enumerate(xs)]

    pipe = Pipeline.sequence([op, Nlpaug.from_spec("KeyboardAug")], key="text")
    items = [{"text": x, "n": i} for i, x in enumerate(xs)]
    batch = pipe.augment_batch(items, seed=seed)
    assert batch == [pipe.augment(it, seed=seed, index=i) for i, it in enumerate(items)]


@settings(max_examples=40, deadline=None)
@given(name=op_names, text=texts, seed=seeds)
def test_trace_replay_and_config_round_trip(name: str, text: str, seed: int) -> None:
    pipe = Pipeline.markov([OPS[name], OPS["char_insert"]], [0.7, 0.3], [[0.2, 0.5], [0.5, 0.0]])
    out, trace = pipe.augment(text, seed=seed, return_trace=True)
    assert pipe.replay(text, trace) == out
    assert pipe.replay(text, Trace.from_json(trace.to_json())) == out
    restored = Pipeline.from_json(pipe.to_json())
    assert restored.augment(text, seed=seed) == out
    assert restored.replay(text, trace) == out


CROSS_PROCESS = ["word_swap", "word_delete", "char_insert", "keyboard", "ocr", "sequential"]
_CHILD = """
import json, sys
from augkit import Pipeline
pipes = [Pipeline.from_json(c) for c in json.loads(sys.stdin.read())]
print(json.dumps([[p.augment(t, seed=s) for s in range(4) for t in TEXTS] for p in pipes]))
"""


@pytest.mark.slow
def test_outputs_reproduce_in_another_process() -> None:
    """What a trace or config reproduces elsewhere: a fresh process (other hash
    seed, other import order) gives the same outputs for the same seeds."""
    pipes = [Pipeline.sequence([OPS[n]]) for n in CROSS_PROCESS]
    texts = [SENTENCE, "Another short one, with punctuation!"]
    here = [[p.augment(t, seed=s) for s in range(4) for t in texts] for p in pipes]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    child = subprocess.run(
        [sys.executable, "-c", f"TEXTS = {texts!r}" + _CHILD],
        input=json.dumps([p.to_json() for p in pipes]),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    assert json.loads(child.stdout.strip().splitlines()[-1]) == here


# ----------------------------------------------------------------- global state


@pytest.mark.parametrize("name", ["word_swap", "sequential", "spelling"])
def test_global_random_state_is_restored(name: str) -> None:
    op = OPS[name]
    random.seed(123)
    np.random.seed(456)  # noqa: NPY002
    torch.manual_seed(789)
    before = global_state()
    op(SENTENCE, seed=1)
    op.augment_batch([SENTENCE, "", "two words"], seed=2)
    Pipeline.sequence([op])(SENTENCE, seed=3)
    assert_same_state(before, global_state())
    # User code keeps drawing the stream it seeded, as if nlpaug never ran.
    mine = [random.random(), float(np.random.random()), float(torch.rand(1))]  # noqa: NPY002
    random.seed(123)
    np.random.seed(456)  # noqa: NPY002
    torch.manual_seed(789)
    assert mine == [random.random(), float(np.random.random()), float(torch.rand(1))]  # noqa: NPY002


def test_state_restored_after_nlpaug_raises_and_on_error_keep() -> None:
    spec = {"class": "RandomWordAug", "kwargs": {"action": "crop"}}
    raising, keeping = Nlpaug(spec), Nlpaug(spec, on_error="keep")
    before = global_state()
    # nlpaug 1.1.11's crop fails on short texts for some seeds ("Sample larger
    # than population"); with the seed fixed, it fails every time.
    seed = next(s for s in range(200) if _crop_fails(raising, s))
    for _ in range(2):
        with pytest.raises(ValueError, match="larger than population"):
            raising("word", seed=seed)
    assert_same_state(before, global_state())
    assert keeping("word", seed=seed) == "word"
    failing = keeping.sample_params("word", item_rng(seed))
    outs = keeping.apply_batch(["word", SENTENCE], [failing, {"seed": 1}])
    assert outs == ["word", raising.apply(SENTENCE, {"seed": 1})]
    assert outs[1] != SENTENCE
    assert_same_state(before, global_state())
    assert Nlpaug.from_dict(keeping.to_dict()).on_error == "keep"


def _crop_fails(op: Nlpaug, seed: int) -> bool:
    try:
        op("word", seed=seed)
    except ValueError:
        return True
    return False


class TorchShuffleAug(WordAugmenter):  # type: ignore[misc]
    """A user-written nlpaug augmenter whose randomness comes from torch."""

    def __init__(self) -> None:
        super().__init__(action="swap", name="TorchShuffle_Aug")

    def swap(self, data: str) -> str:
        tokens = data.split()
        return " ".join(tokens[i] for i in torch.randperm(len(tokens)).tolist())


def test_torch_randomness_is_seeded_and_restored() -> None:
    op = Nlpaug(TorchShuffleAug())
    before = global_state()
    outs = [op(SENTENCE, seed=s) for s in range(6)]
    assert outs == [op(SENTENCE, seed=s) for s in range(6)]
    assert len(set(outs)) == 6
    assert op.augment_batch([SENTENCE] * 3, seed=9) == [
        op(SENTENCE, rng=item_rng(9, 0, i)) for i in range(3)
    ]
    assert_same_state(before, global_state())


def test_concurrent_threads_give_sequential_results() -> None:
    ops = [OPS["word_swap"], OPS["char_insert"], OPS["sequential"]]
    xs = [f"{SENTENCE} number {i}" for i in range(30)]
    expected = [op.augment_batch(xs, seed=5) for op in ops]
    results: dict[int, list[list[str]]] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            results[k] = [[op(x, rng=item_rng(5, 0, i)) for i, x in enumerate(xs)] for op in ops]
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    # Switch threads very often, so that unserialised reseeding would interleave.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    assert all(results[k] == expected for k in range(4))


# ----------------------------------------------------------------- return quirks


class ReturnsAug(WordAugmenter):  # type: ignore[misc]
    """An nlpaug augmenter whose augment returns whatever it is told (older
    nlpaug versions returned str, some return [] or None)."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        super().__init__(action="substitute", name="Returns_Aug")
        self.make = make
        self.calls = 0

    def augment(self, data: Any, n: int = 1, num_thread: int = 1) -> Any:
        self.calls += 1
        return self.make(data)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda x: x.upper(), "HELLO THERE"),
        (lambda x: [x.upper(), "second"], "HELLO THERE"),
        (lambda x: (x.upper(),), "HELLO THERE"),
        (lambda x: [], "hello there"),
        (lambda x: None, "hello there"),
        (lambda x: "", ""),
    ],
)
def test_return_type_quirks(make: Callable[[str], Any], expected: str) -> None:
    aug = ReturnsAug(make)
    assert Nlpaug(aug)("hello there", seed=0) == expected


def test_unexpected_return_type_and_empty_input() -> None:
    aug = ReturnsAug(lambda x: 42)
    op = Nlpaug(aug)
    with pytest.raises(TypeError, match="returned int"):
        op("hello", seed=0)
    calls = aug.calls
    assert op.augment_batch(["", " \n", "\t"], seed=0) == ["", " \n", "\t"]
    assert aug.calls == calls, "empty and whitespace-only texts never reach nlpaug"


def test_real_nlpaug_empty_and_list_results() -> None:
    # Called directly, nlpaug returns [] for "" and [""] for whitespace; the
    # adapter gives the input back for both.
    aug = naw.RandomWordAug(action="swap")
    assert aug.augment("") == [] and aug.augment("  ") == [""]
    op = Nlpaug(aug)
    assert op("", seed=1) == "" and op("  ", seed=1) == "  "
    assert isinstance(op(SENTENCE, seed=1), str)


def test_very_long_text() -> None:
    piece = "Words with émoji 😀 and שלום, e\u0301 marks. "
    text = (piece * (100_000 // len(piece) + 1))[:100_000]
    for name in ("word_swap", "char_insert"):
        out = OPS[name](text, seed=4)
        assert isinstance(out, str) and len(out) > 90_000


# ----------------------------------------------------------------- configs and validation


def test_from_spec_and_config() -> None:
    op = Nlpaug.from_spec("RandomWordAug", action="swap", aug_p=0.5, stopwords=["the"])
    d = op.to_dict()
    assert d == {
        "type": "nlpaug",
        "params": {
            "augmenter": {
                "class": "RandomWordAug",
                "kwargs": {"action": "swap", "aug_p": 0.5, "stopwords": ["the"]},
            },
            "on_error": "raise",
        },
    }
    again = get_operator_class("nlpaug").from_dict(json.loads(json.dumps(d)))
    assert isinstance(again, Nlpaug) and isinstance(again.augmenter, naw.RandomWordAug)
    assert again.augmenter.aug_p == 0.5 and again.augmenter.stopwords == ["the"]
    assert [again(SENTENCE, seed=s) for s in range(5)] == [op(SENTENCE, seed=s) for s in range(5)]
    assert "RandomWordAug(action='swap'" in repr(op)

    flow = Nlpaug.from_spec(
        "Sequential", flow=[op, {"class": "KeyboardAug", "kwargs": {"aug_char_max": 2}}]
    )
    assert [type(a).__name__ for a in flow.augmenter] == ["RandomWordAug", "KeyboardAug"]
    assert Nlpaug.from_dict(flow.to_dict()).to_dict() == flow.to_dict()
    yaml_pipe = Pipeline.from_yaml(Pipeline.sequence([flow]).to_yaml())
    assert yaml_pipe(SENTENCE, seed=2) == Pipeline.sequence([flow])(SENTENCE, seed=2)


def test_object_built_adapter_cannot_be_written_to_a_config() -> None:
    op = Nlpaug(nac.RandomCharAug(action="insert"))
    assert isinstance(op(SENTENCE, seed=0), str)
    with pytest.raises(ConfigError, match=r"from_spec\(class_name"):
        op.to_dict()
    with pytest.raises(ConfigError, match="from_spec"):
        Pipeline.sequence([op]).to_dict()
    assert "RandomCharAug" in repr(op)
    with pytest.raises(ConfigError, match="built from an object"):
        Nlpaug.from_spec("Sequential", flow=[op])


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"class": "os.system", "kwargs": {}}, "not one that configs may name"),
        ({"class": "RandomWordAug", "kwargs": {"action": "fly"}}, "cannot build nlpaug"),
        ({"class": "RandomWordAug", "kwargs": {"no_such_arg": 1}}, "cannot build nlpaug"),
        ({"class": "RandomWordAug", "kwargs": {"tokenizer": str.split}}, "cannot be written"),
        ({"class": "RandomWordAug", "extra": 1}, "unknown keys"),
        ({"class": "RandomWordAug", "kwargs": [1]}, "kwargs must be a mapping"),
        ({"class": "Sequential", "kwargs": {"flow": "RandomWordAug"}}, "list of specs"),
    ],
)
def test_bad_specs(spec: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Nlpaug(spec)


@pytest.mark.parametrize("name", ["SynonymAug", "AntonymAug"])
def test_wordnet_augmenters_never_download(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """nlpaug downloads missing WordNet data on construction; the adapter refuses first."""
    import nltk

    def no_download(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"nltk.download{args} was called")

    monkeypatch.setattr(nltk, "download", no_download)
    try:
        op = Nlpaug.from_spec(name)
    except ModelUnavailableError as exc:
        assert "python -m nltk.downloader" in str(exc)
        assert "wordnet" in str(exc) and name in str(exc)
    else:  # the data is installed locally: then it must work, reproducibly
        assert op(SENTENCE, seed=0) == op(SENTENCE, seed=0)


def test_validation() -> None:
    with pytest.raises(ValueError, match="on_error must be one of 'raise', 'keep'"):
        Nlpaug.from_spec("RandomWordAug", on_error="ignore")
    with pytest.raises(TypeError, match="augment method"):
        Nlpaug(object())
    op = OPS["word_swap"]
    for bad in (None, 3, b"bytes", ["a list"]):
        with pytest.raises(TypeError, match="takes str"):
            op(bad, seed=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"params\['seed'\]"):
        op.apply("text", {"seed": -1})
    with pytest.raises(ValueError, match=r"params\['seed'\]"):
        op.apply("text", {})
    assert set(OFFLINE_SPECS[n]["class"] for n in OFFLINE_SPECS) <= set(NLPAUG_CLASSES)


def test_params_are_json() -> None:
    params = OPS["word_swap"].sample_params(SENTENCE, item_rng(1))
    assert json.loads(json.dumps(params)) == params and 0 <= params["seed"] < 2**32


def test_benchmark_quick_mode(tmp_path: Path) -> None:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "nlpaug_adapter.py"
    spec = importlib.util.spec_from_file_location("bench_nlpaug_adapter", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--quick", "--out", str(tmp_path)])
    written = json.loads((tmp_path / "nlpaug_adapter_quick.json").read_text(encoding="utf-8"))
    assert written["rows"] == result["rows"] and len(result["rows"]) == 3
    for row in result["rows"]:
        assert row["ratio_vs_nlpaug"]["nlpaug"] == 1.0
        assert all(v > 0 for v in row["us_per_item"].values())


# ----------------------------------------------------------------- configs do not import nlpaug

CONFIG = {
    "operators": [
        {"type": "nlpaug", "params": {"augmenter": OFFLINE_SPECS["sequential"]}},
        {"type": "nlpaug", "params": {"augmenter": OFFLINE_SPECS["keyboard"]}},
    ],
    "chain": {"start": [0.5, 0.5], "transitions": [[0.0, 0.5], [0.5, 0.0]], "max_steps": 2},
}

IMPORTS = """
import json, sys
from augkit import Pipeline
from augkit.cli import main
assert main(["describe", sys.argv[1]]) == 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"nlpaug", "transformers", "torch"})
pipe = Pipeline.load(sys.argv[1])
pipe.check_available()
heavy += sorted({m.split(".")[0] for m in sys.modules} & {"nlpaug", "transformers", "torch"})
out = pipe.augment("The quick brown fox jumps over the lazy dog.", seed=3)
print(json.dumps([heavy, out, "nlpaug" in sys.modules]))
"""


def test_describe_and_loading_a_config_do_not_import_nlpaug(tmp_path: Path) -> None:
    """Issue 9: describe took 11 s on an nlpaug config, all of it importing nlpaug."""
    cfg = tmp_path / "nlpaug.json"
    cfg.write_text(json.dumps(CONFIG), encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    child = subprocess.run(
        [sys.executable, "-c", IMPORTS, str(cfg)],
        cwd=root, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    heavy, out, imported_on_use = json.loads(child.stdout.strip().splitlines()[-1])
    assert heavy == []
    assert imported_on_use  # the first augmentation built the nlpaug objects
    assert out == Pipeline.from_dict(CONFIG).augment(
        "The quick brown fox jumps over the lazy dog.", seed=3
    )


def test_an_adapter_read_from_a_config_is_built_on_first_use() -> None:
    spec = OFFLINE_SPECS["sometimes"]
    lazy = Nlpaug.from_dict({"type": "nlpaug", "params": {"augmenter": spec}})
    assert isinstance(lazy, Nlpaug) and lazy._augmenter is None
    assert lazy.to_dict() == OPS["sometimes"].to_dict()
    assert "Sometimes(" in repr(lazy) and lazy._augmenter is None
    outs = [lazy(SENTENCE, seed=s) for s in range(5)]  # builds it
    assert outs == [OPS["sometimes"](SENTENCE, seed=s) for s in range(5)]
    assert type(lazy.augmenter).__name__ == "Sometimes"
    assert Nlpaug(spec, lazy=True).load()._augmenter is not None


def test_nlpaug_argument_errors_of_a_config_show_at_first_use() -> None:
    cfg = {**CONFIG, "operators": [{"type": "nlpaug", "params": {"augmenter": {
        "class": "RandomWordAug", "kwargs": {"action": "fly"}}}}]}  # fmt: skip
    cfg["chain"] = {"start": [1.0], "transitions": [[0.0]]}
    pipe = Pipeline.from_dict(cfg)  # the spec is fine; nlpaug has not seen the arguments yet
    pipe.check_available()
    with pytest.raises(ConfigError, match="cannot build nlpaug RandomWordAug"):
        pipe.augment(SENTENCE, seed=0)
    # Structural problems are still found when the config is read.
    bad = {
        **cfg,
        "operators": [{"type": "nlpaug", "params": {"augmenter": {"class": "os.system"}}}],
    }
    with pytest.raises(ConfigError, match="not one that configs may name"):
        Pipeline.from_dict(bad)


def test_augment_with_bad_nlpaug_arguments_leaves_no_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from augkit.cli import main
    from augkit.corpus import done_path_for, paths_for

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        "operators:\n  - type: nlpaug\n    params: {augmenter: {class: RandomWordAug, "
        "kwargs: {action: fly}}}\nchain: {start: [1.0], transitions: [[0.0]]}\n",
        encoding="utf-8",
    )
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"text": "a short text"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code = main(["augment", str(inp), "-o", str(out), "-c", str(cfg), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot build nlpaug RandomWordAug" in err, err
    assert not any(p.exists() for p in (*paths_for(out), done_path_for(out)))


def test_check_available_reports_missing_wordnet_data_without_building(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import augkit.adapters.nlpaug as adapter

    def missing(name: str, kwargs: Any) -> None:
        raise ModelUnavailableError(f"nlpaug's {name} needs NLTK data that is not installed")

    monkeypatch.setattr(adapter, "_check_wordnet_data", missing)
    flow = {"class": "Sequential", "kwargs": {"flow": [OFFLINE_SPECS["keyboard"], {
        "class": "SynonymAug", "kwargs": {}}]}}  # fmt: skip
    op = Nlpaug(flow, lazy=True)
    with pytest.raises(ModelUnavailableError, match="SynonymAug needs NLTK data"):
        Pipeline.sequence([op]).check_available()
    assert op._augmenter is None
    Nlpaug(OFFLINE_SPECS["keyboard"], lazy=True).check_available()  # nothing missing
