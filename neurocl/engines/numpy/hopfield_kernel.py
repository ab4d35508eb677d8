"""Fused inner loop (numba) for a layered Hopfield network with one hidden layer.

Same algorithm as the reference path (``_flow_stepper`` + :mod:`neurocl.engines.numpy.plasticity`):
per integration step, a fresh (input, target) pair where ``fresh`` says so, one projected
Euler step of the gradient flow of every free layer from the same old state
(``s <- clip(s + k (drive - s), 0, 1)``, ``k = dt / tau_n``; inside the box ``rho' = 1``),
the output clamped (CHL) or nudged (EP) in positive phases, then the plasticity rule on
``(x h^T, h y^T, h, y)``.  Measured effect (digits 64-256-10, one replica, this machine):
about 15 us per integration step against about 150 us for the reference numpy path.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["hopfield_chunk"]


@njit(cache=True, nogil=True)
def _clip01(v):
    return 0.0 if v < 0.0 else (1.0 if v > 1.0 else v)


@njit(cache=True, nogil=True)
def hopfield_chunk(W0, b1, W1, b2, x, h, y, target, positive, start, fresh, X, Y, data_idx, k,
                   rule, eta_dt, w_pos, w_neg, nudge, beta, anti, reset,
                   acc_W0, acc_b1, acc_W1, acc_b2, t_acc, eta_now):
    """Advance ``R`` networks by ``positive.shape[1]`` steps in place; return the first step
    index (within the chunk) at which weights or states are not finite, or -1.

    ``rule`` 0 = ISD, 1 = TwoPhase (accumulators ``acc_*[r, sign]``, elapsed ``t_acc``; for
    TwoPhase ``eta_dt`` is ``dt``).  ``nudge`` True = EP force ``beta (target - y)`` in positive
    phases; False = output clamped to ``target``.
    """
    R, n0, n1 = W0.shape
    n2 = W1.shape[2]
    n = positive.shape[1]
    dh = np.empty(n1)
    dy = np.empty(n2)
    for r in range(R):
        for kk in range(n):
            pos = positive[r, kk]
            st = start[r, kk]
            if fresh[r, kk]:
                for i in range(n0):
                    x[r, i] = X[data_idx[kk, r], i]
                for m in range(n2):
                    target[r, m] = Y[data_idx[kk, r], m]
                if reset:
                    for j in range(n1):
                        h[r, j] = 0.0
                    for m in range(n2):
                        y[r, m] = 0.0
            # drives from the old state (all layers step together, as in the reference path)
            for j in range(n1):
                dh[j] = b1[r, j]
            for i in range(n0):
                xi = x[r, i]
                if xi != 0.0:
                    for j in range(n1):
                        dh[j] += xi * W0[r, i, j]
            for j in range(n1):
                s = 0.0
                for m in range(n2):
                    s += W1[r, j, m] * y[r, m]
                dh[j] += s
            for m in range(n2):
                s = b2[r, m]
                for j in range(n1):
                    s += h[r, j] * W1[r, j, m]
                dy[m] = s
            for j in range(n1):
                h[r, j] = _clip01(h[r, j] + k * (dh[j] - h[r, j]))
            for m in range(n2):
                f = dy[m] - y[r, m]
                if pos and nudge:
                    f += beta * (target[r, m] - y[r, m])
                elif anti and not pos:
                    f -= beta * (target[r, m] - y[r, m])
                y[r, m] = _clip01(y[r, m] + k * f)
                if pos and not nudge:
                    y[r, m] = target[r, m]
            if rule == 0:
                coef = eta_dt * (w_pos if pos else w_neg)
                for i in range(n0):
                    xi = x[r, i]
                    if xi != 0.0:
                        c = coef * xi
                        for j in range(n1):
                            W0[r, i, j] += c * h[r, j]
                for j in range(n1):
                    hj = h[r, j]
                    b1[r, j] += coef * hj
                    if hj != 0.0:
                        c = coef * hj
                        for m in range(n2):
                            W1[r, j, m] += c * y[r, m]
                for m in range(n2):
                    b2[r, m] += coef * y[r, m]
            else:
                if pos and st and t_acc[r, 0] > 0.0 and t_acc[r, 1] > 0.0:
                    tot = eta_now[kk] * (t_acc[r, 0] + t_acc[r, 1])
                    ip = tot / t_acc[r, 0]
                    ineg = tot / t_acc[r, 1]
                    for i in range(n0):
                        for j in range(n1):
                            W0[r, i, j] += ip * acc_W0[r, 0, i, j] - ineg * acc_W0[r, 1, i, j]
                            acc_W0[r, 0, i, j] = 0.0
                            acc_W0[r, 1, i, j] = 0.0
                    for j in range(n1):
                        b1[r, j] += ip * acc_b1[r, 0, j] - ineg * acc_b1[r, 1, j]
                        acc_b1[r, 0, j] = 0.0
                        acc_b1[r, 1, j] = 0.0
                        for m in range(n2):
                            W1[r, j, m] += ip * acc_W1[r, 0, j, m] - ineg * acc_W1[r, 1, j, m]
                            acc_W1[r, 0, j, m] = 0.0
                            acc_W1[r, 1, j, m] = 0.0
                    for m in range(n2):
                        b2[r, m] += ip * acc_b2[r, 0, m] - ineg * acc_b2[r, 1, m]
                        acc_b2[r, 0, m] = 0.0
                        acc_b2[r, 1, m] = 0.0
                    t_acc[r, 0] = 0.0
                    t_acc[r, 1] = 0.0
                sg = 0 if pos else 1
                dt = eta_dt
                t_acc[r, sg] += dt
                for i in range(n0):
                    xi = x[r, i]
                    if xi != 0.0:
                        c = dt * xi
                        for j in range(n1):
                            acc_W0[r, sg, i, j] += c * h[r, j]
                for j in range(n1):
                    hj = h[r, j]
                    acc_b1[r, sg, j] += dt * hj
                    if hj != 0.0:
                        for m in range(n2):
                            acc_W1[r, sg, j, m] += dt * hj * y[r, m]
                for m in range(n2):
                    acc_b2[r, sg, m] += dt * y[r, m]
            tot = 0.0
            for j in range(n1):
                tot += h[r, j] + b1[r, j] + W0[r, 0, j]
            for m in range(n2):
                tot += y[r, m] + W1[r, 0, m]
            if not math.isfinite(tot):
                return kk
    return -1
