"""The Lava engine: neurocl circuits on Lava's Loihi 2 emulator (``Loihi2SimCfg``).

Lava 0.10 (Intel Labs) needs :mod:`neurocl.engines.lava_compat` on Python 3.11; it is
installed before any Lava import.  Processes are in :mod:`.processes` (what a circuit is),
their ``floating_pt`` / ``fixed_pt`` ProcessModels in :mod:`.models` (how the emulator runs
it), the fixed-point encodings in :mod:`.fixed_point`.  Every Lava run goes through
:func:`.runtime.run_isolated`: a wall-clock limit, a clean stop, a clear error.

* :func:`deploy_rbm` -- a trained RBM sampling freely on the emulator; KL of the samples.
* :func:`deploy_hopfield` -- a trained layered Hopfield network classifying on the emulator.
* :class:`LavaEngine` (``engine = "lava"``) -- on-chip always-on ISD learning of an RBM with
  ``LearningSparse`` + ``Loihi3FLearningRule`` (see :mod:`.rbm`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.circuits import RBM, LayeredHopfield
from neurocl.engines import register
from neurocl.engines.base import Checkpoints, Simulation, Task, Trajectory
from neurocl.errors import ConfigError, UnsupportedFeatureError
from neurocl.phases import StochasticPhases
from neurocl.plasticity import ISD
from neurocl.validate import one_of, positive

__all__ = ["LavaEngine", "LavaOptions", "deploy_rbm", "deploy_hopfield", "sample_kl", "learning_window",
           "ideal_isd_steps", "ideal_isd_update"]

TAGS = ("fixed_pt", "floating_pt")


def _finite(name, x):
    x = np.asarray(x, float)
    if not np.isfinite(x).all():
        raise ConfigError(f"{name}: contains NaN/inf; Lava would hang on it")
    return x


def sample_kl(counts: np.ndarray, data: np.ndarray) -> float:
    """``KL(p_data || p_samples)`` in nats from visit counts of the ``2^n`` visible states
    (the sample estimate of the KL the exact enumeration gives; empty states get 1e-12)."""
    n = data.shape[1]
    idx = np.asarray(data, int) @ (2 ** np.arange(n))
    states, freq = np.unique(idx, return_counts=True)
    p_data = freq / freq.sum()
    p = np.asarray(counts, float) / np.sum(counts)
    return float(np.sum(p_data * np.log(p_data / np.maximum(p[states], 1e-12))))


# ------------------------------------------------------------------------- deployment
def _rbm_job(W, a, c, tag, weight_scale, steps, burn_in, seed):
    from neurocl.engines.lava.rbm import build_rbm
    from neurocl.engines.lava.runtime import run_steps

    net = build_rbm(W, a, c, tag=tag, weight_scale=weight_scale, seed=seed, histogram=True, burn_in=burn_in)
    try:
        run_steps(net["vis"], 2 * (steps + burn_in), tag)
        return np.asarray(net["vis"].counts.get())
    finally:
        net["vis"].stop()


def deploy_rbm(W, a, c, data, *, tag: str = "fixed_pt", weight_scale: float = 8.0, sweeps: int = 20000,
               replicas: int = 16, burn_in: int = 100, seed: int = 0, timeout: float = 600.0) -> dict:
    """Free-running samples of a trained RBM on the emulator (``replicas`` chains of ``sweeps``
    Gibbs sweeps after ``burn_in``) and the KL of their visible distribution to the data.

    ``fixed_pt``: weights on Lava's 8-bit static-weight grid (``weight_scale / 128``),
    integer fields and logistic noise (:mod:`.fixed_point`).  Returns ``{"kl_samples": nats,
    "counts": (2^nv,) visits, "samples": int}``.
    """
    one_of("tag", tag, set(TAGS))
    W, a, c = _finite("W", W), _finite("a", a), _finite("c", c)
    nv, nh = W.shape
    if a.shape != (nv,) or c.shape != (nh,):
        raise ConfigError(f"biases: a has shape {a.shape}, c {c.shape}; expected ({nv},), ({nh},)")
    if nv > 16:
        raise ConfigError(f"n_visible = {nv}: the sample KL enumerates 2^n_visible states (<= 16 units)")
    from neurocl.engines.lava.runtime import run_isolated

    Ws, As, Cs = (np.repeat(x[None], replicas, 0) for x in (W, a, c))
    counts = run_isolated(_rbm_job, Ws, As, Cs, tag, weight_scale, sweeps, burn_in, seed, timeout=timeout,
                          what=f"Lava RBM sampling ({tag})")
    counts = counts.reshape(replicas, 2**nv).sum(0)
    return {"kl_samples": sample_kl(counts, data), "counts": counts, "samples": int(counts.sum())}


def _hopfield_job(params, sizes, images, k, eval_steps, tag, batch):
    from neurocl.engines.lava.hopfield import build_hopfield
    from neurocl.engines.lava.runtime import run_steps

    scores = []
    for lo in range(0, len(images), batch):
        src, layers, window = build_hopfield(params, sizes, images[lo: lo + batch], k=k, eval_steps=eval_steps, tag=tag)
        try:
            run_steps(src, window * len(images[lo: lo + batch]), tag)
            scores.append(np.asarray(layers[-1].scores.get()))
        finally:
            src.stop()
    return np.concatenate(scores)


def deploy_hopfield(circuit: LayeredHopfield, params: dict, x, y, *, dt: float, tag: str = "fixed_pt",
                    batch: int = 200, timeout: float = 600.0) -> dict:
    """Test accuracy of a trained layered Hopfield network read out on the emulator.

    Each image relaxes for ``circuit.eval_time`` ms in steps of ``dt`` from rest (as
    :meth:`LayeredHopfield.predict`); the class is the output unit with the largest total
    input.  Returns ``{"accuracy": fraction, "scores": (N, classes)}``.
    """
    one_of("tag", tag, set(TAGS))
    p = {k: _finite(k, v[0] if np.ndim(v) == 3 or (k.startswith("b") and np.ndim(v) == 2) else v)
         for k, v in params.items() if not k.endswith("_all")}
    x = _finite("x", x)
    if x.ndim != 2 or x.shape[1] != circuit.sizes[0] or x.min() < 0 or x.max() > 1:
        raise ConfigError(f"x: shape {x.shape} values in [{x.min():g}, {x.max():g}]; expected (N, "
                          f"{circuit.sizes[0]}) in [0, 1]")
    eval_steps = int(round(circuit.eval_time / dt))
    from neurocl.engines.lava.runtime import run_isolated

    scores = run_isolated(_hopfield_job, p, tuple(circuit.sizes), x, dt / circuit.tau_n, eval_steps, tag, batch,
                          timeout=timeout, what=f"Lava Hopfield read-out ({tag})")
    return {"accuracy": float(np.mean(scores.argmax(1) == np.asarray(y))), "scores": scores}


# ------------------------------------------------------------------------- on-chip learning
@dataclass(frozen=True)
class LavaOptions:
    """Options of the Lava engine (``[engine]`` table).

    Parameters
    ----------
    tag : {"fixed_pt", "floating_pt"}
        ProcessModel precision on ``Loihi2SimCfg``.
    weight_scale : float
        Network weight of a full-scale device weight (power of two; the ``loihi2`` profile's).
    timeout : float
        Wall-clock limit (s) of one Lava run between checkpoints.
    """

    tag: str = "fixed_pt"
    weight_scale: float = 8.0
    timeout: float = 600.0

    def __post_init__(self):
        one_of("tag", self.tag, set(TAGS))
        object.__setattr__(self, "weight_scale", positive("weight_scale", self.weight_scale))
        object.__setattr__(self, "timeout", positive("timeout", self.timeout))


def _learn_job(params, data, phases, presentation, eta, dt, tag, weight_scale, seed, steps_list, record,
               report=None):
    from neurocl.engines.lava.rbm import build_rbm, read_params
    from neurocl.engines.lava.runtime import run_steps

    W, a, c = params["W"], params["a"], params["c"]
    net = build_rbm(W, a, c, tag=tag, weight_scale=weight_scale, seed=seed, patterns=data, phases=phases,
                    step_ms=dt, presentation=presentation, learning={"eta": eta, "dt": dt, "b": phases.b},
                    record=record)
    out = []
    try:
        for n in steps_list:
            while n > 0:                    # chunks of <= 500 sweeps, reported for the progress bar
                k = min(n, 500)
                run_steps(net["vis"], 2 * k, tag)
                n -= k
                if report is not None:
                    report(k)
            out.append(read_params(net, tag, weight_scale))
        hist = None
        if record:
            hist = {"v": net["vis"].history.get(), "h": net["hid"].history.get(), "z": net["phase"].history.get()}
        return out, net["scaling"], hist
    finally:
        net["vis"].stop()


def _window_job(W, a, c, data, phases, eta, dt, tag, weight_scale, seed, sweeps, windows):
    from neurocl.engines.lava.fixed_point import int_to_weight
    from neurocl.engines.lava.rbm import build_rbm, read_params
    from neurocl.engines.lava.runtime import run_steps

    R, nv, nh = W.shape
    steps = 2 * sweeps
    net = build_rbm(W, a, c, tag=tag, weight_scale=weight_scale, seed=seed, patterns=data, phases=phases,
                    step_ms=dt, learning={"eta": eta, "dt": dt, "b": phases.b}, record=steps * windows)

    try:
        snaps = [read_params(net, tag, weight_scale)]
        for _ in range(windows):
            run_steps(net["vis"], steps, tag)
            snaps.append(read_params(net, tag, weight_scale))
        n = sweeps * windows
        out = {k: np.stack([s[k] for s in snaps]) for k in ("W", "a", "c")}
        out.update({"sweeps": sweeps,
                    "v": np.asarray(net["vis"].history.get())[:n].reshape(n, R, nv),
                    "h": np.asarray(net["hid"].history.get())[:n].reshape(n, R, nh),
                    "z": np.asarray(net["phase"].history.get())[:2 * n].reshape(2 * n, R)})
    finally:
        net["vis"].stop()
    sc = net["scaling"]
    if sc is None:
        out["inc"], out["eta_dt"] = (eta * dt / phases.b, -eta * dt / (1 - phases.b)), eta * dt
    else:
        q = int_to_weight(1, weight_scale)
        out["inc"] = (sc.Y * sc.P * 2.0**sc.exp / 128 * q, -sc.Y * sc.N * 2.0**sc.exp / 128 * q)
        out["eta_dt"] = sc.eta * dt
    out["scaling"] = sc
    return out


def learning_window(W, a, c, data, phases: StochasticPhases, *, eta: float, dt: float, sweeps: int,
                    windows: int = 1, tag: str = "fixed_pt", weight_scale: float = 8.0, seed: int = 0,
                    timeout: float = 600.0) -> dict:
    """``windows`` consecutive windows of ``sweeps`` Gibbs sweeps of on-chip ISD from
    ``(W, a, c)`` (``R`` replicas, ``W`` of shape ``(R, nv, nh)``), with everything needed to
    replay the ideal float updates.

    Returns ``W``, ``a``, ``c``: the parameters on the chip at the window boundaries (network
    units, ``(windows + 1, R, ...)``); the recorded ``v`` (``(windows sweeps, R, nv)``), ``h``
    and ``z`` (phase per Lava step, ``(2 windows sweeps, R)``); ``inc`` (the ideal change per
    coincidence in positive and negative phases, network units: ``eta dt / b`` and
    ``-eta dt / (1 - b)`` with the representable ``eta`` and ``b``), ``eta_dt`` (that ``eta``
    times ``dt``), ``sweeps`` and ``scaling``.  :func:`ideal_isd_update` replays it.
    """
    one_of("tag", tag, set(TAGS))
    W = _finite("W", W)
    if W.ndim != 3:
        raise ConfigError(f"W: shape {W.shape}; expected (replicas, n_visible, n_hidden)")
    R, nv, nh = W.shape
    a, c = _finite("a", np.broadcast_to(a, (R, nv))), _finite("c", np.broadcast_to(c, (R, nh)))
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] != nv or not np.isin(data, (0, 1)).all():
        raise ConfigError(f"data: expected binary patterns of shape (N, {nv})")
    if int(sweeps) < 2 or int(windows) < 1:
        raise ConfigError(f"sweeps, windows: {sweeps}, {windows}; expected integers >= 2 and >= 1")
    if tag == "fixed_pt":
        from neurocl.engines.lava.fixed_point import isd_scaling

        isd_scaling(eta, dt, phases.b, weight_scale)          # ConfigError if not representable
    from neurocl.engines.lava.runtime import run_isolated

    return run_isolated(_window_job, W, np.array(a), np.array(c), data.astype(np.int32), phases, eta, dt, tag,
                        weight_scale, seed, int(sweeps), int(windows), timeout=timeout,
                        what=f"Lava learning windows ({tag})")


def ideal_isd_steps(window: dict) -> np.ndarray:
    """The float ISD weight change of every learning step (Williams et al. 2023, Eq. 6:
    ``eta dt w(z) v h^T`` with ``w = 1/b`` or ``-1/(1-b)``) of the samples a
    :func:`learning_window` recorded, shape ``(n_sweeps, R, nv, nh)`` (row 0 is zero: the
    first sweep has no learning step).

    Timing of the Lava network (:mod:`.rbm`): the visible block resamples on even Lava steps,
    the hidden block on odd ones; the synapses learn on odd steps ``2m + 1`` (``m >= 1``) from
    the visible state of step ``2m``, the hidden state of step ``2m + 1`` and the phase of step
    ``2m``.  ``v[k]`` is the state set at step ``2k + 2``, ``h[k]`` at step ``2k + 1``,
    ``z[i]`` the phase at step ``i + 1``.  Row ``m`` is the learning step ``2m + 1``.
    """
    v, h, z = (np.asarray(window[k], float) for k in ("v", "h", "z"))
    m = np.arange(1, len(h))
    wz = np.where(z[2 * m - 1] > 0, window["inc"][0], window["inc"][1])      # (n - 1, R)
    out = np.zeros((len(h),) + v.shape[1:] + h.shape[2:])
    out[1:] = wz[:, :, None, None] * v[m - 1][:, :, :, None] * h[m][:, :, None, :]
    return out


def ideal_isd_update(window: dict) -> np.ndarray:
    """The float ISD weight change of each window of a :func:`learning_window`, per replica
    (:func:`ideal_isd_steps` summed over the window's steps), shape ``(windows, R, nv, nh)``.
    Window ``j`` holds the learning steps ``2m + 1`` of its Lava steps ``2 K j + 1 .. 2 K (j + 1)``."""
    st = ideal_isd_steps(window)
    K = window["sweeps"]
    return st.reshape((len(st) // K, K) + st.shape[1:]).sum(1)


@register("lava")
class LavaEngine:
    """On-chip always-on ISD learning of RBMs on the Loihi 2 emulator (block Gibbs units,
    block-diagonal ``LearningSparse`` with a three-factor rule, the phase process as a Lava process)."""

    supports = {"circuits": ("rbm",), "rules": ("isd (sampled hidden statistic)",),
                "phases": ("stochastic: fixed, exponential, gamma, uniform",)}

    def __init__(self, **options):
        self.options = LavaOptions(**options)

    def _check(self, circuit, rule, phases, profile):
        if not isinstance(circuit, RBM):
            raise UnsupportedFeatureError(self.name, f"on-chip learning of circuit '{circuit.kind}' (RBMs only; "
                                                     "Hopfield networks deploy with neurocl deploy)")
        if not isinstance(rule, ISD):
            raise UnsupportedFeatureError(self.name, f"rule '{getattr(rule, 'name', rule)}' (on-chip learning is ISD)")
        if not isinstance(phases, StochasticPhases):
            raise UnsupportedFeatureError(self.name, f"phase process {type(phases).__name__} (stochastic phases only)")
        if profile is not None and not profile.is_ideal and profile.name != "loihi2":
            raise UnsupportedFeatureError(self.name, f"profile '{profile.name}' (the emulator is the loihi2 device)")

    def run(self, circuit, rule, phases, task: Task, sim: Simulation, params=None, progress: bool = False,
            desc: str = "", profile=None, **_ignored) -> Trajectory:
        """``sim.duration`` ms of on-chip ISD on the emulator (one Gibbs sweep per ``sim.dt``),
        evaluated at the checkpoints.  The hidden statistic is the sampled spike (``y1``), not
        the mean field: Loihi's learning engine sees spikes."""
        from neurocl.engines.lava.fixed_point import isd_scaling
        from neurocl.engines.lava.runtime import run_isolated

        self._check(circuit, rule, phases, profile)
        opt = self.options
        if opt.tag == "fixed_pt":
            isd_scaling(rule.learning_rate, sim.dt, phases.b, opt.weight_scale)   # ConfigError if not representable
        data = np.asarray(task.clamp)
        if data.ndim != 2 or data.shape[1] != circuit.n_visible or not np.isin(data, (0, 1)).all():
            raise ConfigError(f"task.clamp: expected binary patterns of shape (N, {circuit.n_visible})")
        rng = np.random.default_rng([sim.seed, 0])
        p0 = params if params is not None else circuit.init_params(rng, sim.replicas)
        cp = Checkpoints(sim, task, {k: np.array(v, float) for k, v in p0.items()})
        steps = cp.steps
        inc = [0] + [int(b - a) for a, b in zip(steps[:-1], steps[1:])]
        per_ms = 2 * (1 + circuit.n_visible + circuit.n_hidden) / 1000.0
        from neurocl.engines.numpy import _progress

        with _progress(sim.duration, desc or f"Lava on-chip ISD ({opt.tag})", progress) as bar:
            snaps, scaling, _ = run_isolated(_learn_job, p0, data.astype(np.int32), phases, task.presentation,
                                             rule.learning_rate, sim.dt, opt.tag, opt.weight_scale, sim.seed, inc, 0,
                                             timeout=opt.timeout + per_ms * sim.n_steps,
                                             what=f"Lava on-chip ISD ({opt.tag})",
                                             on_progress=lambda k: bar.update(k * sim.dt))
        for k, snap in zip(steps, snaps):
            for name in ("W", "a", "c"):
                cp.params[name][:] = snap[name]
            cp.record(int(k))
        info = {"tag": opt.tag}
        if scaling is not None:
            info["scaling"] = scaling
        return cp.trajectory(info)
