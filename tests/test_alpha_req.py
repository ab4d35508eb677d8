"""alpha-ReQ (thesis Part II) on synthetic spectra with a known exponent, and the probes."""

import numpy as np
import pytest

from neurocl.measure import alpha_req, fit_power_law, knn1_accuracy, linear_probe_accuracy, powerlaw_gaussian


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5, 2.0])
def test_alpha_recovered_small(alpha):
    """2000 x 128 Gaussian features with lambda_k = k^-alpha, window 4..50: recovered within 0.05
    (the sample spectrum's bias at m/d ~ 16 is below 0.03 for these alphas)."""
    X = powerlaw_gaussian(2000, 128, alpha, np.random.default_rng(1))
    r = alpha_req(X, k_max=50)
    assert abs(r.alpha - alpha) < 0.05 and r.r2 > 0.95


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.5, 2.0])
def test_alpha_recovered_part2_calibration(alpha):
    """Part II's calibration: 5000 x 512, ranks 4..100, within 0.05."""
    X = powerlaw_gaussian(5000, 512, alpha, np.random.default_rng(2))
    assert abs(alpha_req(X).alpha - alpha) < 0.05


def test_exact_power_law_fit_and_window_shrinks():
    """An exact power law gives alpha exactly with R^2 = 1; a spectrum that breaks at rank 20
    (k^-1 up to rank 25, then k^-4) has R^2 < 0.95 on 4..100, so the window halves (100, 50,
    25) and the fit on 4..25 recovers alpha = 1."""
    k = np.arange(1, 201, dtype=float)
    alpha, r2 = fit_power_law(k**-1.3, 4, 100)
    assert alpha == pytest.approx(1.3, abs=1e-12) and r2 == pytest.approx(1.0)
    lam = np.where(k <= 25, k**-1.0, 25.0**3 * k**-4.0)
    assert fit_power_law(lam, 4, 100)[1] < 0.95
    X = np.diag(np.sqrt(lam))  # features whose covariance spectrum is proportional to lam
    X = np.vstack([X, -X])
    r = alpha_req(X)
    assert r.k_max == 25 and r.r2 >= 0.95 and r.alpha == pytest.approx(1.0, abs=1e-6)


def test_probes_separable_and_chance(rng):
    """Linearly separable clusters: both probes exact; random labels: near chance (10 classes,
    500 test samples, 5 binomial standard errors = 0.067)."""
    centers = 10 * rng.standard_normal((10, 8))
    y = rng.integers(0, 10, 900)
    X = centers[y] + rng.standard_normal((900, 8))
    assert linear_probe_accuracy(X[:400], y[:400], X[400:], y[400:]) == 1.0
    assert knn1_accuracy(X[:400], y[:400], X[400:], y[400:], metric="euclidean") == 1.0
    noise = rng.standard_normal((900, 8))
    acc = linear_probe_accuracy(noise[:400], y[:400], noise[400:], y[400:])
    assert abs(acc - 0.1) < 5 * np.sqrt(0.09 / 500)
