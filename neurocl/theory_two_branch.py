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

The linearisation is taken at the uninformative fixed point ``(M = 0, Q*)``, ``Q*`` the zero of
``dQ/dt`` at ``M = 0`` (:func:`fixed_point_q`).  Where the weight decay wins over the
background's attraction, ``Q* = 0`` (``W = 0``): then ``h = 0``, ``E[J_kl] = -sigma'(0)^2`` for
``k != l`` (attraction) and 0 otherwise, so for two views ``G = tau [2 (c_var + s^2 rho)
sigma'(0)^2 - mu] I`` in closed form and learning from an uninformative start stops at ``mu_c =
2 (c_var + s^2 rho) sigma'(0)^2`` (:func:`learning_threshold` finds it numerically for any
setting).  Which feature a unit selects when features compete is decided after the linear phase
(where only ``c_var`` enters) by the ``O(|M|^3)`` terms, which carry the fourth moments
(:func:`selection_basin`).

Curvature for Lemma 2.1 (ICLR 2023): the expected loss depends on ``W`` only through ``(M, Q)``
(:func:`population_loss`), and its Hessian w.r.t. ``W`` has trace ``sum_{kl} (1 + s^2 R_kl)
E[tr J_kl] + K mu`` (:func:`hessian_trace`); the extra loss of one SGD step over the mean step
is ``(tau^2 / 2N) tr[H_K C]`` with ``C`` the ``K x K`` gradient covariance, i.e. the ODE's
second-order term; Lemma 2.1's isotropic form replaces ``H_K`` by ``tr(H_K)/K``.

Expectations, two ways.  (1) Without Monte Carlo in the sample
(:func:`quadrature_drift`, used by ``solve_ode(rule=...)``): each feature law is a finite
mixture of Gaussians (exact for Gaussian, Rademacher and Bernoulli-Gaussian features;
Gauss-Legendre points for uniform ones, :func:`feature_components`), and given the mixture
component all ``A K`` pre-activations are jointly Gaussian, with ``u^(k)`` linear in them up to
independent noise (Gaussian regression), so every drift term is one ``A K``-dimensional
Gaussian expectation, computed with scrambled Sobol points mapped by a Cholesky factor
(:func:`sobol_rule`; the rule is fixed for a whole solution, so the right-hand side is smooth
in ``(M, Q)`` for smooth activations).  Its error is stated by the spread over independent
scramblings: ``K = 2``, tanh, ``2^16`` points, a solution to ``t = 10`` differs by 9e-4 in sup
norm (``examples/two_branch_ode.json``), against 0.012 for 200,000 symmetrised Monte Carlo
samples.  Tensor Gauss-Hermite rules converge slowly here (measured: still 1e-3 off at ``24^4``
nodes for ``K = 2``): at the scale of ``h``, tanh saturates and its poles lie close to the real
axis.  (2) Monte Carlo with common random numbers (one set of base samples for the whole
solution; any setting, and the ISD second-order term): the accuracy of a solution is stated by
:func:`mc_error` (two independent base sets), that of one drift evaluation by
:func:`drift_standard_error`; :func:`symmetrised` base samples keep the ODE's sign symmetry of
each feature exactly (Monte Carlo noise then cannot break a tie between features).
:func:`solve_ode` runs classical RK4 (``dt = 0.05`` by default; step error below ``2e-6``,
docstring of :func:`solve_ode`) or, with ``rtol``, adaptive Dormand-Prince steps, and raises
``FloatingPointError`` when the solution leaves the finite range.

