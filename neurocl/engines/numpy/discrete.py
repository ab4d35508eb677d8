"""Discrete-time references: CD-k and PCD for RBMs (Hinton 2002; Tieleman 2008)."""

from __future__ import annotations

import numpy as np

from neurocl.engines.loop import check_finite, run_checkpointed
from neurocl.numerics import sigmoid

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
    R, B = sim.replicas, rule.batch_size
    W, a, c = params["W"], params["a"], params["c"]
    chains = [(rng.random((R, B, circuit.n_visible)) < 0.5).astype(float)]

    def advance(k0, K):
        for k in range(k0, k0 + K):
            v0 = task.clamp[rng.integers(len(task), size=(R, B))]
            h0 = sigmoid(v0 @ W + c[:, None, :])
            v = chains[0] if rule.persistent else v0
            for _ in range(rule.k):
                h = _sample(sigmoid(v @ W + c[:, None, :]), rng)
                v = _sample(sigmoid(h @ np.swapaxes(W, 1, 2) + a[:, None, :]), rng)
            if rule.persistent:
                chains[0] = v
            hk = sigmoid(v @ W + c[:, None, :])
            lr = rule.learning_rate / B
            W[...] += lr * (np.swapaxes(v0, 1, 2) @ h0 - np.swapaxes(v, 1, 2) @ hk)
            a[...] += lr * (v0.sum(1) - v.sum(1))
            c[...] += lr * (h0.sum(1) - hk.sum(1))
            check_finite((("W", W),), (k + 1) * sim.dt, k + 1)

    return run_checkpointed(sim, task, params, advance, progress=progress, desc=desc,
                            block=max(1, sim.n_steps // 200))
