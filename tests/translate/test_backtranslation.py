"""BackTranslation with the torch backend, on the tiny offline Marian pair."""

from __future__ import annotations

import itertools
import pickle
from typing import Any

import pytest

import augkit
from augkit import Pipeline, item_rng
from augkit.text import BackTranslation
from tests.ops import AppendToken, DropChar

from .conftest import SHORT, EncoderCalls

pytestmark = pytest.mark.xdist_group("translate")


def test_batch_returns_one_string_per_input(make_bt: Any) -> None:
    bt = make_bt()
    out = bt.augment_batch(SHORT, seed=0)
    assert isinstance(out, list) and len(out) == len(SHORT)
    # Never empty: a hop that returns nothing gives the item back as it was.
    assert all(isinstance(o, str) and o.strip() for o in out)


def test_greedy_is_deterministic_and_ignores_the_seed(make_bt: Any) -> None:
    a = make_bt().augment_batch(SHORT, seed=1)
    b = make_bt().augment_batch(SHORT, seed=2)
    assert a == b
    assert make_bt().sample_params(SHORT[0], item_rng(0)) == {}


def test_greedy_batch_equals_per_item(make_bt: Any) -> None:
    bt = make_bt(batch_size=4)
    batch = bt.augment_batch(SHORT, seed=3)
    assert batch == [bt(x, rng=item_rng(3, 0, i)) for i, x in enumerate(SHORT)]


def test_beam_search_is_independent_of_batching(make_bt: Any) -> None:
    beam = make_bt(num_beams=3).augment_batch(SHORT, seed=0)
    assert len(beam) == len(SHORT) and all(isinstance(o, str) for o in beam)
    assert beam == make_bt(num_beams=3, batch_size=2).augment_batch(SHORT[::-1], seed=0)[::-1]


def test_sampled_output_depends_on_the_item_rng_only(make_bt: Any) -> None:
    bt = make_bt(temperature=1.2, batch_size=3)
    params = [bt.sample_params(x, item_rng(11, 0, i)) for i, x in enumerate(SHORT)]
    together = bt.apply_batch(SHORT, params)
    alone = [bt.apply(x, p) for x, p in zip(SHORT, params)]
    reversed_ = bt.apply_batch(SHORT[::-1], params[::-1])[::-1]
    # Different company: each item next to the longest text, in a batch of two.
    paired = [bt.apply_batch([x, SHORT[3]], [p, params[3]])[0] for x, p in zip(SHORT, params)]
    other_batching = make_bt(temperature=1.2, batch_size=32).apply_batch(SHORT, params)
    assert together == alone == reversed_ == paired == other_batching


def test_sampling_draws_differ_by_seed_and_top_k_narrows_them(make_bt: Any) -> None:
    text = SHORT[1]
    # At T=50 every token is nearly uniform over the vocabulary whatever the
    # build, so eight seeds give different outputs unless sampling is broken (an
    # empty draw, about 1 in 300 per hop, falls back to the input: allow two).
    hot = make_bt(temperature=50.0)
    outs = {hot(text, seed=s) for s in range(8)}
    assert len(outs) >= 6
    greedy = make_bt()(text, seed=0)
    top1 = make_bt(temperature=1.5, top_k=1)
    # top_k=1 leaves one candidate per step: sampling collapses to greedy decoding.
    assert {top1(text, seed=s) for s in range(4)} == {greedy}


def test_order_is_restored_after_length_sorting(make_bt: Any) -> None:
    texts = [SHORT[2], SHORT[3], SHORT[0], SHORT[1], SHORT[4], SHORT[3] + " " + SHORT[1]]
    bt = make_bt(batch_size=2)
    out = bt.augment_batch(texts, seed=0)
    # Each text alone is its own output: the order was restored.
    assert out == [bt(x, seed=0) for x in texts]


def test_empty_and_whitespace_come_back_unchanged(make_bt: Any) -> None:
    bt = make_bt()
    texts = ["", SHORT[0], "   ", "\n\t", SHORT[2]]
    out = bt.augment_batch(texts, seed=0)
    assert out[0] == "" and out[2] == "   " and out[3] == "\n\t"
    assert out[1] == bt(SHORT[0], seed=0) and out[4] == bt(SHORT[2], seed=0)


def test_empty_inputs_never_touch_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bt = BackTranslation(forward_model="augkit-test/missing", backward_model="augkit-test/x")
    assert bt.augment_batch(["", " ", "\n"], seed=0) == ["", " ", "\n"]
    assert bt.paraphrases(["", "  "], 3, seed=0) == [[], []]
    assert bt._hops is None  # nothing was loaded (loading would have raised)


def test_surrounding_whitespace_is_kept(make_bt: Any) -> None:
    bt = make_bt()
    core = bt(SHORT[0], seed=0)
    assert bt("  " + SHORT[0] + "\n", seed=0) == "  " + core + "\n"


