"""Device models: ideal weight updates -> device updates; stored weights -> read weights.

Pure functions of ``(profile, per-synapse device parameters, weights, rng)`` and one thin
state holder, :class:`SynapseArray`.  Pulsed updates follow aihwkit's ``PulsedDevice``: a
desired change ``dw`` becomes ``n = |dw| / dw_min`` pulses, rounded stochastically (unbiased)
or deterministically; the step of each pulse depends on the weight (``update`` law), on the
direction (``up_down``), on the synapse (device-to-device draws) and on the pulse
(cycle-to-cycle noise).  Pulses of one update are aggregated (``n`` steps at the current
weight, cycle-to-cycle noise with variance ``n`` times a pulse's), exact for the constant
step and accurate while ``n * dw_min`` is small against the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.hardware.profile import HardwareProfile

__all__ = ["DeviceParams", "draw_device_params", "step_sizes", "pulse_counts", "device_update",
           "read_weights", "SynapseArray"]


@dataclass
class DeviceParams:
    """Per-synapse parameters drawn once (device-to-device variation) and the fault map."""

    step_scale: np.ndarray
    up_down: np.ndarray
    w_min: np.ndarray
    w_max: np.ndarray
    stuck: np.ndarray
    stuck_to: np.ndarray


def draw_device_params(profile: HardwareProfile, shape, rng: np.random.Generator) -> DeviceParams:
    """Draw device-to-device variation and stuck-at faults for an array of synapses."""
    p = profile
    step = np.maximum(1.0 + p.dw_min_dtod * rng.standard_normal(shape), 0.0)
    ud = np.clip(p.up_down + p.up_down_dtod * rng.standard_normal(shape), -0.99, 0.99)
    if np.isfinite(p.range) and p.w_bounds_dtod:
        # a bound never shrinks below 10 % of its nominal value (keeps w_min < w_max per synapse)
        lo = p.w_min * np.maximum(1.0 + p.w_bounds_dtod * rng.standard_normal(shape), 0.1)
        hi = p.w_max * np.maximum(1.0 + p.w_bounds_dtod * rng.standard_normal(shape), 0.1)
    else:
        lo, hi = np.full(shape, p.w_min), np.full(shape, p.w_max)
    stuck = rng.random(shape) < p.stuck_fraction
    to = {"zero": 0.0, "min": p.w_min, "max": p.w_max}[p.stuck_value]
    return DeviceParams(step, ud, lo, hi, stuck, np.full(shape, to))


def step_sizes(profile: HardwareProfile, dev: DeviceParams, w: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Magnitude of one pulse's weight change at weight ``w`` in direction ``up`` (bool)."""
    p = profile
    base = p.dw_min * dev.step_scale * np.where(up, 1.0 + dev.up_down, 1.0 - dev.up_down)
    if p.update == "constant":
        return base
    rng_ = dev.w_max - dev.w_min
    if p.update == "soft_bounds":
        f = np.where(up, 1.0 - w / dev.w_max, 1.0 - w / dev.w_min)
    elif p.update == "linear":
        x = 2.0 * (w - dev.w_min) / rng_ - 1.0  # -1 at w_min, +1 at w_max
        f = np.where(up, 1.0 - p.gamma * x, 1.0 + p.gamma * x)
    else:  # exponential: steps shrink away from the bound they leave
        x = np.where(up, (w - dev.w_min) / rng_, (dev.w_max - w) / rng_)
        f = np.exp(-p.gamma * x)
    return base * np.clip(f, 0.0, None)


