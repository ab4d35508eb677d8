"""What the conformance suite measures, as functions of an engine.

Each check returns ``(statistic, bound, detail)``: the engine conforms when ``statistic <=
bound``.  The tests assert that for every registered engine; ``test_broken_engine.py`` asserts
the opposite for deliberately broken test-only engines, so every check is seen to fail when
the property it measures breaks.  Bounds come from the sample size: per-quantity standard
errors estimated *between independent replicas* (so autocorrelation within a chain, i.e. the
effective sample size, is accounted for), a Student-t quantile with ``R - 1`` degrees of
freedom and a Bonferroni correction over the quantities compared, at family-wise level
``ALPHA`` (a correct engine fails a check with probability <= 1 %; seeds are fixed, so a
given engine either passes or fails reproducibly).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from neurocl.circuits import RBM
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task
from neurocl.measure import all_states, empirical_distribution, rbm_visible_log_probs
from neurocl.measure.exact import rbm_nll_grad
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD

__all__ = ["ALPHA", "stationary_law", "isd_drift", "fixed_rbm"]

ALPHA = 0.01


def t_bound(n_quantities: int, replicas: int) -> float:
    """Two-sided Student-t quantile at family-wise level ``ALPHA`` (Bonferroni)."""
    return float(stats.t.ppf(1.0 - ALPHA / (2 * n_quantities), replicas - 1))


def fixed_rbm(replicas: int, scale_w: float = 0.8, seed: int = 11):
    """A 4 x 3 RBM with fixed random weights (unit scale) and its parameters per replica."""
    rng = np.random.default_rng(seed)
    W, a, c = rng.normal(0, scale_w, (4, 3)), rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 3)
    params = {"W": np.repeat(W[None], replicas, 0), "a": np.repeat(a[None], replicas, 0),
              "c": np.repeat(c[None], replicas, 0)}
    return RBM(4, 3), params


def stationary_law(engine, replicas: int = 16, steps: int = 10_000, seed: int = 3):
    """Free-running 4 x 3 RBM (random weights of unit scale): the frequencies of the 16
    visible states against the exact marginal ``p(v) = sum_h exp(-E) / Z``.

    Statistic: ``max_v |p_hat(v) - p(v)| / se(v)``, ``se`` the between-replica standard error
    of the pooled frequency (at least the i.i.d. one).  Bound: t quantile, 16 states.
    """
    rbm, params = fixed_rbm(replicas, scale_w=1.0, seed=2)
    sim = Simulation(dt=1.0, duration=float(steps), replicas=replicas, seed=seed)
    samples = np.asarray(engine.free_run(rbm, params, sim))           # (n, R, 4)
    states = all_states(4)
    exact = np.exp(rbm_visible_log_probs(params["W"][0], params["a"][0], params["c"][0], states))
    freq = np.stack([empirical_distribution(samples[:, r]) for r in range(replicas)])
    pooled = freq.mean(0)
    se = np.maximum(freq.std(0, ddof=1) / np.sqrt(replicas), np.sqrt(exact * (1 - exact) / samples.shape[0] / replicas))
    z = np.abs(pooled - exact) / se
    tv = 0.5 * np.abs(pooled - exact).sum()
    return float(z.max()), t_bound(len(states), replicas), f"TV = {tv:.4f}, z per state {np.round(z, 1)}"


def isd_drift(engine, replicas: int = 8, duration: float = 100_000.0, eta: float = 1e-9, seed: int = 5):
    """Always-on ISD with a negligible learning rate on a fixed 4 x 3 RBM (b = 0.3, exponential
    phases of 20 ms): the accumulated weight change / (eta T) estimates ``E_data[v E[h|v]] -
    E_model[v E[h|v]]`` (Williams et al. 2023: the ISD estimator is unbiased), known exactly by
    enumeration.

    Statistic: ``max_ij (|mean_ij - exact_ij| - 0.01) / se_ij`` (0.01: the finite-phase mixing
    bias allowed); bound: t quantile over the 12 weights.
    """
    rbm, params = fixed_rbm(replicas)
    W, a, c = params["W"][0], params["a"][0], params["c"][0]
    data = bars_and_stripes(2)
    exact = -rbm_nll_grad(W, a, c, data)[0]
    start = {k: v.copy() for k, v in params.items()}
    sim = Simulation(dt=1.0, duration=duration, replicas=replicas, seed=seed, checkpoints=1)
    traj = engine.run(rbm, ISD(eta), StochasticPhases(0.3, Exponential(20.0)), Task(clamp=data, evaluate=None),
                      sim, params=start)
    est = (np.asarray(traj.params["W"]) - W) / (eta * duration)
    mean, se = est.mean(0), est.std(0, ddof=1) / np.sqrt(replicas)
    z = (np.abs(mean - exact) - 0.01) / se
    return float(z.max()), t_bound(exact.size, replicas), f"z per weight {np.round(z, 1)}"
