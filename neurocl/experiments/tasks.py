"""A config's data section -> the :class:`~neurocl.simulation.Task` a circuit learns.

The dataset is loaded by :func:`neurocl.data.load_dataset`; what a circuit clamps and which
metrics it records are the circuit's own (``circuit.task(dataset)``).
"""

from __future__ import annotations

from neurocl.data.spec import DataSpec, load_dataset
from neurocl.simulation import Task

__all__ = ["make_task", "load_dataset"]


def make_task(circuit, spec: DataSpec) -> Task:
    """Data and checkpoint metrics for ``circuit`` on the dataset ``spec``."""
    return circuit.task(load_dataset(spec))
