"""Bias of always-on learning (Williams, Bredenberg & Lajoie, ICML 2023, "Mechanism 2":
bias ``O(eta s / tau) + O(eta^2 tau)``), measured on the numpy engine and compared with the
exact joint chain (:mod:`neurocl.theory_always_on`, eqs. (B1)-(B3)).

:func:`frozen_bias_point` (the ``s / tau`` term, weights held still), :func:`eta_part_point`
(the learning-rate term, weights moving, common random numbers against a frozen twin),
:func:`window_drift` (the engine's mean drift over a window), :func:`loglog_slope`.

The older window-against-gradient-flow estimate (kept for its callers):

From weights ``theta0``, ``R`` independent networks learn with ISD for a window ``T``; the
exact expected contrastive-learning trajectory is the gradient flow ``dtheta/dt = -eta grad
NLL(theta)`` (exact gradient by enumeration) over the same window.  The bias of always-on
learning per unit of learning is ``(E[theta_ISD(T)] - theta_flow(T)) / (eta T)``, reported
relative to ``|grad NLL(theta0)|``, with its Monte Carlo standard error over replicas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.engines import Simulation, Task, get_engine
from neurocl.measure.exact import rbm_nll_grad
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD
from neurocl.measure.rbm_hessian import flatten

__all__ = ["BiasEstimate", "gradient_flow", "always_on_bias", "WindowDrift", "window_drift", "flatten_batch",
           "loglog_slope", "frozen_bias_point", "eta_part_point"]


@dataclass(frozen=True)
class BiasEstimate:
    eta: float
    tau: float
    relative_bias: float   # |E[theta_ISD] - theta_flow| / (eta T |grad|)
    se: float              # Monte Carlo standard error of relative_bias (noise floor)


def gradient_flow(W, a, c, data, eta: float, T: float, steps: int = 400):
    """Euler integration of ``dtheta/dt = -eta grad NLL`` over ``T`` ms (exact gradient)."""
    W, a, c = W.copy(), a.copy(), c.copy()
    h = T / steps
    for _ in range(steps):
        gW, ga, gc = rbm_nll_grad(W, a, c, data)
        W -= eta * h * gW
        a -= eta * h * ga
        c -= eta * h * gc
    return W, a, c


def always_on_bias(rbm, data, params0, eta: float, tau: float, T: float, replicas: int = 64,
                   dt: float = 0.5, seed: int = 0) -> BiasEstimate:
    """Relative bias of ISD (b = 0.5, exponential phases of mean ``tau`` ms) over a window."""
    W0, a0, c0 = (params0[k] for k in ("W", "a", "c"))
    start = {"W": np.repeat(W0[None], replicas, 0), "a": np.repeat(a0[None], replicas, 0),
             "c": np.repeat(c0[None], replicas, 0)}
    sim = Simulation(dt=dt, duration=T, replicas=replicas, seed=seed, checkpoints=1)
    traj = get_engine("numpy").run(rbm, ISD(eta), StochasticPhases(0.5, Exponential(tau)),
                                   Task(clamp=data, evaluate=lambda p: {}), sim, params=start)
    flow = flatten(*gradient_flow(W0, a0, c0, data, eta, T))
    ends = np.array([flatten(traj.params["W"][r], traj.params["a"][r], traj.params["c"][r])
                     for r in range(replicas)])
    g0 = np.linalg.norm(flatten(*rbm_nll_grad(W0, a0, c0, data)))
    diff = ends.mean(0) - flow
    scale = eta * T * g0
    se_vec = ends.std(0, ddof=1) / np.sqrt(replicas)
    return BiasEstimate(eta, tau, float(np.linalg.norm(diff) / scale), float(np.linalg.norm(se_vec) / scale))


@dataclass(frozen=True)
class WindowDrift:
    """The engine's mean always-on drift over ``[t0, t1]`` ms (per unit learning rate):
    ``drift`` (``(P,)``: ``E[theta(t1) - theta(t0)] / (eta (t1 - t0))``), its covariance
    ``drift_cov`` (``(P, P)``, of the mean over ``replicas`` independent replicas)."""

    eta: float
    tau: float
    t0: float
    t1: float
    replicas: int
    drift: np.ndarray
    drift_cov: np.ndarray

    @property
    def t_mid(self) -> float:
        return 0.5 * (self.t0 + self.t1)

    @property
    def t2_mean(self) -> float:
        """Mean of ``t^2`` over the window (ms^2)."""
        return (self.t1**3 - self.t0**3) / (3.0 * (self.t1 - self.t0))

    def projection(self, direction, scale: float = 1.0) -> tuple:
        """``(u . drift / scale, s.e.)`` for the unit vector ``u`` along ``direction``."""
        u = np.asarray(direction, float) / np.linalg.norm(direction)
        return float(u @ self.drift / scale), float(np.sqrt(u @ self.drift_cov @ u) / scale)


def window_drift(W, a, c, data, b: float, tau: float, eta: float, burn_in: float, window: float,
                 replicas: int, seed: int = 0, dt: float = 1.0, tau_n: float = 1.0, chunk: int = 8192,
                 engine: str = "numpy", reference_eta: float | None = None) -> WindowDrift:
    """Measure the always-on drift of an RBM (mean-field ISD, exponential phases of mean
    ``tau`` ms, positive with probability ``b``, learning rate ``eta`` 1/ms) on an engine:
    ``replicas`` independent replicas start at ``(W, a, c)``; the weights at ``burn_in`` and at
    ``burn_in + window`` ms (``window`` a multiple of ``burn_in``) give each replica's drift;
    replicas run in chunks of ``chunk`` (seeds ``seed``, ``seed + 1``, ...).

    ``reference_eta``: each chunk runs again with this learning rate and the *same* seed
    (common random numbers: the same phase schedule and the same uniform draws), and the
    result is the difference of the two drifts, ``E[drift(eta) - drift(reference_eta)]``, with
    the (much smaller) variance of the paired difference."""
    from neurocl.circuits import RBM

    W, a, c = (np.asarray(x, float) for x in (W, a, c))
    nv, nh = W.shape
    m = window / burn_in
    if abs(m - round(m)) > 1e-9 or m < 1:
        raise ValueError(f"window = {window} ms must be a positive multiple of burn_in = {burn_in} ms")
    m = int(round(m))
    rows = []
    done, k = 0, 0
    while done < replicas:
        R = min(chunk, replicas - done)
        start = {"W": np.repeat(W[None], R, 0), "a": np.repeat(a[None], R, 0), "c": np.repeat(c[None], R, 0)}
        snaps = []

        def evaluate(p):
            snaps.append(flatten_batch(p))
            return {}

        sim = Simulation(dt=dt, duration=(m + 1) * burn_in, replicas=R, seed=seed + k, checkpoints=m + 1)
        G = 0.0
        for rate, sign in ((eta, 1.0),) + (((reference_eta, -1.0),) if reference_eta is not None else ()):
            snaps.clear()
            get_engine(engine).run(RBM(nv, nh, tau_n=tau_n), ISD(rate), StochasticPhases(b, Exponential(tau)),
                                   Task(clamp=np.asarray(data, float), evaluate=evaluate), sim,
                                   params={k_: v.copy() for k_, v in start.items()})
            G = G + sign * (snaps[-1] - snaps[1]) / (rate * window)
        rows.append(G)
        done += R
        k += 1
    G = np.concatenate(rows)
    return WindowDrift(eta, tau, burn_in, burn_in + window, len(G), G.mean(0), np.cov(G.T) / len(G))


def flatten_batch(p) -> np.ndarray:
    """``(R, P)``: each replica's ``(W, a, c)`` flattened (:func:`neurocl.measure.rbm_hessian.flatten` order)."""
    R = len(p["W"])
    return np.concatenate([np.asarray(p["W"]).reshape(R, -1), p["a"], p["c"]], axis=1)


