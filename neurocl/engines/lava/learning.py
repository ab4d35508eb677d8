"""On-chip ISD learning on the emulator: the learning jobs the engine and ``check-theory
--engine lava`` run, and the replay of the ideal float update of the recorded samples.

Timing of the Lava network (:mod:`.rbm`): the visible block resamples on even Lava steps, the
hidden block on odd ones; the synapses learn on odd steps from the visible state of the step
before, the hidden state of that step and the phase of the step before.
"""

from __future__ import annotations

import numpy as np

from neurocl.engines.lava.deploy import TAGS, finite, fixed_pt_scale
from neurocl.errors import ConfigError
from neurocl.phases import StochasticPhases
from neurocl.validate import one_of

__all__ = ["learn_job", "learning_window", "ideal_isd_steps", "ideal_isd_update"]

#: sweeps per Lava run between two progress reports of :func:`learn_job`
CHUNK = 500


def learn_job(params, data, phases, presentation, eta, dt, tag, weight_scale, seed, steps_list, record,
              report=None, accumulator_bits=0):
    """Child-process job of the engine: ``sum(steps_list)`` sweeps of on-chip ISD from ``params``;
    the parameters after each ``steps_list`` entry (network units), the ISD scaling, the
    recorded history (``record`` Lava steps, or ``None``).  ``report(k)`` after every ``k``
    sweeps (the progress bar).  ``accumulator_bits``: the synaptic-tag accumulator
    (:func:`~neurocl.engines.lava.fixed_point.tag_carry_rules`; 0: none)."""
    from neurocl.engines.lava.rbm import build_rbm, read_params
    from neurocl.engines.lava.runtime import run_steps

    W, a, c = params["W"], params["a"], params["c"]
    net = build_rbm(W, a, c, tag=tag, weight_scale=weight_scale, seed=seed, patterns=data, phases=phases,
                    step_ms=dt, presentation=presentation, learning={"eta": eta, "dt": dt, "b": phases.b},
                    record=record, accumulator_bits=accumulator_bits)
    out = []
    try:
        for n in steps_list:
            while n > 0:
                k = min(n, CHUNK)
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


def _window_job(W, a, c, data, phases, eta, dt, tag, weight_scale, seed, sweeps, windows, accumulator_bits=0):
    from neurocl.engines.lava.fixed_point import int_to_weight
    from neurocl.engines.lava.rbm import build_rbm, read_params
    from neurocl.engines.lava.runtime import run_steps

    R, nv, nh = W.shape
    steps = 2 * sweeps
    net = build_rbm(W, a, c, tag=tag, weight_scale=weight_scale, seed=seed, patterns=data, phases=phases,
                    step_ms=dt, learning={"eta": eta, "dt": dt, "b": phases.b}, record=steps * windows,
                    accumulator_bits=accumulator_bits)

    try:
        snaps = [read_params(net, tag, weight_scale)]
        for _ in range(windows):
            run_steps(net["vis"], steps, tag)
            snaps.append(read_params(net, tag, weight_scale))
        n = sweeps * windows
        out = {k: np.stack([s[k] for s in snaps]) for k in ("W", "a", "c") + (("tag",) if accumulator_bits else ())}
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
        out["inc"] = (sc.step * q, -sc.step * sc.N / sc.P * q)
        out["eta_dt"] = sc.eta * dt
    out["scaling"] = sc
    return out


def learning_window(W, a, c, data, phases: StochasticPhases, *, eta: float, dt: float, sweeps: int,
                    windows: int = 1, tag: str = "fixed_pt", weight_scale: float | None = None, seed: int = 0,
                    timeout: float = 600.0, accumulator_bits: int = 0) -> dict:
    """``windows`` consecutive windows of ``sweeps`` Gibbs sweeps of on-chip ISD from
    ``(W, a, c)`` (``R`` replicas, ``W`` of shape ``(R, nv, nh)``), with everything needed to
    replay the ideal float updates.

    ``weight_scale`` (``fixed_pt``): a hardware profile's network weight of a full-scale
    device weight (``None``: the ``loihi2`` profile's); the learning grid is
    ``weight_scale / 256``; ``accumulator_bits``: a profile's synaptic-tag accumulator (then
    ``tag``, the tag not yet carried, is returned too, ``(windows + 1, R, nv, nh)`` in units of
    ``2^-m`` integer weights).

    Returns ``W``, ``a``, ``c``: the parameters on the chip at the window boundaries (network
    units, ``(windows + 1, R, ...)``); the recorded ``v`` (``(windows sweeps, R, nv)``), ``h``
    and ``z`` (phase per Lava step, ``(2 windows sweeps, R)``); ``inc`` (the ideal change per
    coincidence in positive and negative phases, network units: ``eta dt / b`` and
    ``-eta dt / (1 - b)`` with the representable ``eta`` and ``b``), ``eta_dt`` (that ``eta``
    times ``dt``), ``sweeps`` and ``scaling``.  :func:`ideal_isd_update` replays it.
    """
    one_of("tag", tag, set(TAGS))
    W = finite("W", W)
    if W.ndim != 3:
        raise ConfigError(f"W: shape {W.shape}; expected (replicas, n_visible, n_hidden)")
    R, nv, nh = W.shape
    a, c = finite("a", np.broadcast_to(a, (R, nv))), finite("c", np.broadcast_to(c, (R, nh)))
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] != nv or not np.isin(data, (0, 1)).all():
        raise ConfigError(f"data: expected binary patterns of shape (N, {nv})")
    if int(sweeps) < 2 or int(windows) < 1:
        raise ConfigError(f"sweeps, windows: {sweeps}, {windows}; expected integers >= 2 and >= 1")
    scale = None
    if tag == "fixed_pt":
        from neurocl.engines.lava.fixed_point import isd_scaling

        scale = fixed_pt_scale(weight_scale)
        isd_scaling(eta, dt, phases.b, scale, accumulator_bits=accumulator_bits)   # ConfigError if not representable
    elif accumulator_bits:
        raise ConfigError(f"accumulator_bits = {accumulator_bits}: a tag accumulator needs tag = 'fixed_pt'")
    from neurocl.engines.lava.runtime import run_isolated

    return run_isolated(_window_job, W, np.array(a), np.array(c), data.astype(np.int32), phases, eta, dt, tag,
                        scale, seed, int(sweeps), int(windows), int(accumulator_bits), timeout=timeout,
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
