"""Per-step phase tables: the phase process sampled on the integration grid (numpy engine)."""

from __future__ import annotations

import numpy as np

from neurocl.resources import check_memory
from neurocl.simulation import Simulation

__all__ = ["phase_table", "phase_table_bytes", "check_phase_table"]

#: bytes per drawn phase while a schedule is built (lengths, cumulative sums, starts, copies)
BYTES_PER_PHASE = 64


def phase_table_bytes(phases, sim: Simulation) -> int:
    """Peak bytes :func:`phase_table` allocates: ``3 R n_steps`` (three bool tables), the
    times and phase-index arrays (``16 n_steps``) and one replica's schedule (about
    ``64`` bytes per phase, ``1.2 duration / mean phase length`` phases)."""
    n_steps = sim.n_steps
    mean = float(getattr(phases, "mean_length", 0.0) or 0.0)
    n_phases = 1.2 * sim.duration / mean + 16 if mean > 0 else n_steps
    return int(3 * sim.replicas * n_steps + 16 * n_steps + BYTES_PER_PHASE * n_phases)


def check_phase_table(phases, sim: Simulation, where: str = "") -> None:
    """Raise :class:`~neurocl.errors.ConfigError` (naming ``simulation.duration / simulation.dt``
    and the phase length, and the estimate) if the phase table would exceed the memory budget
    (:func:`neurocl.resources.memory_budget`).  ``where``: the learner, for the message."""
    mean = float(getattr(phases, "mean_length", 0.0) or 0.0)
    check_memory(phase_table_bytes(phases, sim),
                 f"{where + ': ' if where else ''}simulation.duration / simulation.dt = "
                 f"{sim.duration:g} / {sim.dt:g} ms = {sim.n_steps:.3g} steps x {sim.replicas} replicas"
                 + (f" with a mean phase length of {mean:g} ms" if mean else "") + ": the per-step phase table")


def phase_table(phases, sim: Simulation, rng: np.random.Generator, presentation: float = 0.0):
    """Per-step phase signs, phase starts and data refreshes for every replica.

    Returns three ``(R, n_steps)`` bool arrays: ``positive``; ``start`` (first step of a
    phase); ``fresh`` (a new data sample is clamped): the first step of a positive phase
    that begins at least ``presentation`` ms after the previous refresh (``presentation = 0``:
    every positive phase clamps a fresh sample).  Refuses (``ConfigError``) before allocating
    if :func:`phase_table_bytes` exceeds the memory budget.
    """
    check_phase_table(phases, sim)
    times = np.arange(sim.n_steps) * sim.dt
    positive = np.empty((sim.replicas, sim.n_steps), dtype=bool)
    start = np.empty((sim.replicas, sim.n_steps), dtype=bool)
    fresh = np.zeros((sim.replicas, sim.n_steps), dtype=bool)
    for r in range(sim.replicas):
        sched = phases.schedule(sim.duration, rng)
        idx = sched.phase_index(times)
        positive[r] = sched.positive[idx]
        start[r, 0] = True
        start[r, 1:] = idx[1:] != idx[:-1]
        first = np.flatnonzero(start[r] & positive[r])
        if presentation <= 0.0:
            fresh[r, first] = True
            continue
        last = -np.inf
        for k in first:
            if times[k] - last >= presentation:
                fresh[r, k] = True
                last = times[k]
    return positive, start, fresh
