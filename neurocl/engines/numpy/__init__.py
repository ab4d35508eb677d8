"""The numpy engine: reference simulator of continuous-time contrastive learning.

Time is discretised with a step ``dt`` (ms).  Per step and replica:

1. the phase process decides the phase (``Schedule.phase_index`` at ``t = k dt``); a new
   positive phase clamps the data layer to a fresh data sample (or keeps the current one
   while the task's ``presentation`` time has not elapsed);
2. binary circuits take one continuous-time Glauber step: each unit resamples from its
   conditional with probability ``1 - exp(-dt / tau_n)``, block by block (blocks of
   conditionally independent units, so every block update leaves the Boltzmann law
   invariant: the stationary law is exact for any ``dt``); continuous circuits take one
   Euler step of the gradient flow ``tau_n ds/dt = -dE/ds``;
3. the plasticity rule sees the statistic ``f(state)`` (ISD: always-on update, TwoPhase:
   accumulate, update at a negative-to-positive switch);
4. divergence (NaN/inf in weights or state) is detected at the step it happens.
"""

from __future__ import annotations

import numpy as np

from neurocl.circuits import RBM, BoltzmannMachine, LayeredHopfield
from neurocl.circuits._math import sigmoid
from neurocl.engines import register
from neurocl.engines.base import Checkpoints, Simulation, Task, Trajectory
from neurocl.engines.numpy.discrete import run_contrastive_divergence
from neurocl.engines.numpy.plasticity import make_learner
from neurocl.errors import DivergenceError, UnsupportedFeatureError
from neurocl.plasticity import CDk, ISD, TwoPhase

__all__ = ["NumpyEngine", "glauber_step", "phase_table"]


def phase_table(phases, sim: Simulation, rng: np.random.Generator, presentation: float = 0.0):
    """Per-step phase signs, phase starts and data refreshes for every replica.

    Returns three ``(R, n_steps)`` bool arrays: ``positive``; ``start`` (first step of a
    phase); ``fresh`` (a new data sample is clamped): the first step of a positive phase
    that begins at least ``presentation`` ms after the previous refresh (``presentation = 0``:
    every positive phase clamps a fresh sample).
    """
    times = np.arange(sim.n_steps) * sim.dt
    positive = np.empty((sim.replicas, sim.n_steps), dtype=bool)
    start = np.empty((sim.replicas, sim.n_steps), dtype=bool)
    fresh = np.zeros((sim.replicas, sim.n_steps), dtype=bool)
    for r in range(sim.replicas):
        sched = phases.schedule(sim.duration, rng)
        idx = sched.phase_index(times)
        positive[r] = sched.positive[idx]
        start[r, 0] = True
        start[r, 1:] = idx[1:] != idx[:-1]
        first = np.flatnonzero(start[r] & positive[r])
        if presentation <= 0.0:
            fresh[r, first] = True
            continue
        last = -np.inf
        for k in first:
            if times[k] - last >= presentation:
                fresh[r, k] = True
                last = times[k]
    return positive, start, fresh


def _clamp_columns(circuit):
    """Units of the data layer that a positive phase clamps."""
    if isinstance(circuit, BoltzmannMachine):
        return np.arange(circuit.n_visible)
    return None


def glauber_step(circuit, params, state, p_resample, clamped, rng):
    """One integration step of continuous-time Glauber dynamics, in place.

    Every unit resamples from ``sigmoid(field)`` with probability ``p_resample =
    1 - exp(-dt / tau_n)``; blocks are updated in the circuit's order.  ``clamped`` is an
    ``(R,)`` bool array: in those replicas the data layer's clamped units keep their value.
    """
    cols = _clamp_columns(circuit)
    for layer, index in circuit.glauber_blocks():
        u = circuit.field(params, state, layer, index)
        r = rng.random((2,) + u.shape)
        update = r[0] < p_resample
        if layer == circuit.data_layer and clamped.any():
            if index is None:
                if cols is None:
                    update &= ~clamped[:, None]
                else:
                    update[:, cols] &= ~clamped[:, None]
            elif cols is not None and index in cols:
                update &= ~clamped[:, None]
        new = (r[1] < sigmoid(u)).astype(state[layer].dtype)
        if index is None:
            np.copyto(state[layer], new, where=update)
        else:
            col = state[layer][:, index : index + 1]
            np.copyto(col, new, where=update)


def _check_finite(arrays, t, step):
    for name, arr in arrays:
        if not np.isfinite(arr.sum()):
            raise DivergenceError(name, t, step)


def _progress(total, desc, enabled):
    from tqdm.auto import tqdm

    # disable=None: a bar on a terminal, none in logs and CI
    return tqdm(total=total, desc=desc, unit="ms", disable=None if enabled else True, leave=False, mininterval=0.5,
                bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} ms simulated [{elapsed}<{remaining}]")


