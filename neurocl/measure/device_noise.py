"""What a hardware profile does to an ideal update, in the terms of Lemma 2.1.

Ghosh et al. (ICLR 2023, Eq. 1): an update ``dt (-grad L + b beta +
sigma sqrt(f(N)) n)``.  Given an ideal update ``u = -eta dt grad L`` (gradient units: divide by
``eta dt``), Monte Carlo over the device's random effects estimates the bias vector
``b beta = E[device update - u] / (eta dt)`` and the total variance
``sigma^2 f(N) = tr Cov[device update] / (eta dt)^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.hardware.device import device_update, draw_device_params
from neurocl.hardware.profile import HardwareProfile

__all__ = ["UpdateStatistics", "sample_device_updates", "update_statistics", "variance_scaling"]


@dataclass(frozen=True)
class UpdateStatistics:
    """Bias vector and noise of a device update, in gradient units."""

    bias: np.ndarray          # b * beta (same shape as the weights)
    noise_var: float          # sigma^2 f(N): trace of the update covariance
    cos_bias_descent: float   # cosine between the bias and -grad L (the ideal update); nan if no bias
    n_draws: int

    @property
    def bias_norm(self) -> float:
        return float(np.linalg.norm(self.bias))


def sample_device_updates(profile: HardwareProfile, w: np.ndarray, ideal_update: np.ndarray,
                          rng: np.random.Generator, draws: int, device_params=None) -> np.ndarray:
    """``draws`` realisations of the update a device applies when asked for ``ideal_update``
    at weights ``w`` (network units), shape ``(draws,) + w.shape``."""
    ws = profile.weight_scale
    dev = device_params if device_params is not None else draw_device_params(profile, w.shape, rng)
    w_dev = np.clip(np.asarray(w, float) / ws, dev.w_min, dev.w_max)
    du = np.asarray(ideal_update, float) / ws
    out = np.empty((draws,) + np.shape(w))
    for i in range(draws):
        new, _ = device_update(profile, dev, w_dev, du, rng)
        out[i] = (new - w_dev) * ws
    return out


def update_statistics(profile: HardwareProfile, w: np.ndarray, ideal_update: np.ndarray, scale: float,
                      rng: np.random.Generator, draws: int = 200, device_params=None) -> UpdateStatistics:
    """Monte Carlo over cycle-to-cycle noise and stochastic rounding of one update.

    ``w`` and ``ideal_update`` are in network units; ``scale = eta * dt`` converts the update
    to gradient units.  Device-to-device parameters are drawn once (``device_params`` or from
    ``rng``) and held fixed: they are part of the device, not of the update noise.
    """
    updates = sample_device_updates(profile, w, ideal_update, rng, draws, device_params)
    mean = updates.mean(0)
    bias = (mean - ideal_update) / scale
    noise_var = float(updates.reshape(draws, -1).var(0, ddof=1).sum()) / scale**2
    bn, un = np.linalg.norm(bias), np.linalg.norm(ideal_update)
    cos = float(np.sum(bias * ideal_update) / (bn * un)) if bn > 0 and un > 0 else float("nan")
    return UpdateStatistics(bias, noise_var, cos, draws)


def variance_scaling(profile: HardwareProfile, sizes, eta_dt: float, rng: np.random.Generator,
                     draws: int = 100) -> tuple:
    """``f(N)``: the update noise variance for random ideal updates of ``N`` synapses, for each
    ``N`` in ``sizes``, and the exponent ``a`` of a fit ``sigma^2 f(N) ~ N^a``."""
    out = []
    for n in sizes:
        w = rng.uniform(-0.5, 0.5, n) * profile.weight_scale if np.isfinite(profile.range) else rng.normal(0, 1, n)
        u = eta_dt * rng.standard_normal(n)
        out.append(update_statistics(profile, w, u, eta_dt, rng, draws).noise_var)
    out = np.array(out)
    a = float(np.polyfit(np.log(sizes), np.log(np.maximum(out, 1e-300)), 1)[0]) if out.min() > 0 else float("nan")
    return out, a
