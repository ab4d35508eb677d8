"""The always-on estimator beyond the single-sample theory (``neurocl.theory_always_on``).

Two small RBMs on bars-and-stripes 2 x 2 (4 visible, 3 hidden, exponential phases, dt = 1 ms,
tau_n = 1 ms): ``A`` with ``M+ ~ M-`` (single-sample ``b* = 0.499``), ``B`` with clearly
different moments (``M+ = 4.63``, ``M- = 3.53``, ``b* = 0.534``).  Checked: the renewal
closed form against the exact joint (phase, state) chain, the exact chain against the numpy
engine (within 3 standard errors), and the bias against mean phase length.
"""

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize_scalar

from neurocl.circuits import RBM
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, get_engine
from neurocl.phases import Fixed, Gamma
from neurocl.theory_always_on import (
    grid_length_moments,
    length_ratio,
    measure_rbm_always_on,
    rbm_always_on_chain,
    rbm_chains,
    rbm_renewal_moments,
    rbm_renewal_moments_sampled,
    renewal_bias,
    renewal_variance,
    single_sample_b,
    variance_optimal_b,
)

DATA = bars_and_stripes(2)
#: name -> (seed, weight scale, bias scale) of the RBM's N(0, s^2) parameters
RBMS = {"A": (10, 0.8, 0.5), "B": (0, 1.5, 1.0)}


def _params(name):
    seed, sw, sb = RBMS[name]
    rng = np.random.default_rng(seed)
    return rng.normal(0, sw, (4, 3)), rng.normal(0, sb, 4), rng.normal(0, sb, 3)


def _chains(name):
    return rbm_chains(*_params(name), DATA, dt=1.0)


def test_one_step_phases_give_the_single_sample_theory():
    """Phases of one step with independent samples (``Lambda = dt``, ``S = dt Var``, no slow
    part): ``V = dt (M+/b + M-/(1-b) - |g|^2)`` and ``b_opt = b*`` (Williams et al. 2023)."""
    rng = np.random.default_rng(0)
    mu_p, mu_n = rng.normal(size=7), rng.normal(size=7)
    var_p, var_n, dt = 1.3, 0.4, 0.5
    m_p, m_n = mu_p @ mu_p + var_p, mu_n @ mu_n + var_n
    g2 = np.sum((mu_p - mu_n) ** 2)
    for b in (0.2, 0.5, 0.9):
        v = renewal_variance(b, mu_p, mu_n, 0.0, 0.0, dt * var_p, dt * var_n, dt)
        assert v == pytest.approx(dt * (m_p / b + m_n / (1 - b) - g2), rel=1e-12)
    assert variance_optimal_b(mu_p, mu_n, 0.0, 0.0, dt * var_p, dt * var_n, dt) == pytest.approx(
        single_sample_b(m_p, m_n), rel=1e-12)


def _exact_optimum(ch, tau):
    res = minimize_scalar(lambda b: rbm_always_on_chain(ch, b, tau, 1.0).variance, bounds=(0.2, 0.9),
                          method="bounded", options={"xatol": 1e-4})
    return res.x


