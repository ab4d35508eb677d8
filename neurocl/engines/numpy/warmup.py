"""Compile the numpy engine's numba kernels once and cache them (``make venv`` runs this).

The kernels are ``@njit(cache=True)``: the first call of each signature (float64 and float32
RBM kernels, the event-driven kernel, the Hopfield kernel, the two-branch sampler and update) compiles for 5-30 s and writes the
machine code to ``__pycache__``; every later process loads it.  Run: ``python -m
neurocl.engines.numpy.warmup``.
"""

from __future__ import annotations

import time

import numpy as np

from neurocl.circuits import RBM, LayeredHopfield, TwoBranch
from neurocl.data import bars_and_stripes, one_hot
from neurocl.engines import Simulation, Task, get_engine
from neurocl.engines.numpy.two_branch import simulate_online
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD

__all__ = ["main"]


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
        simulate_online(TwoBranch(N=32, K=2, d1=2, views=views), 0.5, 1.0, replicas=2)
    print(f"numba kernels compiled and cached in {time.time() - t0:.0f} s (wall)")


if __name__ == "__main__":
    main()