ReLU.  The ODE of ReLU units can blow up in finite time, and so does online SGD (at the same
``t``: ``N = 2000`` diverges at ``t = 4.9``, the ODE at ``t = 5.1``, adaptive steps, ``s = 1``,
``lambda = 0.05``, ``mu = 1``, ``tau = 0.2``): the attraction and the weight decay are both
quadratic in the weights (ReLU is positively homogeneous), so along a feature where attraction
wins the weights grow until the quartic decorrelation stops them; but two units that turn
antiparallel (``w_1 ~ -w_0``) are rarely active together, which removes most of the quartic
term, so the norm keeps growing, and the SGD-noise term ``tau^2 E[e e^T]``, with ``e ~ lambda
y^3``, grows like ``Q^3`` and ends the solution.  Not a step-size effect: adaptive steps stop at
the same ``t`` whatever their tolerance.  Bounded ReLU runs need a small ``lambda Q`` and
``tau`` on the horizon of interest (``examples/two_branch_ode_relu.json``: ``tau = 0.1``,
``lambda = 8``, ``Q_ii(0) = 0.02``, ``t <= 6``, where the ODE blows up near ``t = 9.8``).
"""

from __future__ import annotations

from dataclasses import dataclass

import itertools
import math

import numpy as np
from numba import njit

from neurocl.circuits.two_branch import feature_laws, output_errors, sample_features, view_noise_factor

__all__ = ["BaseSamples", "draw_base", "overlap_drift", "solve_ode", "mc_error", "growth_matrix",
           "growth_rate", "OdeSolution", "gradient_second_moment", "symmetrised", "fixed_point_q", "LinearGrowth",
           "linear_growth", "learning_threshold", "selection_basin", "population_loss", "jacobian_traces",
           "hessian_trace", "drift_standard_error", "Quadrature", "feature_components", "sobol_rule",
           "quadrature_moments", "quadrature_drift", "SPARSE_P"]


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
    zeta = np.einsum("kl,nld->nkd", Lr, rng.standard_normal((n, A, d1)))
    eta = np.einsum("kl,nlj->nkj", Lr, rng.standard_normal((n, A, K)))
    eps = rng.standard_normal((n, K))
    # the features last: the Gaussian parts are the same for every feature law (common random numbers)
    return BaseSamples(sample_features(model.feature_law, rng, (n, d1), model.c_var), eps, zeta, eta)


def _sqrt_psd(S: np.ndarray) -> np.ndarray:
    """The symmetric square root ``V sqrt(w) V^T`` of a PSD matrix: any ``L`` with ``L L^T = S``
    gives the same Gaussian law, but only this one is continuous in ``S`` (eigenvectors of a
    nearly degenerate ``S`` rotate abruptly, which would make the ODE's right-hand side jump
    under common random numbers)."""
    w, V = np.linalg.eigh(0.5 * (S + S.T))
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def _view_weights(model) -> np.ndarray:
    """``1 + s^2 R_kl`` (A x A), ``R`` the view-noise correlation."""
    A = model.views
    R = np.full((A, A), model.rho) + (1.0 - model.rho) * np.eye(A)
    return 1.0 + model.s ** 2 * R


def _fields(model, M, Q, base):
    """Pre-activations ``h`` (n, A, K) and projections ``u`` (n, A, d1) of the base samples."""
    L = _sqrt_psd(Q - M @ M.T)
    n, A, d1 = base.zeta.shape
    K = M.shape[0]
    u = base.c[:, None, :] + model.s * base.zeta
    z = base.eps[:, None, :] + model.s * base.eta
    # 2-D products (one BLAS call each) instead of batched (n, A) matmuls of tiny matrices
    h = (u.reshape(n * A, d1) @ M.T + z.reshape(n * A, K) @ L.T).reshape(n, A, K)
    return h, u


def _second_order(model, e):
    """``sum_{k,l} (1 + s^2 R_kl) E[e^(k) e^(l)T]`` (K x K)."""
    n, A, K = e.shape
    E = e.reshape(n, A * K)
    G = (E.T @ E).reshape(A, K, A, K) / n                  # E[e^(k)_i e^(l)_j] at [k, i, l, j]
    return np.einsum("kl,kilj->ij", _view_weights(model), G)


# ----------------------------------------------------------------------------- the fast drift (numba)
#: activation name -> code of the numba drift kernel (others: the numpy path)
_ACT_CODE = {"tanh": 0, "erf": 1, "relu": 2, "linear": 3}


@njit(cache=True, nogil=True)
def _drift_kernel(u, z, M, L, Wkl, lam, act, chunks):  # pragma: no cover - compiled
    """Sums over the base samples of ``e u^T`` (K x d1), ``h e^T`` (K x K) and ``sum_kl Wkl e^(k)
    e^(l)T`` (K x K), per chunk of samples (``chunks`` fixed, so the result does not depend on
    the thread count); ``e`` as in :func:`~neurocl.circuits.two_branch.output_errors` ("both")."""
    n, A, d1 = u.shape
    K = z.shape[2]
    norm = 2.0 / (A * (A - 1))
    sq2 = np.sqrt(2.0)
    c2 = np.sqrt(2.0 / np.pi)
    eu = np.zeros((chunks, K, d1))
    he = np.zeros((chunks, K, K))
    so = np.zeros((chunks, K, K))
    h = np.empty((A, K))
    y = np.empty((A, K))
    fp = np.empty((A, K))
    e = np.empty((A, K))
    S = np.empty(A)
    for ch in range(chunks):
        for m in range(ch * n // chunks, (ch + 1) * n // chunks):
            for k in range(A):
                S[k] = 0.0
                for i in range(K):
                    v = 0.0
                    for d in range(d1):
                        v += M[i, d] * u[m, k, d]
                    for j in range(K):
                        v += L[i, j] * z[m, k, j]
                    h[k, i] = v
                    if act == 0:
                        t = 1.0 - 2.0 / (np.exp(2.0 * v) + 1.0)     # tanh (faster than libm tanh here)
                        y[k, i] = t
                        fp[k, i] = 1.0 - t * t
                    elif act == 1:
                        y[k, i] = math.erf(v / sq2)
                        fp[k, i] = c2 * np.exp(-0.5 * v * v)
                    elif act == 2:
                        y[k, i] = v if v > 0.0 else 0.0
                        fp[k, i] = 1.0 if v > 0.0 else 0.0
                    else:
                        y[k, i] = v
                        fp[k, i] = 1.0
                    S[k] += y[k, i] * y[k, i]
            Stot = 0.0
            for k in range(A):
                Stot += S[k]
            for i in range(K):
                ysum = 0.0
                y2sum = 0.0
                for k in range(A):
                    ysum += y[k, i]
                    y2sum += y[k, i] * y[k, i]
                for k in range(A):
                    yk = y[k, i]
                    dy = -(ysum - yk) + 2.0 * lam * yk * ((Stot - S[k]) - (y2sum - yk * yk))
                    e[k, i] = norm * dy * fp[k, i]
            for k in range(A):
                for i in range(K):
                    eki = e[k, i]
                    for d in range(d1):
                        eu[ch, i, d] += eki * u[m, k, d]
                    for j in range(K):
                        he[ch, j, i] += h[k, j] * eki
                    for l in range(A):
                        w = Wkl[k, l] * eki
                        for j in range(K):
                            so[ch, i, j] += w * e[l, j]
    return eu.sum(axis=0), he.sum(axis=0), so.sum(axis=0)


@dataclass(frozen=True)
class _Prepared:
    """Per-solution constants of the drift: ``u = c + s zeta`` (n, A, d1), ``z = eps + s eta``
    (n, A, K), contiguous, and ``1 + s^2 R`` (A, A)."""

    u: np.ndarray
    z: np.ndarray
    Wkl: np.ndarray


def _prepare(model, base: BaseSamples) -> _Prepared:
    u = np.ascontiguousarray(base.c[:, None, :] + model.s * base.zeta)
    z = np.ascontiguousarray(base.eps[:, None, :] + model.s * base.eta)
    return _Prepared(u, z, _view_weights(model))


def _fast_drift(model, M, Q, prep: _Prepared, tau: float):
    """:func:`overlap_drift` (``b = None``) by the numba kernel: one pass over the base samples,
    no temporaries (same numbers as the numpy path to rounding)."""
    L = _sqrt_psd(Q - M @ M.T)
    n = len(prep.u)
    eu, he, so = _drift_kernel(prep.u, prep.z, np.ascontiguousarray(M, dtype=float), np.ascontiguousarray(L),
                               prep.Wkl, float(model.lam), _ACT_CODE[model.activation], 16)
    dM = -tau * eu / n - tau * model.mu * M
    he = he / n
    dQ = -tau * (he + he.T) - 2.0 * tau * model.mu * Q + tau ** 2 * so / n
    return dM, 0.5 * (dQ + dQ.T)


def overlap_drift(model, M: np.ndarray, Q: np.ndarray, base: BaseSamples, tau: float, b: float | None = None,
                  *, fast: bool = False):
    """``(dM/dt, dQ/dt)`` of the ODE (module docstring); ``b`` set: the phase-switching (ISD)
    version's second-order term.  ``fast``: the numba kernel (``b = None`` and the activations
    of ``_ACT_CODE`` only; otherwise the numpy path)."""
    if fast and b is None and model.activation in _ACT_CODE and model.views >= 2:
        return _fast_drift(model, M, Q, _prepare(model, base), tau)
    h, u = _fields(model, M, Q, base)
    e = output_errors(h, model.activation, model.lam)
    n, A, K = h.shape
    e2 = e.reshape(n * A, K)
    dM = -tau * (e2.T @ u.reshape(n * A, -1)) / n - tau * model.mu * M
    he = (h.reshape(n * A, K).T @ e2) / n
    dQ = -tau * (he + he.T) - 2.0 * tau * model.mu * Q
    if b is None:
        dQ = dQ + tau ** 2 * _second_order(model, e)
    else:
        e_att = output_errors(h, model.activation, model.lam, "attract")
        e_dec = output_errors(h, model.activation, model.lam, "decorrelate")
        dQ = dQ + tau ** 2 * (_second_order(model, e_att) / b + _second_order(model, e_dec) / (1.0 - b))
    return dM, 0.5 * (dQ + dQ.T)


# ----------------------------------------------------------------------------- quadrature (no Monte Carlo)
#: Bernoulli probability of the "sparse" feature law (:func:`neurocl.circuits.two_branch.sample_features`)
SPARSE_P = 0.2


def feature_components(law: str, c_var: float, n_uniform: int = 12) -> tuple:
    """The law of one feature variable as a finite mixture of Gaussians ``(mean, variance,
    weight)``: exact for ``gaussian`` (one component), ``rademacher`` (``+-sqrt(c_var)``) and
    ``sparse`` (``0`` with probability ``1 - p``, ``N(0, c_var / p)`` with ``p``); ``uniform``
    by the ``n_uniform``-point Gauss-Legendre rule on ``[-sqrt(3 c_var), sqrt(3 c_var)]``
    (point masses: exact for polynomials of degree ``< 2 n_uniform`` in ``c``)."""
    if law == "gaussian":
        return ((0.0, c_var, 1.0),)
    if law == "rademacher":
        a = np.sqrt(c_var)
        return ((a, 0.0, 0.5), (-a, 0.0, 0.5))
    if law == "sparse":
        return ((0.0, 0.0, 1.0 - SPARSE_P), (0.0, c_var / SPARSE_P, SPARSE_P))
    if law == "uniform":
        x, w = np.polynomial.legendre.leggauss(n_uniform)
        return tuple((float(np.sqrt(3.0 * c_var) * xi), 0.0, float(wi / 2.0)) for xi, wi in zip(x, w))
    raise ValueError(f"no mixture form of feature law {law!r}")


@dataclass(frozen=True)
class Quadrature:
    """A rule for ``E f(xi)``, ``xi ~ N(0, I_D)``: ``nodes`` (P, D), ``weights`` (P,), summing
    to 1; ``D = views * K`` (the pre-activations of one sample)."""

    nodes: np.ndarray
    weights: np.ndarray


def sobol_rule(dim: int, m: int, seed: int = 0) -> Quadrature:
    """Randomised quasi-Monte Carlo: ``2^m`` scrambled Sobol points mapped to ``N(0, I_dim)``
    by the inverse normal CDF, equal weights (independent ``seed`` s give independent
    unbiased estimates: their spread states the error)."""
    from scipy.stats import norm, qmc

    u = qmc.Sobol(dim, scramble=True, seed=seed).random_base2(m)
    u = np.clip(u, 1e-12, 1.0 - 1e-12)
    return Quadrature(np.ascontiguousarray(norm.ppf(u)), np.full(2 ** m, 2.0 ** -m))


@njit(cache=True, nogil=True)
def _errors_kernel(H, A, K, lam, act):  # pragma: no cover - compiled
    """``e`` (P, A K) of :func:`~neurocl.circuits.two_branch.output_errors` ("both") for
    pre-activations ``H`` (P, A K), index ``k K + i``."""
    P, D = H.shape
    norm = 2.0 / (A * (A - 1))
    sq2 = np.sqrt(2.0)
    c2 = np.sqrt(2.0 / np.pi)
    E = np.empty((P, D))
    y = np.empty(D)
    fp = np.empty(D)
    S_ = np.empty(A)
    for p in range(P):
        for a in range(D):
            v = H[p, a]
            if act == 0:
                t = 1.0 - 2.0 / (np.exp(2.0 * v) + 1.0)
                y[a] = t
                fp[a] = 1.0 - t * t
            elif act == 1:
                y[a] = math.erf(v / sq2)
                fp[a] = c2 * np.exp(-0.5 * v * v)
            elif act == 2:
                y[a] = v if v > 0.0 else 0.0
                fp[a] = 1.0 if v > 0.0 else 0.0
            else:
                y[a] = v
                fp[a] = 1.0
        Stot = 0.0
        for k in range(A):
            S_[k] = 0.0
            for i in range(K):
                S_[k] += y[k * K + i] ** 2
            Stot += S_[k]
        for i in range(K):
            ysum = 0.0
            y2sum = 0.0
            for k in range(A):
                ysum += y[k * K + i]
                y2sum += y[k * K + i] ** 2
            for k in range(A):
                yk = y[k * K + i]
                dy = -(ysum - yk) + 2.0 * lam * yk * ((Stot - S_[k]) - (y2sum - yk * yk))
                E[p, k * K + i] = norm * dy * fp[k * K + i]
    return E


def _moments(xi, w, S, m, A, K, lam, act):
    """``E[e]`` (D,), ``E[e (h - m)^T]`` (D, D) and ``E[e e^T]`` (D, D) over the rule's nodes
    ``xi`` (P, D) mapped to ``h = m + S xi`` (``D = A K``): the errors by the numba kernel, the
    products by BLAS."""
    G = xi @ S.T
    E = _errors_kernel(G + m, A, K, lam, act)
    Ew = E * w[:, None]
    return Ew.sum(0), Ew.T @ G, Ew.T @ E


def _chol_psd(S: np.ndarray) -> np.ndarray:
    """A factor ``C`` with ``C C^T = S`` (Cholesky; the symmetric square root if ``S`` is
    singular)."""
    try:
        return np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        return _sqrt_psd(S)


def quadrature_moments(model, M: np.ndarray, Q: np.ndarray, rule: Quadrature, components=None):
    """``(E[e u^(k)T] summed over k (K x d1), sum_k E[h^(k) e^(k)T] (K x K), E[e e^T] (AK x AK))``
    at overlaps ``(M, Q)`` without Monte Carlo in the feature and noise variables.

    Each feature law is a mixture of Gaussians (:func:`feature_components`); given the
    mixture component (means ``a``, variances ``v``; a finite sum over the components of every
    feature), the pre-activations of all views ``h = (h^(1), ..., h^(A))`` are Gaussian with
    mean ``h^(k) = M a`` and covariance::

        Cov(h^(k), h^(l)) = M diag(v) M^T + s^2 R_kl M M^T + (1 + s^2 R_kl) (Q - M M^T),

    and ``u^(k) = c + s zeta^(k)`` is jointly Gaussian with them, ``E u^(k) = a``,
    ``Cov(h^(l)_i, u^(k)_d) = M_id (v_d + s^2 R_lk)``, so Gaussian regression gives
    ``E[e u^(k)T] = E[e] a^T + E[e (h - E h)^T] Cov(h)^-1 Cov(h, u^(k))``: every expectation is
    one over the ``A K``-dimensional Gaussian ``h``, computed with ``rule`` (nodes mapped by a
    Cholesky factor of ``Cov(h)``)."""
    A, K, d1 = model.views, model.K, model.d1
    D = A * K
    R = np.full((A, A), model.rho) + (1.0 - model.rho) * np.eye(A)
    if components is None:
        components = [feature_components(law, model.c_var) for law in feature_laws(model.feature_law, d1)]
    MM = M @ M.T
    P = Q - MM
    base_cov = np.kron(model.s ** 2 * R, MM) + np.kron(1.0 + model.s ** 2 * R, P)
    eu = np.zeros((K, d1))
    he = np.zeros((K, K))
    ee = np.zeros((D, D))
    code = _ACT_CODE[model.activation]
    for combo in itertools.product(*components):
        a = np.array([c[0] for c in combo])
        v = np.array([c[1] for c in combo])
        wt = float(np.prod([c[2] for c in combo]))
        if wt == 0.0:
            continue
        Mv = (M * v) @ M.T
        cov = base_cov + np.kron(np.ones((A, A)), Mv)
        mean = np.tile(M @ a, A)
        Ee, Eeg, Eee = _moments(rule.nodes, rule.weights, np.ascontiguousarray(_chol_psd(cov)), mean, A, K,
                                      float(model.lam), code)
        # Cov(h, u^(k)) for every k: (D, A, d1); the regression coefficients Cov(h)^-1 Cov(h, u)
        chu = (M[None, :, None, :] * (v + model.s ** 2 * R[:, None, :, None])).reshape(D, A * d1)
        coef = np.linalg.lstsq(cov, chu, rcond=1e-12)[0].reshape(D, A, d1)
        for k in range(A):
            blk = slice(k * K, (k + 1) * K)
            eu += wt * (np.outer(Ee[blk], a) + Eeg[blk] @ coef[:, k, :])
            he += wt * (Eeg[blk, blk].T + np.outer(mean[blk], Ee[blk]))
        ee += wt * Eee
    return eu, he, ee


def quadrature_drift(model, M: np.ndarray, Q: np.ndarray, rule: Quadrature, tau: float, b: float | None = None):
    """``(dM/dt, dQ/dt)`` of :func:`overlap_drift` with the expectations by
    :func:`quadrature_moments` instead of Monte Carlo (``b`` must be ``None``)."""
    if b is not None:
        raise ValueError("quadrature_drift: the ISD second-order term (b) needs the Monte Carlo path")
    A, K = model.views, model.K
    if not (np.isfinite(M).all() and np.isfinite(Q).all()) or max(np.abs(M).max(), np.abs(Q).max()) > 1e12:
        raise FloatingPointError("overlaps out of the finite range")
    eu, he, ee = quadrature_moments(model, M, Q, rule)
    so = np.einsum("kl,kilj->ij", _view_weights(model), ee.reshape(A, K, A, K))
    dM = -tau * eu - tau * model.mu * M
    dQ = -tau * (he + he.T) - 2.0 * tau * model.mu * Q + tau ** 2 * so
    return dM, 0.5 * (dQ + dQ.T)


def drift_standard_error(model, M: np.ndarray, Q: np.ndarray, base: BaseSamples, tau: float, groups: int = 1):
    """Monte Carlo standard errors ``(se_M, se_Q)`` of :func:`overlap_drift` (``b = None``) at
    ``(M, Q)``: the sample standard deviation of the per-sample drift contributions over ``sqrt``
    of the number of independent draws.  ``groups``: consecutive blocks of ``len / groups``
    samples that are copies of one draw (``2^d1`` for :func:`symmetrised` bases, whose copies are
    not independent: the contributions are averaged over the copies of each draw first)."""
    h, u = _fields(model, M, Q, base)
    e = output_errors(h, model.activation, model.lam)
    n = len(h)
    if n % groups:
        raise ValueError(f"{n} base samples are not {groups} equal groups")
    cM = -tau * np.einsum("nki,nkd->nid", e, u)
    he = np.einsum("nki,nkj->nij", h, e)
    cQ = -tau * (he + np.swapaxes(he, 1, 2)) + tau ** 2 * np.einsum("kl,nki,nlj->nij", _view_weights(model), e, e)
    m = n // groups
    cM, cQ = cM.reshape(groups, m, *cM.shape[1:]).mean(0), cQ.reshape(groups, m, *cQ.shape[1:]).mean(0)
    return cM.std(0, ddof=1) / np.sqrt(m), cQ.std(0, ddof=1) / np.sqrt(m)


@dataclass(frozen=True)
class OdeSolution:
    """``t`` (T,), ``M`` (T, K, d1), ``Q`` (T, K, K) of an ODE solution."""

    t: np.ndarray
    M: np.ndarray
    Q: np.ndarray


def solve_ode(model, M0, Q0, tau: float, t_end: float, *, dt: float = 0.05, n_mc: int = 20000, seed: int = 0,
              b: float | None = None, t_eval=None, base: BaseSamples | None = None, symmetric: bool = False,
              fast: bool = True, rule: Quadrature | None = None, rtol: float | None = None) -> OdeSolution:
    """Classical RK4 with step ``dt`` (in ``t = steps / N``) and ``n_mc`` base samples (seed
    ``seed``; or the given ``base``); values at ``t_eval`` (default: every step).

    ``rule``: the expectations by :func:`quadrature_drift` with this rule (e.g.
    :func:`sobol_rule`; ``b = None``) instead of Monte Carlo over base samples.  ``rtol``:
    adaptive steps (:func:`_solve_adaptive`, error per step within ``rtol``) instead of RK4 with
    ``dt``.  A diverging solution raises ``FloatingPointError``.

    ``symmetric``: the drawn base samples are :func:`symmetrised` (``2^d1 n_mc`` samples; the
    ODE's sign symmetry of each feature is then exact).  ``fast``: the numba drift kernel where
    it applies (``b = None``; tanh, erf, ReLU, linear), else the numpy path (same numbers to
    rounding).

    Accuracy (measured on the ``benchmarks/two_branch_speed.py`` model, ``K = 4, d1 = 3``, tanh,
    ``t`` in [0, 20], sup over ``t`` and entries of ``M`` and ``Q``): step error (same base
    samples) ``1.6e-6`` at ``dt = 0.05`` and ``2.7e-5`` at ``dt = 0.1`` against ``dt = 0.01``
    (``dt = 0.2`` leaves RK4's accurate range: 0.08); the Monte Carlo error (:func:`mc_error`)
    is far larger and depends on the start: 0.84 entrywise at ``n_mc = 20000`` from that model's
    nearly symmetric start (Gaussian features make the ODE invariant under rotations of feature
    space and permutations of units, and the noise picks which unit learns which direction;
    rotation-invariant: the singular values of ``M`` differ by 0.13 at most over ``t``, the
    escape's timing, and by 0.001 at ``t = 20``); 0.022 for ``examples/two_branch_ode.py``
    with 200,000 symmetrised samples.  With ``rule = sobol_rule(8, 14)`` and ``rtol = 1e-6``
    (``benchmarks/two_branch_speed.py --ode --ode-accuracy``): step error 1.2e-6 (against
    ``rtol = 1e-8``), quadrature error 6.0e-3 (second scrambling; the Monte Carlo path: 0.84),
    about 510 drift evaluations, 2.6 s CPU to ``t = 20`` (50 s wall on the loaded machine,
    load average ~10).  Time: 1600 drift
    evaluations of 20,000 samples, ~15 s (``dt = 0.01``: ~290 s; the numpy path ~3x slower per
    evaluation: 11 ms against ~30 ms at 20,000 samples, K = 4, on a loaded 2-core machine)."""
    if base is None and rule is None:
        base = draw_base(model, n_mc, np.random.default_rng(seed))
        if symmetric:
            base = symmetrised(base)
    n_steps = max(1, int(np.ceil(t_end / dt - 1e-9)))
    dt = t_end / n_steps
    t_eval = np.arange(n_steps + 1) * dt if t_eval is None else np.asarray(t_eval, float)
    M, Q = np.array(M0, float), np.array(Q0, float)
    ts, Ms, Qs = [], [], []
    k_eval = set(np.round(t_eval / dt).astype(int).tolist())
    if rule is not None:
        f = lambda M, Q: quadrature_drift(model, M, Q, rule, tau, b)  # noqa: E731
    elif fast and b is None and model.activation in _ACT_CODE and model.views >= 2:
        prep = _prepare(model, base)
        f = lambda M, Q: _fast_drift(model, M, Q, prep, tau)  # noqa: E731
    else:
        f = lambda M, Q: overlap_drift(model, M, Q, base, tau, b)  # noqa: E731
    if rtol is not None:
        return _solve_adaptive(f, M, Q, t_end, t_eval, rtol)
    for k in range(n_steps + 1):
        if k in k_eval:
            ts.append(k * dt), Ms.append(M.copy()), Qs.append(Q.copy())
        if k == n_steps:
            break
        if not (np.isfinite(M).all() and np.isfinite(Q).all()):
            raise FloatingPointError(f"the ODE diverged by t = {k * dt:g} (RK4, dt = {dt:g}): try rtol (adaptive steps) "
                                     "to tell a too-large step from a blow-up of the dynamics")
        try:
            a1, b1 = f(M, Q)
            a2, b2 = f(M + 0.5 * dt * a1, Q + 0.5 * dt * b1)
            a3, b3 = f(M + 0.5 * dt * a2, Q + 0.5 * dt * b2)
            a4, b4 = f(M + dt * a3, Q + dt * b3)
        except (FloatingPointError, np.linalg.LinAlgError):
            raise FloatingPointError(f"the ODE diverged by t = {(k + 1) * dt:g} (RK4, dt = {dt:g}): try rtol (adaptive "
                                     "steps) to tell a too-large step from a blow-up of the dynamics") from None
        M = M + dt / 6.0 * (a1 + 2 * a2 + 2 * a3 + a4)
        Q = Q + dt / 6.0 * (b1 + 2 * b2 + 2 * b3 + b4)
    return OdeSolution(np.array(ts), np.array(Ms), np.array(Qs))


def _solve_adaptive(f, M, Q, t_end: float, t_eval, rtol: float) -> OdeSolution:
    """Dormand-Prince 5(4) with error control (``scipy.integrate.solve_ivp``, ``rtol``, ``atol =
    rtol / 100``) from ``(M, Q)`` at ``t = 0``; ``FloatingPointError`` where the step size
    collapses or the state leaves the finite range (a blow-up of the dynamics, not of the
    integrator)."""
    from scipy.integrate import solve_ivp

    K, d1 = M.shape
    nM = K * d1

    def rhs(_t, y):
        if not np.isfinite(y).all() or np.abs(y).max() > 1e12:
            raise FloatingPointError("state out of the finite range")
        dM, dQ = f(y[:nM].reshape(K, d1), y[nM:].reshape(K, K))
        return np.concatenate([dM.ravel(), dQ.ravel()])

    y0 = np.concatenate([M.ravel(), Q.ravel()])
    try:
        sol = solve_ivp(rhs, (0.0, t_end), y0, method="RK45", dense_output=True, rtol=rtol, atol=rtol / 100.0)
    except FloatingPointError:
        sol = None
    if sol is None or sol.status != 0:
        at = "" if sol is None else f" by t = {sol.t[-1]:.4g}"
        raise FloatingPointError(f"the ODE diverged{at} (adaptive steps, rtol = {rtol:g}): a blow-up of the dynamics")
    t = np.clip(np.asarray(t_eval, float), 0.0, t_end)
    Y = sol.sol(t).T
    return OdeSolution(t, Y[:, :nM].reshape(-1, K, d1), Y[:, nM:].reshape(-1, K, K))


def mc_error(model, M0, Q0, tau, t_end, *, dt=0.05, n_mc=20000, b=None) -> float:
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


# ----------------------------------------------------------------------------- point 2: learnability
def symmetrised(base: BaseSamples, c_var: float | None = None) -> BaseSamples:
    """The base samples with every sign flip of each feature's ``(c_j, zeta_j)`` appended
    (``2^d1`` copies): the Monte Carlo expectations then keep the exact symmetry ``M_{:,j} ->
    -M_{:,j}`` of the ODE (the drift of a column at ``M_{:,j} = 0`` is exactly 0 and the
    linearisation couples no two features), so Monte Carlo noise cannot break a tie between
    features.  ``c_var`` set: each ``c_j`` is rescaled to that exact sample second moment."""
    d1 = base.c.shape[1]
    cs, zs = [], []
    for signs in np.ndindex(*(2,) * d1):
        f = 1.0 - 2.0 * np.array(signs, float)
        cs.append(base.c * f)
        zs.append(base.zeta * f)
    c = np.concatenate(cs)
    if c_var is not None:
        c = c * np.sqrt(c_var / np.mean(c * c, axis=0))
    k = len(cs)
    return BaseSamples(c, np.tile(base.eps, (k, 1)), np.concatenate(zs), np.tile(base.eta, (k, 1, 1)))


def fixed_point_q(model, tau: float, *, base: BaseSamples | None = None, Q0=None, n_mc: int = 20000, seed: int = 0,
                  dt: float = 0.2, t_max: float = 200.0, tol: float = 1e-8) -> np.ndarray:
    """``Q*`` with ``dQ/dt = 0`` at ``M = 0`` (the uninformative fixed point; ``M = 0`` stays 0
    for symmetric feature laws): RK4 of the ``Q`` equation alone from ``Q0`` (default
    ``init_norm I``) for ``t = 2``, then Newton-type polishing (``scipy.optimize.root``) of the
    ``K (K+1) / 2`` independent entries; if that fails or leaves the PSD cone, RK4 goes on until
    ``max |dQ/dt| < tol`` or ``t_max``.  (``Q* = 0``, i.e. ``W = 0``, when the weight decay
    outweighs the background's attraction.)"""
    from scipy.optimize import root

    base = draw_base(model, n_mc, np.random.default_rng(seed)) if base is None else base
    K = model.K
    dt = min(dt, 0.5 / (tau * (2.0 * model.mu + 4.0)))   # RK4 well inside its stability region (decay ~ 2 tau mu)
    M = np.zeros((K, model.d1))
    Q = model.init_norm * np.eye(K) if Q0 is None else np.array(Q0, float)
    f = lambda Q: overlap_drift(model, M, Q, base, tau)[1]  # noqa: E731
    iu = np.triu_indices(K)

    def rk4(Q, t):
        for _ in range(int(round(t / dt))):
            k1 = f(Q)
            if np.abs(k1).max() < tol:
                break
            if np.abs(Q).max() < 1e-3 and np.trace(f(1e-6 * np.eye(K))) < 0:
                return np.zeros_like(Q)         # collapsing onto W = 0 (a fixed point, e(h = 0) = 0, attracting)
            k2 = f(Q + 0.5 * dt * k1)
            k3 = f(Q + 0.5 * dt * k2)
            k4 = f(Q + dt * k3)
            Q = Q + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        return Q

    def full(v):
        S = np.zeros((K, K))
        S[iu] = v
        return S + np.triu(S, 1).T

    Q = rk4(Q, 2.0)
    if np.abs(Q).max() < 1e-2:                  # collapsing onto W = 0: no polishing near the kink of sqrt(Q)
        return rk4(Q, t_max)
    sol = root(lambda v: f(full(v))[iu], Q[iu], method="hybr", options={"xtol": 1e-10})
    Qr = full(sol.x)
    if sol.success and np.linalg.eigvalsh(Qr).min() >= -1e-10 and np.abs(f(Qr)).max() < 1e-6:
        return Qr
    return rk4(Q, t_max)


@dataclass(frozen=True)
class LinearGrowth:
    """The linearisation at the uninformative fixed point ``(M = 0, Q*)``: ``rate`` (largest
    real part of the eigenvalues of ``G``, per unit ``t``), ``Q`` (``Q*``), ``G`` (K x K; each
    feature column of ``M`` follows ``dM_{:,j}/dt = G M_{:,j}``) and ``vector`` (the top
    eigenvector, unit norm)."""

    rate: float
    Q: np.ndarray
    G: np.ndarray
    vector: np.ndarray


def linear_growth(model, tau: float, *, n_mc: int = 200000, n_mc_q: int = 5000, seed: int = 0,
                  Q=None) -> LinearGrowth:
    """Growth rate of ``|M|`` from an uninformative start (paper 001's learnability claim):
    :func:`growth_matrix` (``n_mc`` base samples) at ``Q*`` = :func:`fixed_point_q` (``n_mc_q``
    base samples; or at ``Q`` if given).  The rate
    depends on the feature law only through ``c_var`` (module docstring)."""
    base = draw_base(model, n_mc, np.random.default_rng(seed))
    Q = fixed_point_q(model, tau, base=base if n_mc <= n_mc_q else None, n_mc=n_mc_q, seed=seed) if Q is None \
        else np.asarray(Q, float)
    G = growth_matrix(model, Q, base, tau)
    w, V = np.linalg.eig(G)
    i = int(np.argmax(w.real))
    v = np.real(V[:, i])
    return LinearGrowth(float(w.real[i]), Q, G, v / np.linalg.norm(v))


def learning_threshold(model, tau: float, field: str, lo: float, hi: float, *, n_mc: int = 20000, n_mc_q: int = 5000,
                       seed: int = 0, xtol: float = 1e-3) -> float:
    """The value of ``field`` (``"mu"``, ``"s"``, ``"lam"``, ``"c_var"``, ...) in ``[lo, hi]``
    where the linearised growth rate (:func:`linear_growth`, same base-sample seed at every
    value: common random numbers) crosses 0: the boundary between learning a feature from an
    uninformative start (rate > 0) and not (rate < 0).  Brent's method; ``ValueError`` if the
    rate has the same sign at both ends."""
    from dataclasses import replace

    from scipy.optimize import brentq

    rate = lambda v: linear_growth(replace(model, **{field: float(v)}), tau, n_mc=n_mc, n_mc_q=n_mc_q,  # noqa: E731
                                   seed=seed).rate
    return float(brentq(rate, lo, hi, xtol=xtol))


def selection_basin(model, tau: float, t_end: float, *, r0: float = 0.05, n_mc: int = 20000, seed: int = 0,
                    dt: float = 0.05, iters: int = 7) -> tuple:
    """Which feature one unit selects when two features of equal variance compete (``K = 1``,
    ``d1 = 2``; laws per feature, e.g. ``feature_law = "gaussian,sparse"``).

    From ``M0 = r0 (cos theta, sin theta)`` at ``Q*`` (:func:`fixed_point_q`) the ODE (with
    :func:`symmetrised` base samples, so only the laws break the tie) is run to ``t_end`` and the
    unit's winner is the feature with the larger ``|M|``.  The linear phase keeps ``theta`` (both
    features grow at the same rate, which depends on ``c_var`` only), so the nonlinear phase,
    where higher moments enter, decides.  Bisection on ``theta`` in ``(0, pi/2)`` for the basin
    boundary ``theta*``; returns ``(p1, theta*)`` with ``p1 = 1 - theta* / (pi/2)`` the fraction
    of escape directions (uniform, as from an isotropic finite-``N`` escape) that select
    feature 1 (the second)."""
    if model.K != 1 or model.d1 != 2:
        raise ValueError("selection_basin needs K = 1 and d1 = 2")
    base = symmetrised(draw_base(model, n_mc, np.random.default_rng(seed)), model.c_var)
    Q = fixed_point_q(model, tau, base=base)

    def winner(theta):
        M0 = r0 * np.array([[np.cos(theta), np.sin(theta)]])
        sol = solve_ode(model, M0, Q, tau, t_end, dt=dt, base=base, t_eval=[t_end])
        return int(np.argmax(np.abs(sol.M[-1, 0])))

    lo, hi = 0.0, 0.5 * np.pi
    w_lo, w_hi = winner(1e-3), winner(0.5 * np.pi - 1e-3)
    if w_lo == w_hi:
        return (1.0 if w_lo == 1 else 0.0), (0.0 if w_lo == 1 else 0.5 * np.pi)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if winner(mid) == w_lo:
            lo = mid
        else:
            hi = mid
    theta = 0.5 * (lo + hi)
    p_low_side = theta / (0.5 * np.pi)
    return (1.0 - p_low_side if w_hi == 1 else p_low_side), float(theta)


# ----------------------------------------------------------------------------- point 3: noise and Lemma 2.1
def population_loss(model, M: np.ndarray, Q: np.ndarray, base: BaseSamples) -> float:
    """The expected loss ``E[L] + (mu / 2) tr Q`` at overlaps ``(M, Q)`` (exact for every ``N``:
    the law of the pre-activations depends on ``W`` only through ``(M, Q)``; Monte Carlo over the
    base samples, so differences at nearby ``(M, Q)`` share their random numbers)."""
    from neurocl.circuits.two_branch import loss_value

    h, _ = _fields(model, M, Q, base)
    return float(loss_value(h, model.activation, model.lam).mean() + 0.5 * model.mu * np.trace(Q))


def jacobian_traces(h: np.ndarray, activation: str, lam: float, eps: float = 1e-5) -> np.ndarray:
    """``T_kl = sum_i de^(k)_i / dh^(l)_i`` per sample (``(n, A, A)``), by central differences
    (step ``eps``) of :func:`~neurocl.circuits.two_branch.output_errors`."""
    n, A, K = h.shape
    T = np.zeros((n, A, A))
    for l in range(A):
        for i in range(K):
            hp, hm = h.copy(), h.copy()
            hp[:, l, i] += eps
            hm[:, l, i] -= eps
            T[:, :, l] += (output_errors(hp, activation, lam)[:, :, i] - output_errors(hm, activation, lam)[:, :, i]) / (2 * eps)
    return T


def hessian_trace(model, M: np.ndarray, Q: np.ndarray, base: BaseSamples) -> float:
    """``Tr H`` of the expected loss w.r.t. the ``N K`` weights ``W`` (the loss in
    :mod:`neurocl.circuits.two_branch`, weight decay ``(mu/2)|W|^2/N``), ``N -> infinity``::

        Tr H = sum_{k,l} (1 + s^2 R_kl) E[sum_i de^(k)_i / dh^(l)_i] + K mu

    (``d^2 L / dW_ni dW_nj = E[x^(k)_n x^(l)_n e'] / N`` summed over ``n``: ``x^(k).x^(l) / N ->
    1 + s^2 R_kl``).  The curvature that Lemma 2.1 (``papers/003_*``, ICLR 2023) pairs with the
    gradient noise."""
    A = model.views
    R = np.full((A, A), model.rho) + (1.0 - model.rho) * np.eye(A)
    h, _ = _fields(model, M, Q, base)
    T = jacobian_traces(h, model.activation, model.lam).mean(0)
    return float(np.sum((1.0 + model.s ** 2 * R) * T) + model.K * model.mu)
