"""Exact quantities of small Boltzmann machines by enumeration.

For an RBM with ``E(v, h) = -v.W.h - a.v - c.h`` the free energy of a visible vector is
``F(v) = -a.v - sum_j softplus(c_j + v.W[:, j])`` (hidden units summed out analytically,
Hinton 2010, "A practical guide", Sec. 16.1), and symmetrically for ``h``.  The log
partition function ``log Z = logsumexp_v(-F(v))`` is computed by enumerating the *smaller*
layer: ``2^min(n_v, n_h)`` terms.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from neurocl.numerics import sigmoid, softplus
from neurocl.errors import ConfigError
from neurocl.resources import check_memory

__all__ = [
    "all_states",
    "rbm_exact_bytes",
    "rbm_exact_ops",
    "check_rbm_exact",
    "check_boltzmann_exact",
    "rbm_free_energy",
    "rbm_log_partition",
    "rbm_visible_log_probs",
    "rbm_nll",
    "rbm_kl",
    "rbm_nll_grad",
    "rbm_log_partition_bruteforce",
    "boltzmann_distribution",
    "empirical_distribution",
    "total_variation",
]

MAX_ENUMERATED_UNITS = 24

#: multiply-adds the exact metrics of one run may cost in all (about an hour at a few GFLOP/s)
EXACT_OPS_LIMIT = 1e13


def all_states(n: int) -> np.ndarray:
    """All ``2^n`` binary vectors as a ``(2^n, n)`` float array, in binary counting order
    (the first unit is the most significant bit).  Refuses (``ConfigError``) ``n`` above
    ``MAX_ENUMERATED_UNITS`` or an array larger than the memory budget, before allocating."""
    n = int(n)
    if n > MAX_ENUMERATED_UNITS:
        raise ConfigError(f"cannot enumerate 2^{n} states (limit 2^{MAX_ENUMERATED_UNITS})")
    check_memory(2.0**n * (n + 1) * 8, f"enumerating all 2^{n} binary states")
    idx = np.arange(2**n, dtype=np.int64)
    out = np.empty((2**n, n))
    for j in range(n):
        out[:, j] = (idx >> (n - 1 - j)) & 1
    return out


def rbm_exact_bytes(n_visible: int, n_hidden: int, n_patterns: int = 0) -> float:
    """Peak bytes of one exact log-partition / KL evaluation: the ``2^m`` enumerated states of
    the smaller layer (``m = min(n_visible, n_hidden)``), their fields on the larger layer
    and its softplus (``2^m (m + 3 max)`` floats), plus the data patterns' fields."""
    m, k = min(n_visible, n_hidden), max(n_visible, n_hidden)
    return 8.0 * (2.0**m * (m + 1 + 3 * k) + 3 * n_patterns * (n_visible + n_hidden))


def rbm_exact_ops(n_visible: int, n_hidden: int, n_patterns: int = 0) -> float:
    """Multiply-adds of one exact KL or NLL evaluation: ``2^m n_visible n_hidden`` for
    ``log Z`` plus ``n_patterns n_visible n_hidden`` for the data's free energies."""
    m = min(n_visible, n_hidden)
    return (2.0**m + n_patterns) * n_visible * n_hidden


def check_rbm_exact(n_visible: int, n_hidden: int, n_patterns: int = 0, evaluations: int = 1,
                    what: str = "the exact KL / NLL") -> None:
    """Raise :class:`ConfigError` naming ``circuit.n_visible`` / ``circuit.n_hidden`` if the
    exact metrics of an RBM are too costly: ``2^min(n_visible, n_hidden)`` above
    ``2^MAX_ENUMERATED_UNITS``, one evaluation above the memory budget, or ``evaluations``
    of them above ``EXACT_OPS_LIMIT`` multiply-adds (``n_patterns``: distinct data rows)."""
    m = min(n_visible, n_hidden)
    fields = f"circuit.n_visible = {n_visible}, circuit.n_hidden = {n_hidden}"
    if m > MAX_ENUMERATED_UNITS:
        raise ConfigError(f"{fields}: {what} enumerates 2^min(n_visible, n_hidden) = 2^{m} states "
                          f"(limit 2^{MAX_ENUMERATED_UNITS}); use a smaller layer")
    check_memory(rbm_exact_bytes(n_visible, n_hidden, n_patterns),
                 f"{fields} ({n_patterns} data patterns): {what} over 2^{m} states")
    ops = rbm_exact_ops(n_visible, n_hidden, n_patterns) * max(1, evaluations)
    if ops > EXACT_OPS_LIMIT:
        raise ConfigError(f"{fields} ({n_patterns} data patterns): {evaluations} evaluations of {what} over "
                          f"2^{m} states cost about {ops:.2g} multiply-adds (limit {EXACT_OPS_LIMIT:.0e}); "
                          f"use a smaller layer, fewer data patterns, replicas or checkpoints")


