"""The loss floor of always-on learning on a fixed-point weight grid (Loihi 2 style).

Setting.  Always-on ISD (Williams, Bredenberg & Lajoie, ICML 2023, arXiv:2302.12431; papers/000)
asks at every step ``k`` for the ideal update ``u_k = eta dt w(phase) f(state)``.  On a grid of
step ``q`` (network units: ``profile.weight_scale * profile.quantum``) the device applies
``u_k + e_k`` where ``e_k`` is the rounding error of ``u_k / q`` grid steps.  Stochastic
rounding makes ``e_k`` unbiased given ``u_k``, with the conditional variance
``q^2 x (1 - x)`` per synapse, ``x`` the fractional part of ``|u_k| / q``
(:func:`rounding_moments`).  One random number shared by every synapse (Lava's ``fixed_pt``
learning engine, ``shared_rounding = true``) leaves each variance unchanged and correlates the
errors (``Cov = q^2 (min(x_i, x_j) - x_i x_j)`` between synapses moving the same way).

Floor.  Lemma A.1 of Ghosh et al. (ICLR 2023; papers/003, appendix A, Eq. 9; in the package
:func:`neurocl.theory.predict_delta_loss_cov`) is the second-order expansion of a function of
the weights over one noisy step: the gradient term plus ``1/2 Tr(Hessian C) dt^2``.  Near a
minimum ``w*`` of the loss ``L`` with Hessian ``H`` apply it, not to ``L``, but to the squared
distance ``F(w) = |w - w*|^2 / 2`` (Hessian ``I``): with ``delta = w - w*`` and per-step noise
covariance ``Sigma`` (weight units^2)::

    E[dF] = -eta dt <delta, H delta> + 1/2 (eta dt)^2 |H delta|^2 + 1/2 Tr(Sigma).

A stationary law has ``E[dF] = 0``, so to first order in ``eta dt``
``E[<delta, H delta>] = Tr(Sigma) / (2 eta dt)``, and the excess loss ``E[L] - L* =
1/2 E[<delta, H delta>]`` is

    excess = Tr(Sigma) / (4 eta dt)                                          (*)

whatever ``H`` is (positive definite on the noise's span) and whatever the correlations of
``Sigma`` are (only its trace enters: shared and independent rounding predict the same floor).
The rounding error is fresh at every step and conditionally unbiased, so it is uncorrelated
with the sampling noise of the ideal update and its floor adds to the float one.  For a
binary statistic (``v_i h_j`` in {0, 1}, spikes as on Loihi) with ``f+ = eta dt / (b q)``,
``f- = eta dt / ((1 - b) q)`` (fractions of a grid step per coincidence) and ``S+``, ``S-``
the summed coincidence probabilities of the synapses in each phase,

    Tr(Sigma) = q^2 [b phi(f+) S+ + (1 - b) phi(f-) S-],   phi(f) = frac(f) (1 - frac(f)),

and with ``b = 1/2``, ``f < 1``, ``S+ ~ S- = S``: ``excess = q (1 - f) S / (4 b)``: linear in
the grid step, independent of ``eta`` (:func:`binary_floor`).  For ``f << 1``, ``phi(f x) ~
f x`` is linear in the statistic ``x``, so a graded (mean-field) statistic with the same mean
has nearly the same rounding floor.

Finite time and curvature.  :func:`ou_excess_loss` solves the linear model ``delta_{k+1} =
(I - eta dt H) delta_k + e_k`` exactly (any ``Sigma``, after ``k`` steps from ``delta_0 = 0``
or stationary), which is how slowly the floor is reached along flat directions of ``H``.

Limits (measured with ``examples/fixed_point_floor.py``, bas3).  (*) and :func:`ou_excess_loss`
assume that the mean update is the exact gradient (drift Jacobian = ``H``), a quadratic loss,
and noise that does not interact with the sampling.  Where the drift is the exact gradient
(ISD with exact phase statistics) the finite-time linear model predicts the measured rounding
excess for shared and independent rounding (within 25 %).  With sampled always-on ISD it does
for independent rounding, but shared rounding (every active synapse of the current sample
rounded up or down together) costs about twice the prediction on every grid tried, and a tag
fed by shared rounding about seven times its (small) prediction: there the correlation of the
rounding error with the sampled state matters, not only its trace.

On Lava's emulator (``examples/fixed_point_floor.py --lava``: the per-update rounding noise of
on-chip updates as ``check-theory --engine lava`` measures it, 50 sweeps at the 400 s state of
bas3, then (*)): 9-bit weights with shared rounding (``loihi2``) Tr Cov 40.96 gradient units^2
(profile 40.59), predicted excess 0.50 nats, measured plateau excess 0.86 +- 0.18 (the same
factor of about two as on the numpy engine); a 2-bit tag 9.71 (9.03), predicted 0.12; the
4-bit tag of ``loihi2_tag`` 0.078 (0.079), predicted 0.001 nats.

Deterministic rounding (nearest level) has no variance but a bias: every update with ``|u| <
q/2`` is lost; with ``f < 1/2`` nothing is ever applied and the weights stay frozen
(``frozen`` in :class:`FloorPrediction`).

Synaptic tag as an accumulator (``accumulator_bits = m``, :class:`~neurocl.hardware.SynapseArray`):
updates are stochastically rounded to ``q / 2^m`` into a per-synapse tag that passes whole
grid steps to the weight (error feedback).  The rounding noise that accumulates in the weights
is that of the fine grid (``q`` replaced by ``q / 2^m`` in (*)), and the weight the network
reads lags the accumulated one by the tag, bounded by ``q``: a non-accumulating read error
of excess about ``1/2 Tr(H Cov(tag))`` (:func:`tag_read_excess`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["rounding_moments", "rounding_noise_trace", "rounding_noise_cov", "stationary_excess_loss",
           "ou_excess_loss", "binary_floor", "tag_read_excess", "FloorPrediction", "grid_step"]


def grid_step(profile) -> float:
    """Grid step ``q`` of a profile in network units: ``weight_scale * (w_max - w_min) / 2^weight_bits``
    (0 for an analog profile)."""
    return float(profile.weight_scale * profile.quantum)


def _fractions(u, q):
    x = np.abs(np.asarray(u, float)) / q
    return x - np.floor(x)


def rounding_moments(u, q: float, rounding: str = "stochastic", shared: bool = False):
    """Exact mean and covariance of the rounding error of one ideal update ``u`` on a grid ``q``.

    Parameters
    ----------
    u : (N,) array
        Ideal update in network units (one step, all synapses flattened).
    q : float
        Grid step in network units (> 0).
    rounding : {"stochastic", "deterministic"}
        Stochastic: up with probability equal to the fraction (unbiased); deterministic:
        nearest level (biased, no variance).
    shared : bool
        Stochastic rounding with one uniform for all synapses (Lava ``fixed_pt``).

    Returns
    -------
    bias : (N,) array
        ``E[e]`` (network units).
    cov : (N, N) array
        ``Cov[e]``: ``q^2 x (1 - x)`` on the diagonal; off the diagonal ``0`` (independent) or
        ``s_i s_j q^2 (min(x_i, x_j) - x_i x_j)`` (shared; ``s = sign(u)``).
    """
    u = np.asarray(u, float).ravel()
    if q <= 0:
        raise ValueError(f"grid step q = {q} must be > 0")
    x = _fractions(u, q)
    s = np.sign(u)
    if rounding == "deterministic":
        return s * q * (np.floor(x + 0.5) - x), np.zeros((u.size, u.size))
    if rounding != "stochastic":
        raise ValueError(f"rounding = {rounding!r} is not 'stochastic' or 'deterministic'")
    if shared:
        cov = np.outer(s, s) * q * q * (np.minimum.outer(x, x) - np.outer(x, x))
    else:
        cov = np.diag(q * q * x * (1.0 - x))
    return np.zeros(u.size), cov


def rounding_noise_trace(updates, q: float, rounding: str = "stochastic") -> float:
    """``E_k Tr Cov[e_k | u_k]``: mean over the steps of ``updates`` (``(K, ...)``, network units)
    of the summed rounding variance ``q^2 sum_i x_i (1 - x_i)`` (network units^2 per step; 0 for
    deterministic rounding).  Shared and independent rounding have the same trace."""
    if rounding == "deterministic":
        return 0.0
    u = np.asarray(updates, float)
    x = _fractions(u.reshape(len(u), -1), q)
    return float(q * q * np.mean(np.sum(x * (1.0 - x), axis=1)))


def rounding_noise_cov(updates, q: float, shared: bool) -> np.ndarray:
    """``E_k Cov[e_k | u_k]`` over the steps of ``updates`` (``(K, N)``), stochastic rounding
    (network units^2 per step)."""
    u = np.asarray(updates, float)
    u = u.reshape(len(u), -1)
    return np.mean([rounding_moments(uk, q, "stochastic", shared)[1] for uk in u], axis=0)


def stationary_excess_loss(noise_trace: float, eta_dt: float) -> float:
    """Eq. (*) of the module docstring: stationary excess loss ``Tr(Sigma) / (4 eta dt)`` of a
    noisy descent with per-step noise trace ``noise_trace`` (weight units^2) and step
    ``eta dt`` (Lemma A.1 of Ghosh et al. 2023, Eq. 9, applied to ``|w - w*|^2 / 2``; first
    order in ``eta dt``).  Units: those of the loss (nats for an NLL)."""
    if eta_dt <= 0:
        raise ValueError(f"eta dt = {eta_dt} must be > 0")
    return float(noise_trace) / (4.0 * eta_dt)


def ou_excess_loss(H, cov, eta_dt: float, steps: int | None = None) -> float:
    """Excess loss ``1/2 E[delta^T H delta]`` of the linear iteration ``delta_{k+1} = (I - eta dt H)
    delta_k + e_k``, ``Cov e_k = cov``, after ``steps`` steps from ``delta_0 = 0`` (``None``:
    stationary law; needs ``0 < eta dt lambda < 2`` for every eigenvalue ``lambda`` of ``H``).

    Exact for this model: in the eigenbasis of ``H`` (``a_i = 1 - eta dt lambda_i``,
    ``C~ = V^T cov V``) the covariance is ``C~_ij (1 - (a_i a_j)^k) / (1 - a_i a_j)``; only its
    diagonal enters ``1/2 sum_i lambda_i P~_ii``.  For small ``eta dt lambda`` and ``steps =
    None`` it tends to :func:`stationary_excess_loss` of ``Tr(cov)``.
    """
    H = np.asarray(H, float)
    lam, V = np.linalg.eigh(0.5 * (H + H.T))
    c = np.einsum("ij,jk,ki->i", V.T, np.asarray(cov, float), V)
    x = eta_dt * lam
    one_minus_a2 = x * (2.0 - x)                     # 1 - a^2 without cancellation
    if steps is None:
        if np.any(one_minus_a2 <= 0.0):
            raise ValueError("no stationary law: some eigenvalue of H is outside (0, 2 / (eta dt))")
        p = c / one_minus_a2
    else:
        k = int(steps)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_a2 = 2.0 * np.log(np.abs(1.0 - x))
            log_a2 = np.where(np.abs(x) < 0.5, 2.0 * np.log1p(-x), log_a2)
            p = np.where(one_minus_a2 == 0.0, c * k, c * -np.expm1(k * log_a2) / one_minus_a2)
    return float(0.5 * np.sum(lam * p))


def tag_read_excess(H, tag_var) -> float:
    """``1/2 Tr(H diag(tag_var))``: excess loss of reading weights that lag the accumulated ones
    by an independent, zero-mean offset of variance ``tag_var`` per synapse (the synaptic-tag
    residual; for a residual uniform on ``(-q, q)``, ``tag_var = q^2 / 3``)."""
    return float(0.5 * np.sum(np.diag(np.asarray(H, float)) * np.broadcast_to(tag_var, np.diag(H).shape)))


@dataclass(frozen=True)
class FloorPrediction:
    """Predicted rounding floor of binary-statistic always-on ISD on a grid."""

    q: float              # grid step, network units (fine step q / 2^m with an accumulator)
    f_pos: float          # grid steps per coincidence in a positive phase: eta dt / (b q)
    f_neg: float          # grid steps per coincidence in a negative phase: eta dt / ((1 - b) q)
    noise_trace: float    # Tr Sigma per step, network units^2
    excess_nats: float    # Eq. (*), nats above the float floor (stochastic) / 0 when frozen
    frozen: bool          # deterministic rounding with every update below half a step


def binary_floor(q: float, eta: float, dt: float, b: float, s_pos: float, s_neg: float,
                 rounding: str = "stochastic", accumulator_bits: int = 0) -> FloorPrediction:
    """Closed form of the rounding floor for a binary statistic (module docstring).

    Parameters
    ----------
    q : float
        Grid step of the weights in network units (:func:`grid_step`).
    eta, dt, b : float
        Learning rate (ms^-1), step (ms), fraction of time in positive phases (ISD weights
        ``1/b``, ``-1/(1-b)``).
    s_pos, s_neg : float
        Summed coincidence probabilities ``sum_ij P(v_i h_j = 1)`` in positive / negative phases.
    rounding : {"stochastic", "deterministic"}
    accumulator_bits : int
        ``m``: updates accumulate on a grid ``q / 2^m`` (synaptic tag) before reaching the weight.
    """
    if not (q > 0 and eta > 0 and dt > 0 and 0 < b < 1):
        raise ValueError("need q, eta, dt > 0 and 0 < b < 1")
    qf = q / 2**int(accumulator_bits)
    fp, fn = eta * dt / (b * qf), eta * dt / ((1.0 - b) * qf)
    if rounding == "deterministic":
        frozen = max(fp, fn) < 0.5
        return FloorPrediction(qf, fp, fn, 0.0, 0.0, frozen)

    def phi(f):
        x = f - np.floor(f)
        return x * (1.0 - x)

    trace = qf * qf * (b * phi(fp) * s_pos + (1.0 - b) * phi(fn) * s_neg)
    return FloorPrediction(qf, fp, fn, float(trace), stationary_excess_loss(trace, eta * dt), False)
