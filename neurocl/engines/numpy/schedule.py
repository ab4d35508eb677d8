"""Per-step phase tables: the phase process sampled on the integration grid (numpy engine)."""

from __future__ import annotations

import numpy as np

from neurocl.simulation import Simulation

__all__ = ["phase_table"]


def phase_table(phases, sim: Simulation, rng: np.random.Generator, presentation: float = 0.0):
    """Per-step phase signs, phase starts and data refreshes for every replica.

    Returns three ``(R, n_steps)`` bool arrays: ``positive``; ``start`` (first step of a
    phase); ``fresh`` (a new data sample is clamped): the first step of a positive phase
    that begins at least ``presentation`` ms after the previous refresh (``presentation = 0``:
    every positive phase clamps a fresh sample).
    """
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
