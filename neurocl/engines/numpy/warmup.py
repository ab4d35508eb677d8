"""Compile the numpy engine's numba kernels once and cache them (``make venv`` runs this).

The kernels are ``@njit(cache=True)``: the first call of each signature (float64 and float32
RBM kernels, the event-driven kernel, the Hopfield kernel, the two-branch sampler, update and ODE drift, the
Metropolis-Hastings sweep of EMC^2) compiles for 5-30 s and writes the
machine code to ``__pycache__``; every later process loads it.  Run: ``python -m
neurocl.engines.numpy.warmup``.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from neurocl.circuits import RBM, LayeredHopfield, TwoBranch
from neurocl.data import bars_and_stripes, one_hot
from neurocl.engines import Simulation, Task, get_engine
from neurocl.engines.numpy.two_branch import simulate_online
from neurocl.samplers.negatives import mh_independence_sweep
from neurocl.theory_two_branch import solve_ode
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD

__all__ = ["main"]

logger = logging.getLogger(__name__)


def main() -> None:
    t0 = time.time()
    phases = StochasticPhases(0.5, Exponential(2.0))
    rbm_task = Task(clamp=bars_and_stripes(2))
    for kernel in ("fused", "event"):
        for dtype in ("float64", "float32"):
            sim = Simulation(dt=1.0, duration=20.0, replicas=1, checkpoints=1, dtype=dtype)
            get_engine("numpy", kernel=kernel).run(RBM(4, 3), ISD(1e-3), phases, rbm_task, sim)
    x = np.random.default_rng(0).random((4, 4))
    hop_task = Task(clamp=one_hot(np.arange(4) % 2, 2), inputs=x)
    get_engine("numpy", kernel="fused").run(LayeredHopfield((4, 3, 2)), ISD(1e-3), phases, hop_task,
                                            Simulation(dt=0.5, duration=10.0, checkpoints=1))
    for views in (2, 3):
        model = TwoBranch(N=32, K=2, d1=2, views=views)
        simulate_online(model, 0.5, 1.0, replicas=2)
        solve_ode(model, *model.initial_overlaps(np.random.default_rng(0)), 0.5, 0.1, n_mc=64)
    rng = np.random.default_rng(0)
    prop = rng.integers(0, 8, (4, 3))
    mh_independence_sweep(np.zeros(4, np.int64), np.zeros(4), prop, rng.random((4, 3)), np.ones((4, 3), bool), 1.0, rng)
    logger.info("numba kernels compiled and cached in %.0f s (wall)", time.time() - t0)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
