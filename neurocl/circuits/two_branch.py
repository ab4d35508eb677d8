"""Two-branch (and multi-view) nonlinear contrastive learning on the sphere model.

Paper 001 (``papers/001_*``, arXiv 2406.06909; set-up facts in
``papers/reproduction-setups.md``, "Seed 001") and Part III of ``papers/003_*`` (more views).

Data (the *sphere model*): ``x = U c + (I - U U^T) g`` with ``U`` an ``N x d1`` orthonormal
frame, ``c`` in ``R^d1`` the feature variables (i.i.d. components of a chosen law with
variance ``c_var``), ``g ~ N(0, I_N)``: the same law as ``A [c; a]`` with ``A`` orthonormal and
Gaussian background ``a``, without materialising ``A``.

Views: ``x^(k) = x + s xi^(k)``, ``k = 1..A``, Gaussian view noise with correlation ``rho``
between any two views (equicorrelated: valid for ``rho >= -1/(A-1)``).

Network: ``K`` units with shared weights ``W`` (``N x K``) in every branch,
``h^(k) = W^T x^(k) / sqrt(N)``, ``y^(k) = sigma(h^(k))``.

Loss (our choice; the paper's exact ``C`` and ``g`` were not obtainable): for one sample and
two views, ``C_ij = y_i^(1) y_j^(2)`` (the cross-branch product; its expectation over samples is
the branches' cross-correlation matrix, and a single-sample ``C`` keeps the loss a sum over
samples, which online SGD and the ODE limit need) and ``g(u) = u^2``::

    L = - sum_i C_ii + lambda sum_{i != j} C_ij^2          (attraction, decorrelation)

plus ``(mu / 2) |W|^2 / N`` (weight decay; the ODE reduction needs it).  With ``A > 2`` views
``L`` is the average of the two-view loss over the ``A (A - 1)`` ordered view pairs (for
``A = 2`` this is the two-view loss itself).

Learning (online SGD, one fresh sample per step, time ``t = steps / N``)::

    W <- W - tau / sqrt(N) sum_k x^(k) e^(k)T - (tau mu / N) W,   e^(k) = dL/dh^(k)

and the always-on phase-switching version (ISD, ``papers/000_*``): each step is in a positive
phase with probability ``b`` (it follows the attraction term weighted ``1/b``) or a negative
phase (the decorrelation term weighted ``1/(1-b)``): the same expected update.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from neurocl.circuits.base import CIRCUITS
from neurocl.errors import ConfigError
from neurocl.measure.representation import (RecordsRepresentationMetrics, check_metric_names, metrics_field,
                                             with_representation_metrics)
from neurocl.schema import Registry
from neurocl.simulation import Task
from neurocl.validate import check_fields, non_negative, one_of, positive, positive_int

__all__ = ["TwoBranch", "ACTIVATIONS", "FEATURE_LAWS", "output_errors", "sample_features", "feature_laws", "sample_views",
           "overlaps", "frame"]


# ----------------------------------------------------------------------------- activations
#: name -> (sigma, sigma')
ACTIVATIONS = Registry("activation")
ACTIVATIONS.register("tanh", (np.tanh, lambda h: 1.0 - np.tanh(h) ** 2))
ACTIVATIONS.register("erf", (lambda h: erf(h / np.sqrt(2.0)), lambda h: np.sqrt(2.0 / np.pi) * np.exp(-h * h / 2)))
ACTIVATIONS.register("relu", (lambda h: np.maximum(h, 0.0), lambda h: (h > 0).astype(float)))
ACTIVATIONS.register("linear", (lambda h: h, np.ones_like))


# ----------------------------------------------------------------------------- feature laws
def _gauss(rng, shape):
    return rng.standard_normal(shape)


def _rademacher(rng, shape):
    return rng.choice((-1.0, 1.0), size=shape)


def _uniform(rng, shape):
    return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size=shape)


def _sparse(rng, shape, p=0.2):
    return (rng.random(shape) < p) * rng.standard_normal(shape) / np.sqrt(p)


#: law name -> sampler of zero-mean, unit-variance i.i.d. feature variables; fourth moments
#: 3 (gaussian), 1 (rademacher), 9/5 (uniform), 3/p = 15 (sparse Bernoulli(0.2)-Gaussian)
FEATURE_LAWS = Registry("feature law")
for _name, _fn in (("gaussian", _gauss), ("rademacher", _rademacher), ("uniform", _uniform),
                   ("sparse", _sparse)):
    FEATURE_LAWS.register(_name, _fn)


def feature_laws(law: str, d1: int) -> tuple:
    """The law of each of the ``d1`` feature variables: ``law`` is one name of
    :data:`FEATURE_LAWS` (every feature) or ``d1`` comma-separated names (one per feature, e.g.
    ``"gaussian,sparse"``: two features of equal variance and different fourth moments compete)."""
    names = tuple(n.strip() for n in law.split(","))
    if len(names) not in (1, d1):
        raise ConfigError(f"feature_law = {law!r}: give one law or d1 = {d1} comma-separated laws")
    for n in names:
        one_of("feature_law", n, set(FEATURE_LAWS))
    return names * d1 if len(names) == 1 else names


def sample_features(law: str, rng: np.random.Generator, shape, c_var: float = 1.0) -> np.ndarray:
    """Feature variables ``c`` of the given law with variance ``c_var`` (zero mean); with
    comma-separated laws (:func:`feature_laws`) column ``j`` of the last axis follows law ``j``."""
    if "," not in law:
        return np.sqrt(c_var) * FEATURE_LAWS[law](rng, shape)
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    names = feature_laws(law, shape[-1])
    cols = [FEATURE_LAWS[n](rng, shape[:-1]) for n in names]
    return np.sqrt(c_var) * np.stack(cols, axis=-1)


def frame(N: int, d1: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``N x d1`` orthonormal frame ``U`` (QR of a Gaussian matrix)."""
    q, r = np.linalg.qr(rng.standard_normal((N, d1)))
    return q * np.sign(np.diag(r))


