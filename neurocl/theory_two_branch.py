"""The high-dimensional limit of two-branch / multi-view contrastive learning: an ODE for the
overlaps ``M = W^T U / sqrt(N)`` and ``Q = W^T W / N`` (paper 001, ``papers/001_*``; the model,
loss and learning rule are those of :mod:`neurocl.circuits.two_branch`).

Derivation
----------
Write one sample's views as ``x^(k) = U c + P g + s xi^(k)`` with ``P = I - U U^T``.  The
pre-activations ``h^(k) = W^T x^(k) / sqrt(N)`` split into the part along ``span(U)`` and the
part outside it.  Decompose ``xi^(k) = U zeta^(k) + P xi^(k)``: ``zeta^(k) = U^T xi^(k)`` is a
standard ``d1``-vector, and ``W^T P v / sqrt(N)`` for a standard Gaussian ``v`` is Gaussian with
covariance ``W^T P W / N = Q - M M^T``, independent of ``U^T v``.  Hence, exactly for every
``N``::

    h^(k) = M u^(k) + L (eps + s eta^(k)),     u^(k) = c + s zeta^(k) = U^T x^(k),
    L L^T = Q - M M^T,

with ``eps`` (background), ``eta^(k)`` (view noise outside ``span(U)``) standard ``K``-vectors
and ``zeta^(k)`` standard ``d1``-vectors; ``(zeta^(k))_k`` and ``(eta^(k))_k`` are correlated
across views with the view-noise correlation ``R`` (1 on the diagonal, ``rho`` off it); ``c``
is independent of all of them.  So every expectation over a sample is a finite-dimensional
expectation that depends on ``W`` only through ``(M, Q)``.

One SGD step is ``dW = -tau/sqrt(N) sum_k x^(k) e^(k)T - (tau mu / N) W`` with ``e^(k) =
dL/dh^(k)``.  Then ``dM = dW^T U / sqrt(N) = -(tau/N) [sum_k e^(k) u^(k)T + mu M]``, and
``dQ = (W^T dW + dW^T W + dW^T dW) / N`` with ``W^T x^(k) / sqrt(N) = h^(k)`` and
``x^(k)T x^(l) / N -> 1 + s^2 R_kl``.  Over ``N dt`` steps the increments average
(concentration: the fluctuations are ``O(N^-1/2)``), so with ``t = steps / N``::

    dM/dt = -tau E[sum_k e^(k) u^(k)T] - tau mu M
    dQ/dt = -tau E[sum_k (h^(k) e^(k)T + e^(k) h^(k)T)] - 2 tau mu Q
            + tau^2 sum_{k,l} (1 + s^2 R_kl) E[e^(k) e^(l)T]

The last term is the second-order (SGD noise) term.  For the always-on phase-switching
version (ISD with the attraction term in positive phases, weight ``1/b``, and the
decorrelation term in negative phases, weight ``1/(1-b)``) the drift is the same and the
second-order term becomes ``(1/b) T(e_att) + (1/(1-b)) T(e_dec)`` with ``T(e) = sum_{k,l}
(1 + s^2 R_kl) E[e^(k) e^(l)T]``: the estimator's extra variance, ``M+/b + M-/(1-b) -
|mu+ - mu-|^2`` in the notation of ``papers/README.md``, enters only here.

Learnability from ``M = 0`` (linearisation): with ``z^(k) = L (eps + s eta^(k))`` and
``J_kl = de^(k)/dh^(l)`` at ``h = z``, ``E[e^(k)(z) u^(k)T] = 0`` and, to first order in ``M``,
``dM/dt = G M`` with ``G = -tau sum_{k,l} (c_var + s^2 R_kl) E[J_kl(z)] - tau mu I``: the growth
rate depends on the feature law only through its second moment ``c_var`` (paper 001's first
claim); higher moments enter at higher order (which feature a unit selects).

Expectations are computed by Monte Carlo with common random numbers (one set of base samples
for the whole solution, so the right-hand side is smooth in ``(M, Q)``); the accuracy of a
solution is stated by :func:`mc_error`: the sup-norm difference between two solutions with
independent base samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.circuits.two_branch import output_errors, sample_features, view_noise_factor

__all__ = ["BaseSamples", "draw_base", "overlap_drift", "solve_ode", "mc_error", "growth_matrix",
           "growth_rate", "OdeSolution", "gradient_second_moment"]


@dataclass(frozen=True)
class BaseSamples:
    """Base random numbers of the Monte Carlo expectations: ``c`` (n, d1), ``eps`` (n, K),
    ``zeta`` (n, A, d1), ``eta`` (n, A, K) (the last two correlated across views)."""

    c: np.ndarray
    eps: np.ndarray
    zeta: np.ndarray
    eta: np.ndarray


def draw_base(model, n: int, rng: np.random.Generator) -> BaseSamples:
    """``n`` base samples for ``model`` (a :class:`~neurocl.circuits.two_branch.TwoBranch`)."""
    A, K, d1 = model.views, model.K, model.d1
    Lr = view_noise_factor(A, model.rho)
    c = sample_features(model.feature_law, rng, (n, d1), model.c_var)
    zeta = np.einsum("kl,nld->nkd", Lr, rng.standard_normal((n, A, d1)))
    eta = np.einsum("kl,nlj->nkj", Lr, rng.standard_normal((n, A, K)))
    return BaseSamples(c, rng.standard_normal((n, K)), zeta, eta)


def _sqrt_psd(S: np.ndarray) -> np.ndarray:
    """The symmetric square root ``V sqrt(w) V^T`` of a PSD matrix: any ``L`` with ``L L^T = S``
    gives the same Gaussian law, but only this one is continuous in ``S`` (eigenvectors of a
    nearly degenerate ``S`` rotate abruptly, which would make the ODE's right-hand side jump
    under common random numbers)."""
    w, V = np.linalg.eigh(0.5 * (S + S.T))
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def _fields(model, M, Q, base):
    """Pre-activations ``h`` (n, A, K) and projections ``u`` (n, A, d1) of the base samples."""
    L = _sqrt_psd(Q - M @ M.T)
    u = base.c[:, None, :] + model.s * base.zeta
    h = u @ M.T + (base.eps[:, None, :] + model.s * base.eta) @ L.T
    return h, u


def _second_order(model, e):
    """``sum_{k,l} (1 + s^2 R_kl) E[e^(k) e^(l)T]`` (K x K)."""
    A = model.views
    R = np.full((A, A), model.rho) + (1.0 - model.rho) * np.eye(A)
    Wkl = 1.0 + model.s ** 2 * R
    return np.einsum("kl,nki,nlj->ij", Wkl, e, e) / len(e)


def overlap_drift(model, M: np.ndarray, Q: np.ndarray, base: BaseSamples, tau: float, b: float | None = None):
    """``(dM/dt, dQ/dt)`` of the ODE (module docstring); ``b`` set: the phase-switching (ISD)
    version's second-order term."""
    h, u = _fields(model, M, Q, base)
    e = output_errors(h, model.activation, model.lam)
    n = len(h)
    dM = -tau * np.einsum("nki,nkd->id", e, u) / n - tau * model.mu * M
    he = np.einsum("nki,nkj->ij", h, e) / n
    dQ = -tau * (he + he.T) - 2.0 * tau * model.mu * Q
    if b is None:
        dQ = dQ + tau ** 2 * _second_order(model, e)
    else:
        e_att = output_errors(h, model.activation, model.lam, "attract")
        e_dec = output_errors(h, model.activation, model.lam, "decorrelate")
        dQ = dQ + tau ** 2 * (_second_order(model, e_att) / b + _second_order(model, e_dec) / (1.0 - b))
    return dM, 0.5 * (dQ + dQ.T)


