"""Numerically stable elementwise functions shared by the circuits."""

from __future__ import annotations

import numpy as np

__all__ = ["sigmoid", "softplus", "batched_vecmat"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))`` without overflow warnings."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))``, stable for large ``|x|``."""
    return np.logaddexp(0.0, x)


def batched_vecmat(x: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Row vectors times matrices: ``x[r] @ W[r]`` for every replica ``r``.

    ``x`` has shape ``(R, n)`` and ``W`` has shape ``(R, n, m)``; the result is ``(R, m)``.
    With a single matrix (``W.shape[0] == 1``) every row of ``x`` uses it (one BLAS call).
    """
    if W.shape[0] == 1:
        return x @ W[0]
    return np.matmul(x[:, None, :], W)[:, 0, :]
