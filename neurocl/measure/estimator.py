"""Bias and variance of a gradient estimator from its draws, and the R^2 of a prediction.

What the variance/bias theory needs from simulation (Ghosh et al., *How gradient estimator
variance and bias impact learning in neural networks*, ICLR 2023, Lemma 2.1): the bias
``g - E g_hat`` and the noise covariance ``Cov g_hat`` of an estimator at fixed parameters.
"""

from __future__ import annotations

import numpy as np

__all__ = ["estimator_statistics", "r_squared"]


def estimator_statistics(G: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(bias, C, summary)`` of ``R`` draws ``G`` (R, P) of an estimator of the gradient ``g``.

    ``bias = g - mean(G)``; ``C`` the draws' covariance (normalised by ``R``); ``summary``:
    ``bias_norm`` ``|bias|``, ``trace_var`` ``tr C``, ``bias_norm_debiased``
    ``sqrt(max(|bias|^2 - tr C / R, 0))`` (the sampling part of ``|bias|^2`` removed) and
    ``cos_mean`` the cosine of ``mean(G)`` with ``g``.
    """
    mean = G.mean(axis=0)
    bias = g - mean
    C = np.cov(G.T, bias=True)
    b2, tv = float(bias @ bias), float(np.trace(C))
    return bias, C, dict(bias_norm=float(np.sqrt(b2)), trace_var=tv,
                         bias_norm_debiased=float(np.sqrt(max(b2 - tv / len(G), 0.0))),
                         cos_mean=float(mean @ g / (np.linalg.norm(mean) * np.linalg.norm(g) + 1e-300)))


def r_squared(measured, predicted) -> float:
    """``1 - SS_res / SS_tot`` of ``measured`` against ``predicted``."""
    measured, predicted = np.asarray(measured, float), np.asarray(predicted, float)
    return float(1 - np.sum((measured - predicted) ** 2) / np.sum((measured - measured.mean()) ** 2))
