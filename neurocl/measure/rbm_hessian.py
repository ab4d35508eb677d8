"""Exact gradient and Hessian of an RBM's negative log-likelihood, by enumeration.

With the free energy ``F(v) = -a.v - sum_j softplus(u_j)``, ``u_j = c_j + v.W[:, j]``, and
``phi(v) = -grad F(v) = (v sigmoid(u)^T, v, sigmoid(u))``, the mean NLL of data ``D`` is
``NLL = mean_D F(v) + log Z`` with ``log Z = logsumexp_v(-F(v))``, so

    grad NLL   = E_model[phi] - mean_D phi
    hess NLL   = Cov_model[phi] + E_model[K] - mean_D K,   K(v) = hess(-F)(v),

where ``K`` couples only the parameters of one hidden unit ``j``:
``K = sum_j sigmoid'(u_j) z_j z_j^T`` with ``z_j = (v at W[:, j], 1 at c_j)``.  Enumeration
over all ``2^n_visible`` states: exact for ``bas3`` (512 states, 169 parameters).
Parameters are flattened as ``theta = (W.ravel(), a, c)``.
"""

from __future__ import annotations

import numpy as np

from neurocl.numerics import sigmoid
from neurocl.measure.exact import all_states, rbm_visible_log_probs

__all__ = ["flatten", "unflatten", "rbm_nll_grad_hessian"]


def flatten(W, a, c) -> np.ndarray:
    return np.concatenate([np.ravel(W), a, c])


def unflatten(theta, nv: int, nh: int):
    return theta[: nv * nh].reshape(nv, nh), theta[nv * nh: nv * nh + nv], theta[nv * nh + nv:]


def _phi(W, c, V):
    s = sigmoid(V @ W + c)
    return np.concatenate([(V[:, :, None] * s[:, None, :]).reshape(len(V), -1), V, s], axis=1), s


def _k_weighted(W, c, V, weights):
    """``sum_v weights_v K(v)`` as a dense matrix."""
    nv, nh = W.shape
    n = nv * nh + nv + nh
    s = sigmoid(V @ W + c)
    S = weights[:, None] * s * (1 - s)                     # (V, nh)
    Vext = np.concatenate([V, np.ones((len(V), 1))], 1)    # (V, nv+1)
    A = np.einsum("vj,vi,vk->jik", S, Vext, Vext)          # (nh, nv+1, nv+1)
    H = np.zeros((n, n))
    for j in range(nh):
        idx = np.concatenate([np.arange(nv) * nh + j, [nv * nh + nv + j]])
        H[np.ix_(idx, idx)] += A[j]
    return H


def rbm_nll_grad_hessian(W, a, c, data):
    """``(NLL, grad, Hessian)`` of the mean NLL of the rows of ``data`` (nats), exact."""
    nv, nh = W.shape
    V = all_states(nv)
    p = np.exp(rbm_visible_log_probs(W, a, c, V))
    phi_m, _ = _phi(W, c, V)
    phi_d, _ = _phi(W, c, data)
    mean_m = p @ phi_m
    grad = mean_m - phi_d.mean(0)
    centred = phi_m - mean_m
    cov = (centred * p[:, None]).T @ centred
    w = np.concatenate([p, -np.full(len(data), 1.0 / len(data))])
    H = cov + _k_weighted(W, c, np.concatenate([V, data]), w)
    nll = float(-np.mean(rbm_visible_log_probs(W, a, c, data)))
    return nll, grad, H
