"""The numpy engine's reference path: any circuit, one integration step at a time.

Per step and replica (Williams, Bredenberg & Lajoie, ICML 2023, arXiv:2302.12431):

1. the phase process decides the phase (:func:`~.schedule.phase_table`); a new positive phase
   clamps the data layer to a fresh data sample (or keeps the current one while the task's
   ``presentation`` time has not elapsed);
2. the circuit's dynamics take one step (:data:`STEPPERS`, chosen by ``circuit.dynamics``):
   binary circuits one continuous-time Glauber step (each unit resamples from its
   conditional with probability ``1 - exp(-dt / tau_n)``, block by block, so the stationary
   law is exact for any ``dt``); continuous circuits one Euler step of the gradient flow
   ``tau_n ds/dt = -dE/ds``;
3. the plasticity rule sees the statistic ``f(state)`` (:data:`~.learners.LEARNERS`);
   with a hardware profile every update goes through the device model and the dynamics see
   read weights (:class:`~neurocl.hardware.SynapseArray`; biases stay ideal);
4. divergence (NaN/inf in weights or state) is detected at the step it happens.
"""

from __future__ import annotations

import numpy as np

from neurocl.engines.loop import check_finite, run_checkpointed
from neurocl.engines.numpy.learners import make_learner
from neurocl.engines.numpy.schedule import phase_table
from neurocl.numerics import sigmoid
from neurocl.schema import Registry

__all__ = ["glauber_step", "GlauberStepper", "FlowStepper", "STEPPERS", "run_reference", "free_run_glauber"]


def glauber_step(circuit, params, state, p_resample, clamped, rng):
    """One integration step of continuous-time Glauber dynamics, in place.

    Every unit resamples from ``sigmoid(field)`` with probability ``p_resample =
    1 - exp(-dt / tau_n)``; blocks are updated in the circuit's order.  ``clamped`` is an
    ``(R,)`` bool array: in those replicas the data layer's clamped units
    (``circuit.clamp_units``, ``None``: all) keep their value.
    """
    cols = circuit.clamp_units
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


#: ``circuit.dynamics`` -> stepper class ``(circuit, task, rng, rng_init, sim)``
STEPPERS = Registry("circuit dynamics (numpy reference path)")


@STEPPERS.register("glauber")
class GlauberStepper:
    """Clamp fresh data on new positive phases, then one Glauber step."""

    def __init__(self, circuit, task, rng, rng_init, sim):
        self.circuit, self.task, self.rng = circuit, task, rng
        self.state = circuit.init_state(rng_init, sim.replicas)
        self.p = 1.0 - np.exp(-sim.dt / circuit.tau_n)
        self.cols = circuit.clamp_units
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


@STEPPERS.register("gradient_flow")
class FlowStepper:
    """Clamp a fresh (input, target) pair on new positive phases, then one Euler step of the
    gradient flow.  The input stays clamped in negative phases."""

    def __init__(self, circuit, task, rng, rng_init, sim):
        self.circuit, self.task, self.rng = circuit, task, rng
        self.state = circuit.init_state(rng_init, sim.replicas)
        self.k = sim.dt / circuit.tau_n
        idx = rng.integers(len(task), size=sim.replicas)
        self.state["s0"][:] = task.inputs[idx]
        self.target = task.clamp[idx].astype(float)
        self.out = circuit.data_layer
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


def run_reference(circuit, rule, phases, task, sim, params, rng, rng_init, progress=False, desc="", profile=None,
                  learners=None):
    """Simulate step by step (any circuit with registered dynamics, any registered learner;
    ``learners``: a registry other than :data:`~.learners.LEARNERS`, for tests)."""
    step_fn = STEPPERS[circuit.dynamics](circuit, task, rng, rng_init, sim)
    state = step_fn.state
    positive, start, fresh = phase_table(phases, sim, rng, task.presentation)
    learner = make_learner(rule, phases.b, params) if learners is None else learners[rule.name](rule, phases.b, params)
    devices = {}
    if profile is not None and not profile.is_ideal:
        from neurocl.hardware.device import SynapseArray

        rng_dev = np.random.default_rng([sim.seed, 2])
        devices = {name: SynapseArray(profile, params[name], rng_dev) for name in params if name.startswith("W")}
        for name, dev in devices.items():
            params[name] = dev.read()
    main = next(iter(params))

    def advance(k0, K):
        for k in range(k0, k0 + K):
            t = k * sim.dt
            pos, new = positive[:, k], start[:, k]
            step_fn(params, pos, fresh[:, k])
            stat = circuit.statistic(params, state, rule.mean_field)
            before = {name: params[name].copy() for name in devices}
            learner.step(params, stat, pos, new, t, sim.dt)
            for name, dev in devices.items():
                dev.request(params[name] - before[name], sim.dt)
                params[name] = dev.read()
            check_finite(((main, params[main]), ("network state", step_fn.check)), t + sim.dt, k + 1)

    return run_checkpointed(sim, task, params, advance, progress=progress, desc=desc,
                            block=max(1, sim.n_steps // 200),
                            info={"phase_fraction_positive": float(positive.mean())})


def free_run_glauber(circuit, params, sim, burn_in: int = 500) -> np.ndarray:
    """Free-running Glauber samples of the data layer: ``(n_steps, R, n)`` (no clamping, no
    plasticity; the stationary law is the circuit's Boltzmann law)."""
    rng_init = np.random.default_rng([sim.seed, 0])
    rng = np.random.default_rng([sim.seed, 1])
    state = circuit.init_state(rng_init, sim.replicas)
    p = 1.0 - np.exp(-sim.dt / circuit.tau_n)
    free = np.zeros(sim.replicas, dtype=bool)
    for _ in range(burn_in):
        glauber_step(circuit, params, state, p, free, rng)
    out = np.empty((sim.n_steps,) + state[circuit.data_layer].shape)
    for k in range(sim.n_steps):
        glauber_step(circuit, params, state, p, free, rng)
        out[k] = state[circuit.data_layer]
    return out
