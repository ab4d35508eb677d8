"""The ODE's expectations without Monte Carlo (:func:`neurocl.theory_two_branch.quadrature_drift`:
Gaussian regression over the ``A K`` pre-activations, mixtures for the feature laws, scrambled
Sobol points) against plain Monte Carlo, and the ODE's divergence detection."""

import numpy as np
import pytest

from neurocl.circuits.two_branch import TwoBranch
from neurocl.theory_two_branch import (draw_base, drift_standard_error, overlap_drift, quadrature_drift, sobol_rule,
                                       solve_ode)


@pytest.mark.parametrize("law,activation,views", [("gaussian", "tanh", 2), ("rademacher", "erf", 2),
                                                  ("sparse", "tanh", 3), ("uniform", "linear", 2),
                                                  ("gaussian,rademacher", "relu", 2)])
def test_quadrature_drift_is_the_monte_carlo_drift(law, activation, views):
    """At a generic ``(M, Q)`` (``K = 2``, ``d1 = 2``, ``rho = -0.3``), every entry of ``(dM/dt,
    dQ/dt)`` by quadrature (2^14 Sobol points) lies within 4.5 Monte Carlo standard errors
    (:func:`drift_standard_error`, 60,000 independent samples, fixed seed) of the Monte Carlo
    drift: 8 entries per case, so a correct quadrature fails with probability < 1e-4 per case
    (Gaussian tails), while its own error (two scramblings) is below one s.e. (asserted; 0.4 s.e.
    at most, for the heavy-tailed linear and ReLU errors).
    Seen failing with the view-noise term of ``Cov(h, u)`` left out (``s^2 R`` dropped: up to
    77 s.e.) and with the mixture weights of ``sparse`` swapped (up to 98 s.e.)."""
    m = TwoBranch(N=100, K=2, d1=2, activation=activation, views=views, rho=-0.3, s=0.6, lam=0.7, mu=0.3,
                  c_var=2.0, feature_law=law)
    M = np.array([[0.5, -0.2], [0.1, 0.4]])
    Q = M @ M.T + np.array([[0.7, 0.1], [0.1, 0.5]])
    base = draw_base(m, 60_000, np.random.default_rng(5))
    mc = overlap_drift(m, M, Q, base, 1.0, fast=True)
    se = drift_standard_error(m, M, Q, base, 1.0)
    D = views * m.K
    q0 = quadrature_drift(m, M, Q, sobol_rule(D, 14, 0), 1.0)
    q1 = quadrature_drift(m, M, Q, sobol_rule(D, 14, 1), 1.0)
    for a, b, c, s in zip(q0, q1, mc, se):
        assert np.all(np.abs(a - c) < 4.5 * s), ((a - c) / s)
        assert np.all(np.abs(a - b) < s), ((a - b) / s)


def test_relu_blow_up_is_reported_by_both_integrators():
    """ReLU units with the product decorrelation: from a start where two units can turn
    antiparallel (their outputs then rarely co-activate, so the quartic decorrelation no longer
    bounds the quadratic attraction), the weights grow and the SGD noise term ``tau^2 E[e e^T]
    ~ Q^3`` blows up in finite time; RK4 and adaptive steps both raise ``FloatingPointError``
    (instead of returning inf/nan), the adaptive one by t < 10 whatever its tolerance."""
    m = TwoBranch(N=100, K=2, d1=2, activation="relu", s=1.0, lam=0.05, mu=1.0, c_var=4.0, init_overlap=0.1,
                  init_noise=0.05, init_norm=0.25)
    M0 = np.array([[0.3, 0.05], [0.05, 0.3]])
    Q0 = M0 @ M0.T + np.diag(0.25 - (M0 * M0).sum(1))
    rule = sobol_rule(4, 8, 0)
    with pytest.raises(FloatingPointError):
        solve_ode(m, M0, Q0, 0.2, 10.0, dt=0.1, rule=rule)
    with pytest.raises(FloatingPointError, match="by t = [4-9]"):
        solve_ode(m, M0, Q0, 0.2, 10.0, rtol=1e-4, rule=rule, t_eval=[10.0])


def test_adaptive_steps_agree_with_rk4():
    """tanh, ``t`` in [0, 3], same quadrature: adaptive Dormand-Prince (``rtol = 1e-7``) and RK4
    (``dt = 0.05``, step error ~1e-9) agree within 1e-5 in ``M`` and ``Q``."""
    m = TwoBranch(N=100, K=2, d1=2, activation="tanh", s=0.5, lam=0.5, mu=0.2, c_var=4.0)
    M0 = np.array([[0.3, 0.05], [0.05, 0.3]])
    Q0 = M0 @ M0.T + np.diag(1.0 - (M0 * M0).sum(1))
    rule = sobol_rule(4, 9, 0)
    t = [1.0, 2.0, 3.0]
    a = solve_ode(m, M0, Q0, 1.0, 3.0, dt=0.05, rule=rule, t_eval=t)
    b = solve_ode(m, M0, Q0, 1.0, 3.0, rtol=1e-7, rule=rule, t_eval=t)
    assert max(np.abs(a.M - b.M).max(), np.abs(a.Q - b.Q).max()) < 1e-5
