"""What every circuit provides to the engines.

A circuit is a *description* (a frozen dataclass of sizes and time constants) plus pure
functions of ``(params, state)``: energy, conditionals or drift, and the plasticity
statistic whose positive-minus-negative contrast is the contrastive-learning gradient.
Parameters and states are dicts of arrays with a leading *replica* axis ``R`` (independent
networks simulated side by side).  A circuit never imports an engine.
"""

from __future__ import annotations

from typing import Dict

import numpy as np

__all__ = ["Params", "State", "copy_params"]

Params = Dict[str, np.ndarray]
State = Dict[str, np.ndarray]


def copy_params(params: Params) -> Params:
    """Deep copy of a parameter dict (arrays copied)."""
    return {k: np.array(v, copy=True) for k, v in params.items()}
