"""Deployment of trained models on the emulator: free-running RBM samples, Hopfield read-out.

Every run goes through :func:`.runtime.run_isolated` (a wall-clock limit, a clean stop, a
clear error); inputs are validated here, before Lava sees them.
"""

from __future__ import annotations

import numpy as np

from neurocl.errors import ConfigError
from neurocl.validate import one_of

__all__ = ["TAGS", "deploy_rbm", "deploy_hopfield", "sample_kl", "finite", "fixed_pt_scale"]

#: ProcessModel precisions of ``Loihi2SimCfg``
TAGS = ("fixed_pt", "floating_pt")


def finite(name, x):
    """``x`` as a float array; :class:`ConfigError` if it holds NaN/inf (Lava would hang on it)."""
    x = np.asarray(x, float)
    if not np.isfinite(x).all():
        raise ConfigError(f"{name}: contains NaN/inf; Lava would hang on it")
    return x


def fixed_pt_scale(weight_scale) -> float:
    """The network weight of a full-scale device weight for ``fixed_pt``: ``weight_scale`` as
    given (a hardware profile's), or the ``loihi2`` profile's when ``None``; validated (a
    power of two) before Lava runs."""
    from neurocl.engines.lava.fixed_point import shift_for_scale

    if weight_scale is None:
        from neurocl.hardware import load_profile

        weight_scale = load_profile("loihi2").weight_scale
    shift_for_scale(weight_scale)          # ConfigError unless a power of two
    return float(weight_scale)


def sample_kl(counts: np.ndarray, data: np.ndarray) -> float:
    """``KL(p_data || p_samples)`` in nats from visit counts of the ``2^n`` visible states
    (the sample estimate of the KL the exact enumeration gives; empty states get 1e-12)."""
    n = data.shape[1]
    idx = np.asarray(data, int) @ (2 ** np.arange(n))
    states, freq = np.unique(idx, return_counts=True)
    p_data = freq / freq.sum()
    p = np.asarray(counts, float) / np.sum(counts)
    return float(np.sum(p_data * np.log(p_data / np.maximum(p[states], 1e-12))))


def _rbm_job(W, a, c, tag, weight_scale, steps, burn_in, seed):
    from neurocl.engines.lava.rbm import build_rbm
    from neurocl.engines.lava.runtime import run_steps

    net = build_rbm(W, a, c, tag=tag, weight_scale=weight_scale, seed=seed, histogram=True, burn_in=burn_in)
    try:
        run_steps(net["vis"], 2 * (steps + burn_in), tag)
        return np.asarray(net["vis"].counts.get())
    finally:
        net["vis"].stop()


def deploy_rbm(W, a, c, data, *, tag: str = "fixed_pt", weight_scale: float | None = None, sweeps: int = 20000,
               replicas: int = 16, burn_in: int = 100, seed: int = 0, timeout: float = 600.0) -> dict:
    """Free-running samples of a trained RBM on the emulator (``replicas`` chains of ``sweeps``
    Gibbs sweeps after ``burn_in``) and the KL of their visible distribution to the data.

    ``fixed_pt``: weights on Lava's 8-bit static-weight grid (``weight_scale / 128``),
    integer fields and logistic noise (:mod:`.fixed_point`); ``weight_scale`` is a hardware
    profile's (``None``: the ``loihi2`` profile's).  Returns ``{"kl_samples": nats,
    "counts": (2^nv,) visits, "samples": int}``.
    """
    one_of("tag", tag, set(TAGS))
    W, a, c = finite("W", W), finite("a", a), finite("c", c)
    nv, nh = W.shape
    if a.shape != (nv,) or c.shape != (nh,):
        raise ConfigError(f"biases: a has shape {a.shape}, c {c.shape}; expected ({nv},), ({nh},)")
    if nv > 16:
        raise ConfigError(f"n_visible = {nv}: the sample KL enumerates 2^n_visible states (<= 16 units)")
    scale = fixed_pt_scale(weight_scale) if tag == "fixed_pt" else None
    from neurocl.engines.lava.runtime import run_isolated

    Ws, As, Cs = (np.repeat(x[None], replicas, 0) for x in (W, a, c))
    counts = run_isolated(_rbm_job, Ws, As, Cs, tag, scale, sweeps, burn_in, seed, timeout=timeout,
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


def deploy_hopfield(circuit, params: dict, x, y, *, dt: float, tag: str = "fixed_pt", batch: int = 200,
                    timeout: float = 600.0) -> dict:
    """Test accuracy of a trained layered Hopfield network read out on the emulator.

    Each image relaxes for ``circuit.eval_time`` ms in steps of ``dt`` from rest (as
    :meth:`LayeredHopfield.predict`); the class is the output unit with the largest total
    input.  ``fixed_pt``: each weight matrix has its own power-of-two scale (:mod:`.hopfield`).
    Returns ``{"accuracy": fraction, "scores": (N, classes)}``.
    """
    one_of("tag", tag, set(TAGS))
    p = {k: finite(k, v[0] if np.ndim(v) == 3 or (k.startswith("b") and np.ndim(v) == 2) else v)
         for k, v in params.items() if not k.endswith("_all")}
    x = finite("x", x)
    if x.ndim != 2 or x.shape[1] != circuit.sizes[0] or x.min() < 0 or x.max() > 1:
        raise ConfigError(f"x: shape {x.shape} values in [{x.min():g}, {x.max():g}]; expected (N, "
                          f"{circuit.sizes[0]}) in [0, 1]")
    eval_steps = int(round(circuit.eval_time / dt))
    from neurocl.engines.lava.runtime import run_isolated

    scores = run_isolated(_hopfield_job, p, tuple(circuit.sizes), x, dt / circuit.tau_n, eval_steps, tag, batch,
                          timeout=timeout, what=f"Lava Hopfield read-out ({tag})")
    return {"accuracy": float(np.mean(scores.argmax(1) == np.asarray(y))), "scores": scores}
