"""Streams version 2: the counter-based words, scalar and numpy, and what is drawn from them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import seeding
from augkit.seeding import BatchStream, Stream, item_rng

U64 = st.integers(0, 2**64 - 1)
SIZES = st.integers(1, 2**64 - 1)


@settings(max_examples=200, deadline=None)
@given(base=U64, d=st.integers(0, 2**40 - 1), z=U64)
def test_scalar_and_numpy_words_agree_bit_for_bit(base: int, d: int, z: int) -> None:
    assert int(seeding.mix_array(np.array([z], dtype=np.uint64))[0]) == seeding.mix(z)
    arr = seeding.words_array(np.array([base], dtype=np.uint64), np.array([d], dtype=np.uint64))
    assert int(arr[0]) == seeding.word(base, d)


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**130),
    epoch=U64,
    index=st.lists(U64, min_size=1, max_size=8),
    variant=st.integers(0, 2**24 - 1),
    attempt=st.integers(0, 2**16 - 1),
)
def test_item_words_agree_scalar_and_numpy(
    seed: int, epoch: int, index: list[int], variant: int, attempt: int
) -> None:
    ew = seeding.epoch_word(seeding.seed_word(seed), epoch)
    n = len(index)
    arr = seeding.item_words(
        ew,
        np.array(index, dtype=np.uint64),
        np.full(n, variant, dtype=np.uint64),
        np.full(n, attempt, dtype=np.uint64),
    )
    assert arr.tolist() == [seeding.item_word(ew, i, variant, attempt) for i in index]


@settings(max_examples=200, deadline=None)
@given(w=st.lists(U64, min_size=1, max_size=16), n=SIZES)
def test_bounded_integers_agree_and_stay_in_range(w: list[int], n: int) -> None:
    words = np.array(w, dtype=np.uint64)
    vec = seeding.bounded_array(words, np.full(len(w), n, dtype=np.uint64)).tolist()
    assert vec == [seeding.bounded(x, n) for x in w]
    assert all(0 <= v < n for v in vec)


def test_bounded_integers_are_unbiased() -> None:
    # n = 3 is the worst case for the top-bits rule and harmless for Lemire's:
    # 300,000 draws fall within 5 binomial standard deviations of 1/3 each.
    s = Stream(12345)
    counts = np.bincount(s.integers(0, 3, size=300_000), minlength=3)
    sd = (300_000 * (1 / 3) * (2 / 3)) ** 0.5
    assert np.all(np.abs(counts - 100_000) < 5 * sd)
    # The rejection path: n close to 2**64, where about half the products land low.
    big = 2**63 + 12345
    vals = [seeding.bounded(seeding.word(7, d), big) for d in range(2000)]
    assert all(0 <= v < big for v in vals) and len(set(vals)) == 2000


@settings(max_examples=60, deadline=None)
@given(
    bases=st.lists(U64, min_size=1, max_size=12),
    highs=st.lists(st.integers(1, 10**6), min_size=12, max_size=12),
    counts=st.lists(st.integers(0, 5), min_size=12, max_size=12),
)
def test_a_batch_stream_draws_what_each_item_s_stream_draws(
    bases: list[int], highs: list[int], counts: list[int]
) -> None:
    n = len(bases)
    batch = BatchStream(np.array(bases, dtype=np.uint64))
    a = batch.random()
    b = batch.integers(0, np.array(highs[:n]))
    c = batch.uniform(-2.0, 3.0, counts=counts[:n])
    d = batch.integers(5, 9, counts=counts[:n])
    pos = 0
    for i, base in enumerate(bases):
        s = Stream(base)
        assert s.random() == a[i]
        assert s.integers(0, highs[i]) == b[i]
        k = counts[i]
        assert s.uniform(-2.0, 3.0, size=k).tolist() == c[pos : pos + k].tolist()
        assert s.integers(5, 9, size=k).tolist() == d[pos : pos + k].tolist()
        pos += k
        view = batch.stream(i)  # a scalar view continues where the batch is
        assert view.random() == s.random()


def test_stream_draws_look_like_numpy_generators() -> None:
    s = Stream(99)
    u = s.random(10_000)
    assert u.dtype == np.float64 and u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.02
    assert isinstance(s.random(), float) and isinstance(s.integers(5), int)
    assert s.integers(3, 4) == 3 and 10 <= s.integers(10, 20) < 20
    assert s.integers(10, 20, endpoint=True) <= 20
    perm = s.permutation(7)
    assert sorted(perm.tolist()) == list(range(7))
    picks = s.choice(10, size=4, replace=False)
    assert len(set(picks.tolist())) == 4 and all(0 <= p < 10 for p in picks)
    weighted = s.choice(["a", "b"], size=2000, p=[0.9, 0.1])
    assert abs((weighted == "a").mean() - 0.9) < 0.04
    z = s.standard_normal(20_000)
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    assert isinstance(s.normal(), float)
    # Any other Generator method goes through a Philox generator keyed by the stream.
    g1, g2 = Stream(99), Stream(99)
    assert g1.dirichlet([1, 1, 1]).tolist() == g2.dirichlet([1, 1, 1]).tolist()
    with pytest.raises(AttributeError):
        s.no_such_method  # noqa: B018
    with pytest.raises(ValueError, match="high must be greater than low"):
        s.integers(5, 5)


def test_coordinates_name_disjoint_streams() -> None:
    draws = {
        item_rng(5, e, i, s, variant=v, attempt=a).random()
        for e in range(3)
        for i in range(3)
        for s in range(3)
        for v in range(2)
        for a in range(2)
    }
    assert len(draws) == 3 * 3 * 3 * 2 * 2
    assert item_rng(5).random() != item_rng(6).random()
    # The seed's high limbs count: a 128-bit seed is not its low 64 bits.
    assert item_rng(2**64 + 5).random() != item_rng(5).random()
    for kwargs, match in [
        ({"epoch": -1}, "epoch"),
        ({"index": 2**64}, "index"),
        ({"stream": 2**24}, "stream"),
        ({"variant": 2**24}, "variant"),
        ({"attempt": 2**16}, "attempt"),
    ]:
        with pytest.raises(ValueError, match=match):
            item_rng(0, **kwargs)


def test_words_are_the_same_in_every_process() -> None:
    code = (
        "import json; from augkit.seeding import item_rng\n"
        "s = item_rng(2**100 + 3, 7, 11, 2, variant=1, attempt=3)\n"
        "print(json.dumps([s.random(), s.integers(1000), s.permutation(5).tolist()]))\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": h, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for h in ("0", "1", "12345")
    }
    assert len(outs) == 1
    s = item_rng(2**100 + 3, 7, 11, 2, variant=1, attempt=3)
    assert json.loads(outs.pop()) == [s.random(), s.integers(1000), s.permutation(5).tolist()]


def test_traces_say_which_streams_drew_them_and_old_ones_replay() -> None:
    from augkit import Pipeline, Trace
    from tests.ops import AppendToken, DropChar

    pipe = Pipeline.sequence([AppendToken(), DropChar()])
    out, trace = pipe.augment("some text", seed=4, return_trace=True)
    assert trace.streams == seeding.STREAMS_VERSION == trace.to_dict()["streams"] == 2
    assert pipe.to_dict()["streams"] == 2
    # A trace of augkit 0.1 (Philox streams, no "streams" key) carries its parameters.
    old = {k: v for k, v in trace.to_dict().items() if k not in ("streams", "changed")}
    assert Trace.from_dict(old).streams == 1
    assert pipe.replay("some text", old) == out
    with pytest.raises(Exception, match="streams version 1"):
        Pipeline.from_dict({**pipe.to_dict(), "streams": 1})


@settings(max_examples=100, deadline=None)
@given(
    bases=st.lists(U64, min_size=0, max_size=12),
    lengths=st.lists(st.integers(0, 12), min_size=12, max_size=12),
    sizes=st.lists(st.integers(0, 12), min_size=12, max_size=12),
    takes=st.lists(st.integers(0, 12), min_size=12, max_size=12),
)
def test_batch_permutations_and_choices_are_each_item_s(
    bases: list[int], lengths: list[int], sizes: list[int], takes: list[int]
) -> None:
    n = len(bases)
    m, size = np.array(lengths[:n]), np.array(sizes[:n])
    k = np.minimum(takes[:n], size)
    batch = BatchStream(np.array(bases, dtype=np.uint64))
    perms = BatchStream.split(batch.permutation(m).tolist(), m)
    picks = BatchStream.split(batch.choice(size, k, replace=False).tolist(), k)
    again = BatchStream.split(batch.choice(size + 1, k).tolist(), k)
    last = batch.random()
    for i, base in enumerate(bases):
        s = Stream(base)
        assert s.permutation(int(m[i])).tolist() == perms[i]
        if size[i]:  # Stream.choice needs a population; the batch draws nothing for k = 0
            assert s.choice(int(size[i]), size=int(k[i]), replace=False).tolist() == picks[i]
        assert s.choice(int(size[i]) + 1, size=int(k[i])).tolist() == again[i]
        assert s.random() == last[i]  # the same number of words taken


def test_batch_permutations_take_scalar_lengths_and_refuse_bad_sizes() -> None:
    batch = BatchStream(np.arange(3, dtype=np.uint64))
    perms = BatchStream.split(batch.permutation(4).tolist(), [4, 4, 4])
    assert all(sorted(p) == [0, 1, 2, 3] for p in perms)
    assert batch.d.tolist() == [3, 3, 3]
    with pytest.raises(ValueError, match="lengths must be >= 0"):
        batch.permutation([1, -1, 2])
    with pytest.raises(ValueError, match="without replacement"):
        batch.choice([3, 3, 3], [1, 4, 0], replace=False)
    assert BatchStream.split(["a", "b", "c"], [0, 2, 1]) == [[], ["a", "b"], ["c"]]


@settings(max_examples=60, deadline=None)
@given(
    bases=st.lists(U64, min_size=1, max_size=10),
    k=st.integers(0, 6),
    used=st.lists(st.integers(0, 6), min_size=10, max_size=10),
)
def test_looking_ahead_then_skipping_is_drawing(bases: list[int], k: int, used: list[int]) -> None:
    n = len(bases)
    batch = BatchStream(np.array(bases, dtype=np.uint64))
    batch.random()  # not at the start of the counters
    some = np.arange(0, n, 2)
    ahead = batch.ahead(k, some)
    assert ahead.shape == (len(some), k) and batch.d.tolist() == [1] * n  # nothing moved
    batch.skip(np.array(used[: len(some)]), some)
    after = batch.random()
    for row, i in enumerate(some.tolist()):
        s = Stream(bases[i], 1)
        assert s.random(k).tolist() == ahead[row].tolist()
        assert Stream(bases[i], 1 + used[row]).random() == after[i]
    assert batch.ahead(2).tolist() == [
        Stream(b, int(d)).random(2).tolist() for b, d in zip(bases, batch.d)
    ]


def test_each_is_the_per_item_path_on_the_batch_s_counters() -> None:
    bases = [3, 2**64 - 1, 12345]
    batch = BatchStream(np.array(bases, dtype=np.uint64))
    batch.random()

    def sample(x: int, rng: Stream) -> list[float]:
        return [rng.random() for _ in range(x)]

    got = batch.each(sample, [0, 2, 1])
    assert got == [sample(x, Stream(b, 1)) for x, b in zip([0, 2, 1], bases)]
    assert batch.d.tolist() == [1, 3, 2]


@settings(max_examples=80, deadline=None)
@given(base=U64, d=st.integers(0, 2**40), size=st.integers(0, 40), high=st.integers(1, 2**63))
def test_small_sized_draws_take_the_scalar_path_with_numpys_bits(
    base: int, d: int, size: int, high: int
) -> None:
    # Up to SCALAR_SIZES words are mixed in Python ints; compare both paths with the
    # stream function itself (words_array) and with each other across the threshold.
    from augkit.seeding import SCALAR_SIZES, words_array

    w = words_array(np.array([base], np.uint64), np.arange(d, d + size, dtype=np.uint64))
    u = Stream(base, d).random(size)
    assert u.dtype == np.float64 and u.shape == (size,)
    assert u.tolist() == ((w >> np.uint64(11)).astype(np.float64) * 2.0**-53).tolist()
    ints = Stream(base, d).integers(0, high, size=size)
    assert ints.dtype == np.int64 and ints.shape == (size,)
    assert ints.tolist() == [Stream(base, d + k).integers(0, high) for k in range(size)]
    big = Stream(base, d).random(SCALAR_SIZES + 5)  # the numpy path
    assert big[:size].tolist() == Stream(base, d).random(min(size, SCALAR_SIZES + 5)).tolist()
