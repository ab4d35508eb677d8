"""Fused RBM inner loop (numba): Glauber step + ISD / TwoPhase plasticity per integration step.

Same algorithm as the reference path (:func:`neurocl.engines.numpy.glauber_step` and
:mod:`neurocl.engines.numpy.plasticity`), with two changes that keep the statistics exact:

* one uniform ``u`` per unit and step instead of two: the unit resamples iff
  ``u < p_resample`` and then becomes 1 iff ``u < p_resample * sigmoid(field)`` (``u / p`` is
  uniform on [0, 1) given ``u < p``), so the law of the update is unchanged;
* all random numbers are drawn in blocks by the caller's ``numpy.random.Generator``.

The statistic uses the hidden units' conditional means (``mean_field``) or their states.
Measured effect (bas3, 5 replicas, this 2-core machine): about 2.5 us per integration step
versus about 40 us for the reference numpy path.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["rbm_chunk"]


@njit(cache=True, nogil=True)
def _sig(x):
    return 0.5 * (1.0 + math.tanh(0.5 * x))


@njit(cache=True, nogil=True)
def rbm_chunk(W, a, c, v, h, positive, start, fresh, data, data_idx, U, p_res, rule, eta_dt,
              w_pos, w_neg, mean_field, acc_W, acc_a, acc_c, t_acc, eta_now):
    """Advance ``R`` RBMs by ``positive.shape[1]`` steps in place; return the first step index
    (within the chunk) whose weights are not finite, or -1.

    ``rule`` 0 = ISD (``theta += eta_dt * w(phase) * f``); 1 = TwoPhase (accumulate ``f dt``
    per phase sign in ``acc_*[sign]`` with elapsed times ``t_acc[sign]``; at the first step of
    a positive phase that follows a negative one apply ``eta_now[k] * (T+ + T-) * (mean+ - mean-)``).
    For TwoPhase ``eta_dt`` is ``dt``.
    """
    R, nv, nh = W.shape
    n = positive.shape[1]
    hm = np.empty(nh)
    for r in range(R):
        for k in range(n):
            pos = positive[r, k]
            if fresh[r, k]:
                for i in range(nv):
                    v[r, i] = data[data_idx[k, r], i]
            # hidden block
            for j in range(nh):
                u = U[k, r, j]
                if u < p_res:
                    f = c[r, j]
                    for i in range(nv):
                        if v[r, i] != 0.0:
                            f += W[r, i, j]
                    h[r, j] = 1.0 if u < p_res * _sig(f) else 0.0
            # visible block (clamped in positive phases)
            if not pos:
                for i in range(nv):
                    u = U[k, r, nh + i]
                    if u < p_res:
                        f = a[r, i]
                        for j in range(nh):
                            if h[r, j] != 0.0:
                                f += W[r, i, j]
                        v[r, i] = 1.0 if u < p_res * _sig(f) else 0.0
            # statistic: hidden means (or states) given the current visible vector
            for j in range(nh):
                if mean_field:
                    f = c[r, j]
                    for i in range(nv):
                        if v[r, i] != 0.0:
                            f += W[r, i, j]
                    hm[j] = _sig(f)
                else:
                    hm[j] = h[r, j]
            if rule == 0:
                coef = eta_dt * (w_pos if pos else w_neg)
                for i in range(nv):
                    if v[r, i] != 0.0:
                        a[r, i] += coef
                        for j in range(nh):
                            W[r, i, j] += coef * hm[j]
                for j in range(nh):
                    c[r, j] += coef * hm[j]
            else:
                if pos and start[r, k] and t_acc[r, 0] > 0.0 and t_acc[r, 1] > 0.0:
                    tot = eta_now[k] * (t_acc[r, 0] + t_acc[r, 1])
                    ip = 1.0 / t_acc[r, 0]
                    ineg = 1.0 / t_acc[r, 1]
                    for i in range(nv):
                        a[r, i] += tot * (acc_a[r, 0, i] * ip - acc_a[r, 1, i] * ineg)
                        acc_a[r, 0, i] = 0.0
                        acc_a[r, 1, i] = 0.0
                        for j in range(nh):
                            W[r, i, j] += tot * (acc_W[r, 0, i, j] * ip - acc_W[r, 1, i, j] * ineg)
                            acc_W[r, 0, i, j] = 0.0
                            acc_W[r, 1, i, j] = 0.0
                    for j in range(nh):
                        c[r, j] += tot * (acc_c[r, 0, j] * ip - acc_c[r, 1, j] * ineg)
                        acc_c[r, 0, j] = 0.0
                        acc_c[r, 1, j] = 0.0
                    t_acc[r, 0] = 0.0
                    t_acc[r, 1] = 0.0
                s = 0 if pos else 1
                dt = eta_dt
                t_acc[r, s] += dt
                for i in range(nv):
                    if v[r, i] != 0.0:
                        acc_a[r, s, i] += dt
                        for j in range(nh):
                            acc_W[r, s, i, j] += dt * hm[j]
                for j in range(nh):
                    acc_c[r, s, j] += dt * hm[j]
            tot = 0.0
            for j in range(nh):
                tot += c[r, j] + hm[j]
            for i in range(nv):
                tot += a[r, i] + W[r, i, 0]
            if not math.isfinite(tot):
                return k
    return -1
