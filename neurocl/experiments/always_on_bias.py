"""Bias of always-on learning (Williams, Bredenberg & Lajoie, ICML 2023, "Mechanism 2":
bias ``O(eta s / tau) + O(eta^2 tau)``).

From weights ``theta0``, ``R`` independent networks learn with ISD for a window ``T``; the
exact expected contrastive-learning trajectory is the gradient flow ``dtheta/dt = -eta grad
NLL(theta)`` (exact gradient by enumeration) over the same window.  The bias of always-on
learning per unit of learning is ``(E[theta_ISD(T)] - theta_flow(T)) / (eta T)``, reported
relative to ``|grad NLL(theta0)|``, with its Monte Carlo standard error over replicas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.engines import Simulation, Task, get_engine
from neurocl.measure.exact import rbm_nll_grad
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD
from neurocl.measure.rbm_hessian import flatten

__all__ = ["BiasEstimate", "gradient_flow", "always_on_bias"]


@dataclass(frozen=True)
class BiasEstimate:
    eta: float
    tau: float
    relative_bias: float   # |E[theta_ISD] - theta_flow| / (eta T |grad|)
    se: float              # Monte Carlo standard error of relative_bias (noise floor)


def gradient_flow(W, a, c, data, eta: float, T: float, steps: int = 400):
    """Euler integration of ``dtheta/dt = -eta grad NLL`` over ``T`` ms (exact gradient)."""
    W, a, c = W.copy(), a.copy(), c.copy()
    h = T / steps
    for _ in range(steps):
        gW, ga, gc = rbm_nll_grad(W, a, c, data)
        W -= eta * h * gW
        a -= eta * h * ga
        c -= eta * h * gc
    return W, a, c


def always_on_bias(rbm, data, params0, eta: float, tau: float, T: float, replicas: int = 64,
                   dt: float = 0.5, seed: int = 0) -> BiasEstimate:
    """Relative bias of ISD (b = 0.5, exponential phases of mean ``tau`` ms) over a window."""
    W0, a0, c0 = (params0[k] for k in ("W", "a", "c"))
    start = {"W": np.repeat(W0[None], replicas, 0), "a": np.repeat(a0[None], replicas, 0),
             "c": np.repeat(c0[None], replicas, 0)}
    sim = Simulation(dt=dt, duration=T, replicas=replicas, seed=seed, checkpoints=1)
    traj = get_engine("numpy").run(rbm, ISD(eta), StochasticPhases(0.5, Exponential(tau)),
                                   Task(clamp=data, evaluate=lambda p: {}), sim, params=start)
    flow = flatten(*gradient_flow(W0, a0, c0, data, eta, T))
    ends = np.array([flatten(traj.params["W"][r], traj.params["a"][r], traj.params["c"][r])
                     for r in range(replicas)])
    g0 = np.linalg.norm(flatten(*rbm_nll_grad(W0, a0, c0, data)))
    diff = ends.mean(0) - flow
    scale = eta * T * g0
    se_vec = ends.std(0, ddof=1) / np.sqrt(replicas)
    return BiasEstimate(eta, tau, float(np.linalg.norm(diff) / scale), float(np.linalg.norm(se_vec) / scale))