def test_long_input_is_split_at_sentences_and_rejoined(make_bt: Any) -> None:
    from augkit.testing.marian import sample_sentences

    sentences = sample_sentences(12, seed=77, min_clauses=1, max_clauses=2)
    text = "  ".join(sentences[:6]) + "\n\n" + " ".join(sentences[6:])
    bt = make_bt(max_input_tokens=40)
    hop = bt.load()._get_hops()[0]
    assert hop.count_tokens([text])[0] > 3 * 40  # long enough to need splitting
    spans = bt._split(text, hop, "en")
    assert len(spans) > 3
    counts = hop.count_tokens([text[a:b] for a, b in spans])
    assert max(counts) <= 40
    # Pieces are whole sentences: every span starts where a sentence starts.
    starts = {text.find(s) for s in sentences}
    assert all(a in starts for a, _ in spans)
    # Nothing is dropped: between spans there is only the original whitespace.
    covered = "".join(text[a:b] for a, b in spans)
    assert "".join(covered.split()) == "".join(text.split())
    # The output is the pieces' translations joined by the original separators.
    out = bt(text, seed=0)
    seps = [text[b:a] for (_, b), (a, _) in itertools.pairwise(spans)]
    expected = bt(text[spans[0][0] : spans[0][1]], seed=0)
    for sep, (a, b) in zip(seps, spans[1:]):
        expected += sep + bt(text[a:b], seed=0)
    assert out == expected  # every piece translated, none truncated
    assert "\n\n" in out


def test_overlong_sentence_and_word_are_split_not_truncated(make_bt: Any) -> None:
    bt = make_bt(max_input_tokens=16)
    hop = bt.load()._get_hops()[0]
    sentence = " ".join(["the small cat sees a dog"] * 8)  # one sentence, no full stop
    word = "abcdefghij" * 12  # one "word" of 120 characters
    for text in (sentence, word, sentence + " " + word + "."):
        spans = bt._split(text, hop, "en")
        assert len(spans) > 1
        assert max(hop.count_tokens([text[a:b] for a, b in spans])) <= 16
        assert "".join(text[a:b] for a, b in spans).replace(" ", "") == text.replace(" ", "")
        out = bt(text, seed=0)
        assert isinstance(out, str) and out.strip()


def test_short_input_is_one_piece(make_bt: Any) -> None:
    bt = make_bt()
    hop = bt.load()._get_hops()[0]
    assert bt._split(SHORT[3], hop, "en") == [(0, len(SHORT[3]))]


def test_model_is_called_once_per_pipeline_step(make_bt: Any) -> None:
    bt = make_bt(batch_size=32)
    net = bt.load()._get_hops()[0].net  # forward and backward are the same cached model
    pipe = Pipeline.sequence([bt, DropChar(), bt])
    texts = SHORT + [SHORT[0] + " " + SHORT[4]] * 4  # 10 items, one batch
    calls = EncoderCalls(net)
    try:
        batched = pipe.augment_batch(texts, seed=5)
        n_batched = calls.count
        calls.count = 0
        per_item = [pipe.augment(x, seed=5, index=i) for i, x in enumerate(texts)]
        n_per_item = calls.count
    finally:
        calls.close()
    assert batched == per_item
    # two back-translation steps x two hops, each one generate call for all 10 items
    assert n_batched == 4
    assert n_per_item == 4 * len(texts)


def test_pipeline_sometimes_batches_only_the_chosen_items(make_bt: Any) -> None:
    bt = make_bt(temperature=0.8)
    net = bt.load()._get_hops()[0].net
    pipe = Pipeline.sometimes(bt, p=0.5)
    texts = SHORT * 3
    calls = EncoderCalls(net)
    try:
        out, traces = pipe.augment_batch(texts, seed=9, return_traces=True)
    finally:
        calls.close()
    chosen = sum(len(t.steps) for t in traces)
    assert 0 < chosen < len(texts)
    assert calls.count == 2  # one call per hop for all chosen items
    assert [o == x for o, x in zip(out, texts)].count(False) <= chosen
    assert out == [pipe.augment(x, seed=9, index=i) for i, x in enumerate(texts)]


def test_pickles_without_weights_and_shares_the_loaded_model(make_bt: Any) -> None:
    bt = make_bt(temperature=0.9, top_k=20)
    expected = bt.augment_batch(SHORT, seed=4)  # models are loaded now
    blob = pickle.dumps(bt)
    assert len(blob) < 4000  # settings only; the tiny model's weights alone are ~0.5 MB
    clone = pickle.loads(blob)
    assert clone._hops is None
    assert clone.get_config() == bt.get_config()
    assert clone.augment_batch(SHORT, seed=4) == expected
    # loaded once per process: the clone uses the very same model object
    assert clone._get_hops()[0].net is bt._get_hops()[0].net


