"""alpha-ReQ: the power-law decay exponent of a representation's eigenspectrum.

Thesis Part II (``papers/003_*``; Agrawal et al., NeurIPS 2022, public code
``kumarkrishna/fastssl``): with ``lambda_1 >= lambda_2 >= ...`` the eigenvalues of the
covariance of centred features (as explained-variance ratios), ``lambda_k ~ k^-alpha`` over a
window of ranks; ``alpha`` is the slope of a weighted least-squares fit of ``log lambda_k``
against ``-log k`` with weights ``1/k`` over the ranks ``k_min..k_max`` (fastssl: 4..100).
When the fit's weighted ``R^2`` is below ``r2_min`` (0.95) the window's upper end is halved
(as fastssl's analysis scripts shrink it) until the fit is good or the window would hold
fewer than ``min_points`` ranks; the last fit is returned with its ``R^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AlphaReQ", "alpha_req", "eigenspectrum", "fit_power_law", "powerlaw_gaussian"]


@dataclass(frozen=True)
class AlphaReQ:
    """``alpha`` (dimensionless decay exponent), ``r2`` (weighted R^2 of the log-log fit) and
    the rank window ``(k_min, k_max)`` (1-based, inclusive) it was fitted on."""

    alpha: float
    r2: float
    k_min: int
    k_max: int


def eigenspectrum(features: np.ndarray) -> np.ndarray:
    """Eigenvalues of the covariance of the centred features ``(m, d)``, descending, normalised to
    sum 1 (explained-variance ratios; the normalisation does not change ``alpha``)."""
    X = np.asarray(features, dtype=float)
    X = X - X.mean(axis=0)
    s = np.linalg.svd(X, compute_uv=False)
    lam = s**2
    tot = lam.sum()
    return lam / tot if tot > 0 else lam


def fit_power_law(lam: np.ndarray, k_min: int, k_max: int):
    """Weighted least squares of ``log lambda_k = c - alpha log k`` over ``k = k_min..k_max``
    (1-based) with weights ``1/k``; returns ``(alpha, weighted R^2)``."""
    k = np.arange(k_min, k_max + 1, dtype=float)
    y = np.log(lam[k_min - 1:k_max])
    x = np.log(k)
    w = 1.0 / k
    W = w.sum()
    xm, ym = (w * x).sum() / W, (w * y).sum() / W
    sxx = (w * (x - xm) ** 2).sum()
    slope = (w * (x - xm) * (y - ym)).sum() / sxx
    resid = y - (ym + slope * (x - xm))
    syy = (w * (y - ym) ** 2).sum()
    r2 = 1.0 - (w * resid**2).sum() / syy if syy > 0 else 1.0
    return float(-slope), float(r2)


def alpha_req(features: np.ndarray, k_min: int = 4, k_max: int = 100, r2_min: float = 0.95,
              min_points: int = 5) -> AlphaReQ:
    """alpha-ReQ of ``features`` ``(m, d)`` (module docstring).

    The window is clipped to the positive eigenvalues available (at most ``min(m - 1, d)``);
    with fewer than ``min_points`` ranks from ``k_min`` on, ``k_min`` is lowered to 1.
    Returns ``AlphaReQ(nan, nan, ...)`` when fewer than 3 positive eigenvalues exist.
    """
    lam = eigenspectrum(features)
    lam = lam[lam > lam.max() * 1e-12] if lam.size and lam.max() > 0 else lam[:0]
    avail = lam.size
    if avail < 3:
        return AlphaReQ(float("nan"), float("nan"), 1, avail)
    hi = min(k_max, avail)
    lo = k_min if hi - k_min + 1 >= min_points else 1
    alpha, r2 = fit_power_law(lam, lo, hi)
    while r2 < r2_min and (hi // 2) - lo + 1 >= min_points:
        hi //= 2
        alpha, r2 = fit_power_law(lam, lo, hi)
    return AlphaReQ(alpha, r2, lo, hi)


def powerlaw_gaussian(m: int, d: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """``m`` Gaussian samples in ``d`` dimensions with covariance eigenvalues ``lambda_k = k^-alpha``
    in a random orthonormal basis (the calibration set of Part II: 5000 x 512)."""
    lam = np.arange(1, d + 1, dtype=float) ** (-alpha)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (rng.standard_normal((m, d)) * np.sqrt(lam)) @ Q.T
