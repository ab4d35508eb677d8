"""The always-on (ISD) estimator beyond the single-sample theory: long-run variance, the
variance-optimal ``b`` and the finite-phase bias, for correlated updates within phases.

Williams, Bredenberg & Lajoie 2023 (``papers/000_*``) choose the positive-phase probability
``b`` to minimise the variance of *one* importance-weighted sample ``Y = w(z) f``,
``w(+) = 1/b``, ``w(-) = -1/(1-b)``: ``E|Y|^2 = M+/b + M-/(1-b)`` with ``M+- = E+-|f|^2``, so

    b* = sqrt(M+) / (sqrt(M+) + sqrt(M-)).

An always-on learner applies ``eta dt Y_k`` at *every* integration step, and consecutive
``Y_k`` in one phase are correlated (with mean-field hidden statistics the clamped statistic
is constant for the whole positive phase).  What matters for learning is the variance of the
time-averaged update ``G_T = (1/n) sum_k Y_k`` over ``T = n dt``: ``T Var(G_T) -> V(b)``.

Renewal-reward derivation (phases i.i.d. with length ``L``, mean ``tau = E L``, sign positive
with probability ``b``; within a phase of sign ``+-`` the statistic has mean ``mu+-``, a part
``B+-`` (covariance trace) that is constant over a phase, e.g. the clamped data pattern, and
a fast part with integrated autocovariance ``S+- = int C(s) ds`` (trace); phases much longer
than the mixing time).  The update of a phase is ``A = w (L mu + L xi_slow + xi_fast)``,
``E A = tau (mu+ - mu-) = tau g``, and the renewal CLT gives
``V = E[(A - g L)^2] / tau``.  With ``m_b = (1 - b) mu+ + b mu-`` and ``Lambda = E[L^2] / tau``::

    V(b) = Lambda |m_b|^2 / (b (1 - b)) + (Lambda B+ + S+) / b + (Lambda B- + S-) / (1 - b)
         = K+ / b + K- / (1 - b) - Lambda |g|^2,
    K+- = Lambda (|mu+-|^2 + B+-) + S+-,

(:func:`renewal_variance`), minimised at (:func:`variance_optimal_b`)

    b_opt = sqrt(K+) / (sqrt(K+) + sqrt(K-)).

Phases of one step with independent samples (``Lambda = dt``, ``S = dt Var``) give back
``b*``.  Long phases weight the *mean and between-phase* parts of each moment by
``Lambda = tau (1 + CV^2)`` (``2 tau`` for exponential lengths) and the within-phase
fluctuations only by their integrated autocorrelation: the clamped (positive) statistic is
all between-phase, the free (negative) one mostly fast, so ``K+/K-`` exceeds ``M+/M-`` and
``b_opt > b*``.

Bias (same renewal argument): a phase starts from the state the previous one left, so its
integral lacks ``D+-`` (the integrated relaxation deficit, :func:`renewal_bias`) and the drift
is ``g + (D+ - D-) / tau``: relative bias of order (mixing time / mean phase length).

For small RBMs everything is also computed *exactly* from the joint Markov chain of
(phase sign, visible, hidden) that the numpy engine simulates (:func:`rbm_always_on_chain`):
stationary drift ``E_pi[Y]``, and ``V = dt * sum_params [Var_pi(Y) + 2 sum_k Cov_pi(Y_0, Y_k)]``
from the chain's fundamental matrix (Kemeny & Snell 1960).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.measure.exact import all_states
from neurocl.numerics import sigmoid
from neurocl.plasticity import optimal_b

__all__ = [
    "single_sample_b",
    "renewal_variance",
    "variance_optimal_b",
    "grid_length_moments",
    "length_ratio",
    "RBMChains",
    "rbm_chains",
    "AlwaysOnChain",
    "rbm_always_on_chain",
    "RenewalMoments",
    "rbm_renewal_moments",
    "renewal_bias",
    "measure_rbm_always_on",
    "rbm_mean_field_statistic",
    "rbm_renewal_moments_sampled",
    "always_on_report",
]


# --------------------------------------------------------------------------- closed forms
def single_sample_b(m_pos: float, m_neg: float) -> float:
    """The paper's single-sample optimum ``b* = sqrt(M+) / (sqrt(M+) + sqrt(M-))``
    (``M+- = E+-|f|^2``, Williams et al. 2023): :func:`neurocl.plasticity.optimal_b`."""
    return optimal_b(m_pos, m_neg)


def renewal_variance(b, mu_pos, mu_neg, slow_pos: float, slow_neg: float, fast_pos: float, fast_neg: float,
                     length_ratio: float):
    """Long-run variance ``V(b) = lim T Var(G_T)`` (trace over parameters, units of
    ``f^2 x time``) of the always-on update, to leading order in mixing time / phase length.

    ``V(b) = K+/b + K-/(1-b) - Lambda |mu+ - mu-|^2``, ``K+- = Lambda (|mu+-|^2 + slow+-) + fast+-``.

    Parameters
    ----------
    b : float or array
        Probability of a positive phase.
    mu_pos, mu_neg : (P,) arrays
        Mean statistic in positive / negative phases.
    slow_pos, slow_neg : float
        Trace of the covariance of the part of ``f`` constant over a phase (data pattern).
    fast_pos, fast_neg : float
        Trace of the integrated autocovariance ``int C(s) ds`` of the rest (time units).
    length_ratio : float
        ``Lambda = E[L^2] / E[L]`` of the phase lengths (time units; :func:`grid_length_moments`).
    """
    kp, km = _k_moments(mu_pos, mu_neg, slow_pos, slow_neg, fast_pos, fast_neg, length_ratio)
    g2 = float(np.sum((np.asarray(mu_pos, float) - np.asarray(mu_neg, float)) ** 2))
    b = np.asarray(b, float)
    return kp / b + km / (1.0 - b) - length_ratio * g2


def _k_moments(mu_pos, mu_neg, slow_pos, slow_neg, fast_pos, fast_neg, length_ratio):
    kp = length_ratio * (float(np.sum(np.asarray(mu_pos, float) ** 2)) + slow_pos) + fast_pos
    km = length_ratio * (float(np.sum(np.asarray(mu_neg, float) ** 2)) + slow_neg) + fast_neg
    return kp, km


def variance_optimal_b(mu_pos, mu_neg, slow_pos: float, slow_neg: float, fast_pos: float, fast_neg: float,
                       length_ratio: float) -> float:
    """``b_opt = sqrt(K+) / (sqrt(K+) + sqrt(K-))``, the minimiser of :func:`renewal_variance`."""
    kp, km = _k_moments(mu_pos, mu_neg, slow_pos, slow_neg, fast_pos, fast_neg, length_ratio)
    return float(np.sqrt(kp) / (np.sqrt(kp) + np.sqrt(km)))


def grid_length_moments(mean_length: float, dt: float) -> tuple:
    """``(E[L], E[L^2])`` of exponential phases as the engines see them on a grid of step
    ``dt``: a phase change between two steps has probability ``q = 1 - exp(-dt/tau)``, so a
    phase lasts ``n ~ Geometric(q)`` steps, ``E[L] = dt/q``, ``E[L^2] = dt^2 (2 - q)/q^2``."""
    q = -np.expm1(-dt / mean_length)
    return dt / q, dt * dt * (2.0 - q) / q**2


def length_ratio(law, dt: float) -> float:
    """``Lambda = E[L^2] / E[L]`` (ms) of a phase-length law (:mod:`neurocl.phases`) as the
    engines see it on a grid of step ``dt``: exponential laws exactly
    (:func:`grid_length_moments`); any other law from its mean and variance,
    ``(var + mean^2) / mean`` (``mean`` for fixed lengths, ``mean (1 + 1/k)`` for gamma of
    shape ``k``), to ``O(dt)``."""
    from neurocl.phases import LAWS

    if LAWS.key_of(law) == "exponential":
        L1, L2 = grid_length_moments(law.mean, dt)
        return L2 / L1
    return (law.variance + law.mean**2) / law.mean


def renewal_bias(mean_length: float, deficit_pos, deficit_neg):
    """Leading finite-phase bias of the always-on drift: ``(D+ - D-) / E[L]``, ``D+-`` the
    integrated relaxation deficit of a phase of that sign (:class:`RenewalMoments`)."""
    return (np.asarray(deficit_pos, float) - np.asarray(deficit_neg, float)) / mean_length


# --------------------------------------------------------------------------- small RBMs, exactly
def _layer_kernel(fields: np.ndarray, p: float) -> np.ndarray:
    """Transition matrix over the ``2^n`` states of a block of ``n`` conditionally independent
    units with fields ``fields`` (``(n,)``), each resampled with probability ``p``:
    ``kron_i [(1 - p) I + p [[1 - s_i, s_i], [1 - s_i, s_i]]]``, ``s_i = sigmoid(field_i)``
    (first unit the most significant bit, as :func:`all_states`)."""
    out = np.ones((1, 1))
    for u in fields:
        s = float(sigmoid(u))
        m = (1.0 - p) * np.eye(2) + p * np.array([[1.0 - s, s], [1.0 - s, s]])
        out = np.kron(out, m)
    return out


def _fundamental(P: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """``Z = (I - P + 1 pi)^-1`` (Kemeny & Snell): ``Z - I = sum_{k>=1} (P^k - 1 pi)``."""
    n = len(pi)
    return np.linalg.inv(np.eye(n) - P + np.outer(np.ones(n), pi))


def _stationary(P: np.ndarray) -> np.ndarray:
    n = len(P)
    A = np.vstack([P.T - np.eye(n), np.ones((1, n))])
    rhs = np.zeros(n + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(A, rhs, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def _statistic(W, c, V, H, mean_field: bool) -> np.ndarray:
    """``f(v, h) = (v h^T, v, h)`` flattened (``h`` -> ``sigmoid(c + v W)`` with ``mean_field``)
    for every (visible, hidden) pair: ``(2^nv, 2^nh, nv*nh + nv + nh)``."""
    nv, nh = W.shape
    out = np.empty((len(V), len(H), nv * nh + nv + nh))
    for iv, v in enumerate(V):
        hm = sigmoid(c + v @ W)
        for ih, h in enumerate(H):
            hh = hm if mean_field else h
            out[iv, ih] = np.concatenate([np.outer(v, hh).ravel(), v, hh])
    return out


@dataclass(frozen=True)
class RBMChains:
    """The transition matrices of the numpy engine's RBM step (hidden block, then visible
    block, each unit resampled with probability ``p = 1 - exp(-dt/tau_n)``) over the
    ``2^(nv+nh)`` states ``(v, h)`` (index ``iv * 2^nh + ih``).

    ``free``: a negative-phase step; ``clamped``: a positive-phase step (visible units keep
    their values); ``fresh``: a positive-phase step that first clamps a data row drawn
    uniformly; ``f``: the statistic per state (``(N, P)``); ``data_law``: the law of the
    visible pattern in positive phases (``(2^nv,)``); ``exact_gradient``:
    ``E_data[f] - E_model[f]`` (the log-likelihood gradient).
    """

    free: np.ndarray
    clamped: np.ndarray
    fresh: np.ndarray
    f: np.ndarray
    data_law: np.ndarray
    model_law: np.ndarray
    exact_gradient: np.ndarray
    n_hidden_states: int


def rbm_chains(W, a, c, data, dt: float, tau_n: float = 1.0, mean_field: bool = True) -> RBMChains:
    """Enumerate the engine's one-step transition matrices of a small RBM (:class:`RBMChains`)."""
    W, a, c = (np.asarray(x, float) for x in (W, a, c))
    nv, nh = W.shape
    V, H = all_states(nv), all_states(nh)
    nV, nH = len(V), len(H)
    p = -np.expm1(-dt / tau_n)
    Th = [_layer_kernel(c + v @ W, p) for v in V]        # hidden step given v: (nH, nH)
    Tv = [_layer_kernel(a + W @ h, p) for h in H]        # visible step given h: (nV, nV)
    N = nV * nH
    free = np.zeros((N, N))
    clamped = np.zeros((N, N))
    for iv in range(nV):
        for ih in range(nH):
            s = iv * nH + ih
            for jh in range(nH):
                ph = Th[iv][ih, jh]
                if ph == 0.0:
                    continue
                clamped[s, iv * nH + jh] += ph
                free[s, jh::nH] += ph * Tv[jh][iv]        # visible next given the new h
    rows = np.asarray(data, float)
    idx = (rows @ (2 ** np.arange(nv)[::-1])).round().astype(int)
    data_law = np.bincount(idx, minlength=nV) / len(idx)
    fresh = np.zeros((N, N))
    for iv in np.flatnonzero(data_law):
        # from any state (v, h): v -> data pattern iv, then a hidden step given iv
        for ih in range(nH):
            fresh[ih::nH, iv * nH:(iv + 1) * nH] += data_law[iv] * Th[iv][ih]
    f = _statistic(W, c, V, H, mean_field).reshape(N, -1)
    logp = np.array([[v @ a + h @ c + v @ W @ h for h in H] for v in V])
    joint = np.exp(logp - logp.max())
    joint /= joint.sum()
    model_law = joint.ravel()
    cond = np.array([sigmoid(c + v @ W) for v in V])       # p(h_j = 1 | v)
    ph_given_v = np.prod(np.where(H[None] > 0.5, cond[:, None], 1.0 - cond[:, None]), axis=2)   # (nV, nH)
    data_joint = (data_law[:, None] * ph_given_v).ravel()
    grad = data_joint @ f - model_law @ f
    return RBMChains(free, clamped, fresh, f, data_law, model_law, grad, nH)


