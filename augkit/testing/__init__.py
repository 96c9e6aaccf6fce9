"""Helpers for testing with augkit offline.

- :func:`check_operator`: the operator contract, for built-in operators and yours;
- :mod:`augkit.testing.marian`, :mod:`augkit.testing.masked_lm`: tiny models
  built locally, never downloaded.
"""

from .contract import ContractError, check_operator

__all__ = ["ContractError", "check_operator"]
