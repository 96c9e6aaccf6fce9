"""The plan of the house: every built-in operator and public name, and the module defining it.

One table, read by the registry (configs name operators, never modules) and
by the lazy ``__init__`` of each public package (``import augkit.text`` stays
cheap: torch, OpenCV or nlpaug load only when an operator that needs them is
used). It names modules as strings and imports none, so any module may read
it; :mod:`augkit` installs it in the registry.
"""

from __future__ import annotations

#: Registered name -> (module, class) of every built-in operator.
OPERATORS: dict[str, tuple[str, str]] = {
    "identity": ("augkit.base", "Identity"),
    "pipeline": ("augkit.pipeline", "Pipeline"),
    "random_insertion": ("augkit.text.insertion", "RandomInsertion"),
    "chunk_recombination": ("augkit.text.chunks", "ChunkRecombination"),
    "back_translation": ("augkit.text.backtranslation", "BackTranslation"),
    "nlpaug": ("augkit.adapters.nlpaug", "Nlpaug"),
    "rotate": ("augkit.image.geometry", "Rotate"),
    "random_crop": ("augkit.image.geometry", "RandomCrop"),
    "center_crop": ("augkit.image.geometry", "CenterCrop"),
    "random_resized_crop": ("augkit.image.geometry", "RandomResizedCrop"),
    "horizontal_flip": ("augkit.image.geometry", "HorizontalFlip"),
    "vertical_flip": ("augkit.image.geometry", "VerticalFlip"),
}

#: Item lens types configs can name (``"targets": {"type": ...}``) -> (module, class);
#: the first is what ``targets`` without a ``type`` means.
LENSES: dict[str, tuple[str, str]] = {
    "image_targets": ("augkit.image.targets", "ImageTargets"),
}

#: Public names of each package that are not operators: name -> module.
EXPORTS: dict[str, dict[str, str]] = {
    "augkit.text": {
        "Vocabulary": "augkit.text.wordsources",
        "Synonyms": "augkit.text.wordsources",
        "MaskedLM": "augkit.text.wordsources",
        "split_sentences": "augkit.text.sentences",
        "sentence_spans": "augkit.text.sentences",
        "split_chunks": "augkit.text.chunks",
    },
    "augkit.image": {
        "ImageTargets": "augkit.image.targets",
        "TargetItem": "augkit.image.targets",
    },
    "augkit.adapters": {},
}


def exports_of(package: str) -> dict[str, str]:
    """Every lazily exported name of ``package`` (its operators first) -> defining module."""
    prefix = package + "."
    ops = {cls: module for module, cls in OPERATORS.values() if module.startswith(prefix)}
    return {**ops, **EXPORTS.get(package, {})}