@dataclass(frozen=True)
class AlwaysOnChain:
    """Exact always-on statistics of the joint (phase sign, state) chain.

    ``drift``: ``E_pi[Y]``, the mean update per unit time and unit learning rate (``(P,)``);
    ``gradient``: the exact log-likelihood gradient; ``bias = drift - gradient``;
    ``variance``: ``V = dt tr Sigma_step`` (``Sigma_step`` the asymptotic covariance of the
    per-step ``Y``), i.e. ``lim T Var(G_T)`` with ``G_T`` the time-averaged update;
    ``variance_per_param``: its diagonal.
    """

    drift: np.ndarray
    gradient: np.ndarray
    variance: float
    variance_per_param: np.ndarray

    @property
    def bias(self) -> np.ndarray:
        return self.drift - self.gradient

    @property
    def relative_bias(self) -> float:
        """``|drift - gradient| / |gradient|``."""
        return float(np.linalg.norm(self.bias) / np.linalg.norm(self.gradient))


def rbm_always_on_chain(chains: RBMChains, b: float, mean_length: float, dt: float) -> AlwaysOnChain:
    """Exact drift and long-run variance of always-on ISD with exponential phases (mean
    ``mean_length`` ms, sign positive with probability ``b``) on the numpy engine's grid.

    Joint state after a step: ``(z, v, h)``.  Next step: with probability ``q = 1 -
    exp(-dt/tau)`` a new phase begins (sign ``~ Bernoulli(b)``; a positive one clamps a fresh
    data row), else the sign stays; then the engine's RBM step (free or clamped); the
    update ``Y = w(z) f(v, h)``, ``w = 1/b`` or ``-1/(1-b)``.  The weights are held fixed
    (learning rate -> 0).
    """
    F, C, R = chains.free, chains.clamped, chains.fresh
    N = len(F)
    q = -np.expm1(-dt / mean_length)
    P = np.zeros((2 * N, 2 * N))
    # blocks: index 0..N-1 negative (z = 0), N..2N-1 positive (z = 1)
    P[:N, :N] = (q * (1 - b) + (1 - q)) * F
    P[N:, :N] = q * (1 - b) * F
    P[:N, N:] = q * b * R
    P[N:, N:] = q * b * R + (1 - q) * C
    pi = _stationary(P)
    Y = np.vstack([-chains.f / (1 - b), chains.f / b])
    drift = pi @ Y
    Yc = Y - drift
    Z = _fundamental(P, pi)
    DY = pi[:, None] * Yc
    cov_diag = np.sum(DY * (2 * (Z @ Yc) - Yc), axis=0)
    per_param = dt * cov_diag
    return AlwaysOnChain(drift, chains.exact_gradient, float(per_param.sum()), per_param)


