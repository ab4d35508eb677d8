"""The variance/bias theory on the Loihi target: on-chip ISD on Lava's emulator against the
ideal float ISD update and against what the ``loihi2`` hardware profile predicts
(Ghosh et al., ICLR 2023, Lemma 2.1 / Lemma A.1).

At each state of an ideal ISD training trajectory (as :mod:`.check_theory`), ``R`` replicas
of the RBM learn on the emulator for ``K`` Gibbs sweeps (``fixed_pt``: 8-bit weights, Lava's
learning engine with shared stochastic rounding).  Lava records the samples it learned from,
so the ideal float update of the *same* samples is known exactly
(:func:`neurocl.engines.lava.ideal_isd_update`); the error of replica ``r`` is

    e_r = (W_lava_r(K) - W_lava_r(0)) - u_r,

and its mean and covariance over replicas (gradient units: divided by ``eta dt K``) are the
per-update bias and variance of on-chip learning.  The ``loihi2`` profile predicts them by
replaying the same per-step ideal updates through its device model
(:func:`neurocl.hardware.device.device_update`, ``draws`` times).  The extra NLL change is
measured from Lava's weights, ``NLL(W_lava(K)) - NLL(W_lava(0) + u_r)`` (biases as learned on
chip in both terms), and predicted by Lemma A.1 from Lava's moments and from the profile's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurocl.errors import ConfigError
from neurocl.hardware.device import device_update, draw_device_params
from neurocl.measure.exact import rbm_nll
from neurocl.measure.rbm_hessian import rbm_nll_grad_hessian
from neurocl.theory import predict_delta_loss_cov

__all__ = ["LavaTheoryRow", "check_theory_lava", "format_lava_rows", "update_moments"]


@dataclass(frozen=True)
class LavaTheoryRow:
    time_ms: float            # state: simulated time of the ideal trajectory
    replicas: int             # draws: replicas x windows
    sweeps: int               # Gibbs sweeps (learning steps) per update
    bias_lava: float          # |E e| / (eta dt K), gradient units
    bias_floor: float         # |E e| expected from sampling alone (zero bias), from window means
    bias_profile: float
    noise_lava: float         # Tr Cov(e / (eta dt K)), gradient units^2
    noise_profile: float
    predicted_lava: float     # nats, Lemma A.1 with Lava's bias and covariance
    predicted_profile: float  # nats, Lemma A.1 with the profile's bias and covariance
    simulated_profile: float  # nats, mean extra NLL of the profile's replayed updates
    measured: float           # nats, mean extra NLL of Lava's updates
    se: float                 # nats, standard error of ``measured``
    predicted2_profile: float  # nats, second-order part of ``predicted_profile`` (without <g, bias> eta dt K)
    measured2: float          # nats, ``measured`` minus the first-order term <g, e> of each update
    se2: float                # nats, standard error of ``measured2``

    @property
    def agrees(self) -> bool:
        """The profile's prediction is within 3 s.e. or 20 % of Lava's measurement, for the
        whole extra NLL change and for its second-order part (the sharper test: the
        first-order term has mean ~0 and most of the sampling noise)."""
        def close(m, p, se):
            return abs(m - p) <= 3 * se or abs(m - p) <= 0.2 * abs(p)

        return (close(self.measured, self.predicted_profile, self.se)
                and close(self.measured2, self.predicted2_profile, self.se2))


def update_moments(errors: np.ndarray, scale: float):
    """Bias vector and covariance (gradient units) of update errors ``errors`` (``(draws, ...)``,
    network units) of updates of size ``scale = eta dt K``."""
    flat = np.asarray(errors, float).reshape(len(errors), -1) / scale
    return flat.mean(0), np.cov(flat.T)


def accumulated_profile(profile):
    """The profile whose weights are a tag-accumulator profile's *accumulated* value (weight plus
    tag): its fine grid ``dw_min / 2^m`` with ``m`` more weight bits and no accumulator (the
    rounding error of the accumulated value is the fine grid's; the carries are exact)."""
    m = profile.accumulator_bits
    if not m:
        return profile
    import dataclasses

    return dataclasses.replace(profile, accumulator_bits=0, dw_min=profile.dw_min / 2**m,
                               weight_bits=profile.weight_bits + m)


def replay_profile(profile, W0: np.ndarray, steps: np.ndarray, rng: np.random.Generator, draws: int) -> np.ndarray:
    """Final weights (network units, ``(draws,) + W0.shape``) when the profile's devices apply
    the per-step ideal updates ``steps`` (``(K,) + W0.shape``) one by one from ``W0`` (for a
    tag-accumulator profile: the accumulated value, :func:`accumulated_profile`)."""
    profile = accumulated_profile(profile)
    ws = profile.weight_scale
    dev = draw_device_params(profile, W0.shape, rng)
    out = np.empty((draws,) + W0.shape)
    for d in range(draws):
        w = np.clip(W0 / ws, dev.w_min, dev.w_max)
        for du in steps:
            w, _ = device_update(profile, dev, w, du / ws, rng)
        out[d] = w * ws
    return out


def _full(nv, nh, e_w):
    """Embed weight errors into the full parameter vector ``[W, a, c]`` (biases exact)."""
    out = np.zeros(e_w.shape[:-2] + (nv * nh + nv + nh,))
    out[..., : nv * nh] = e_w.reshape(e_w.shape[:-2] + (nv * nh,))
    return out


def check_theory_lava(config, profile, *, n_states: int = 4, replicas: int = 8, windows: int = 32,
                      sweeps: int = 50, eta: float = 1e-3, dt: float = 1.0, draws: int = 8, tag: str = "fixed_pt",
                      seed: int = 0, timeout: float = 600.0, progress=None) -> list:
    """One :class:`LavaTheoryRow` per state of the ideal trajectory of ``config`` (an RBM spec).

    At each state, ``replicas`` copies learn on the emulator for ``windows + 1`` consecutive
    windows of ``sweeps`` Gibbs sweeps (the first is burn-in); each later window of each
    replica is one draw of the update.  Replicas share Lava's stochastic-rounding random
    number at every step (as on the chip), so the standard errors are computed over windows.
    ``eta`` (ms^-1) and ``dt`` (ms per Gibbs sweep) are the on-chip learning rate and sweep
    time (the circuit's own rate may be below what 8-bit learning can represent);
    ``profile`` is the hardware profile whose prediction is checked (``loihi2``).  With a
    tag accumulator (``profile.accumulator_bits > 0``, e.g. ``loihi2_tag``) the weights compared
    are the accumulated ones (weight plus the tag not yet carried): their error is the rounding
    of the fine grid; the weights the network reads lag them by at most ``2^(m-1) + 1`` tag units.
    """
    from neurocl.experiments.check_theory import check_arguments, trajectory_states

    check_arguments(n_states=n_states, replicas=replicas, windows=windows, sweeps=sweeps, eta=eta, dt=dt,
                    seed=seed, timeout=timeout)
    from neurocl.validate import positive_int

    positive_int("draws", draws)
    if windows < 2:
        raise ConfigError(f"windows = {windows} must be an integer >= 2 (the standard errors are over windows)")
    if tag not in ("fixed_pt", "floating_pt"):
        raise ConfigError(f"tag = {tag!r} is not one of ['fixed_pt', 'floating_pt']")
    from neurocl.engines.lava import ideal_isd_steps, learning_window

    data, spec, states, sim = trajectory_states(config, n_states)
    nv, nh = config.circuit.n_visible, config.circuit.n_hidden
    rng = np.random.default_rng(seed)
    rows = []
    for i, st in enumerate(states):
        W = np.broadcast_to(st["W"], (replicas, nv, nh)).copy()
        m = profile.accumulator_bits if tag == "fixed_pt" else 0
        win = learning_window(W, st["a"], st["c"], data, spec.phases, eta=eta, dt=dt, sweeps=sweeps,
                              windows=windows + 1, tag=tag, weight_scale=profile.weight_scale, seed=seed + i,
                              timeout=timeout, accumulator_bits=m)
        steps = ideal_isd_steps(win)
        steps = steps.reshape((windows + 1, sweeps) + steps.shape[1:])[1:]        # (M, K, R, nv, nh)
        u = steps.sum(1)
        Wacc = win["W"] + (win["tag"] * profile.weight_scale / 256 / 2**m if m else 0.0)   # weight + tag
        W0, W1 = Wacc[1:-1], Wacc[2:]
        a1, c1 = win["a"][2:], win["c"][2:]
        scale = win["eta_dt"] * sweeps                                           # eta dt K, representable eta
        e_lava = W1 - W0 - u                                                     # (M, R, nv, nh)
        sim_p = np.stack([replay_profile(profile, W0[j], steps[j], rng, draws) for j in range(windows)], 1)
        e_prof = sim_p - W0 - u                                                  # (D, M, R, nv, nh)
        b_l, C_l = update_moments(_full(nv, nh, e_lava.reshape(-1, nv, nh)), scale)
        window_means = e_lava.mean(1).reshape(windows, -1) / scale
        floor = float(np.sqrt(np.sum(window_means.var(0, ddof=1)) / windows))
        b_p, C_p = update_moments(_full(nv, nh, e_prof.reshape(-1, nv, nh)), scale)
        pred_l, pred_p, pred2_p = [], [], []
        meas, first, simu = (np.empty((windows, replicas)) for _ in range(3))
        for j in range(windows):
            for r in range(replicas):
                _, g, H = rbm_nll_grad_hessian(W0[j, r], win["a"][j + 1, r], win["c"][j + 1, r], data)
                pred_l.append(predict_delta_loss_cov(g, H, b_l, C_l, scale))
                pred_p.append(predict_delta_loss_cov(g, H, b_p, C_p, scale))
                pred2_p.append(pred_p[-1] - scale * float(g @ b_p))
                first[j, r] = float(g @ _full(nv, nh, e_lava[j, r]))
                ideal = rbm_nll(W0[j, r] + u[j, r], a1[j, r], c1[j, r], data)
                meas[j, r] = rbm_nll(W1[j, r], a1[j, r], c1[j, r], data) - ideal
                simu[j, r] = np.mean([rbm_nll(sim_p[d, j, r], a1[j, r], c1[j, r], data) for d in range(draws)]) - ideal
        per_window, per_window2 = meas.mean(1), (meas - first).mean(1)
        rows.append(LavaTheoryRow(
            time_ms=(i + 1) * sim.duration / len(states), replicas=replicas * windows, sweeps=sweeps,
            bias_lava=float(np.linalg.norm(b_l)), bias_floor=floor, bias_profile=float(np.linalg.norm(b_p)),
            noise_lava=float(np.trace(C_l)), noise_profile=float(np.trace(C_p)),
            predicted_lava=float(np.mean(pred_l)), predicted_profile=float(np.mean(pred_p)),
            simulated_profile=float(simu.mean()), measured=float(meas.mean()),
            se=float(per_window.std(ddof=1) / np.sqrt(windows)), predicted2_profile=float(np.mean(pred2_p)),
            measured2=float(per_window2.mean()), se2=float(per_window2.std(ddof=1) / np.sqrt(windows))))
        if progress is not None:
            progress(rows[-1])
    return rows


def format_lava_rows(rows) -> str:
    """The table ``neurocl check-theory --engine lava`` prints."""
    head = (f"{'t (ms)':>9} {'|bias| lava':>11} {'(floor)':>8} {'|bias| prof':>11} {'noise lava':>10} {'noise prof':>10} "
            f"{'pred lava':>10} {'pred prof':>10} {'sim prof':>10} {'measured':>10} {'+- s.e.':>8} "
            f"{'2nd: pred prof':>14} {'measured':>10} {'+- s.e.':>8}  agreement")
    lines = [head, "-" * len(head)]
    for r in rows:
        if r.agrees:
            verdict = "ok"
        else:
            ratio = r.measured2 / r.predicted2_profile if r.predicted2_profile else float("inf")
            verdict = f"profile off: 2nd-order measured/predicted = {ratio:.3g}"
        lines.append(f"{r.time_ms:>9.0f} {r.bias_lava:>11.4g} {r.bias_floor:>8.3g} {r.bias_profile:>11.4g} {r.noise_lava:>10.4g} "
                     f"{r.noise_profile:>10.4g} {r.predicted_lava:>10.3e} {r.predicted_profile:>10.3e} "
                     f"{r.simulated_profile:>10.3e} {r.measured:>10.3e} {r.se:>8.1e} {r.predicted2_profile:>14.3e} "
                     f"{r.measured2:>10.3e} {r.se2:>8.1e}  {verdict}")
    lines.append("bias: |E e| / (eta dt K) (floor: its value for an unbiased update, from the spread of window "
                 "means); noise: Tr Cov(e / (eta dt K)) (gradient units); pred/sim/measured: "
                 "extra NLL per update (nats); 2nd: without the first-order term <g, e>")
    return "\n".join(lines)


def plot_lava_rows(rows, path) -> None:
    """Measured extra NLL change on Lava against the Lemma A.1 predictions from Lava's own
    moments and from the profile's, one point per state, with 3 s.e. bars."""
    from neurocl.plotting import new_figure, save

    fig, (ax,) = new_figure(1, 5.0, 4.2)
    meas = [r.measured for r in rows]
    err = [3 * r.se for r in rows]
    ax.errorbar([r.predicted_profile for r in rows], meas, yerr=err, fmt="o", color="C0", capsize=2,
                label="predicted from the profile's moments")
    ax.errorbar([r.predicted_lava for r in rows], meas, yerr=err, fmt="s", color="C1", capsize=2, mfc="none",
                label="predicted from Lava's moments")
    vals = meas + [r.predicted_profile for r in rows] + [r.predicted_lava for r in rows]
    lim = [min(0.0, min(vals)), max(vals) * 1.1]
    ax.plot(lim, lim, color="0.4", ls="--", lw=1, label="measured = predicted")
    ax.set_xlabel("predicted extra NLL change per update (nats)")
    ax.set_ylabel("measured on Lava (nats, +- 3 s.e.)")
    ax.set_title("on-chip ISD on the Loihi 2 emulator")
    ax.legend(frameon=True, fontsize=8)
    save(fig, path)