@dataclass(frozen=True)
class OdeSolution:
    """``t`` (T,), ``M`` (T, K, d1), ``Q`` (T, K, K) of an ODE solution."""

    t: np.ndarray
    M: np.ndarray
    Q: np.ndarray


def solve_ode(model, M0, Q0, tau: float, t_end: float, *, dt: float = 0.01, n_mc: int = 20000, seed: int = 0,
              b: float | None = None, t_eval=None) -> OdeSolution:
    """Classical RK4 with step ``dt`` (in ``t = steps / N``) and ``n_mc`` base samples (seed
    ``seed``); values at ``t_eval`` (default: every step)."""
    base = draw_base(model, n_mc, np.random.default_rng(seed))
    n_steps = int(np.ceil(t_end / dt - 1e-9))
    dt = t_end / n_steps
    t_eval = np.arange(n_steps + 1) * dt if t_eval is None else np.asarray(t_eval, float)
    M, Q = np.array(M0, float), np.array(Q0, float)
    ts, Ms, Qs = [], [], []
    k_eval = np.round(t_eval / dt).astype(int)
    f = lambda M, Q: overlap_drift(model, M, Q, base, tau, b)  # noqa: E731
    for k in range(n_steps + 1):
        if k in set(k_eval.tolist()):
            ts.append(k * dt), Ms.append(M.copy()), Qs.append(Q.copy())
        if k == n_steps:
            break
        a1, b1 = f(M, Q)
        a2, b2 = f(M + 0.5 * dt * a1, Q + 0.5 * dt * b1)
        a3, b3 = f(M + 0.5 * dt * a2, Q + 0.5 * dt * b2)
        a4, b4 = f(M + dt * a3, Q + dt * b3)
        M = M + dt / 6.0 * (a1 + 2 * a2 + 2 * a3 + a4)
        Q = Q + dt / 6.0 * (b1 + 2 * b2 + 2 * b3 + b4)
    return OdeSolution(np.array(ts), np.array(Ms), np.array(Qs))