@dataclass(frozen=True)
class RenewalMoments:
    """Inputs of :func:`renewal_variance` and :func:`renewal_bias` for one RBM (per unit
    learning rate): ``mu_pos``, ``mu_neg`` (``(P,)``); ``slow_pos`` (between-pattern
    covariance trace of ``E[f | data row]``); ``fast_pos``, ``fast_neg`` (integrated
    autocovariance traces, time units, of the clamped and free chains); ``m_pos``, ``m_neg``
    (``E+-|f|^2``, the single-sample moments); ``deficit_pos``, ``deficit_neg`` (``D+-``,
    ``(P,)``: integrated relaxation deficits of a phase starting from where a phase of the
    other kind, or of the same kind, left the state, in proportions ``b``, ``1 - b``)."""

    mu_pos: np.ndarray
    mu_neg: np.ndarray
    slow_pos: float
    fast_pos: float
    fast_neg: float
    m_pos: float
    m_neg: float
    deficit_pos: np.ndarray
    deficit_neg: np.ndarray

    def variance(self, b, length_ratio: float):
        """:func:`renewal_variance` with these moments (``slow_neg = 0``)."""
        return renewal_variance(b, self.mu_pos, self.mu_neg, self.slow_pos, 0.0, self.fast_pos, self.fast_neg,
                                length_ratio)

    def optimal_b(self, length_ratio: float) -> float:
        """:func:`variance_optimal_b` with these moments."""
        return variance_optimal_b(self.mu_pos, self.mu_neg, self.slow_pos, 0.0, self.fast_pos, self.fast_neg,
                                  length_ratio)

    @property
    def single_sample_b(self) -> float:
        return single_sample_b(self.m_pos, self.m_neg)


