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

The two terms of the bias, ``O(eta s / tau) + O(eta^2 tau)`` (Williams et al. 2023)
-----------------------------------------------------------------------------------
With learning rate ``eta`` the weights follow ``dtheta/dt = eta Y``; averaging over the fast
(state, phase) process gives the mean flow ``dtheta/dt = eta drift(theta)`` with, per unit
learning rate, ::

    drift = g + (D+ - D-) / E[L] + eta beta_eta + O(eta s) + O((s/tau)^2) + O((eta tau)^2)   (B1)

``g`` the exact gradient.  The ``eta s / tau`` term (``eta`` times the second) is the phase
starts' relaxation deficit above.  The ``eta^2 tau`` term (``eta`` times the third): within
a phase of sign ``z`` the weights move at ``eta w(z) f`` while the mean flow moves at ``eta
g``, so at age ``t`` of the current phase the weights are ahead of the mean flow by ``eta t
(w(z) mu_z - g)`` (plus zero-mean noise); the statistic of a phase tracks its stationary mean
``mu_z(theta)`` (phases much longer than the mixing time), so the update is ``w(z) [mu_z +
eta t J_z (w(z) mu_z - g)]`` with ``J_z = d mu_z / d theta``.  Averaging over the sign
(independent of the phase's age) and the age (mean ``A = E[L^2] / (2 E[L])``, the renewal
backward-recurrence time: ``tau`` for exponential lengths), and over the data pattern ``d`` a
positive phase clamps (``f_d``, ``J_d``; ``w(+) = 1/b``, ``w(-) = -1/(1-b)``)::

    beta_eta = A [ sum_d p_d J_d (f_d / b - g) + J_- (mu_- / (1 - b) + g) ]                (B2)