@pytest.mark.parametrize("name", sorted(RBMS))
def test_renewal_formula_matches_the_exact_chain_and_moves_the_optimum(name):
    """Exact joint chain vs the renewal closed form at tau = 20 and 100 ms, b = 0.3 ... 0.8:
    relative error of ``V`` <= 2 % and 0.5 % (neglected terms O(mixing time / tau); measured
    0.3-0.7 % and 0.07-0.1 %); the exact optimum within 0.01 of ``b_opt`` (measured <= 0.005),
    and ``b_opt`` at least 0.05 above the single-sample ``b*`` (A: 0.499 -> 0.566, B: 0.534 ->
    0.606 at 20 ms)."""
    ch = _chains(name)
    mom = rbm_renewal_moments(ch, 0.5, 1.0)
    for tau, tol in ((20.0, 0.02), (100.0, 0.005)):
        L1, L2 = grid_length_moments(tau, 1.0)
        bs = np.array([0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
        exact = np.array([rbm_always_on_chain(ch, b, tau, 1.0).variance for b in bs])
        approx = mom.variance(bs, L2 / L1)
        assert np.max(np.abs(approx / exact - 1)) <= tol
        b_opt = mom.optimal_b(L2 / L1)
        b_exact = _exact_optimum(ch, tau)
        assert abs(b_exact - b_opt) <= 0.01, (b_exact, b_opt)
        assert b_opt >= mom.single_sample_b + 0.05, (b_opt, mom.single_sample_b)


def test_bias_is_mixing_time_over_phase_length():
    """Exact chain, RBM B, b = 0.5: relative bias ``|drift - grad| / |grad|`` against the mean
    phase length has log-log slope -1 +- 0.05 (25-400 ms), and the leading-order formula
    ``(D+ - D-) / E[L]`` matches the exact bias vector within relative error 2 ms / tau
    (its error is the next order; measured 0.6 ms / tau on A, 1.1 ms / tau on B)."""
    ch = _chains("B")
    taus = np.array([25.0, 50.0, 100.0, 200.0, 400.0])
    rel = []
    for tau in taus:
        ex = rbm_always_on_chain(ch, 0.5, tau, 1.0)
        mom = rbm_renewal_moments(ch, 0.5, 1.0)
        pred = renewal_bias(grid_length_moments(tau, 1.0)[0], mom.deficit_pos, mom.deficit_neg)
        assert np.linalg.norm(ex.bias - pred) / np.linalg.norm(ex.bias) <= 2.0 / tau
        rel.append(ex.relative_bias)
    slope = np.polyfit(np.log(taus), np.log(rel), 1)[0]
    assert abs(slope + 1) <= 0.05, slope


def _engine_against_chain(name, b, tau, replicas, windows, seed):
    W, a, c = _params(name)
    ex = rbm_always_on_chain(_chains(name), b, tau, 1.0)
    m = measure_rbm_always_on(get_engine("numpy"), W, a, c, DATA, b, tau, replicas=replicas, windows=windows,
                              window_ms=2000.0, seed=seed)
    return ex, m


@pytest.mark.parametrize("b", [0.35, 0.65])
def test_engine_long_run_variance_and_drift_are_the_exact_chains(b):
    """numpy engine, RBM B, tau = 20 ms, 16 replicas x 16 windows of 2 s: the measured long-run
    variance within 3 standard errors of the exact chain's (the single-sample formula
    ``dt (M+/b + M-/(1-b) - |g|^2)`` is about 45 times smaller), and every parameter's drift
    within the Bonferroni t bound (15 d.o.f., 19 parameters, level 1 %) of the exact drift."""
    ex, m = _engine_against_chain("B", b, 20.0, replicas=16, windows=16, seed=1)
    assert abs(m["variance"] - ex.variance) <= 3 * m["variance_se"], (m["variance"], m["variance_se"], ex.variance)
    z = np.abs(m["drift"] - ex.drift) / m["drift_se"]
    assert z.max() <= stats.t.ppf(1 - 0.01 / (2 * z.size), 15), z


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RBMS))
def test_engine_variance_over_a_grid_of_b_and_its_optimum(name):
    """numpy engine, tau = 20 ms, 48 replicas x 30 windows of 2 s at b = 0.3 ... 0.8: each
    measured ``V`` within 3 standard errors of the exact chain; the optimum of the fitted curve
    ``K+/b + K-/(1-b) - C`` (least squares, weights 1/se^2) within 3 bootstrap standard errors
    of the exact optimum."""
    bs = np.array([0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    exact, meas, se = [], [], []
    for i, b in enumerate(bs):
        ex, m = _engine_against_chain(name, b, 20.0, replicas=48, windows=30, seed=100 + i)
        exact.append(ex.variance)
        meas.append(m["variance"])
        se.append(m["variance_se"])
    exact, meas, se = map(np.array, (exact, meas, se))
    assert np.all(np.abs(meas - exact) <= 3 * se), np.c_[bs, meas, se, exact]

    X = np.c_[1 / bs, 1 / (1 - bs), -np.ones_like(bs)]

    def fit_opt(v):
        k = np.linalg.lstsq(X / se[:, None], v / se, rcond=None)[0]
        kp, km = max(k[0], 1e-12), max(k[1], 1e-12)
        return np.sqrt(kp) / (np.sqrt(kp) + np.sqrt(km))

    rng = np.random.default_rng(0)
    boot = np.array([fit_opt(meas + se * rng.normal(size=len(bs))) for _ in range(2000)])
    b_exact = _exact_optimum(_chains(name), 20.0)
    assert abs(fit_opt(meas) - b_exact) <= 3 * boot.std(), (fit_opt(meas), boot.std(), b_exact)


@pytest.mark.slow
def test_engine_drift_carries_the_predicted_finite_phase_bias():
    """tau = 2 ms (relative bias of the exact chain 15 %): the engine's drift matches the exact chain (every
    parameter within the Bonferroni t bound) and differs from the exact gradient (the same
    statistic exceeds the bound): the bias is real and is the chain's."""
    ex, m = _engine_against_chain("B", 0.5, 2.0, replicas=32, windows=20, seed=3)
    bound = stats.t.ppf(1 - 0.01 / (2 * ex.drift.size), 31)
    assert np.max(np.abs(m["drift"] - ex.drift) / m["drift_se"]) <= bound
    assert np.max(np.abs(m["drift"] - ex.gradient) / m["drift_se"]) > bound


def test_sampled_moments_give_the_exact_prediction_for_rbms_too_big_to_enumerate():
    """:func:`rbm_renewal_moments_sampled` (what ``check-theory`` can use on any RBM) on RBM B
    from a numpy-engine free run of 32 replicas x 8,000 steps: positive-phase moments exact;
    ``fast_neg`` within 3 relative standard errors ``sqrt(2 / (512 - 1))`` of the exact one
    (16 batches x 32 replicas); ``b_opt`` at tau = 20 ms within 0.01 of the exact value."""
    W, a, c = _params("B")
    ex = rbm_renewal_moments(_chains("B"), 0.5, 1.0)
    R = 32
    params = {"W": np.repeat(W[None], R, 0), "a": np.repeat(a[None], R, 0), "c": np.repeat(c[None], R, 0)}
    free = get_engine("numpy").free_run(RBM(4, 3), params, Simulation(dt=1.0, duration=8000.0, replicas=R, seed=2))
    s = rbm_renewal_moments_sampled(W, a, c, DATA, free, 1.0, batches=16)
    np.testing.assert_allclose(s.mu_pos, ex.mu_pos, atol=1e-12)
    assert s.slow_pos == pytest.approx(ex.slow_pos, rel=1e-12) and s.m_pos == pytest.approx(ex.m_pos, rel=1e-12)
    assert abs(s.fast_neg / ex.fast_neg - 1) <= 3 * np.sqrt(2 / 511), (s.fast_neg, ex.fast_neg)
    L1, L2 = grid_length_moments(20.0, 1.0)
    assert abs(s.optimal_b(L2 / L1) - ex.optimal_b(L2 / L1)) <= 0.01


@pytest.mark.parametrize("law,b", [(Fixed(20.0), 0.35), (Gamma(20.0, 4.0), 0.65)], ids=["fixed", "gamma4"])
def test_phase_length_law_enters_through_its_second_moment(law, b):
    """Non-exponential phases (no exact chain): the renewal ``V(b)`` with ``Lambda = E[L^2]/E[L]``
    (20 ms fixed, 25 ms gamma of shape 4, against 40 ms exponential) within 3 standard errors of
    the numpy engine (RBM B, mean 20 ms, 16 replicas x 16 windows of 2 s); the exponential
    law's ``Lambda`` would predict 1.6-2 times more."""
    W, a, c = _params("B")
    mom = rbm_renewal_moments(_chains("B"), 0.5, 1.0)
    m = measure_rbm_always_on(get_engine("numpy"), W, a, c, DATA, b, 20.0, replicas=16, windows=16, seed=1, law=law)
    pred = float(mom.variance(b, length_ratio(law, 1.0)))
    assert abs(m["variance"] - pred) <= 3 * m["variance_se"], (m["variance"], m["variance_se"], pred)