def loglog_slope(x, y, se=None) -> tuple:
    """Least-squares slope of ``log y`` against ``log x`` and its standard error (weights
    ``(y / se)^2`` when ``se`` is given: the delta method's variance of ``log y``; else the
    residual scatter).  Returns ``(slope, slope_se)``; ``slope_se`` is 0 for exact points;
    ``(nan, nan)`` for fewer than two points or a non-positive ``y``."""
    if np.any(np.asarray(y, float) <= 0) or len(np.atleast_1d(y)) < 2:
        return float("nan"), float("nan")
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    X = np.c_[lx, np.ones_like(lx)]
    if se is None:
        coef, *_ = np.linalg.lstsq(X, ly, rcond=None)
        return float(coef[0]), 0.0
    w = np.asarray(y, float) / np.asarray(se, float)
    coef, *_ = np.linalg.lstsq(X * w[:, None], ly * w, rcond=None)
    cov = np.linalg.inv((X * w[:, None]).T @ (X * w[:, None]))
    return float(coef[0]), float(np.sqrt(cov[0, 0]))


def frozen_bias_point(W, a, c, data, b: float, tau: float, replicas: int, windows: int, window_ms: float,
                      seed: int = 0, dt: float = 1.0) -> dict:
    """Bias of the always-on drift with the weights held still (``eta -> 0``), mean phase
    length ``tau`` ms: exact joint chain, leading-order ``(D+ - D-) / E[L]``, and the numpy
    engine (:func:`neurocl.theory_always_on.measure_rbm_always_on`, learning rate 1e-9), all
    relative to ``|g|``; the engine's as its projection on the exact bias direction (+- s.e.)
    and ``max_z`` (largest per-parameter ``|engine - exact| / s.e.``)."""
    from neurocl.theory_always_on import (grid_length_moments, measure_rbm_always_on, rbm_always_on_chain,
                                          rbm_chains, rbm_renewal_moments, renewal_bias)

    ch = rbm_chains(W, a, c, data, dt)
    ex = rbm_always_on_chain(ch, b, tau, dt)
    mom = rbm_renewal_moments(ch, b, dt)
    lead = renewal_bias(grid_length_moments(tau, dt)[0], mom.deficit_pos, mom.deficit_neg)
    gn = float(np.linalg.norm(ex.gradient))
    m = measure_rbm_always_on(get_engine("numpy"), W, a, c, data, b, tau, dt, replicas, windows, window_ms, seed)
    u = ex.bias / np.linalg.norm(ex.bias)
    return {"tau_ms": tau, "exact": ex.relative_bias, "leading_order": float(np.linalg.norm(lead) / gn),
            "engine": float(u @ (m["drift"] - ex.gradient) / gn),
            "engine_se": float(np.sqrt(np.sum((u * m["drift_se"]) ** 2)) / gn),
            "max_z": float(np.max(np.abs(m["drift"] - ex.drift) / m["drift_se"])),
            "replicas": replicas, "simulated_ms": replicas * windows * window_ms}