def pulse_counts(profile: HardwareProfile, n_real: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Round desired pulse counts ``n_real >= 0``: stochastically (one uniform per synapse, or
    one shared by all with ``shared_rounding``) or to the nearest integer."""
    if profile.rounding == "deterministic":
        return np.floor(n_real + 0.5)
    u = rng.random() if profile.shared_rounding else rng.random(n_real.shape)
    return np.floor(n_real) + (u < n_real - np.floor(n_real))


def device_update(profile: HardwareProfile, dev: DeviceParams, w: np.ndarray, dw: np.ndarray,
                  rng: np.random.Generator):
    """New stored weights after asking for ``dw``; also returns the written mask.

    Continuous devices (``dw_min == 0``) take ``dw`` exactly, then the bounds.  Pulsed devices
    take ``n = round(|dw| / dw_min)`` pulses (the nominal step), each moving the weight by the
    actual step at ``w``, with cycle-to-cycle noise.
    """
    p = profile
    if p.dw_min == 0.0:
        new = np.clip(w + dw, dev.w_min, dev.w_max)
        written = dw != 0
    else:
        up = dw > 0
        step = step_sizes(p, dev, w, up)
        # the periphery knows only the nominal step: asymmetry, saturation and device
        # variation change what each pulse does (the source of systematic bias)
        n = pulse_counts(p, np.abs(dw) / p.dw_min, rng)
        change = n * step
        if p.dw_min_std:
            xi = rng.standard_normal(w.shape)
            if p.c2c == "multiplicative":
                change = change + step * p.dw_min_std * np.sqrt(n) * xi
            else:
                change = change + p.dw_min * p.dw_min_std * np.sqrt(n) * xi
        new = np.clip(w + np.where(up, change, -change), dev.w_min, dev.w_max)
        written = n > 0
    new = np.where(dev.stuck, dev.stuck_to, new)
    return new, written & ~dev.stuck


def read_weights(profile: HardwareProfile, stored: np.ndarray, since_write: np.ndarray | None,
                 rng: np.random.Generator) -> np.ndarray:
    """What a read sees: drift ``(t/t0)^-nu`` for ``t > t0`` ms since the last write, fresh read
    noise, then the fixed-point grid of ``weight_bits`` (nearest level, clipped to the range)."""
    p = profile
    w = stored
    if p.drift_nu and since_write is not None:
        w = w * np.maximum(since_write / p.drift_t0, 1.0) ** (-p.drift_nu)
    if p.read_noise_std:
        w = w + p.read_noise_std * p.range * rng.standard_normal(w.shape)
    if p.weight_bits:
        q = p.quantum
        w = np.clip(np.round(w / q) * q, p.w_min, p.w_max)
    return w


class SynapseArray:
    """Thin state holder: hidden (ideal-target) weights, stored weights with programming
    noise, device parameters, time since last write, and the ``t_epoch`` accumulator.

    ``request(dw, dt)`` asks the devices for an update; ``read()`` returns the weights a
    network read sees now.  With ``profile.accumulator_bits = m`` the update first goes into a
    per-synapse accumulator ``tag`` (integer units of ``dw_min / 2^m``, rounded by the
    profile's ``rounding``), which passes its nearest whole number of ``dw_min`` steps to the
    devices and keeps the remainder (``|tag| <= 2^(m-1)`` units).
    """

    def __init__(self, profile: HardwareProfile, w0: np.ndarray, rng: np.random.Generator):
        """``w0`` in network units; stored internally in device units (``/ weight_scale``)."""
        self.profile = profile
        w0 = np.asarray(w0, dtype=float) / profile.weight_scale
        self.dev = draw_device_params(profile, w0.shape, rng)
        w0 = np.clip(w0, self.dev.w_min, self.dev.w_max)
        if profile.weight_bits:
            w0 = np.clip(np.round(w0 / profile.quantum) * profile.quantum, profile.w_min, profile.w_max)
        self.hidden = np.where(self.dev.stuck, self.dev.stuck_to, w0)
        self.stored = self._program(self.hidden, np.ones(w0.shape, bool), rng)
        self.since_write = np.zeros(w0.shape)
        self.pending = np.zeros(w0.shape)
        self.tag = np.zeros(w0.shape)
        self.calls = 0
        self.rng = rng

    def reset_to(self, w: np.ndarray) -> None:
        """Set every device to the network weights ``w`` exactly (``w / weight_scale``, clipped
        to each device's range; no programming noise) and clear the pending updates, the tag and
        the epoch counter: the state from which one update is measured at fixed weights (the
        device bias and variance of an update, :mod:`neurocl.measure.device_noise`)."""
        self.hidden = np.clip(np.asarray(w, float) / self.profile.weight_scale, self.dev.w_min, self.dev.w_max)
        self.stored = self.hidden.copy()
        self.since_write[:] = 0.0
        self.pending[:] = 0.0
        self.tag[:] = 0.0
        self.calls = 0

    def _program(self, hidden, written, rng):
        """Programming (write) noise, present from t = 0 on (aihwkit drops it at t = 0)."""
        if not self.profile.write_noise_std:
            return hidden.copy()
        noise = self.profile.write_noise_std * self.profile.range * rng.standard_normal(hidden.shape)
        return np.where(written & ~self.dev.stuck, hidden + noise, getattr(self, "stored", hidden))

    def request(self, dw: np.ndarray, dt: float = 0.0) -> None:
        """Accumulate ``dw``; every ``t_epoch``-th call apply it through the devices."""
        self.since_write += dt
        self.pending += dw / self.profile.weight_scale
        self.calls += 1
        if self.calls % self.profile.t_epoch:
            return
        dw = self.pending
        m = self.profile.accumulator_bits
        if m:
            x = dw / (self.profile.dw_min / 2**m)               # fine steps
            self.tag += np.sign(x) * pulse_counts(self.profile, np.abs(x), self.rng)
            carry = np.round(self.tag / 2**m)                    # whole dw_min steps
            self.tag -= carry * 2**m
            dw = carry * self.profile.dw_min
        self.hidden, written = device_update(self.profile, self.dev, self.hidden, dw, self.rng)
        self.stored = self._program(self.hidden, written, self.rng)
        self.since_write[written] = 0.0
        self.pending[:] = 0.0

    def read(self) -> np.ndarray:
        """Weights a read sees now, in network units."""
        return self.profile.weight_scale * read_weights(self.profile, self.stored, self.since_write, self.rng)