def rbm_renewal_moments(chains: RBMChains, b: float, dt: float) -> RenewalMoments:
    """The moments of :class:`RenewalMoments` from the RBM's one-step chains.

    Positive phases: a data row ``d`` (law ``data_law``), hidden units relaxing under the
    clamped chain; ``E[f | d]`` is the slow part, the hidden fluctuations around it the fast
    part (zero with mean-field statistics).  Negative phases: the free chain, stationary
    law = the model's; its integrated autocovariance is the fast part.  Deficits ``D = dt
    nu (Z - I) (f - mu)`` for the start law ``nu`` of each phase type (``Z`` the chain's
    fundamental matrix; long-phase limit: the previous phase ended in its stationary law).
    """
    F, C, f = chains.free, chains.clamped, chains.f
    N, nH = len(F), chains.n_hidden_states
    pi_neg = chains.model_law
    mu_neg = pi_neg @ f
    Zf = _fundamental(F, pi_neg)
    fc = f - mu_neg
    fast_neg = dt * float(np.sum(pi_neg[:, None] * fc * (2 * (Zf @ fc) - fc)))
    # positive phases: per data pattern, the hidden chain under the clamped kernel
    pats = np.flatnonzero(chains.data_law)
    pi_pos = np.zeros(N)
    cond_means, fast_pos, deficit_pos_parts = [], 0.0, []
    for iv in pats:
        sl = slice(iv * nH, (iv + 1) * nH)
        Ch = C[sl, sl]
        pih = _stationary(Ch)
        pi_pos[sl] = chains.data_law[iv] * pih
        md = pih @ f[sl]
        cond_means.append(md)
        fd = f[sl] - md
        Zc = _fundamental(Ch, pih)
        fast_pos += chains.data_law[iv] * dt * float(np.sum(pih[:, None] * fd * (2 * (Zc @ fd) - fd)))
        deficit_pos_parts.append((iv, sl, Zc, fd))
    cond_means = np.array(cond_means)
    w = chains.data_law[pats]
    mu_pos = w @ cond_means
    slow_pos = float(np.sum(w[:, None] * (cond_means - mu_pos) ** 2))
    m_pos = float(pi_pos @ np.sum(f**2, 1))
    m_neg = float(pi_neg @ np.sum(f**2, 1))
    # start laws: the previous phase was positive (prob b) or negative (1 - b), long enough
    # to end in its stationary law; a positive phase clamps a fresh row (hidden units kept)
    end = b * pi_pos + (1 - b) * pi_neg
    deficit_neg = dt * (end @ ((Zf - np.eye(N)) @ fc))
    h_end = end.reshape(-1, nH).sum(0)              # hidden law at the end of the last phase
    deficit_pos = np.zeros(f.shape[1])
    for iv, sl, Zc, fd in deficit_pos_parts:
        deficit_pos += chains.data_law[iv] * dt * (h_end @ ((Zc - np.eye(nH)) @ fd))
    return RenewalMoments(mu_pos, mu_neg, slow_pos, fast_pos, fast_neg, m_pos, m_neg, deficit_pos, deficit_neg)


