"""Learn the chain from data: standard policies as chains, hidden Markov chains, policy search.

- presets (:mod:`augkit.policy.presets`): :func:`trivial_augment`,
  :func:`rand_augment`, :func:`eda`, :func:`uda_back_translation`, each a
  plain :class:`augkit.Pipeline`;
- :class:`HiddenMarkovChain` (:mod:`augkit.policy.hmm`): hidden regimes
  emitting operators, fitted by Baum-Welch, expanded by ``to_pipeline``;
- :func:`search_policy` (:mod:`augkit.policy.search`): the cross-entropy
  method over start, transitions and stop, against any ``score``;
- :func:`embedding_probe` (:mod:`augkit.policy.probe`): such a score, from
  frozen embeddings and logistic regression.

Importing this package needs numpy only; the probe imports scikit-learn and
the search's progress bar tqdm when used.
"""

from __future__ import annotations

from .hmm import HiddenMarkovChain
from .presets import eda, rand_augment, trivial_augment, uda_back_translation
from .probe import embedding_probe
from .search import (
    SearchResult,
    SearchRound,
    magnitude_states,
    no_augmentation,
    search_policy,
)

__all__ = [
    "HiddenMarkovChain",
    "SearchResult",
    "SearchRound",
    "eda",
    "embedding_probe",
    "magnitude_states",
    "no_augmentation",
    "rand_augment",
    "search_policy",
    "trivial_augment",
    "uda_back_translation",
]