(:func:`learning_rate_bias`; :func:`mean_phase_age` gives ``A = (E[L^2]/E[L] - dt) / 2`` on
the engine's grid, whose ``n``-th update of a phase sees ``n - 1`` earlier ones).  Without
data patterns (``J_d = J_+``) this is ``A (J_+/b + J_-/(1-b)) m_b``, ``m_b = (1-b) mu_+ + b
mu_-`` the same common-mode movement that sets ``V(b)``.  Relative to ``|g|``, the bias is
``c_1 s / tau + c_2 eta tau``: slope -1 against ``tau`` at fixed ``eta`` while the first term
dominates, slope +1 against ``eta`` (the drift's error ``eta x bias`` grows as ``eta^2 tau``).
For the RBM's mean-field statistic ``f(v) = (v s^T, v, s)``, ``s = sigmoid(c + v W)``, the
free-energy gradient gives ``J_- u = Cov_model(f, f . u) + E_model[df(v) u]`` and ``J_d u =
df(d) u`` (:func:`rbm_learning_rate_bias`; enumeration, or free-running samples for any size).

Exact first order in ``eta`` (:func:`rbm_always_on_first_order`), for the joint chain with
kernel ``P_theta``, update ``Y_theta`` and stationary law ``pi`` at the current weights, in
the engine's order ``X_{k+1} ~ P_{theta_k}(X_k, .)``, ``theta_{k+1} = theta_k + eta dt
Y_{theta_k}(X_{k+1})``: the weight deviation's correlation with the state,
``a~ = E[(theta_k - E theta_k) 1{X_k = x}] / eta``, and the law's first-order change ``q~``
solve ``a~ = P^T a~ + dt (diag(pi) Y - pi drift0^T)``, ``q~ = P^T q~ + sum_j dP_j^T a~_j - dt
dpi`` (``dP_j = dP/dtheta_j``, ``dpi`` the derivative of ``pi`` along ``drift0``), i.e.
``a~ = dt Z^T (diag(pi) Y - pi drift0^T)``, ``q~ = Z^T (sum_j dP_j^T a~_j - dt dpi)`` with the
fundamental matrix ``Z``; then ::

    drift1 = q~^T P Y + sum_j a~_j^T (dP_j Y + P dY_j)                                      (B3)

is exact at first order (it contains the ``O(eta s)`` lag terms that (B2) neglects); the part
of ``E[Y_{k+1}]`` growing with ``k`` is the mean flow's own motion, ``k dt J0 drift0``.
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
    "EXACT_CHAIN_UNITS",
    "EXACT_FIRST_ORDER_UNITS",
    "mean_phase_age",
    "learning_rate_bias",
    "rbm_statistic_jvp",
    "rbm_learning_rate_bias",
    "FirstOrderDrift",
    "rbm_always_on_first_order",
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
    """Stationary law of an irreducible kernel: ``pi (P - I) = 0`` with one equation replaced
    by ``sum pi = 1`` (LU solve; least squares if that system is singular)."""
    n = len(P)
    A = P.T - np.eye(n)
    A[-1] = 1.0
    rhs = np.zeros(n)
    rhs[-1] = 1.0
    try:
        pi = np.linalg.solve(A, rhs)
    except np.linalg.LinAlgError:
        A = np.vstack([P.T - np.eye(n), np.ones((1, n))])
        pi = np.linalg.lstsq(A, np.r_[np.zeros(n), 1.0], rcond=None)[0]
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


def _joint_kernel(chains: RBMChains, b: float, mean_length: float, dt: float):
    """``(P, Y)``: the joint (phase sign, v, h) one-step kernel (``2N x 2N``; negative states
    first) and the update ``Y = w(z) f`` per joint state (``(2N, P)``)."""
    F, C, R = chains.free, chains.clamped, chains.fresh
    N = len(F)
    q = -np.expm1(-dt / mean_length)
    P = np.zeros((2 * N, 2 * N))
    P[:N, :N] = (q * (1 - b) + (1 - q)) * F
    P[N:, :N] = q * (1 - b) * F
    P[:N, N:] = q * b * R
    P[N:, N:] = q * b * R + (1 - q) * C
    return P, np.vstack([-chains.f / (1 - b), chains.f / b])


def rbm_always_on_chain(chains: RBMChains, b: float, mean_length: float, dt: float) -> AlwaysOnChain:
    """Exact drift and long-run variance of always-on ISD with exponential phases (mean
    ``mean_length`` ms, sign positive with probability ``b``) on the numpy engine's grid.

    Joint state after a step: ``(z, v, h)``.  Next step: with probability ``q = 1 -
    exp(-dt/tau)`` a new phase begins (sign ``~ Bernoulli(b)``; a positive one clamps a fresh
    data row), else the sign stays; then the engine's RBM step (free or clamped); the
    update ``Y = w(z) f(v, h)``, ``w = 1/b`` or ``-1/(1-b)``.  The weights are held fixed
    (learning rate -> 0).
    """
    P, Y = _joint_kernel(chains, b, mean_length, dt)
    pi = _stationary(P)
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


# --------------------------------------------------------------------------- moving weights: the eta term
def mean_phase_age(length_ratio: float, dt: float) -> float:
    """Mean age ``A`` of the current phase at an update (ms): ``E[L^2] / (2 E[L]) - dt / 2``
    (renewal theory's mean backward recurrence time ``Lambda / 2``; the engine's ``n``-th
    update of a phase sees the ``n - 1`` earlier ones, hence ``- dt / 2``)."""
    return 0.5 * (length_ratio - dt)


def learning_rate_bias(mean_age: float, b: float, f_pos, weights_pos, mu_neg, jvp_pos, jvp_neg) -> np.ndarray:
    """Coefficient ``beta_eta`` of the learning-rate term of the always-on drift.

    Module docstring, eq. (B2): ``drift = g + (D+ - D-) / E[L] + eta beta_eta + ...`` with::

        beta_eta = A [ sum_d p_d J_d (f_d / b - g) + J_- (mu_- / (1 - b) + g) ],
        g = sum_d p_d f_d - mu_-.

    Parameters
    ----------
    mean_age : float
        ``A`` (ms), :func:`mean_phase_age`.
    b : float
        Probability of a positive phase.
    f_pos : (n, P) array
        Mean statistic ``f_d`` of a positive phase clamping data pattern ``d``.
    weights_pos : (n,) array
        Probabilities ``p_d`` of the patterns (sum 1).
    mu_neg : (P,) array
        Mean statistic of negative (free) phases.
    jvp_pos : callable ``(n, P) -> (n, P)``
        Row ``d`` of its argument ``u`` -> ``J_d u_d``, ``J_d = d f_d / d theta``.
    jvp_neg : callable ``(P,) -> (P,)``
        ``u -> J_- u``, ``J_- = d mu_- / d theta`` (total derivative).

    Returns
    -------
    (P,) array, units of ``f x ms`` (multiply by ``eta`` in 1/ms for the drift's term).
    """
    f_pos = np.asarray(f_pos, float)
    p = np.asarray(weights_pos, float)
    mu_neg = np.asarray(mu_neg, float)
    g = p @ f_pos - mu_neg
    r_pos = p @ np.asarray(jvp_pos(f_pos / b - g), float)
    r_neg = np.asarray(jvp_neg(mu_neg / (1.0 - b) + g), float)
    return mean_age * (r_pos + r_neg)


def rbm_statistic_jvp(W, c, v, u) -> np.ndarray:
    """Directional derivative along ``u`` (flattened ``(W, a, c)``, rows broadcast with ``v``)
    of the mean-field statistic :func:`rbm_mean_field_statistic` at visible vectors ``v``:
    ``ds = s (1 - s) (u_c + v u_W)``, ``df = (v ds^T, 0, ds)``."""
    W, c, v = (np.asarray(x, float) for x in (W, c, v))
    nv, nh = W.shape
    u = np.asarray(u, float)
    uW = u[..., : nv * nh].reshape(u.shape[:-1] + (nv, nh))
    uc = u[..., nv * nh + nv:]
    s = sigmoid(c + v @ W)
    ds = s * (1.0 - s) * (uc + np.einsum("...i,...ij->...j", v, uW))
    outer = (v[..., :, None] * ds[..., None, :]).reshape(ds.shape[:-1] + (-1,))
    return np.concatenate([outer, np.zeros(ds.shape[:-1] + (nv,)), ds], axis=-1)


def rbm_learning_rate_bias(W, a, c, data, b: float, mean_age: float, v_neg=None) -> np.ndarray:
    """:func:`learning_rate_bias` of mean-field ISD on an RBM (``(P,)``, per unit ``eta``).

    Positive phases: ``f_d`` = the mean-field statistic of data row ``d`` (rows equally
    likely), ``J_d`` its explicit derivative (:func:`rbm_statistic_jvp`).  Negative phases:
    ``mu_- = E_model[f(v)]`` and, since ``d log p(v) / d theta = f(v) - mu_-`` for the
    mean-field statistic ``f`` (free-energy gradient), ``J_- u = E[(f - mu_-) (f - mu_-) . u]
    + E[df(v) u]``: by enumeration of the visible states (exact model marginal) when
    ``v_neg`` is None, else over the free-running visible samples ``v_neg`` (``(n, nv)``).
    """
    from neurocl.measure.exact import rbm_visible_log_probs

    W, a, c = (np.asarray(x, float) for x in (W, a, c))
    d = np.asarray(data, float)
    if v_neg is None:
        v_neg = all_states(W.shape[0])
        p_neg = np.exp(rbm_visible_log_probs(W, a, c, v_neg))
        p_neg /= p_neg.sum()
    else:
        v_neg = np.asarray(v_neg, float).reshape(-1, W.shape[0])
        p_neg = np.full(len(v_neg), 1.0 / len(v_neg))
    f_pos = rbm_mean_field_statistic(W, c, d)
    f_neg = rbm_mean_field_statistic(W, c, v_neg)
    mu_neg = p_neg @ f_neg
    fc = f_neg - mu_neg

    def jvp_neg(u):
        return p_neg @ (fc * (fc @ u)[:, None]) + p_neg @ rbm_statistic_jvp(W, c, v_neg, u)

    return learning_rate_bias(mean_age, b, f_pos, np.full(len(d), 1.0 / len(d)), mu_neg,
                              lambda u: rbm_statistic_jvp(W, c, d, u), jvp_neg)


@dataclass(frozen=True)
class FirstOrderDrift:
    """Exact always-on drift to first order in the learning rate (:func:`rbm_always_on_first_order`):
    ``drift(eta) = drift0 + eta drift1 + O(eta^2)`` per unit learning rate, at the weights
    the mean flow has reached (``drift0``: frozen-weight chain drift; ``drift1``: ``f x ms``);
    ``gradient``; ``drift0_jac`` and ``gradient_jac`` (``(P, P)``, d/dtheta); with
    ``window_terms``: ``drift1_along`` (``d drift1 / dtheta . drift0``), ``drift0_curv``
    (``d^2 drift0 [drift0, drift0]``), ``gradient_curv`` (``d^2 g [g, g]``), for the mean flow's
    own change over a window (:meth:`window_drift`)."""

    drift0: np.ndarray
    drift1: np.ndarray
    gradient: np.ndarray
    drift0_jac: np.ndarray
    gradient_jac: np.ndarray
    drift1_along: np.ndarray | None = None
    drift0_curv: np.ndarray | None = None
    gradient_curv: np.ndarray | None = None

    def bias(self, eta: float) -> np.ndarray:
        """``drift0 + eta drift1 - gradient``: the stationary drift's bias (mean ODE, eq. (B1))."""
        return self.drift0 + eta * self.drift1 - self.gradient

    def window_drift(self, eta: float, t_mid: float, t2_mean: float) -> np.ndarray:
        """Mean drift over a window of the weights' own run (weights ``theta0`` at ``t = 0``,
        ``t_mid`` and ``t2_mean`` the window's mean of ``t`` and ``t^2``, ms, ms^2), to second
        order in ``eta`` along the mean flow ``dtheta/dt = eta (drift0 + eta drift1)``:
        ``drift0 + eta (drift1 + t J0 drift0) + eta^2 [t (J0 drift1 + d drift1 . drift0)
        + t^2/2 (J0 J0 drift0 + d^2 drift0[drift0, drift0])]`` (the stationary second-order
        drift ``drift2`` is not included)."""
        J0, h0 = self.drift0_jac, self.drift0
        out = h0 + eta * (self.drift1 + t_mid * J0 @ h0)
        if self.drift1_along is not None:
            out = out + eta**2 * (t_mid * (J0 @ self.drift1 + self.drift1_along)
                                  + 0.5 * t2_mean * (J0 @ (J0 @ h0) + self.drift0_curv))
        return out

    def window_flow(self, eta: float, t_mid: float, t2_mean: float) -> np.ndarray:
        """The exact gradient flow's mean rate over the same window (per unit ``eta``), to the
        same order: ``g + eta t Jg g + eta^2 t^2/2 (Jg Jg g + d^2 g[g, g])``."""
        Jg, g = self.gradient_jac, self.gradient
        out = g + eta * t_mid * Jg @ g
        if self.gradient_curv is not None:
            out = out + 0.5 * eta**2 * t2_mean * (Jg @ (Jg @ g) + self.gradient_curv)
        return out


def _flat(W, a, c):
    return np.concatenate([np.ravel(W), a, c])


def _unflat(theta, nv, nh):
    return theta[: nv * nh].reshape(nv, nh), theta[nv * nh: nv * nh + nv], theta[nv * nh + nv:]


def _first_order_core(build, theta0, dt: float, step: float):
    """``(h0, h1, g, J0, Jg)`` at ``theta0`` (:func:`rbm_always_on_first_order`)."""
    P, Y, g = build(theta0)
    n, m = Y.shape
    pi = _stationary(P)
    h0 = pi @ Y
    Zt = _fundamental(P, pi).T
    dP, dY, dg, dh0 = [], [], np.empty((m, m)), np.empty((m, m))
    for j in range(m):
        e = np.zeros(m)
        e[j] = step
        Pp, Yp, gp = build(theta0 + e)
        Pm, Ym, gm = build(theta0 - e)
        dP.append((Pp - Pm) / (2 * step))
        dY.append((Yp - Ym) / (2 * step))
        dg[:, j] = (gp - gm) / (2 * step)
        # d drift0 / d theta_j = dpi_j Y + pi dY_j, dpi_j = Z^T dP_j^T pi (perturbation of pi)
        dh0[:, j] = (Zt @ (dP[-1].T @ pi)) @ Y + pi @ dY[-1]
    dP, dY = np.array(dP), np.array(dY)          # (m, n, n), (m, n, m)
    # eq. (B3): a~ = dt Z^T (diag(pi) Y - pi h0^T), the weight deviation's correlation with the state
    a_t = dt * Zt @ (pi[:, None] * Y - np.outer(pi, h0))
    dP_h0 = np.tensordot(h0, dP, axes=1)          # d P along the flow
    dpi = Zt @ (dP_h0.T @ pi)                     # d pi along the flow
    q_t = Zt @ (np.einsum("jxy,xj->y", dP, a_t) - dt * dpi)
    h1 = q_t @ (P @ Y) + np.einsum("xj,jxy,yk->k", a_t, dP, Y) + np.einsum("xj,xy,jyk->k", a_t, P, dY)
    return h0, h1, g, dh0, dg


def rbm_always_on_first_order(W, a, c, data, b: float, mean_length: float, dt: float = 1.0, tau_n: float = 1.0,
                              step: float = 1e-5, window_terms: bool = False, mean_field: bool = True) -> FirstOrderDrift:
    """The joint (phase, v, h) chain of :func:`rbm_always_on_chain` with the weights moving:
    ``theta_{k+1} = theta_k + eta dt Y_{theta_k}(X_{k+1})``, ``X_{k+1} ~ P_{theta_k}(X_k, .)``
    (the engine's order), expanded to first order in ``eta`` (module docstring, eq. (B3)).

    Derivatives of the kernel ``P_theta``, the update ``Y_theta`` and the exact gradient are
    central differences of step ``step`` (error ``O(step^2)``, about 1e-9 relative).
    ``window_terms``: also the second-order terms of the mean flow over a window
    (:meth:`FirstOrderDrift.window_drift`; three times the cost).
    """
    W, a, c = (np.asarray(x, float) for x in (W, a, c))
    nv, nh = W.shape
    theta0 = _flat(W, a, c)

    def build(theta):
        ch = rbm_chains(*_unflat(theta, nv, nh), data, dt, tau_n, mean_field)
        P, Y = _joint_kernel(ch, b, mean_length, dt)
        return P, Y, ch.exact_gradient

    h0, h1, g, J0, Jg = _first_order_core(build, theta0, dt, step)
    if not window_terms:
        return FirstOrderDrift(h0, h1, g, J0, Jg)
    eps = 1e-4 / np.linalg.norm(h0)
    hp = _first_order_core(build, theta0 + eps * h0, dt, step)[1]
    hm = _first_order_core(build, theta0 - eps * h0, dt, step)[1]

    def drift0(theta):
        P, Y, gg = build(theta)
        return _stationary(P) @ Y, gg

    e0 = 1e-3 / np.linalg.norm(h0)
    (d_p, _), (d_m, _) = drift0(theta0 + e0 * h0), drift0(theta0 - e0 * h0)
    eg = 1e-3 / np.linalg.norm(g)
    (_, g_p), (_, g_m) = drift0(theta0 + eg * g), drift0(theta0 - eg * g)
    curv0 = (d_p - 2 * h0 + d_m) / e0**2
    curvg = (g_p - 2 * g + g_m) / eg**2
    return FirstOrderDrift(h0, h1, g, J0, Jg, (hp - hm) / (2 * eps), curv0, curvg)


# --------------------------------------------------------------------------- measuring an engine
def measure_rbm_always_on(engine, W, a, c, data, b: float, mean_length: float, dt: float = 1.0,
                          replicas: int = 32, windows: int = 20, window_ms: float = 2000.0, seed: int = 0,
                          eta: float = 1e-9, tau_n: float = 1.0, law=None, mean_field: bool = True) -> dict:
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
    traj = engine.run(RBM(nv, nh, tau_n=tau_n), ISD(eta, mean_field=mean_field), StochasticPhases(b, law),
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


#: the exact joint chain is used when ``n_visible + n_hidden`` is at most this (2^(n+1) joint states)
EXACT_CHAIN_UNITS = 10
#: ... and its first order in ``eta`` (``P`` kernels of that size) when at most this
EXACT_FIRST_ORDER_UNITS = 8


def always_on_report(engine, W, a, c, data, b: float, law=None, dt: float = 1.0, tau_n: float = 1.0,
                     eta: float = 0.0, mean_field: bool = True, replicas: int = 16, free_steps: int = 4000,
                     windows: int = 16, window_ms: float | None = None, seed: int = 0,
                     mean_length: float | None = None) -> dict:
    """What ``neurocl check-theory --always-on`` reports on the always-on estimator of an RBM
    (weights ``W, a, c``; phases positive with probability ``b``, lengths from the phase law
    ``law`` of :mod:`neurocl.phases`, or exponential of mean ``mean_length`` ms; learning
    rate ``eta`` 1/ms).

    Variance (``f^2 x ms``): ``V(b)`` predicted -- the exact joint chain
    (:func:`rbm_always_on_chain`) when ``n_visible + n_hidden <= EXACT_CHAIN_UNITS`` and the law
    is exponential, else the renewal form :func:`renewal_variance` with ``Lambda =``
    :func:`length_ratio` and moments by enumeration (small RBMs) or from an ``engine.free_run``
    of ``replicas x free_steps`` steps (:func:`rbm_renewal_moments_sampled`, mean-field only);
    the single-sample ``b*`` and the variance-optimal ``b_opt``; ``V`` measured with the engine
    (:func:`measure_rbm_always_on`: ``windows`` windows of ``window_ms``, default ``100 x``
    the mean length) +- s.e.

    Bias (relative to ``|g|``, the exact gradient by enumeration of one layer): the ``s/tau``
    part (weights held still) -- exact chain, else the engine's measurement (its leading-order
    form needs relaxation deficits, which only enumeration gives) -- and the learning-rate part
    ``eta x drift1`` -- exact first order (:func:`rbm_always_on_first_order`) when ``n_visible +
    n_hidden <= EXACT_FIRST_ORDER_UNITS`` and the law is exponential, else the leading order
    (B2) with measured moments (:func:`rbm_learning_rate_bias` on the free-run samples).  The
    engine's measured bias is ``sqrt(max(0, |drift - g|^2 - sum se^2)) / |g|`` (the noise's
    share removed) with the noise level ``sqrt(sum se^2) / |g|``.  ``*_method`` entries say
    which computation each number comes from.
    """
    from neurocl.circuits import RBM
    from neurocl.engines import Simulation
    from neurocl.measure.exact import rbm_nll_grad
    from neurocl.phases import LAWS, Exponential

    if law is None:
        law = Exponential(mean_length)
    W, a, c = (np.asarray(x, float) for x in (W, a, c))
    data = np.asarray(data, float)
    nv, nh = W.shape
    exponential = LAWS.key_of(law) == "exponential"
    small = nv + nh <= EXACT_CHAIN_UNITS
    lam = length_ratio(law, dt)
    R = replicas
    out = {"b": b, "mean_length_ms": law.mean, "length_ratio_ms": lam, "eta_per_ms": eta}
    gW, ga, gc = rbm_nll_grad(W, a, c, data)
    grad = -np.concatenate([np.ravel(gW), ga, gc])
    gn = float(np.linalg.norm(grad))
    v_neg = None
    if small:
        ch = rbm_chains(W, a, c, data, dt, tau_n, mean_field)
        mom = rbm_renewal_moments(ch, b, dt)
        moments = "enumeration"
    else:
        if not mean_field:
            from neurocl.errors import ConfigError

            raise ConfigError(f"the always-on theory of an RBM with n_visible + n_hidden = {nv + nh} > "
                              f"{EXACT_CHAIN_UNITS} (not enumerable) needs the mean-field statistic: set "
                              f"mean_field = true in the ISD rule")
        params = {"W": np.repeat(W[None], R, 0), "a": np.repeat(a[None], R, 0), "c": np.repeat(c[None], R, 0)}
        free = engine.free_run(RBM(nv, nh, tau_n=tau_n), params,
                               Simulation(dt=dt, duration=free_steps * dt, replicas=R, seed=seed))
        mom = rbm_renewal_moments_sampled(W, a, c, data, free, dt)
        v_neg = np.asarray(free).reshape(-1, nv)[:: max(1, (free_steps * R) // 20_000)]
        moments = f"engine free run ({R} x {free_steps} steps)"
    out.update(single_sample_b=mom.single_sample_b, variance_optimal_b=mom.optimal_b(lam),
               m_pos=mom.m_pos, m_neg=mom.m_neg, moments_method=moments,
               single_sample_variance=float(dt * (mom.m_pos / b + mom.m_neg / (1 - b) - np.sum(grad**2))))
    exact = small and exponential
    chain = rbm_always_on_chain(ch, b, law.mean, dt) if exact else None
    if exact:
        out.update(predicted_variance=chain.variance, variance_method="exact joint chain")
    else:
        out.update(predicted_variance=float(mom.variance(b, lam)),
                   variance_method=f"renewal V(b), Lambda = {lam:.4g} ms, moments by {moments}")
    window_ms = 100.0 * law.mean if window_ms is None else window_ms
    window_ms = max(dt, round(window_ms / dt) * dt)
    meas = measure_rbm_always_on(engine, W, a, c, data, b, law.mean, dt, R, windows, window_ms, seed + 1,
                                 tau_n=tau_n, law=law, mean_field=mean_field)
    diff = meas["drift"] - grad
    noise2 = float(np.sum(meas["drift_se"] ** 2))      # E|diff|^2 = |bias|^2 + sum se^2
    out.update(measured_variance=meas["variance"], measured_variance_se=meas["variance_se"],
               measured_relative_bias=float(np.sqrt(max(0.0, diff @ diff - noise2)) / gn),
               measured_relative_bias_noise=float(np.sqrt(noise2) / gn), gradient_norm=gn)
    if exact:
        out.update(frozen_relative_bias=chain.relative_bias, frozen_method="exact joint chain")
    elif small:
        lead = renewal_bias(law.mean, mom.deficit_pos, mom.deficit_neg)
        out.update(frozen_relative_bias=float(np.linalg.norm(lead) / gn),
                   frozen_method="leading order (D+ - D-)/E[L], deficits by enumeration")
    else:
        out.update(frozen_relative_bias=out["measured_relative_bias"],
                   frozen_method="engine measurement (leading order needs enumeration)")
    if exact and nv + nh <= EXACT_FIRST_ORDER_UNITS:
        fo = rbm_always_on_first_order(W, a, c, data, b, law.mean, dt, tau_n, mean_field=mean_field)
        eta_part = eta * fo.drift1
        out.update(eta_method="exact first order in eta (joint chain)",
                   total_relative_bias=float(np.linalg.norm(fo.bias(eta)) / gn))
    else:
        eta_part = eta * rbm_learning_rate_bias(W, a, c, data, b, mean_phase_age(lam, dt), v_neg)
        out.update(eta_method=f"leading order (B2), moments by {moments}"
                   + ("" if mean_field else " (mean-field formula)"))
    out.update(eta_relative_bias=float(np.linalg.norm(eta_part) / gn))
    return out
