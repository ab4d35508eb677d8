"""The numpy engine's fused paths: numba kernels that run many steps per call.

:data:`FUSED` maps a circuit kind to its fused runner; :data:`KERNEL_RULES` the rule names the
kernels implement (and their id inside the kernels).  The engine uses a fused runner when one
is registered for the circuit, the rule is in :data:`KERNEL_RULES`, the runner accepts the
circuit (``eligible``) and the weights are ideal (profiles run on the reference path).  A
fused runner's ``float32`` attribute says whether it honours ``Simulation.dtype = "float32"``
(the RBM kernels do; the Hopfield kernel computes in float64, and the engine refuses float32).
"""

from __future__ import annotations

import numpy as np

from neurocl.engines.loop import run_checkpointed
from neurocl.engines.numpy.schedule import phase_table
from neurocl.errors import DivergenceError, UnsupportedFeatureError
from neurocl.plasticity import learning_rate_at
from neurocl.schema import Registry

__all__ = ["FUSED", "KERNEL_RULES", "EVENT_KERNEL_MIN_SYNAPSES", "run_rbm_fused", "run_hopfield_fused"]

#: rule name -> rule id inside the kernels (0: always-on ISD, 1: TwoPhase with stores)
KERNEL_RULES = {"isd": 0, "twophase": 1}

#: circuit kind -> fused runner (a function with an ``eligible(circuit, rule, kernel)`` attribute)
FUSED = Registry("circuit kind (numpy fused kernels)")

EVENT_KERNEL_MIN_SYNAPSES = 10_000


def _advance_checked(kernel_call, what, dt):
    """Wrap a kernel call returning the first failing step within the block (or -1)."""

    def advance(k0, K):
        bad = kernel_call(k0, K)
        if bad >= 0:
            raise DivergenceError(what, (k0 + bad + 1) * dt, k0 + bad + 1)

    return advance


def _rule_args(rule, phases, sim, k0, K):
    """``(rule id, eta_dt, w_pos, w_neg, eta_now)`` as the fused kernels take them."""
    rid = KERNEL_RULES[rule.name]
    eta_dt = rule.learning_rate * sim.dt if rid == 0 else sim.dt
    eta_now = learning_rate_at(rule.learning_rate, (k0 + np.arange(K)) * sim.dt,
                               getattr(rule, "decay_time", None))
    eta_now = np.broadcast_to(np.asarray(eta_now, dtype=float), (K,)).copy()
    return rid, eta_dt, 1.0 / phases.b, -1.0 / (1.0 - phases.b), eta_now


def _accumulators(rule, params):
    """TwoPhase stores: ``acc[k]`` of shape ``(R, 2, ...)`` (index 0 positive, 1 negative)."""
    if KERNEL_RULES[rule.name] == 0:
        return {k: np.zeros((1, 2) + (1,) * (v.ndim - 1)) for k, v in params.items()}
    return {k: np.zeros((v.shape[0], 2) + v.shape[1:]) for k, v in params.items()}


def _contiguous(params, dtype=np.float64):
    for k in params:
        params[k] = np.ascontiguousarray(params[k], dtype=dtype)


def _eligible_rbm(circuit, rule, kernel):
    return True


@FUSED.register("rbm")
def run_rbm_fused(circuit, rule, phases, task, sim, params, rng, rng_init, progress=False, desc="", kernel="auto"):
    """RBM with ISD or TwoPhase through a fused kernel, in blocks between checkpoints.

    ``kernel``: ``"fused"`` (dense kernel, :mod:`~neurocl.engines.numpy.rbm_kernel`), ``"event"``
    (:mod:`~neurocl.engines.numpy.rbm_event_kernel`: ISD with the mean-field statistic only)
    or ``"auto"`` (event for ISD on at least 10,000 synapses, else dense).
    """
    from neurocl.engines.numpy.rbm_kernel import rbm_chunk

    dtype = np.dtype(sim.dtype)
    _contiguous(params, dtype)
    R, nv, nh = params["W"].shape
    event_ok = rule.name == "isd" and rule.mean_field
    if kernel == "auto":
        kernel = "event" if event_ok and nv * nh >= EVENT_KERNEL_MIN_SYNAPSES else "fused"
    if kernel == "event" and not event_ok:
        raise UnsupportedFeatureError("numpy (event kernel)", f"rule {rule!r}")
    state = {k: v.astype(dtype) for k, v in circuit.init_state(rng_init, R).items()}
    positive, start, fresh = phase_table(phases, sim, rng, task.presentation)
    data = np.ascontiguousarray(task.clamp, dtype=dtype)
    p_res = 1.0 - np.exp(-sim.dt / circuit.tau_n)
    acc = _accumulators(rule, params)
    t_acc = np.zeros((R, 2))

    def call(k0, K):
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
    return run_checkpointed(sim, task, params, _advance_checked(call, "weights", sim.dt), progress=progress,
                            desc=desc, block=block, info={"phase_fraction_positive": float(positive.mean())})


run_rbm_fused.eligible = _eligible_rbm
run_rbm_fused.float32 = True


@FUSED.register("hopfield")
def run_hopfield_fused(circuit, rule, phases, task, sim, params, rng, rng_init, progress=False, desc="",
                       kernel="auto"):
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

    def call(k0, K):
        idx = rng.integers(len(X), size=(K, R))
        rid, eta_dt, w_pos, w_neg, eta_now = _rule_args(rule, phases, sim, k0, K)
        return hopfield_chunk(params["W0"], params["b1"], params["W1"], params["b2"],
                              state["s0"], state["s1"], state["s2"], target,
                              positive[:, k0:k0 + K], start[:, k0:k0 + K], fresh[:, k0:k0 + K],
                              X, Y, idx, k,
                              rid, eta_dt, w_pos, w_neg, circuit.positive == "nudge", circuit.beta,
                              circuit.negative == "antinudge", circuit.rest_on_new_sample,
                              acc["W0"], acc["b1"], acc["W1"], acc["b2"], t_acc, eta_now)

    return run_checkpointed(sim, task, params, _advance_checked(call, "weights or network state", sim.dt),
                            progress=progress, desc=desc,
                            info={"phase_fraction_positive": float(positive.mean())})


def _eligible_hopfield(circuit, rule, kernel):
    return len(circuit.sizes) == 3 and kernel != "event"


run_hopfield_fused.eligible = _eligible_hopfield
run_hopfield_fused.float32 = False