def test_instances_share_models_but_not_settings(make_bt: Any) -> None:
    greedy = make_bt()
    beams = make_bt(num_beams=4)
    sampled = make_bt(temperature=1.0)
    a = greedy.augment_batch(SHORT, seed=0)
    net = greedy._get_hops()[0].net
    before = (net.generation_config.to_dict(), net.config.to_dict())
    beams.augment_batch(SHORT, seed=0)
    sampled.augment_batch(SHORT, seed=0)
    assert greedy._get_hops()[0].net is beams._get_hops()[0].net is sampled._get_hops()[0].net
    # Neither beam search nor sampling left settings behind in the shared model.
    assert greedy.augment_batch(SHORT, seed=0) == a
    assert (net.generation_config.to_dict(), net.config.to_dict()) == before
    assert net.generation_config.num_beams == 4  # the checkpoint's default, untouched


def test_config_round_trip_gives_identical_outputs(make_bt: Any, marian_dir: str) -> None:
    bt = make_bt(temperature=0.7, top_k=30, batch_size=5, max_input_tokens=64)
    pipe = Pipeline.sequence([bt, AppendToken()])
    config = pipe.to_dict()
    op_cfg = config["operators"][0]
    assert op_cfg["type"] == "back_translation"
    assert op_cfg["params"]["forward_model"] == marian_dir
    assert op_cfg["params"]["temperature"] == 0.7
    again = Pipeline.from_dict(config)
    assert again.augment_batch(SHORT, seed=8) == pipe.augment_batch(SHORT, seed=8)
    again_json = Pipeline.from_json(pipe.to_json())
    assert again_json.augment_batch(SHORT, seed=8) == pipe.augment_batch(SHORT, seed=8)


def test_trace_replays_after_json(make_bt: Any) -> None:
    pipe = Pipeline.sequence([make_bt(temperature=1.0), DropChar()])
    out, trace = pipe.augment(SHORT[1], seed=21, return_trace=True)
    assert trace.steps[0].op == "back_translation" and "seed" in trace.steps[0].params
    assert pipe.replay(SHORT[1], trace) == out
    assert pipe.replay(SHORT[1], augkit.Trace.from_json(trace.to_json())) == out


def test_chain_of_pivots(make_bt: Any, marian_dir: str) -> None:
    bt = make_bt(pivot=["de", "fr"], pivot_models=[marian_dir], temperature=0.8)
    assert bt.languages == ["en", "de", "fr", "en"]
    assert bt.models == [marian_dir] * 3
    net = bt.load()._get_hops()[0].net
    calls = EncoderCalls(net)
    try:
        out = bt.augment_batch(SHORT, seed=2)
    finally:
        calls.close()
    assert calls.count == 3  # three hops, one batched call each
    assert out == [bt(x, rng=item_rng(2, 0, i)) for i, x in enumerate(SHORT)]


def test_paraphrases_are_distinct_and_differ_from_the_input(make_bt: Any) -> None:
    # Nearly uniform tokens at T=50 (whatever the build): four rounds of
    # draws find four distinct paraphrases unless deduplication is broken.
    sampled = make_bt(temperature=50.0)
    paras = sampled.paraphrases([*SHORT[:3], ""], 4, seed=6)
    assert len(paras) == 4 and paras[3] == []
    for x, ps in zip(SHORT[:3], paras[:3]):
        assert len(ps) == 4
        assert len(set(ps)) == len(ps)
        assert x not in ps
    # The first sample is the operator's own output for the same generator.
    single = sampled.augment_batch(SHORT[:3], seed=6)
    for x, s, ps in zip(SHORT, single, paras):
        if s != x:
            assert ps[0] == s
    # Per item: the same whatever the batch.
    assert sampled.paraphrases([SHORT[1]], 4, rngs=[item_rng(6, 0, 1)])[0] == paras[1]
    # Deterministic decoding: n best beams, also distinct.
    beams = make_bt().paraphrases(SHORT[:2], 3, seed=0)
    for x, ps in zip(SHORT, beams):
        # Beams are distinct token sequences; two may decode to one string or to
        # the input itself, so a build may give fewer than three.
        assert len(ps) <= 3 and len(set(ps)) == len(ps) and x not in ps
    assert beams == make_bt().paraphrases(SHORT[:2], 3, seed=99)


def test_non_empty_input_never_comes_back_empty(make_bt: Any, marian_dir: str) -> None:
    bt = make_bt()
    # Characters the tiny vocabulary lacks become <unk>, which decoding drops:
    # when nothing is left, the item comes back as it was.
    for odd in ("\u2603\u2603", "\u4e00", "\U0001f44d \U0001f44d"):
        out = bt(odd, seed=0)
        assert isinstance(out, str) and out.strip()
    # A lone control character (not whitespace to str.strip) made a hop return
    # only whitespace, which once left the next hop with no piece at all.
    chained = make_bt(pivot=["de", "fr"], pivot_models=[marian_dir])
    for odd in ("\x1b", "\x00", "\x1b\x1b next to words", "\x7f"):
        assert bt(odd, seed=0).strip()
        assert chained(odd, seed=0).strip()
    assert chained.augment_batch(["\x1b", "The cat sees a dog."], seed=0)[1].strip()