@register("numpy")
class NumpyEngine:
    """Reference engine; supports every circuit, phase law, and rule of the core package."""

    supports = {
        "circuits": ("rbm", "boltzmann", "hopfield"),
        "rules": ("isd", "twophase", "cdk", "pcd"),
        "phases": ("alternating", "fixed", "exponential", "gamma", "uniform"),
    }

    def run(self, circuit, rule, phases, task: Task, sim: Simulation, params=None,
            progress: bool = False, desc: str = "", fast: bool = True, profile=None) -> Trajectory:
        """Simulate ``sim.duration`` ms of learning and evaluate ``task.evaluate`` at checkpoints.

        ``params`` (optional) are the initial parameters; by default ``circuit.init_params``
        with a generator seeded by ``sim.seed`` (so learners with the same seed start from the
        same weights).  ``fast`` (True, or ``"dense"``/``"event"`` for RBMs) selects the fused kernels for RBMs
        (:mod:`~neurocl.engines.numpy.rbm_kernel`) and one-hidden-layer Hopfield networks
        (:mod:`~neurocl.engines.numpy.hopfield_kernel`); ``fast=False`` runs the reference path.
        ``profile`` (a :class:`~neurocl.hardware.HardwareProfile`): weights live on devices;
        every update the rule asks for goes through the device model and the dynamics see
        read weights (reference path; biases stay ideal: they are neuron parameters).
        """
        if circuit.kind not in self.supports["circuits"]:
            raise UnsupportedFeatureError(self.name, f"circuit '{circuit.kind}'")
        rng_init = np.random.default_rng([sim.seed, 0])
        rng = np.random.default_rng([sim.seed, 1])
        if params is None:
            params = circuit.init_params(rng_init, sim.replicas)
        if isinstance(rule, CDk):
            if not isinstance(circuit, RBM):
                raise UnsupportedFeatureError(self.name, f"rule '{rule.name}' on circuit '{circuit.kind}'")
            return run_contrastive_divergence(circuit, rule, task, sim, params, rng, progress, desc)
        if not isinstance(rule, (ISD, TwoPhase)):
            raise UnsupportedFeatureError(self.name, f"rule {rule!r}")
        if profile is not None and not profile.is_ideal:
            fast = False
        if isinstance(circuit, RBM) and fast:
            kernel = fast if isinstance(fast, str) else "auto"
            return _run_rbm_fast(circuit, rule, phases, task, sim, params, rng, rng_init, progress, desc, kernel)
        if isinstance(circuit, LayeredHopfield) and fast and len(circuit.sizes) == 3:
            return _run_hopfield_fast(circuit, rule, phases, task, sim, params, rng, rng_init, progress, desc)
        if isinstance(circuit, LayeredHopfield):
            step_fn = _flow_stepper(circuit, task, rng, rng_init, sim)
        else:
            step_fn = _glauber_stepper(circuit, task, rng, rng_init, sim)
        state = step_fn.state
        positive, start, fresh = phase_table(phases, sim, rng, task.presentation)
        learner = make_learner(rule, getattr(phases, "b"), params)
        devices = {}
        if profile is not None and not profile.is_ideal:
            from neurocl.hardware import SynapseArray

            rng_dev = np.random.default_rng([sim.seed, 2])
            devices = {name: SynapseArray(profile, params[name], rng_dev) for name in params if name.startswith("W")}
            for name, dev in devices.items():
                params[name] = dev.read()
        cp = Checkpoints(sim, task, params)
        ckpts = cp.steps
        cp.record(0)
        next_ck = 1
        chunk = max(1, sim.n_steps // 200)
        main = next(iter(params))
        with _progress(sim.duration, desc, progress) as bar:
            for k in range(sim.n_steps):
                t = k * sim.dt
                pos, new = positive[:, k], start[:, k]
                step_fn(params, pos, fresh[:, k])
                stat = circuit.statistic(params, state, rule.mean_field)
                before = {name: params[name].copy() for name in devices}
                learner.step(params, stat, pos, new, t, sim.dt)
                for name, dev in devices.items():
                    dev.request(params[name] - before[name], sim.dt)
                    params[name] = dev.read()
                _check_finite(((main, params[main]), ("network state", step_fn.check)), t + sim.dt, k + 1)
                if k + 1 == ckpts[next_ck]:
                    cp.record(k + 1)
                    next_ck += 1
                if (k + 1) % chunk == 0:
                    bar.update(chunk * sim.dt)
        return cp.trajectory({"phase_fraction_positive": float(positive.mean())})


class _glauber_stepper:
    """Clamp fresh data on new positive phases, then one Glauber step."""

    def __init__(self, circuit, task, rng, rng_init, sim):
        self.circuit, self.task, self.rng = circuit, task, rng
        self.state = circuit.init_state(rng_init, sim.replicas)
        self.p = 1.0 - np.exp(-sim.dt / circuit.tau_n)
        self.cols = _clamp_columns(circuit)
        self.layer = circuit.data_layer

    @property
    def check(self):
        return self.state[self.layer]

    def __call__(self, params, pos, fresh):
        if fresh.any():
            idx = self.rng.integers(len(self.task), size=int(fresh.sum()))
            if self.cols is None:
                self.state[self.layer][fresh] = self.task.clamp[idx]
            else:
                rows = np.flatnonzero(fresh)
                self.state[self.layer][np.ix_(rows, self.cols)] = self.task.clamp[idx]
        glauber_step(self.circuit, params, self.state, self.p, pos, self.rng)


class _flow_stepper:
    """Clamp a fresh (input, target) pair on new positive phases, then one Euler step of the
    gradient flow.  The input stays clamped in negative phases."""

    def __init__(self, circuit, task, rng, rng_init, sim):
        self.circuit, self.task, self.rng = circuit, task, rng
        self.state = circuit.init_state(rng_init, sim.replicas)
        self.k = sim.dt / circuit.tau_n
        idx = rng.integers(len(task), size=sim.replicas)
        self.state["s0"][:] = task.inputs[idx]
        self.target = task.clamp[idx].astype(float)
        self.out = circuit.layers[-1]
        self.nudge = circuit.positive == "nudge"

    @property
    def check(self):
        return self.state[self.out]

    def __call__(self, params, pos, fresh):
        if fresh.any():
            idx = self.rng.integers(len(self.task), size=int(fresh.sum()))
            self.state["s0"][fresh] = self.task.inputs[idx]
            self.target[fresh] = self.task.clamp[idx]
            if self.circuit.rest_on_new_sample:
                for name in self.circuit.layers[1:]:
                    self.state[name][fresh] = 0.0
        if self.nudge:
            anti = -self.circuit.beta if self.circuit.negative == "antinudge" else 0.0
            beta = np.where(pos, self.circuit.beta, anti)[:, None]
            drift = self.circuit.drift(params, self.state, self.target, beta)
        else:
            drift = self.circuit.drift(params, self.state)
        self.circuit.euler_step(self.state, drift, self.k)
        if not self.nudge and pos.any():
            self.state[self.out][pos] = self.target[pos]


def _run_blocks(sim, task, params, positive, progress, desc, advance, what, block=4096):
    """Checkpoints, progress and divergence reporting around a fused kernel.

    ``advance(k0, K)`` runs steps ``k0 .. k0+K-1`` (at most ``block``) and returns the first
    failing step within the block, or -1.
    """
    cp = Checkpoints(sim, task, params)
    ckpts = cp.steps
    cp.record(0)
    with _progress(sim.duration, desc, progress) as bar:
        for k_lo, k_hi in zip(ckpts[:-1], ckpts[1:]):
            for k0 in range(k_lo, k_hi, block):
                K = min(block, k_hi - k0)
                bad = advance(k0, K)
                if bad >= 0:
                    raise DivergenceError(what, (k0 + bad + 1) * sim.dt, k0 + bad + 1)
                bar.update(K * sim.dt)
            cp.record(k_hi)
    return cp.trajectory({"phase_fraction_positive": float(positive.mean())})


def _rule_args(rule, phases, sim, k0, K):
    """``(rule id, eta_dt, w_pos, w_neg, eta_now)`` as the fused kernels take them."""
    from neurocl.plasticity import learning_rate_at

    is_isd = isinstance(rule, ISD)
    eta_dt = rule.learning_rate * sim.dt if is_isd else sim.dt
    eta_now = learning_rate_at(rule.learning_rate, (k0 + np.arange(K)) * sim.dt,
                               getattr(rule, "decay_time", None))
    eta_now = np.broadcast_to(np.asarray(eta_now, dtype=float), (K,)).copy()
    return (0 if is_isd else 1), eta_dt, 1.0 / phases.b, -1.0 / (1.0 - phases.b), eta_now


def _accumulators(rule, params):
    """TwoPhase stores: ``acc[k]`` of shape ``(R, 2, ...)`` (index 0 positive, 1 negative)."""
    if isinstance(rule, ISD):
        return {k: np.zeros((1, 2) + (1,) * (v.ndim - 1)) for k, v in params.items()}
    return {k: np.zeros((v.shape[0], 2) + v.shape[1:]) for k, v in params.items()}


EVENT_KERNEL_MIN_SYNAPSES = 10_000


def _contiguous(params, dtype=np.float64):
    for k in params:
        params[k] = np.ascontiguousarray(params[k], dtype=dtype)


def _run_rbm_fast(circuit, rule, phases, task, sim, params, rng, rng_init, progress, desc, kernel="auto"):
    """RBM with ISD or TwoPhase through a fused kernel, in blocks between checkpoints.

    ``kernel``: ``"dense"`` (:mod:`~neurocl.engines.numpy.rbm_kernel`), ``"event"``
    (:mod:`~neurocl.engines.numpy.rbm_event_kernel`: ISD with the mean-field statistic only)
    or ``"auto"`` (event for ISD on at least 10,000 synapses).
    """
    from neurocl.engines.numpy.rbm_kernel import rbm_chunk

    dtype = np.dtype(sim.dtype)
    _contiguous(params, dtype)
    R, nv, nh = params["W"].shape
    event_ok = isinstance(rule, ISD) and rule.mean_field
    if kernel == "auto":
        kernel = "event" if event_ok and nv * nh >= EVENT_KERNEL_MIN_SYNAPSES else "dense"
    if kernel == "event" and not event_ok:
        raise UnsupportedFeatureError("numpy (event kernel)", f"rule {rule!r}")
    state = {k: v.astype(dtype) for k, v in circuit.init_state(rng_init, R).items()}
    positive, start, fresh = phase_table(phases, sim, rng, task.presentation)
    data = np.ascontiguousarray(task.clamp, dtype=dtype)
    p_res = 1.0 - np.exp(-sim.dt / circuit.tau_n)
    acc = _accumulators(rule, params)
    t_acc = np.zeros((R, 2))

    def advance(k0, K):
        U = rng.random((K, R, nh + nv), dtype=dtype)
        idx = rng.integers(len(data), size=(K, R))
        rid, eta_dt, w_pos, w_neg, eta_now = _rule_args(rule, phases, sim, k0, K)
        sl = slice(k0, k0 + K)
        if kernel == "event":
            from neurocl.engines.numpy.rbm_event_kernel import rbm_event_chunk

            bad = rbm_event_chunk(params["W"], params["a"], params["c"], state["v"], state["h"],
                                  positive[:, sl], start[:, sl], fresh[:, sl], data, idx, U, p_res,
                                  eta_dt, w_pos, w_neg, 64)
            bad = bad[bad >= 0]
            return int(bad.min()) if bad.size else -1
        return rbm_chunk(params["W"], params["a"], params["c"], state["v"], state["h"],
                         positive[:, sl], start[:, sl], fresh[:, sl], data, idx, U, p_res,
                         rid, eta_dt, w_pos, w_neg, rule.mean_field,
                         acc["W"], acc["a"], acc["c"], t_acc, eta_now)

    # random numbers are drawn per block: at most max(1 MiB, half the weights) of them
    step_bytes = R * (nv + nh) * dtype.itemsize
    block = int(min(4096, max(16, max(2**20, 0.5 * params["W"].nbytes) // step_bytes)))
    return _run_blocks(sim, task, params, positive, progress, desc, advance, "weights", block)


def _run_hopfield_fast(circuit, rule, phases, task, sim, params, rng, rng_init, progress, desc):
    """Layered Hopfield (one hidden layer) with ISD or TwoPhase through the fused kernel."""
    from neurocl.engines.numpy.hopfield_kernel import hopfield_chunk

    _contiguous(params)
    R = params["W0"].shape[0]
    state = circuit.init_state(rng_init, R)
    idx0 = rng.integers(len(task), size=R)
    X = np.ascontiguousarray(task.inputs, dtype=np.float64)
    Y = np.ascontiguousarray(task.clamp, dtype=np.float64)
    state["s0"][:] = X[idx0]
    target = Y[idx0].copy()
    positive, start, fresh = phase_table(phases, sim, rng, task.presentation)
    acc = _accumulators(rule, params)
    t_acc = np.zeros((R, 2))
    k = sim.dt / circuit.tau_n

    def advance(k0, K):
        idx = rng.integers(len(X), size=(K, R))
        rid, eta_dt, w_pos, w_neg, eta_now = _rule_args(rule, phases, sim, k0, K)
        return hopfield_chunk(params["W0"], params["b1"], params["W1"], params["b2"],
                              state["s0"], state["s1"], state["s2"], target,
                              positive[:, k0:k0 + K], start[:, k0:k0 + K], fresh[:, k0:k0 + K],
                              X, Y, idx, k,
                              rid, eta_dt, w_pos, w_neg, circuit.positive == "nudge", circuit.beta,
                              circuit.negative == "antinudge", circuit.rest_on_new_sample,
                              acc["W0"], acc["b1"], acc["W1"], acc["b2"], t_acc, eta_now)

    return _run_blocks(sim, task, params, positive, progress, desc, advance, "weights or network state")
