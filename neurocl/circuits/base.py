"""What every circuit provides to the engines.

A circuit is a *description* (a frozen dataclass of sizes and time constants) plus pure
functions of ``(params, state)``: energy, conditionals or drift, and the plasticity
statistic whose positive-minus-negative contrast is the contrastive-learning gradient.
Parameters and states are dicts of arrays with a leading *replica* axis ``R`` (independent
networks simulated side by side).  A circuit never imports an engine.

Every circuit class registers itself (``@CIRCUITS.register``, keyed by its ``kind``) and
declares, as class attributes or properties:

``kind``
    the ``[circuit] kind`` of specs;
``dynamics``
    ``"glauber"`` (binary stochastic units: ``glauber_blocks``, ``field``) or
    ``"gradient_flow"`` (continuous units: ``drift``, ``euler_step``); engines pick their
    generic stepper by it;
``data_layer``, ``clamp_units``
    the layer a positive phase clamps and which of its units (``None``: all);
``main_metric``
    the metric a run reports first (a key of ``task(...).evaluate``'s result, unit in the name);
``summary_panel``
    the name of the panel summaries draw for a learner (``neurocl.plotting.PANELS``), or ``None``;
``task(dataset)``
    the :class:`~neurocl.simulation.Task` (data to clamp, metrics) on a loaded dataset, with
    ``check``: the circuit's definition of *diverged* (parameters out of the range where it
    still computes something meaningful; stated in the circuit's docstring), checked by the
    run loop at every checkpoint (:func:`magnitude_check` for a bound on every parameter);
``statistic(params, state, mean_field)``
    ``-dE/dtheta``, whose positive-minus-negative contrast is the learning gradient.
"""

from __future__ import annotations

from typing import Dict

import numpy as np

from neurocl.errors import ConfigError
from neurocl.schema import Registry

__all__ = ["Params", "State", "copy_params", "CIRCUITS", "check_dimension", "magnitude_check"]

#: circuit classes by ``kind``
CIRCUITS = Registry("circuit kind", key_attr="kind")

Params = Dict[str, np.ndarray]
State = Dict[str, np.ndarray]


def copy_params(params: Params) -> Params:
    """Deep copy of a parameter dict (arrays copied)."""
    return {k: np.array(v, copy=True) for k, v in params.items()}


def check_dimension(name: str, expected: int, got: int) -> None:
    """Raise if a circuit size does not match the data (``circuit.<name>``)."""
    if expected != got:
        raise ConfigError(f"circuit.{name} = {expected} does not match the data dimension {got}")


def magnitude_check(bound: float, meaning: str):
    """A ``Task.check``: the parameters are out of range (diverged) when any entry of any
    parameter array has magnitude > ``bound`` or is NaN/inf; the reason names the array, the
    replica, the largest magnitude and ``meaning`` (why that bound)."""

    def check(params: Params):
        for name, value in params.items():
            a = np.abs(np.asarray(value, dtype=float))
            if a.size == 0:
                continue
            per_replica = a.reshape(len(a), -1).max(1) if a.ndim > 1 else a
            bad = np.flatnonzero(~(per_replica <= bound))   # NaN fails <= too
            if bad.size:
                r = int(bad[0])
                m = per_replica[r]
                size = "NaN/inf" if not np.isfinite(m) else f"{m:.3g}"
                return f"max |{name}| = {size} > {bound:g} in replica {r}: {meaning}"
        return None

    return check
