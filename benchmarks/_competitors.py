"""The competitors' side of comparisons that more than one benchmark makes."""

from __future__ import annotations

from typing import Any


class VocabularyOnlyEmbeddings:
    """What nlpaug's WordEmbsAug insert action uses of an embedding model: its vocabulary."""

    def __init__(self, vocab: list[str]) -> None:
        self.words = vocab
        self.top_k = 100

    def get_vocab(self) -> list[str]:
        return self.words


def nlpaug_vocabulary_insertion(
    vocab: list[str], aug_p: float = 0.1, aug_min: int = 1, aug_max: int = 10
) -> Any:
    """nlpaug's word insertion from a word list: ``WordEmbsAug(action="insert")``.

    nlpaug's ``RandomWordAug`` has no insert action (it raises
    ``NotImplementedError``); ``WordEmbsAug``'s insert draws a uniformly random
    word of the model's vocabulary (``random.sample``) and reads no vectors,
    so a model object that holds only the vocabulary is enough (no gensim).
    It inserts ``ceil(aug_p * n_words)`` words, clamped to ``[aug_min, aug_max]``.
    """
    import nlpaug.augmenter.word as naw

    return naw.WordEmbsAug(
        model_type="glove",
        model=VocabularyOnlyEmbeddings(vocab),
        action="insert",
        aug_p=aug_p,
        aug_min=aug_min,
        aug_max=aug_max,
    )


def nlpaug_random_word_substitution(vocab: list[str], n_words: int = 2) -> Any:
    """nlpaug's ``RandomWordAug`` doing the nearest thing it can to an insertion.

    ``RandomWordAug(action="substitute", target_words=vocab)`` replaces
    ``n_words`` randomly chosen words of a text by words drawn uniformly from
    ``vocab``: the same random work as inserting ``n_words`` vocabulary words
    at random places (choose the places, draw the words), through the class
    issue 11 names. Its insert action does not exist (``NotImplementedError``).
    """
    import nlpaug.augmenter.word as naw

    return naw.RandomWordAug(
        action="substitute", target_words=vocab, aug_p=0.1, aug_min=n_words, aug_max=n_words
    )
