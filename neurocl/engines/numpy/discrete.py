"""Discrete-time references: CD-k and PCD for RBMs (Hinton 2002; Tieleman 2008)."""

from __future__ import annotations

import numpy as np

from neurocl.circuits._math import sigmoid
from neurocl.engines.base import Checkpoints
from neurocl.errors import DivergenceError

__all__ = ["run_contrastive_divergence"]


def _sample(p, rng):
    return (rng.random(p.shape) < p).astype(float)


def run_contrastive_divergence(circuit, rule, task, sim, params, rng, progress=False, desc=""):
    """Minibatch CD-k / PCD on ``sim.replicas`` RBMs at once.

    One update every ``sim.dt`` ms of the time axis (so curves share the axis of the
    continuous-time learners): ``theta += learning_rate * (mean_data f - mean_model f)`` with
    ``f = (v E[h|v]^T, v, E[h|v])``; the negative samples are ``k`` block-Gibbs sweeps from
    the minibatch (CD-k) or from persistent chains (PCD).
    """
    from neurocl.engines.numpy import _progress

    R, B = sim.replicas, rule.batch_size
    W, a, c = params["W"], params["a"], params["c"]
    chains = (rng.random((R, B, circuit.n_visible)) < 0.5).astype(float)
    cp = Checkpoints(sim, task, params)
    ckpts = cp.steps
    cp.record(0)
    next_ck = 1
    with _progress(sim.duration, desc, progress) as bar:
        for k in range(sim.n_steps):
            v0 = task.clamp[rng.integers(len(task), size=(R, B))]
            h0 = sigmoid(v0 @ W + c[:, None, :])
            v = chains if rule.persistent else v0
            for _ in range(rule.k):
                h = _sample(sigmoid(v @ W + c[:, None, :]), rng)
                v = _sample(sigmoid(h @ np.swapaxes(W, 1, 2) + a[:, None, :]), rng)
            if rule.persistent:
                chains = v
            hk = sigmoid(v @ W + c[:, None, :])
            lr = rule.learning_rate / B
            W += lr * (np.swapaxes(v0, 1, 2) @ h0 - np.swapaxes(v, 1, 2) @ hk)
            a += lr * (v0.sum(1) - v.sum(1))
            c += lr * (h0.sum(1) - hk.sum(1))
            if not np.isfinite(W.sum()):
                raise DivergenceError("W", (k + 1) * sim.dt, k + 1)
            if k + 1 == ckpts[next_ck]:
                cp.record(k + 1)
                next_ck += 1
            bar.update(sim.dt)
    return cp.trajectory()