# --------------------------------------------------------------------------- measuring an engine
def measure_rbm_always_on(engine, W, a, c, data, b: float, mean_length: float, dt: float = 1.0,
                          replicas: int = 32, windows: int = 20, window_ms: float = 2000.0, seed: int = 0,
                          eta: float = 1e-9, tau_n: float = 1.0, law=None) -> dict:
    """Drift and long-run variance of always-on ISD as an engine simulates it.

    Runs ``replicas`` RBMs (weights ``W, a, c``, negligible learning rate ``eta``: the
    weights stay put) for ``(windows + 1) * window_ms`` ms with exponential phases (mean
    ``mean_length``; or the phase-length law ``law`` of :mod:`neurocl.phases`); the parameter
    increments over each window after the first (burn-in) give ``G = delta / (eta T_w)``, the
    time-averaged update.  Returns ``variance`` (``T_w`` times the summed per-parameter
    variance of ``G`` across all windows: the estimate of ``V``), ``variance_se`` (its
    standard error, from the spread of the per-window squared deviations, windows treated as
    independent: ``T_w >> mean_length``), ``drift`` (``(P,)``, mean of ``G``) and
    ``drift_se`` (``(P,)``, between-replica).
    """
    from neurocl.circuits import RBM
    from neurocl.engines import Simulation, Task
    from neurocl.phases import Exponential, StochasticPhases
    from neurocl.plasticity import ISD

    W, a, c = (np.asarray(x, float) for x in (W, a, c))
    nv, nh = W.shape
    R = replicas
    params = {"W": np.repeat(W[None], R, 0), "a": np.repeat(a[None], R, 0), "c": np.repeat(c[None], R, 0)}

    def snapshot(p):
        return {"theta": np.concatenate([p["W"].reshape(len(p["W"]), -1), p["a"], p["c"]], axis=1)}

    sim = Simulation(dt=dt, duration=(windows + 1) * window_ms, replicas=R, seed=seed, checkpoints=windows + 1)
    law = Exponential(mean_length) if law is None else law
    traj = engine.run(RBM(nv, nh, tau_n=tau_n), ISD(eta), StochasticPhases(b, law),
                      Task(clamp=np.asarray(data, float), evaluate=snapshot), sim, params=params)
    theta = np.asarray(traj.metrics["theta"])            # (windows + 2, R, P)
    G = np.diff(theta, axis=0)[1:] / (eta * window_ms)  # (windows, R, P), burn-in window dropped
    flat = G.reshape(-1, G.shape[-1])
    n = len(flat)
    dev2 = window_ms * np.sum((flat - flat.mean(0)) ** 2, axis=1) * n / (n - 1)
    per_replica = G.mean(0)
    return {"variance": float(dev2.mean()), "variance_se": float(dev2.std(ddof=1) / np.sqrt(n)),
            "drift": flat.mean(0), "drift_se": per_replica.std(0, ddof=1) / np.sqrt(R), "samples": n}