def mc_error(model, M0, Q0, tau, t_end, *, dt=0.01, n_mc=20000, b=None) -> float:
    """Sup-norm difference over ``t`` of ``M`` and ``Q`` between two solutions with
    independent base samples (seeds 0 and 1): the stated Monte Carlo accuracy."""
    s0 = solve_ode(model, M0, Q0, tau, t_end, dt=dt, n_mc=n_mc, seed=0, b=b)
    s1 = solve_ode(model, M0, Q0, tau, t_end, dt=dt, n_mc=n_mc, seed=1, b=b)
    return float(max(np.abs(s0.M - s1.M).max(), np.abs(s0.Q - s1.Q).max()))


def growth_matrix(model, Q: np.ndarray, base: BaseSamples, tau: float, eps: float = 1e-4) -> np.ndarray:
    """``G`` of the linearisation ``dM/dt = G M`` at ``M = 0`` (module docstring), with
    ``E[J_kl]`` by central differences of ``e`` (step ``eps``) on the base samples."""
    A, K = model.views, model.K
    R = np.full((A, A), model.rho) + (1.0 - model.rho) * np.eye(A)
    zero = np.zeros((K, model.d1))
    h, _ = _fields(model, zero, Q, base)
    G = -tau * model.mu * np.eye(K)
    for l in range(A):
        for j in range(K):
            hp, hm = h.copy(), h.copy()
            hp[:, l, j] += eps
            hm[:, l, j] -= eps
            dE = (output_errors(hp, model.activation, model.lam) - output_errors(hm, model.activation, model.lam))
            dE = dE.mean(0) / (2 * eps)                    # (A, K): E[de^(k)_i / dh^(l)_j]
            for k in range(A):
                G[:, j] -= tau * (model.c_var + model.s ** 2 * R[k, l]) * dE[k]
    return G


def growth_rate(model, Q: np.ndarray, tau: float, n_mc: int = 50000, seed: int = 0) -> float:
    """Largest real part of the eigenvalues of :func:`growth_matrix` (per unit ``t``): > 0
    means a feature is learned from an uninformative start."""
    base = draw_base(model, n_mc, np.random.default_rng(seed))
    return float(np.linalg.eigvals(growth_matrix(model, Q, base, tau)).real.max())


def gradient_second_moment(model, M: np.ndarray, Q: np.ndarray, base: BaseSamples, b: float | None = None) -> float:
    """``E |G|_F^2`` of one sample's loss gradient ``G = N^-1/2 sum_k x^(k) e^(k)T`` (w.r.t.
    ``W``), in the limit ``N -> infinity``: ``tr sum_{k,l} (1 + s^2 R_kl) E[e^(k) e^(l)T]`` (the
    trace of the ODE's second-order term; ``x^(k)T x^(l) / N -> 1 + s^2 R_kl``).  The mean
    gradient's squared norm is ``O(1/N)``, so this is the gradient's total variance (paper 001's
    "negatively correlated view noise lowers the gradient variance": ``R_12 = rho`` enters here).
    ``b`` set: the ISD estimator's (``M+/b + M-/(1-b)``, attraction and decorrelation terms)."""
    h, _ = _fields(model, M, Q, base)
    if b is None:
        return float(np.trace(_second_order(model, output_errors(h, model.activation, model.lam))))
    e_att = output_errors(h, model.activation, model.lam, "attract")
    e_dec = output_errors(h, model.activation, model.lam, "decorrelate")
    return float(np.trace(_second_order(model, e_att)) / b + np.trace(_second_order(model, e_dec)) / (1.0 - b))
