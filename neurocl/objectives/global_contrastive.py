"""The global contrastive loss of sample-contrastive learning over a finite dataset.

Paper 002 (EMC^2, Yau et al., ICML 2024; ``papers/002_*``), following SogCLR: with ``n``
samples, two views each, and L2-normalised encoder outputs, the loss is

    L = (1/n) sum_i [ -beta <z_i', z_i''> + log sum_{j != i} exp(beta <z_i, z_j>) ].

neurocl writes the ``2n`` views as one table ``Z`` of shape ``(2n, d)``: rows ``0..n-1`` are
the first views ``z_i'``, rows ``n..2n-1`` the second views ``z_i''``.  Every view ``k`` is an
anchor; its positive is the other view of the same sample, ``pos(k) = (k + n) mod 2n``, and
its negatives are all views except itself and its positive (``2n - 2`` of them; the
crossed-out diagonals of the paper's Fig. 2).  The loss is the mean over the ``2n`` anchors

    L(Z) = (1/2n) sum_k l_k,   l_k = -beta s_{k,pos(k)} + log sum_{j in N(k)} exp(beta s_kj),

with ``s = Z Z^T``.  Each sample's positive term appears twice (once per view as anchor) and
is averaged, so this is the issue's formula with the negative term symmetrised over both
views, exactly as the authors' code uses both views as anchors and as negatives.

The gradient with respect to the table (Eq. below, ``P`` the negatives' softmax matrix,
``P_kj = exp(beta s_kj) / sum_{l in N(k)} exp(beta s_kl)``, zero outside ``N(k)``):

    dL/dZ = (beta / 2n) [ -2 Z_pos + (P + P^T) Z ],

and through the normalisation ``z = h / |h|``:  ``dL/dh = (I - z z^T) dL/dz / |h|``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "normalize",
    "normalize_backward",
    "positive_index",
    "negative_mask",
    "negative_softmax",
    "global_contrastive_loss",
    "global_contrastive_grad",
    "global_contrastive_loss_and_grad",
    "global_contrastive_loss_and_grad_h",
    "anchor_grad_rows",
]


def normalize(h: np.ndarray, eps: float = 1e-12):
    """``z = h / |h|`` row-wise; returns ``(z, norms)`` with ``norms`` of shape ``(m, 1)``."""
    h = np.asarray(h, dtype=float)
    norms = np.sqrt(np.sum(h * h, axis=-1, keepdims=True)) + eps
    return h / norms, norms


def normalize_backward(z: np.ndarray, norms: np.ndarray, gz: np.ndarray) -> np.ndarray:
    """Chain rule through ``z = h / |h|``: ``dL/dh = (gz - z <z, gz>) / |h|`` row-wise."""
    return (gz - z * np.sum(z * gz, axis=-1, keepdims=True)) / norms


def positive_index(n: int) -> np.ndarray:
    """``pos(k) = (k + n) mod 2n`` for the ``2n`` views of ``n`` samples."""
    return (np.arange(2 * n) + n) % (2 * n)


def negative_mask(n: int) -> np.ndarray:
    """``(2n, 2n)`` boolean: ``True`` where ``j`` is a negative of anchor ``k`` (``j != k, pos(k)``)."""
    m = 2 * n
    mask = np.ones((m, m), dtype=bool)
    idx = np.arange(m)
    mask[idx, idx] = False
    mask[idx, positive_index(n)] = False
    return mask


def negative_softmax(Z: np.ndarray, beta: float) -> np.ndarray:
    """``P_kj = exp(beta s_kj) / sum_{l in N(k)} exp(beta s_kl)`` (zeros outside ``N(k)``)."""
    Z = np.asarray(Z, dtype=float)
    n = Z.shape[0] // 2
    logits = beta * (Z @ Z.T)
    mask = negative_mask(n)
    logits = np.where(mask, logits, -np.inf)
    logits -= logits.max(axis=1, keepdims=True)
    P = np.exp(logits)
    P /= P.sum(axis=1, keepdims=True)
    return P


def _table(z1, z2):
    z1 = np.asarray(z1, dtype=float)
    z2 = np.asarray(z2, dtype=float)
    if z1.shape != z2.shape or z1.ndim != 2:
        raise ValueError(f"views must be two (n, d) arrays of the same shape, got {z1.shape} and {z2.shape}")
    return np.vstack([z1, z2])


def _logits_softmax(Z: np.ndarray, beta: float):
    """Similarities, masked logits' log-sum-exp per anchor, and the negatives' softmax ``P``."""
    m = Z.shape[0]
    n = m // 2
    S = Z @ Z.T
    logits = beta * S
    idx = np.arange(m)
    pos = positive_index(n)
    logits[idx, idx] = -np.inf
    logits[idx, pos] = -np.inf
    mx = logits.max(axis=1, keepdims=True)
    P = np.exp(logits - mx)
    tot = P.sum(axis=1, keepdims=True)
    P /= tot
    return S, (mx + np.log(tot))[:, 0], P


def global_contrastive_loss(z1: np.ndarray, z2: np.ndarray, beta: float, block: int = 2048) -> float:
    """Global contrastive loss ``L`` (module docstring) of normalised views ``z1, z2`` ``(n, d)``.

    Unit: nats (natural log), averaged over the ``2n`` anchors.  The ``2n`` anchors are taken
    ``block`` at a time (memory ``O(block n)``, not ``O(n^2)``); the value does not depend on it.
    """
    Z = _table(z1, z2)
    m = Z.shape[0]
    n = m // 2
    if m <= block:
        return global_contrastive_loss_and_grad(z1, z2, beta, grad=False)[0]
    pos = positive_index(n)
    total = 0.0
    for k0 in range(0, m, block):
        k = np.arange(k0, min(k0 + block, m))
        logits = Z[k] @ Z.T
        logits *= beta
        r = np.arange(k.size)
        s_pos = logits[r, pos[k]].copy()
        logits[r, k] = -np.inf
        logits[r, pos[k]] = -np.inf
        mx = logits.max(axis=1, keepdims=True)
        lse = mx[:, 0] + np.log(np.exp(logits - mx).sum(axis=1))
        total += float(np.sum(lse - s_pos))
    return total / m


def global_contrastive_grad(z1: np.ndarray, z2: np.ndarray, beta: float):
    """Exact ``(dL/dz1, dL/dz2)`` of :func:`global_contrastive_loss` with respect to the
    (normalised) views: ``dL/dZ = beta/(2n) [-2 Z_pos + (P + P^T) Z]``."""
    return global_contrastive_loss_and_grad(z1, z2, beta)[1:]


def global_contrastive_loss_and_grad(z1: np.ndarray, z2: np.ndarray, beta: float, grad: bool = True):
    """``(L, dL/dz1, dL/dz2)`` sharing one softmax (``grad=False``: the gradients are ``None``)."""
    Z = _table(z1, z2)
    m = Z.shape[0]
    n = m // 2
    pos = positive_index(n)
    S, lse, P = _logits_softmax(Z, beta)
    L = float(np.mean(-beta * S[np.arange(m), pos] + lse))
    if not grad:
        return L, None, None
    G = (beta / m) * (-2.0 * Z[pos] + (P + P.T) @ Z)
    return L, G[:n], G[n:]


def global_contrastive_loss_and_grad_h(h1: np.ndarray, h2: np.ndarray, beta: float):
    """Loss of the unnormalised encoder outputs ``h1, h2`` and its exact gradient with respect
    to them (through ``z = h / |h|``): returns ``(L, dL/dh1, dL/dh2)``."""
    z1, n1 = normalize(h1)
    z2, n2 = normalize(h2)
    L, g1, g2 = global_contrastive_loss_and_grad(z1, z2, beta)
    return L, normalize_backward(z1, n1, g1), normalize_backward(z2, n2, g2)


def anchor_grad_rows(anchors: np.ndarray, pos: np.ndarray, z_anchor: np.ndarray, z_pos: np.ndarray,
                     cand: np.ndarray, z_cand: np.ndarray, weights: np.ndarray, beta: float, scale: float,
                     pos_weight: float = 1.0, neg_weight: float = 1.0):
    """Gradient rows of ``scale * sum_k l_k`` over the anchors ``k``, given an estimate of each
    anchor's negative expectation as weights on a shared set of candidate views.

    ``d l_k = -beta (z_pos e_k + z_k e_pos) + beta sum_j w_kj (z_j e_k + z_k e_j)``: anchor
    ``k`` puts weight ``w_kj`` (``weights[k, c]``, ``(a, c)``) on candidate view ``cand[c]``
    (embeddings ``z_cand`` ``(c, d)``); ``w_k = P_k`` (the softmax over ``N(k)``) gives the
    exact gradient of ``l_k``.  ``pos_weight`` / ``neg_weight`` multiply the two terms (ISD's
    ``1/b`` and ``1/(1-b)``, or 0 for the term of the other phase).

    ``anchors`` and ``cand`` must each hold distinct views (``ValueError`` otherwise).

    Returns ``(idx, grad)``: sorted unique view indices and the summed gradient rows ``(u, d)``
    (same units as ``dL/dz``).
    """
    if np.unique(anchors).size != anchors.size or np.unique(cand).size != cand.size:
        raise ValueError("anchors and candidates must each hold distinct views")
    weights = np.asarray(weights, dtype=float)
    idx = np.concatenate([anchors, pos, anchors, cand])
    d = z_anchor.shape[1]
    parts = [np.zeros((0, d))] * 4
    if pos_weight:
        parts[0] = -beta * pos_weight * z_pos
        parts[1] = -beta * pos_weight * z_anchor
    else:
        parts[0] = np.zeros_like(z_anchor)
        parts[1] = np.zeros_like(z_anchor)
    if neg_weight:
        parts[2] = beta * neg_weight * (weights @ z_cand)
        parts[3] = beta * neg_weight * (weights.T @ z_anchor)
    else:
        parts[2] = np.zeros_like(z_anchor)
        parts[3] = np.zeros_like(z_cand)
    val = np.concatenate(parts, axis=0) * scale
    uniq = np.unique(idx)
    out = np.zeros((uniq.size, d))
    start = 0
    for block in (anchors, pos, anchors, cand):   # each block holds distinct views: plain += is exact
        stop = start + block.size
        out[np.searchsorted(uniq, block)] += val[start:stop]
        start = stop
    return uniq, out
