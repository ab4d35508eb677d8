"""The single-phase importance-sampled (ISD) estimator against closed forms.

papers/README.md, derived fact: for g = (z/b) f+ - ((1-z)/(1-b)) f-, z ~ Bernoulli(b),
E[g] = mu+ - mu-, tr Var(g) = M+/b + M-/(1-b) - |mu+ - mu-|^2, minimised at
b* = sqrt(M+) / (sqrt(M+) + sqrt(M-)).
"""

import numpy as np
import pytest

from neurocl.circuits import RBM
from neurocl.numerics import sigmoid
from neurocl.measure import all_states, rbm_visible_log_probs
from neurocl.plasticity import isd_estimate, isd_trace_variance, isd_weight, optimal_b

N_DRAWS = 400_000


def _flat_stat(W, c, v):
    h = sigmoid(v @ W + c)
    return np.concatenate([(v[:, :, None] * h[:, None, :]).reshape(len(v), -1), v, h], axis=1)


@pytest.fixture(scope="module")
def small_model():
    """4-visible, 3-hidden RBM; sparse data (few units on) against a dense model, so that
    M+ != M- and b* is far from 1/2."""
    rng = np.random.default_rng(3)
    W = rng.normal(0, 0.7, (4, 3))
    a = np.full(4, 1.0)
    c = rng.normal(0, 0.5, 3)
    data = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], float)
    states = all_states(4)
    p_model = np.exp(rbm_visible_log_probs(W, a, c, states))
    f_states = _flat_stat(W, c, states)
    f_data = _flat_stat(W, c, data)
    mu_pos, mu_neg = f_data.mean(0), p_model @ f_states
    m_pos = np.mean(np.sum(f_data**2, 1))
    m_neg = p_model @ np.sum(f_states**2, 1)
    draws_pos = f_data[rng.integers(len(data), size=N_DRAWS)]
    draws_neg = f_states[rng.choice(len(states), size=N_DRAWS, p=p_model)]
    return dict(mu_pos=mu_pos, mu_neg=mu_neg, m_pos=m_pos, m_neg=m_neg,
                draws_pos=draws_pos, draws_neg=draws_neg, u=rng.random(N_DRAWS))


def test_isd_mean_is_exact_gradient_per_parameter(small_model):
    m = small_model
    b = 0.3
    z = m["u"] < b
    g = isd_estimate(z[:, None], m["draws_pos"], m["draws_neg"], b)
    mean = g.mean(0)
    se = g.std(0, ddof=1) / np.sqrt(N_DRAWS)
    exact = m["mu_pos"] - m["mu_neg"]
    assert np.all(np.abs(mean - exact) < 3 * se), np.max(np.abs(mean - exact) / se)


def test_isd_trace_variance_matches_closed_form(small_model):
    m = small_model
    diff2 = float(np.sum((m["mu_pos"] - m["mu_neg"]) ** 2))
    for b in (0.2, 0.5, 0.8):
        z = m["u"] < b
        g = isd_estimate(z[:, None], m["draws_pos"], m["draws_neg"], b)
        measured = g.var(0).sum()
        predicted = isd_trace_variance(m["m_pos"], m["m_neg"], diff2, b)
        assert measured == pytest.approx(predicted, rel=0.02)


def test_empirical_variance_minimum_is_b_star(small_model):
    m = small_model
    b_star = optimal_b(m["m_pos"], m["m_neg"])
    assert abs(b_star - 0.5) > 0.1  # the set-up makes the optimum non-trivial
    grid = np.linspace(0.05, 0.95, 91)
    variances = []
    for b in grid:  # common random numbers: the same draws for every b
        z = m["u"] < b
        variances.append(isd_estimate(z[:, None], m["draws_pos"], m["draws_neg"], b).var(0).sum())
    b_emp = grid[int(np.argmin(variances))]
    assert abs(b_emp - b_star) <= 0.05, (b_emp, b_star)


def test_weights():
    np.testing.assert_allclose(isd_weight([True, False], 0.25), [4.0, -1.0 / 0.75])


def test_rbm_statistic_mean_field_matches_sampled_in_expectation(rng):
    rbm = RBM(3, 2)
    p = rbm.init_params(rng, 1)
    p["W"] += 0.8
    v = np.tile(np.array([[1.0, 0.0, 1.0]]), (200_000, 1))
    h = (rng.random((200_000, 2)) < sigmoid(v @ p["W"][0] + p["c"][0])).astype(float)
    p_big = {k: np.repeat(x, 1, 0) for k, x in p.items()}
    mf = rbm.statistic(p_big, {"v": v[:1], "h": h[:1]}, mean_field=True)["W"][0]
    sampled = (v[:, :, None] * h[:, None, :]).mean(0)
    np.testing.assert_allclose(mf, sampled, atol=4 * 0.5 / np.sqrt(200_000))


def test_estimator_statistics_closed_form():
    """Two draws ``g + c +- d``: bias ``-c``, ``tr C = |d|^2``, debiased ``sqrt(|c|^2 - |d|^2 / 2)``."""
    from neurocl.measure.estimator import estimator_statistics, r_squared

    g, c, d = np.array([1.0, 2.0, 0.0]), np.array([0.3, 0.0, -0.4]), np.array([0.1, 0.2, 0.0])
    bias, C, s = estimator_statistics(np.stack([g + c + d, g + c - d]), g)
    np.testing.assert_allclose(bias, -c, atol=1e-15)
    assert s["trace_var"] == pytest.approx(d @ d) and s["bias_norm"] == pytest.approx(0.5)
    assert s["bias_norm_debiased"] == pytest.approx(np.sqrt(0.25 - (d @ d) / 2))
    assert s["cos_mean"] == pytest.approx((g + c) @ g / (np.linalg.norm(g + c) * np.linalg.norm(g)))
    assert r_squared([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 1.0
    assert r_squared([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == 0.0