def view_noise_factor(views: int, rho: float) -> np.ndarray:
    """``L`` with ``L L^T = R``, ``R`` the ``views x views`` equicorrelation matrix (1 on the
    diagonal, ``rho`` off it); rows of ``L @ z`` for i.i.d. ``z`` are view noises."""
    R = np.full((views, views), rho) + (1.0 - rho) * np.eye(views)
    w, V = np.linalg.eigh(R)
    if w.min() < -1e-12:
        raise ConfigError(f"rho = {rho:g} is not a valid correlation of {views} views (needs rho >= "
                          f"{-1.0 / (views - 1):g})")
    return V * np.sqrt(np.clip(w, 0.0, None))


def sample_views(U: np.ndarray, c: np.ndarray, s: float, rho: float, views: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Views ``x^(k) = U c + (I - U U^T) g + s xi^(k)`` of ``B`` samples: ``(B, views, N)``.

    ``c``: ``(B, d1)`` feature variables.
    """
    B, N = c.shape[0], U.shape[0]
    g = rng.standard_normal((B, N))
    x = c @ U.T + g - (g @ U) @ U.T
    xi = np.einsum("kl,bln->bkn", view_noise_factor(views, rho), rng.standard_normal((B, views, N)))
    return x[:, None, :] + s * xi


def overlaps(W: np.ndarray, U: np.ndarray):
    """``M = W^T U / sqrt(N)`` (``K x d1``) and ``Q = W^T W / N`` (``K x K``); leading axes kept."""
    N = W.shape[-2]
    Wt = np.swapaxes(W, -1, -2)
    return Wt @ U / np.sqrt(N), Wt @ W / N


# ----------------------------------------------------------------------------- the loss
def output_errors(h: np.ndarray, activation: str, lam: float, term: str = "both") -> np.ndarray:
    """``e^(k) = dL/dh^(k)`` of the view-pair-averaged loss for pre-activations ``h``
    (``(..., A, K)``); ``term``: ``"both"``, ``"attract"`` (``-sum_i C_ii``) or ``"decorrelate"``
    (``lambda sum_{i != j} C_ij^2``).

    With ``S^l = sum_j (y_j^l)^2`` and sums over the other views ``l != k``::

        dL/dy^k = 2 / (A (A-1)) [ - sum_l y^l + 2 lambda y^k (sum_l S^l - sum_l (y^l)^2) ]
    """
    f, fp = ACTIVATIONS[activation]
    y = f(h)
    A = h.shape[-2]
    norm = 2.0 / (A * (A - 1))
    dy = np.zeros_like(y)
    if term in ("both", "attract"):
        dy -= y.sum(-2, keepdims=True) - y
    if term in ("both", "decorrelate"):
        y2 = y * y
        S = y2.sum(-1, keepdims=True)                      # (..., A, 1)
        others_S = S.sum(-2, keepdims=True) - S
        others_y2 = y2.sum(-2, keepdims=True) - y2
        dy += 2.0 * lam * y * (others_S - others_y2)
    return norm * dy * fp(h)


def loss_value(h: np.ndarray, activation: str, lam: float) -> np.ndarray:
    """The view-pair-averaged loss (without weight decay) for pre-activations ``(..., A, K)``."""
    f, _ = ACTIVATIONS[activation]
    y = f(h)
    A = h.shape[-2]
    total = 0.0
    for k in range(A):
        for l in range(A):
            if k != l:
                C = y[..., k, :, None] * y[..., l, None, :]
                off = (C * C).sum((-1, -2)) - (np.diagonal(C, axis1=-2, axis2=-1) ** 2).sum(-1)
                total = total - np.diagonal(C, axis1=-2, axis2=-1).sum(-1) + lam * off
    return total / (A * (A - 1))


#: squared weight norm per unit (``Q_ii``) beyond which a run counts as diverged
MAX_NORM = 1e4


# ----------------------------------------------------------------------------- the description
@CIRCUITS.register
@dataclass(frozen=True)
class TwoBranch(RecordsRepresentationMetrics):
    """A ``K``-unit nonlinear network with shared weights in ``views`` branches on the sphere
    model (module docstring: data, views, loss, learning).

    Parameters
    ----------
    N, K, d1 : int
        Input dimension, units, feature variables.
    views : int
        Branches ``A`` (>= 2).
    activation : {"tanh", "erf", "relu", "linear"}
    s, rho : float
        View noise level and correlation between views.
    lam, mu : float
        Decorrelation strength ``lambda`` and weight decay ``mu``.
    feature_law : {"gaussian", "rademacher", "uniform", "sparse"}, or ``d1`` of them comma-separated
        (one law per feature variable, :func:`feature_laws`).
    c_var : float
        Variance of each feature variable.
    init_overlap : float
        Initial ``M_ij`` (the same for every unit and feature, plus ``init_noise``): an initial
        overlap that does not depend on ``N``.
    init_noise : float
        Standard deviation of the ``N``-independent random part of the initial ``M``.
    init_norm : float
        Initial ``Q_ii`` (squared norm of each unit's weights over ``N``).
    metrics : list of str
        Opt-in representation metrics (:mod:`neurocl.measure.representation`, e.g.
        ``["alpha_req"]``) of the ``K`` outputs ``y = sigma(W^T x / sqrt(N))`` of one branch on
        ``REPRESENTATION_SAMPLES`` first views of the sphere model (drawn with ``default_rng(0)``
        in the replica's frame ``U``), per checkpoint; alpha-ReQ needs ``K >= 3`` (NaN otherwise).
    """

    N: int
    K: int = 2
    d1: int = 2
    views: int = 2
    activation: str = "tanh"
    s: float = 0.5
    rho: float = 0.0
    lam: float = 1.0
    mu: float = 0.5
    feature_law: str = "gaussian"
    c_var: float = 4.0
    init_overlap: float = 0.0
    init_noise: float = 0.1
    init_norm: float = 1.0
    metrics: tuple = metrics_field()

    kind = "two_branch"
    #: samples whose outputs the opt-in representation metrics see
    REPRESENTATION_SAMPLES = 2000
    dynamics = "online_sgd"
    data_layer = None
    clamp_units = None
    main_metric = "feature_cosine_mean"
    summary_panel = None

    def __post_init__(self):
        check_fields(self)
        for name in ("N", "K", "d1", "views"):
            object.__setattr__(self, name, positive_int(name, getattr(self, name)))
        if self.views < 2:
            raise ConfigError(f"views = {self.views} must be >= 2")
        if self.d1 + self.K > self.N:
            raise ConfigError(f"d1 + K = {self.d1 + self.K} must be <= N = {self.N} (weights need room outside span(U))")
        one_of("activation", self.activation, set(ACTIVATIONS))
        feature_laws(self.feature_law, self.d1)
        for name in ("s", "lam", "mu", "init_noise"):
            object.__setattr__(self, name, non_negative(name, getattr(self, name)))
        object.__setattr__(self, "c_var", positive("c_var", self.c_var))
        object.__setattr__(self, "init_norm", positive("init_norm", self.init_norm))
        rho = float(self.rho)
        if not -1.0 / (self.views - 1) - 1e-12 <= rho <= 1.0:
            raise ConfigError(f"rho = {rho:g} is outside [{-1.0 / (self.views - 1):g}, 1] for {self.views} views")
        object.__setattr__(self, "rho", rho)
        object.__setattr__(self, "metrics", check_metric_names(self.metrics))
        if self.init_overlap ** 2 * self.d1 >= self.init_norm:
            raise ConfigError(f"init_overlap = {self.init_overlap:g}: |M_i|^2 must be < init_norm = {self.init_norm:g}")

    @property
    def n_synapses(self) -> int:
        return self.N * self.K

    def representation(self, params: dict, replica: int) -> np.ndarray:
        """Outputs ``y = sigma(W^T x / sqrt(N))`` ``(REPRESENTATION_SAMPLES, K)`` of one branch on
        first views of the sphere model in the replica's frame ``U`` (generator ``default_rng(0)``)."""
        rng = np.random.default_rng(0)
        U, W = params["U"][replica], params["W"][replica]
        c = sample_features(self.feature_law, rng, (self.REPRESENTATION_SAMPLES, self.d1), self.c_var)
        x = sample_views(U, c, self.s, self.rho, self.views, rng)[:, 0, :]
        return ACTIVATIONS[self.activation][0](x @ W / np.sqrt(self.N))

    def init_params(self, rng: np.random.Generator, replicas: int = 1) -> dict:
        """Arrays of the parameter shapes, ``W`` (R, N, K) and the frame ``U`` (R, N, d1), at
        zero (the runner draws the frame and the weights with :meth:`init_weights`; results
        readers use these shapes)."""
        return {"W": np.zeros((replicas, self.N, self.K)), "U": np.zeros((replicas, self.N, self.d1))}

    def initial_overlaps(self, rng: np.random.Generator):
        """``(M0, Q0)``: ``M0 = init_overlap + init_noise * N(0, 1)``, ``Q0`` with diagonal
        ``init_norm`` and the off-diagonal of weights whose parts outside ``span(U)`` are
        independent (``Q0 = M0 M0^T + (init_norm - |M0_i|^2) on the diagonal``)."""
        M = self.init_overlap + self.init_noise * rng.standard_normal((self.K, self.d1))
        rest = self.init_norm - (M * M).sum(1)
        if rest.min() <= 0:
            raise ConfigError("init_noise too large: an initial |M_i|^2 exceeds init_norm")
        return M, M @ M.T + np.diag(rest)

    def init_weights(self, U: np.ndarray, M0: np.ndarray, Q0: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Weights ``W`` (``N x K``) with ``W^T U / sqrt(N) = M0`` and ``W^T W / N = Q0``
        exactly (random orthonormal directions outside ``span(U)`` for the rest)."""
        N = U.shape[0]
        G = rng.standard_normal((N, self.K))
        G -= U @ (U.T @ G)
        Qp = Q0 - M0 @ M0.T
        # orthonormalise the random part, then give it the Gram matrix Qp exactly
        q, _ = np.linalg.qr(G)
        Lp = np.linalg.cholesky(Qp + 1e-15 * np.eye(self.K))
        return np.sqrt(N) * (U @ M0.T + q @ Lp.T)

    def task(self, data=None) -> Task:
        """The sphere model is generated by the runner (no dataset to load); metrics per
        replica from the overlaps of ``params = {"W": (R, N, K), "U": (R, N, d1)}``:
        ``feature_cosine_mean`` (mean over features of the best unit's cosine
        ``|M_ij| / sqrt(Q_ii)``, dimensionless in [0, 1]), ``overlap_max`` (largest ``|M_ij|``)
        and ``weight_norm_mean`` (mean ``Q_ii``)."""

        if data is not None and np.size(data.x):
            raise ConfigError("a two_branch circuit learns from the sphere model it generates: use [data] name = \"sphere\"")

        def evaluate(p):
            M, Q = overlaps(p["W"], p["U"])
            norms = np.sqrt(np.clip(np.diagonal(Q, axis1=-2, axis2=-1), 1e-300, None))
            cos = np.abs(M) / norms[..., :, None]
            return {"feature_cosine_mean": cos.max(-2).mean(-1), "overlap_max": np.abs(M).max((-1, -2)),
                    "weight_norm_mean": np.diagonal(Q, axis1=-2, axis2=-1).mean(-1)}

        def check(p):
            """Diverged: a unit's squared weight norm ``Q_ii`` above ``MAX_NORM`` (with weight
            decay ``mu > 0`` the norms settle at O(1); 1e4 means the update has run away)."""
            q = np.diagonal(overlaps(p["W"], p["U"])[1], axis1=-2, axis2=-1)
            if not np.all(np.isfinite(q)) or q.max() > MAX_NORM:
                return f"max Q_ii = {q.max():.3g} > {MAX_NORM:g} (weight norm ran away)"
            return None

        task = Task(clamp=np.zeros((0, self.N)), evaluate=evaluate, check=check)
        return with_representation_metrics(task, self.metrics, self.representation)