# --------------------------------------------------------------------------- any RBM, from samples
def rbm_mean_field_statistic(W, c, v) -> np.ndarray:
    """The mean-field ISD statistic ``(v sigmoid(c + v W)^T, v, sigmoid(c + v W))`` flattened,
    for visible vectors ``v`` of shape ``(..., nv)``: ``(..., nv*nh + nv + nh)``."""
    v = np.asarray(v, float)
    hm = sigmoid(np.asarray(c, float) + v @ np.asarray(W, float))
    outer = (v[..., :, None] * hm[..., None, :]).reshape(v.shape[:-1] + (-1,))
    return np.concatenate([outer, v, hm], axis=-1)


def rbm_renewal_moments_sampled(W, a, c, data, free_samples, dt: float, batches: int = 20) -> RenewalMoments:
    """:class:`RenewalMoments` of a mean-field RBM of any size: the positive-phase moments
    exactly from the data rows (the statistic is a function of the clamped visible vector
    only: ``slow_pos`` is its covariance trace over rows, ``fast_pos = 0``), the negative-phase
    ones from free-running visible samples ``free_samples`` (``(n, R, nv)``, one per step of
    ``dt`` ms, e.g. ``engine.free_run``): ``mu_neg`` their mean, ``fast_neg`` by batch means
    (``dt m tr Var(batch means)``, ``batches`` per replica of ``m`` steps).  Deficits are not
    estimated (zeros): measure the bias with :func:`measure_rbm_always_on` instead.
    """
    fd = rbm_mean_field_statistic(W, c, data)
    mu_pos = fd.mean(0)
    slow_pos = float(np.sum(fd.var(0)))
    x = np.asarray(free_samples, float)
    n, R = x.shape[:2]
    m = n // batches
    f = rbm_mean_field_statistic(W, c, x[: m * batches])              # (m*B, R, P)
    mu_neg = f.reshape(-1, f.shape[-1]).mean(0)
    bm = f.reshape(batches, m, R, -1).mean(1).reshape(batches * R, -1)
    fast_neg = float(dt * m * np.sum(bm.var(0, ddof=1)))
    m_pos = float(np.mean(np.sum(fd**2, 1)))
    m_neg = float(np.mean(np.sum(f**2, -1)))
    zero = np.zeros_like(mu_pos)
    return RenewalMoments(mu_pos, mu_neg, slow_pos, 0.0, fast_neg, m_pos, m_neg, zero, zero)


