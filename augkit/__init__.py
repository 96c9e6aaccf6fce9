"""augkit: data-augmentation operators behind one protocol, composed by a Markov chain.

>>> from augkit import Pipeline
>>> from augkit.core import Identity
>>> Pipeline.sometimes(Identity(), p=0.5)("unchanged", seed=0)
'unchanged'
"""

from .core import (
    AugkitError,
    Augmenter,
    BaseAugmenter,
    ConfigError,
    Identity,
    ItemStreams,
    ModelUnavailableError,
    TextAugmenter,
    item_rng,
    register,
    registered_operators,
)
from .markov import MarkovChain
from .pipeline import Pipeline
from .trace import Step, Trace

__version__ = "0.1.0"

__all__ = [
    "AugkitError",
    "Augmenter",
    "BaseAugmenter",
    "ConfigError",
    "Identity",
    "ItemStreams",
    "MarkovChain",
    "ModelUnavailableError",
    "Pipeline",
    "Step",
    "TextAugmenter",
    "Trace",
    "__version__",
    "item_rng",
    "register",
    "registered_operators",
]
