"""What the conformance suite measures, as functions of an engine.

Each check returns ``(statistic, bound, detail)``: the engine conforms when ``statistic <=
bound``.  The tests assert that for every registered engine; ``test_broken_engine.py`` asserts
the opposite for deliberately broken test-only engines, so every check is seen to fail when
the property it measures breaks.  Bounds come from the sample size: per-quantity standard
errors estimated *between independent replicas* (:func:`isd_drift`) or between batches of
independent replicas (:func:`stationary_law`, batch means), so autocorrelation within a
chain, i.e. the effective sample size, is accounted for; a Student-t quantile and a
Bonferroni correction over the quantities compared (plus, for the stationary law, a total
variation bound from Gaussian concentration), at family-wise level ``ALPHA`` (a correct
engine fails a check with probability <= 1 %; seeds are fixed, so a given engine either
passes or fails reproducibly).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from neurocl.circuits import RBM
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task
from neurocl.measure import all_states, rbm_visible_log_probs
from neurocl.measure.exact import rbm_nll_grad
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD

__all__ = ["ALPHA", "stationary_law", "isd_drift", "fixed_rbm", "batch_means_law", "tv_bound"]

ALPHA = 0.01


def t_bound(n_quantities: int, replicas: int) -> float:
    """Two-sided Student-t quantile at family-wise level ``ALPHA`` (Bonferroni)."""
    return float(stats.t.ppf(1.0 - ALPHA / (2 * n_quantities), replicas - 1))


def fixed_rbm(replicas: int, scale_w: float = 0.8, seed: int = 11, n_visible: int = 4, n_hidden: int = 3):
    """An ``n_visible x n_hidden`` RBM (default 4 x 3) with fixed random weights (``N(0, scale_w^2)``,
    biases ``N(0, 0.25)``) and its parameters per replica."""
    rng = np.random.default_rng(seed)
    W = rng.normal(0, scale_w, (n_visible, n_hidden))
    a, c = rng.normal(0, 0.5, n_visible), rng.normal(0, 0.5, n_hidden)
    params = {"W": np.repeat(W[None], replicas, 0), "a": np.repeat(a[None], replicas, 0),
              "c": np.repeat(c[None], replicas, 0)}
    return RBM(n_visible, n_hidden), params


def batch_means_law(states: np.ndarray, n_states: int, batches: int):
    """Pooled frequencies of ``states`` (``(n, R)`` integer state indices, ``R`` independent
    chains) and their covariance by batch means.

    Each chain is cut into ``batches`` consecutive batches; the ``R * batches`` batch
    frequency vectors are treated as independent (batches much longer than the chain's
    autocorrelation time), so ``C = cov(batch frequencies) / (R * batches)`` is the covariance
    of the pooled frequencies *including* the autocorrelation within chains (Geyer 1992,
    batch means).  Returns ``(p_hat, C)``.
    """
    n, R = states.shape
    m = n // batches
    blocks = states[: m * batches].reshape(batches, m, R)
    freq = np.stack([np.bincount(blocks[b, :, r], minlength=n_states) / m
                     for b in range(batches) for r in range(R)])
    return freq.mean(0), np.cov(freq, rowvar=False) / len(freq)


def tv_bound(se: np.ndarray, lam_max: float, alpha: float) -> float:
    """Upper ``alpha`` bound on ``TV = 1/2 sum_x |p_hat(x) - p(x)|`` when ``p_hat - p`` is
    Gaussian with covariance ``C`` (diagonal ``se^2``, largest eigenvalue ``lam_max``):

    ``E[TV] = 1/2 sqrt(2/pi) sum_x se_x`` (exact, whatever the correlations), and TV is
    ``L``-Lipschitz in the standard normal vector behind ``p_hat`` with
    ``L <= 1/2 sqrt(K lam_max)`` (``K`` states), so by Gaussian concentration
    (Tsirelson-Ibragimov-Sudakov) ``P(TV > E[TV] + L sqrt(2 log(1/alpha))) <= alpha``.
    With ``se_x = sqrt(p(x)(1 - p(x)) / ESS_x)`` this is the bound in terms of the effective
    sample sizes.
    """
    K = len(se)
    return float(0.5 * np.sqrt(2 / np.pi) * se.sum() + 0.5 * np.sqrt(K * lam_max * 2 * np.log(1 / alpha)))


def stationary_law(engine, replicas: int = 32, steps: int = 8_000, seed: int = 3, n_visible: int = 6,
                   n_hidden: int = 5, batches: int = 20):
    """Free-running RBM (default 6 x 5, weights ``N(0, 1)``: unit scale): the law of the
    visible states (for spiking units the "on" states, ``s = 1`` while inside the PSP window
    after a spike, Buesing et al. 2011) against the exact marginal ``p(v) = sum_h exp(-E)/Z``.

    Standard errors by batch means (:func:`batch_means_law`: ``R`` replicas x ``batches``
    batches, so the effective sample size ``ESS_x = p(x)(1 - p(x)) / se_x^2`` of each state
    accounts for autocorrelation), floored at the i.i.d. value.  Two conditions, each at level
    ``ALPHA / 2``:

    * total variation ``TV <= tv_bound(se, lam_max(C), ALPHA / 2)`` (:func:`tv_bound`;
      about ``0.8 sum_x se_x / 2`` plus a concentration term): catches errors spread
      over many states;
    * every state ``|p_hat(x) - p(x)| / se_x <= t`` (t quantile, ``R * batches - 1`` degrees
      of freedom, Bonferroni over the ``2^n_visible`` states): catches errors in a few states.

    Statistic: ``max(TV / TV bound, max_x z_x / t)``; bound 1.
    """
    rbm, params = fixed_rbm(replicas, scale_w=1.0, seed=2, n_visible=n_visible, n_hidden=n_hidden)
    sim = Simulation(dt=1.0, duration=float(steps), replicas=replicas, seed=seed)
    samples = np.asarray(engine.free_run(rbm, params, sim))          # (n, R, n_visible)
    states = all_states(n_visible)
    K = len(states)
    index = (samples @ (2 ** np.arange(n_visible)[::-1])).round().astype(int)   # all_states order
    exact = np.exp(rbm_visible_log_probs(params["W"][0], params["a"][0], params["c"][0], states))
    p_hat, C = batch_means_law(index, K, batches)
    iid = exact * (1 - exact) / index.size
    C = C + np.diag(np.maximum(0.0, iid - np.diag(C)))
    se = np.sqrt(np.diag(C))
    ess = float((exact * (1 - exact)).sum() / np.trace(C))
    tv = 0.5 * float(np.abs(p_hat - exact).sum())
    tvb = tv_bound(se, float(np.linalg.eigvalsh(C)[-1]), ALPHA / 2)
    z = np.abs(p_hat - exact) / se
    zb = float(stats.t.ppf(1.0 - ALPHA / 2 / (2 * K), replicas * batches - 1))
    detail = (f"TV = {tv:.4f} (bound {tvb:.4f}), max z = {z.max():.2f} (bound {zb:.2f}) at state "
              f"{int(z.argmax())}; ESS = {ess:.0f} of {index.size} samples")
    return max(tv / tvb, float(z.max()) / zb), 1.0, detail


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