def always_on_report(engine, W, a, c, data, b: float, mean_length: float, dt: float = 1.0, tau_n: float = 1.0,
                     replicas: int = 16, free_steps: int = 20_000, windows: int = 16, window_ms: float | None = None,
                     seed: int = 0) -> dict:
    """What ``neurocl check-theory`` can report on the always-on estimator of any mean-field RBM
    (weights ``W, a, c``; exponential phases of mean ``mean_length`` ms, positive with
    probability ``b``).

    Predictions (:func:`rbm_renewal_moments_sampled`, negative-phase moments from an
    ``engine.free_run`` of ``replicas x free_steps`` steps): the single-sample ``b*``, the
    variance-optimal ``b_opt``, ``V(b)``; measured with the engine
    (:func:`measure_rbm_always_on`, ``windows`` windows of ``window_ms``, default ``100 x
    mean_length``): ``V(b)`` with its standard error, and the drift's relative bias against
    the exact gradient (enumeration of the visible states, :func:`neurocl.measure.exact.rbm_nll_grad`):
    ``sqrt(max(0, |drift - grad|^2 - sum se^2)) / |grad|`` (the noise's share removed), with
    the noise level ``sqrt(sum se^2) / |grad|`` (``relative_bias_noise``) beside it.
    """
    from neurocl.circuits import RBM
    from neurocl.engines import Simulation
    from neurocl.measure.exact import rbm_nll_grad

    W, a, c = (np.asarray(x, float) for x in (W, a, c))
    R = replicas
    params = {"W": np.repeat(W[None], R, 0), "a": np.repeat(a[None], R, 0), "c": np.repeat(c[None], R, 0)}
    free = engine.free_run(RBM(*W.shape, tau_n=tau_n), params,
                           Simulation(dt=dt, duration=free_steps * dt, replicas=R, seed=seed))
    mom = rbm_renewal_moments_sampled(W, a, c, data, free, dt)
    L1, L2 = grid_length_moments(mean_length, dt)
    window_ms = 100.0 * mean_length if window_ms is None else window_ms
    meas = measure_rbm_always_on(engine, W, a, c, data, b, mean_length, dt, R, windows, window_ms, seed + 1,
                                 tau_n=tau_n)
    gW, ga, gc = rbm_nll_grad(W, a, c, np.asarray(data, float))
    grad = -np.concatenate([np.ravel(gW), ga, gc])
    diff = meas["drift"] - grad
    noise2 = float(np.sum(meas["drift_se"] ** 2))      # E|diff|^2 = |bias|^2 + sum se^2
    return {"b": b, "mean_length_ms": mean_length, "single_sample_b": mom.single_sample_b,
            "variance_optimal_b": mom.optimal_b(L2 / L1), "m_pos": mom.m_pos, "m_neg": mom.m_neg,
            "predicted_variance": float(mom.variance(b, L2 / L1)),
            "single_sample_variance": float(dt * (mom.m_pos / b + mom.m_neg / (1 - b) - np.sum(grad**2))),
            "measured_variance": meas["variance"], "measured_variance_se": meas["variance_se"],
            "relative_bias": float(np.sqrt(max(0.0, diff @ diff - noise2)) / np.linalg.norm(grad)),
            "relative_bias_noise": float(np.sqrt(noise2) / np.linalg.norm(grad))}
