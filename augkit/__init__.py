"""augkit: data-augmentation operators behind one protocol, composed by a Markov chain.

>>> from augkit import Identity, Pipeline
>>> Pipeline.sometimes(Identity(), p=0.5)("unchanged", seed=0)
'unchanged'
"""

from . import _catalog, registry
from .base import BaseAugmenter, Identity, TextAugmenter
from .errors import AugkitError, ConfigError, ModelUnavailableError
from .markov import MarkovChain
from .pipeline import Pipeline
from .protocol import Augmenter
from .registry import register, registered_operators
from .seeding import item_rng
from .trace import Step, Trace

# The built-in operators, found by name when a config asks for one.
registry.use_catalog(_catalog.OPERATORS, _catalog.LENSES)

__version__ = "0.2.0"

__all__ = [
    "AugkitError",
    "Augmenter",
    "BaseAugmenter",
    "ConfigError",
    "Identity",
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