def check_boltzmann_exact(n_units: int, evaluations: int = 1, what: str = "the exact KL") -> None:
    """Raise :class:`ConfigError` naming ``circuit.n_units`` if enumerating all ``2^n_units``
    joint states (memory ``~3 2^n n`` floats, ``2^n n^2`` multiply-adds per evaluation) is too
    costly."""
    n = int(n_units)
    if n > MAX_ENUMERATED_UNITS:
        raise ConfigError(f"circuit.n_units = {n}: {what} enumerates 2^{n} states (limit 2^{MAX_ENUMERATED_UNITS})")
    check_memory(8.0 * 2.0**n * (3 * n + 4), f"circuit.n_units = {n}: {what} over 2^{n} states")
    ops = 2.0**n * n * n * max(1, evaluations)
    if ops > EXACT_OPS_LIMIT:
        raise ConfigError(f"circuit.n_units = {n}: {evaluations} evaluations of {what} over 2^{n} states cost "
                          f"about {ops:.2g} multiply-adds (limit {EXACT_OPS_LIMIT:.0e})")


def rbm_free_energy(W: np.ndarray, a: np.ndarray, c: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``F(v) = -a.v - sum_j softplus(c_j + (v W)_j)`` for each row of ``v``."""
    return -v @ a - softplus(v @ W + c).sum(-1)


def rbm_log_partition(W: np.ndarray, a: np.ndarray, c: np.ndarray) -> float:
    """``log Z`` by enumerating the smaller layer and summing the other out analytically."""
    nv, nh = W.shape
    check_memory(rbm_exact_bytes(nv, nh), f"log Z of an RBM with n_visible = {nv}, n_hidden = {nh}")
    if nv <= nh:
        return float(logsumexp(-rbm_free_energy(W, a, c, all_states(nv))))
    return float(logsumexp(-rbm_free_energy(W.T, c, a, all_states(nh))))


def rbm_visible_log_probs(W, a, c, v: np.ndarray) -> np.ndarray:
    """``log p(v) = -F(v) - log Z`` for each row of ``v``."""
    return -rbm_free_energy(W, a, c, v) - rbm_log_partition(W, a, c)


def rbm_nll(W, a, c, data: np.ndarray) -> float:
    """Mean negative log-likelihood of the rows of ``data`` in nats."""
    return float(-np.mean(rbm_visible_log_probs(W, a, c, data)))


def rbm_kl(W, a, c, data: np.ndarray) -> float:
    """``KL(p_data || p_model)`` in nats, ``p_data`` the empirical law of the rows of ``data``.

    ``KL = sum_v p_data(v) [log p_data(v) - log p_model(v)]``; for the 14 equiprobable 3x3
    Bars-and-Stripes patterns and a uniform model this is ``ln(512/14) = 3.60`` nats.
    """
    patterns, counts = np.unique(np.asarray(data), axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(np.sum(p * (np.log(p) - rbm_visible_log_probs(W, a, c, patterns))))


def rbm_nll_grad(W, a, c, data: np.ndarray):
    """Exact gradient ``(dW, da, dc)`` of the mean NLL of the rows of ``data`` (by enumeration):
    ``E_model[f] - E_data[f]`` with ``f = (v E[h|v]^T, v, E[h|v])`` (Ackley, Hinton & Sejnowski
    1985); its negative is the contrastive-learning drift (positive minus negative statistic)."""
    V = all_states(W.shape[0])
    p = np.exp(rbm_visible_log_probs(W, a, c, V))
    hm, hd = sigmoid(V @ W + c), sigmoid(data @ W + c)
    gW = (p[:, None] * V).T @ hm - data.T @ hd / len(data)
    return gW, p @ V - data.mean(0), p @ hm - hd.mean(0)


def rbm_log_partition_bruteforce(W, a, c) -> float:
    """``log Z`` by summing ``exp(-E(v, h))`` over all joint states (reference for tests)."""
    v = all_states(W.shape[0])
    h = all_states(W.shape[1])
    neg_e = (v @ W) @ h.T + (v @ a)[:, None] + (h @ c)[None, :]
    return float(logsumexp(neg_e))


def boltzmann_distribution(W: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Exact ``p(s) = exp(1/2 s.W.s + a.s) / Z`` over :func:`all_states` order."""
    s = all_states(len(a))
    neg_e = 0.5 * np.einsum("si,ij,sj->s", s, W, s) + s @ a
    return np.exp(neg_e - logsumexp(neg_e))


def empirical_distribution(samples: np.ndarray) -> np.ndarray:
    """Frequencies of binary ``samples`` (rows) over the :func:`all_states` order."""
    samples = np.asarray(samples)
    n = samples.shape[1]
    weights = 2 ** np.arange(n - 1, -1, -1)
    idx = (samples > 0.5).astype(np.int64) @ weights
    return np.bincount(idx, minlength=2**n) / len(samples)


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """``TV(p, q) = 1/2 sum |p - q|``."""
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())