def eta_part_point(W, a, c, data, b: float, tau: float, eta: float, replicas: int, seed: int = 0,
                   burn_in_phases: float = 4.0, dt: float = 1.0, window_terms: bool = False,
                   first_order=None) -> dict:
    """The learning-rate part of the always-on bias at learning rate ``eta`` (1/ms) and mean
    phase length ``tau`` (ms), relative to ``|g|``.

    Engine: :func:`window_drift` with common random numbers (``reference_eta = 1e-9``) over
    the window ``[B, 2B]``, ``B = burn_in_phases x tau``; from the paired drift difference the
    exact gradient flow's own change over the window is removed, leaving ``bias(eta) -
    bias(0)``.  Exact chain: the same window to first order in ``eta``
    (:func:`neurocl.theory_always_on.rbm_always_on_first_order`; second-order flow terms with
    ``window_terms``) and the stationary ``eta drift1``; leading order: ``eta beta_eta``
    (:func:`neurocl.theory_always_on.rbm_learning_rate_bias`).  Projections on the exact
    ``drift1`` direction; ``max_z`` as in :func:`frozen_bias_point`.  ``first_order``: a
    precomputed :class:`~neurocl.theory_always_on.FirstOrderDrift` of the same RBM and ``tau``."""
    from neurocl.theory_always_on import (grid_length_moments, mean_phase_age, rbm_always_on_first_order,
                                          rbm_learning_rate_bias)

    fo = first_order or rbm_always_on_first_order(W, a, c, data, b, tau, dt, window_terms=window_terms)
    L1, L2 = grid_length_moments(tau, dt)
    lead = eta * rbm_learning_rate_bias(W, a, c, data, b, mean_phase_age(L2 / L1, dt))
    B = burn_in_phases * tau
    wd = window_drift(W, a, c, data, b, tau, eta, B, B, replicas, seed, dt, reference_eta=1e-9)
    flow = fo.window_flow(eta, wd.t_mid, wd.t2_mean) - fo.gradient
    meas = wd.drift - flow
    pred = fo.window_drift(eta, wd.t_mid, wd.t2_mean) - fo.drift0 - flow
    gn = float(np.linalg.norm(fo.gradient))
    u = fo.drift1 / np.linalg.norm(fo.drift1)
    se = np.sqrt(np.diag(wd.drift_cov))
    return {"tau_ms": tau, "eta_per_ms": eta, "exact_stationary": float(eta * np.linalg.norm(fo.drift1) / gn),
            "exact_window": float(u @ pred / gn), "leading_order": float(u @ lead / gn),
            "leading_order_rel_error": float(np.linalg.norm(lead - eta * fo.drift1) / np.linalg.norm(eta * fo.drift1)),
            "engine": float(u @ meas / gn), "engine_se": float(np.sqrt(u @ wd.drift_cov @ u) / gn),
            "max_z": float(np.max(np.abs(meas - pred) / se)), "window_ms": [wd.t0, wd.t1], "replicas": replicas}
