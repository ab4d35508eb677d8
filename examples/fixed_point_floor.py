"""The fixed-point floor of on-chip ISD: predicted from the rounding noise, measured on the
numpy engine with the ``loihi2`` profile and variants of its grid (bas3).

Setting (the Lava on-chip run of ``lava_deployment.py``): bas3 RBM 9-16, always-on ISD with
the sampled hidden statistic (spikes, as Loihi's learning engine sees), eta = 1e-3 /ms, one
full Gibbs sweep per dt = 1 ms (tau_n = 0.01 ms), b = 0.5, exponential phases of mean 2 ms.
One coincidence asks for eta dt / b = 2e-3 network units: 0.064 of a ``loihi2`` grid step
(q = weight_scale / 256 = 1/32).

For each grid (``weight_bits`` 8 / 9 / 10, shared or independent stochastic rounding, a
synaptic-tag accumulator of 3 or 6 extra bits, deterministic rounding, a 16-bit control) the run
records the ideal per-step updates it asked for; the rounding noise trace per step is measured
from them by Monte Carlo through the profile's device model
(:func:`neurocl.measure.device_noise.update_statistics`, as ``check-theory`` does) and in closed
form (:func:`neurocl.theory_fixed_point.rounding_noise_trace`).  Two predictions of the excess KL
over the float run: Eq. (*) of :mod:`neurocl.theory_fixed_point` (Lemma A.1 applied to
``|w - w*|^2 / 2``: ``Tr Sigma / (4 eta dt)``, stationary, Hessian-free) and the finite-time
linear model (:func:`~neurocl.theory_fixed_point.ou_excess_loss`, 200,000 steps) with the exact
NLL Hessian and the full rounding covariance of binary coincidences at the float run's weights.
Measured: mean KL over 150-250 s of each replica minus that of the float runs (16 replicas).
The float runs are not stationary at this eta (lowest KL near 200-250 s, rising later as the
weights grow), so the window is the one the Lava runs were compared in.  Third panel: the same
check where the mean update is the exact gradient (ISD with exact phase statistics from a
near-minimum, 6 replicas, 10,000 steps), which isolates the linear theory.

Measured (4 replicas each; excess +- s.e.; predictions Eq. (*) / linear model), float 1.03 nats:
``loihi2`` (9 bits, shared) 1.89 nats, excess 0.86 +- 0.12 vs 0.36 / 0.41; 8 bits 1.44 +- 0.40 vs
0.67 / 0.86; 10 bits 0.49 +- 0.10 vs 0.19 / 0.19; 9 bits independent rounding 0.23 +- 0.07 vs
0.43 / 0.27; 3-bit tag (shared) 0.21 +- 0.05 vs 0.03 / 0.03 (with random initial tags 1.21 nats,
no better); 3-bit tag with independent rounding 1.01 nats, excess -0.02 +- 0.03 (the float
result); deterministic rounding: frozen at the initial 3.61 nats, as predicted (every update
below half a step); 16-bit control 1.02 nats.  With exact statistics the linear model holds for
every grid (e.g. shared 9 bits 0.34 +- 0.09 vs 0.28, independent 0.050 +- 0.002 vs 0.050, tag
0.028 +- 0.006 vs 0.030; 8 bits 22 % below it).  So the floor scales with the grid step as
predicted, independent rounding and tags behave as the theory says, but on sampled ISD shared
rounding costs about twice its prediction (and a tag fed by shared rounding seven times):
the trace-only theory misses an effect of rounding errors shared by the synapses of one sample.
The exact numbers are in ``fixed_point_floor.json``.

Run:  python examples/fixed_point_floor.py [--quick] [--out examples/fixed_point_floor.png]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from neurocl.api import load_spec
from neurocl.engines import get_engine
from neurocl.engines.numpy.learners import ISDLearner
from neurocl.engines.numpy.reference import run_reference
from neurocl.experiments.tasks import make_task
from neurocl.hardware import load_profile
from neurocl.measure.device_noise import update_statistics
from neurocl.theory_fixed_point import binary_floor, grid_step, rounding_noise_trace, stationary_excess_loss

ETA, DT, B = 1e-3, 1.0, 0.5

#: label -> changes to the loihi2 profile
SETTINGS = {
    "loihi2 (9 bits, shared)": {},
    "8 bits, shared": {"weight_bits": 8, "dw_min": 2.0 / 2**8},
    "10 bits, shared": {"weight_bits": 10, "dw_min": 2.0 / 2**10},
    "9 bits, independent": {"shared_rounding": False},
    "9 bits + 3-bit tag": {"accumulator_bits": 3},
    "9 bits + 3-bit tag, independent": {"accumulator_bits": 3, "shared_rounding": False},
    "9 bits + 6-bit tag": {"accumulator_bits": 6},
    "9 bits, deterministic": {"rounding": "deterministic"},
    "16 bits (control)": {"weight_bits": 16, "dw_min": 2.0 / 2**16},
}


def spec_for(duration, replicas, seed):
    return load_spec("bas3", {"simulation.duration": duration, "simulation.replicas": replicas,
                              "simulation.checkpoints": max(2, int(round(duration / 10000.0))),
                              "simulation.dt": DT, "simulation.seed": seed, "circuit.tau_n": 0.01,
                              "learners.isd.learning_rate": ETA, "learners.isd.mean_field": False,
                              "learners.isd.phases.length.mean": 2.0}, learners=["isd"])


def recording_learner(t_from, every, store):
    """An ISD learner that stores the ideal W update of every ``every``-th step after ``t_from`` ms."""

    class Recorder(ISDLearner):
        k = 0

        def step(self, params, stat, positive, phase_start, t, dt):
            rec = t >= t_from and Recorder.k % every == 0
            Recorder.k += 1
            before = params["W"].copy() if rec else None
            super().step(params, stat, positive, phase_start, t, dt)
            if rec:
                store.append(params["W"] - before)

    return Recorder


def run_setting(spec, profile, t_from, every):
    """KL trajectory (checkpoint, replica), recorded ideal updates ``(K, R, nv, nh)`` and the
    initial weights on the grid."""
    circuit, ls, sim = spec.circuit, spec.learners[0], spec.simulation
    task = make_task(circuit, spec.data, sim)
    rng_init, rng = np.random.default_rng([sim.seed, 0]), np.random.default_rng([sim.seed, 1])
    params = circuit.init_params(rng_init, sim.replicas)
    w0 = prof_grid(profile, params["W"])
    store = []
    traj = run_reference(circuit, ls.rule, ls.phases, task, sim, params, rng, rng_init, profile=profile,
                         learners={"isd": recording_learner(t_from, every, store)})
    return traj, np.asarray(store), w0


def prof_grid(profile, W):
    """Initial weights as the device holds them (snapped to the grid, network units)."""
    from neurocl.hardware.device import SynapseArray

    return SynapseArray(profile, W, np.random.default_rng(0)).read()


def measured_trace(profile, updates, rng, n_updates, draws):
    """Per-step rounding noise trace (network units^2) by Monte Carlo through the device model
    (``update_statistics`` returns it in gradient units, ``/ (eta dt)^2``).  A tag accumulator is
    measured on its fine grid (its input rounding)."""
    p = profile
    if p.accumulator_bits:
        fine = p.dw_min / 2**p.accumulator_bits
        p = dataclasses.replace(p, accumulator_bits=0, dw_min=fine, weight_bits=p.weight_bits + p.accumulator_bits)
    idx = rng.choice(len(updates), size=min(n_updates, len(updates)), replace=False)
    vals = []
    for k in idx:
        for r in range(updates.shape[1]):
            u = updates[k, r]
            w = np.zeros_like(u)   # far from the bounds: rounding only
            vals.append(update_statistics(p, w, u, ETA * DT, rng, draws).noise_var * (ETA * DT) ** 2)
    vals = np.asarray(vals)
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(len(vals)))


# --- the same floor where the drift is the exact gradient (J = H) -------------------------------

def _sigmoid_softplus(u):
    """``sigmoid(u)`` and ``softplus(u) = log(1 + e^u)`` from one exponential."""
    e = np.exp(-np.abs(u))
    inv = 1.0 / (1.0 + e)
    return np.where(u >= 0, inv, e * inv), np.maximum(u, 0.0) + np.log1p(e)


def exact_statistics(W, a, c, V, X):
    """Positive (data) and negative (model) means of the ISD statistic ``(v h^T, v, E[h|v])`` and the
    exact mean NLL (nats) of each replica, by enumerating the visible states ``V``."""
    uV = np.matmul(V, W) + c[:, None, :]
    sV, spV = _sigmoid_softplus(uV)
    lp = a @ V.T + spV.sum(-1)
    m = lp.max(1, keepdims=True)
    p = np.exp(lp - m)
    Z = p.sum(1, keepdims=True)
    p /= Z
    uX = np.matmul(X, W) + c[:, None, :]
    sX, spX = _sigmoid_softplus(uX)
    nll = -(a @ X.T).mean(1) - spX.sum(-1).mean(1) + (m + np.log(Z))[:, 0]
    neg = (np.matmul(V.T * p[:, None, :], sV), p @ V, np.matmul(p[:, None, :], sV)[:, 0])
    pos = (np.matmul(X.T, sX) / len(X), np.broadcast_to(X.mean(0), a.shape), sX.mean(1))
    return pos, neg, nll


def coincidence_moments(W, a, c, X, V):
    """``E[a a^T]`` of the coincidence indicator ``a = vec(v h^T)`` (sampled hidden units) in the
    positive phase (``v`` uniform over the patterns ``X``) and the negative phase (``v`` from the
    model, the law a long negative phase reaches), by enumeration."""
    from neurocl.measure.exact import rbm_visible_log_probs

    def second(vs, p):
        s_, _ = _sigmoid_softplus(vs @ W + c)
        hh = s_[:, :, None] * s_[:, None, :] + np.einsum("vj,jl->vjl", s_ * (1 - s_), np.eye(len(c)))
        return np.einsum("v,vi,vk,vjl->ijkl", p, vs, vs, hh, optimize=True).reshape(W.size, W.size)

    lp = rbm_visible_log_probs(W, a, c, V)
    return second(X, np.full(len(X), 1.0 / len(X))), second(V, np.exp(lp - np.logaddexp.reduce(lp)))


def engine_ou_prediction(params, X, V, profile, steps):
    """Finite-time linear-model prediction for the engine runs: the rounding covariance of binary
    coincidences at the float run's weights (shared: ``q^2 phi(f) E[a a^T]``, independent: its
    diagonal; a tag: the fine grid, plus the read lag ``q^2 / 12`` per synapse), the NLL Hessian
    there (negative eigenvalues set to 0), ``steps`` steps from no excess (:func:`ou_excess_loss`);
    mean over the replicas of ``params``."""
    from neurocl.measure.rbm_hessian import rbm_nll_grad_hessian
    from neurocl.theory_fixed_point import ou_excess_loss, tag_read_excess

    q = grid_step(profile)
    qf = q / 2**profile.accumulator_bits
    vals = []
    for W, a, c in zip(params["W"], params["a"], params["c"]):
        Mp, Mn = coincidence_moments(W, a, c, X, V)
        fp, fn = ETA * DT / (B * qf), ETA * DT / ((1 - B) * qf)
        phi = lambda f: (f - np.floor(f)) * (1 - f + np.floor(f))  # noqa: E731
        S_W = qf * qf * (B * phi(fp) * Mp + (1 - B) * phi(fn) * Mn)
        if not profile.shared_rounding:
            S_W = np.diag(np.diag(S_W))
        _, _, H = rbm_nll_grad_hessian(W, a, c, X)
        lam, vec = np.linalg.eigh(0.5 * (H + H.T))
        Hp = (vec * np.maximum(lam, 0.0)) @ vec.T
        S = np.zeros_like(H)
        S[:W.size, :W.size] = S_W
        v = ou_excess_loss(Hp, S, ETA * DT, steps)
        if profile.accumulator_bits:
            v += tag_read_excess(Hp[:W.size, :W.size], q * q / 12)
        vals.append(v)
    return float(np.mean(vals)), float(np.std(vals, ddof=1) / np.sqrt(len(vals))) if len(vals) > 1 else 0.0


def exact_start(X, V, steps, lr=0.05, seed=0):
    """A near-minimum of bas3's exact NLL: ``steps`` steps of exact gradient descent from small weights."""
    rng = np.random.default_rng(seed)
    W, a, c = 0.1 * rng.standard_normal((1, 9, 16)), np.zeros((1, 9)), np.zeros((1, 16))
    for _ in range(steps):
        pos, neg, _ = exact_statistics(W, a, c, V, X)
        W, a, c = W + lr * (pos[0] - neg[0]), a + lr * (pos[1] - neg[1]), c + lr * (pos[2] - neg[2])
    return W[0], a[0], c[0]


def exact_isd(start, X, V, R, steps, profile, phase_noise, seed, every):
    """ISD with exact phase statistics (i.i.d. phases, positive with probability b): the mean update
    is exactly ``-eta dt grad NLL``; the noise is the phase's and the profile's rounding (one device
    array per replica: independent draws).  Mean NLL (nats) every ``every`` steps, ``(T, R)``."""
    from neurocl.hardware.device import SynapseArray

    rng = np.random.default_rng(seed)
    W, a, c = (np.repeat(x[None], R, 0) for x in start)
    devs = None
    if profile is not None:
        devs = [SynapseArray(profile, W[r], np.random.default_rng([seed, r])) for r in range(R)]
        W = np.stack([d.read() for d in devs])
    out = []
    for k in range(steps):
        pos, neg, nll = exact_statistics(W, a, c, V, X)
        if k % every == 0:
            out.append(nll)
        if phase_noise:
            z = (rng.random(R) < B).astype(float)
            wp, wn = z / B, (1 - z) / (1 - B)
        else:
            wp = wn = np.ones(R)
        g = [wp.reshape((R,) + (1,) * (p.ndim - 1)) * p - wn.reshape((R,) + (1,) * (p.ndim - 1)) * n
             for p, n in zip(pos, neg)]
        a, c = a + ETA * DT * g[1], c + ETA * DT * g[2]
        if devs is None:
            W = W + ETA * DT * g[0]
        else:
            for r in range(R):
                devs[r].request(ETA * DT * g[0][r])
                W[r] = devs[r].read()
    return np.asarray(out)


def exact_predictions(start, X, V, profile, steps_list):
    """Linear-model (OU) excess NLL after each of ``steps_list`` steps from the start (Hessian at
    the start, negative eigenvalues set to 0), for the phase noise alone (``profile = None``) or
    the profile's rounding noise, and the stationary Eq. (*)."""
    from neurocl.measure.rbm_hessian import rbm_nll_grad_hessian
    from neurocl.theory_fixed_point import ou_excess_loss, rounding_moments

    W0, a0, c0 = start
    _, _, H = rbm_nll_grad_hessian(W0, a0, c0, X)
    lam, vec = np.linalg.eigh(0.5 * (H + H.T))
    Hp = (vec * np.maximum(lam, 0.0)) @ vec.T
    pos, neg, _ = exact_statistics(W0[None], a0[None], c0[None], V, X)
    mp = np.concatenate([pos[0][0].ravel(), pos[1][0], pos[2][0]])
    mn = np.concatenate([neg[0][0].ravel(), neg[1][0], neg[2][0]])
    n = W0.size
    if profile is None:
        d = mp / B + mn / (1 - B)
        S = (ETA * DT) ** 2 * B * (1 - B) * np.outer(d, d)       # phase noise: rank one
    else:
        q = grid_step(profile) / 2**profile.accumulator_bits
        S = np.zeros_like(H)
        S[:n, :n] = (B * rounding_moments(ETA * DT * mp[:n] / B, q, "stochastic", profile.shared_rounding)[1]
                     + (1 - B) * rounding_moments(-ETA * DT * mn[:n] / (1 - B), q, "stochastic",
                                                  profile.shared_rounding)[1])
    return ([ou_excess_loss(Hp, S, ETA * DT, k) for k in steps_list], stationary_excess_loss(np.trace(S), ETA * DT),
            float(lam.min()), float(lam.max()))


def exact_check(grids, steps, R, every, start_steps):
    """Measured NLL(t) - NLL_float(t) of exact-statistic ISD on each grid against the OU prediction."""
    from neurocl.data.bars_and_stripes import bars_and_stripes
    from neurocl.measure.exact import all_states

    X = np.unique((np.asarray(bars_and_stripes(3), float).reshape(-1, 9) > 0.5).astype(float), axis=0)
    V = all_states(9).astype(float)
    start = exact_start(X, V, start_steps)
    ks = list(range(0, steps, every))
    half = slice(len(ks) // 2, None)
    out = {"steps": ks, "replicas": R, "start_kl_nats": float(exact_statistics(*(x[None] for x in start), V, X)[2][0]
                                                                - np.log(len(X)))}
    base = exact_isd(start, X, V, R, steps, None, False, 1, every)
    flt = exact_isd(start, X, V, R, steps, None, True, 2, every)
    pf, pf_stat, lmin, lmax = exact_predictions(start, X, V, None, ks)
    exc = (flt - base).mean(1)
    out["float"] = {"measured_excess_nats": exc.tolist(), "predicted_excess_nats": pf, "predicted_stationary_nats": pf_stat,
                    "late_measured": float(exc[half].mean()), "late_se": float((flt - base)[half].mean(0).std(ddof=1) / np.sqrt(R)),
                    "late_predicted": float(np.mean(pf[half]))}
    out["hessian_eigenvalue_range"] = [lmin, lmax]
    print(f"exact-statistic ISD from a near-minimum (KL {out['start_kl_nats']:.3f} nats; Hessian eigenvalues in "
          f"[{lmin:.2g}, {lmax:.2g}]), {R} replicas, {steps} steps; mean over the last half:")
    print(f"  phase noise only: excess NLL over exact descent {out['float']['late_measured']:.4f} +- "
          f"{out['float']['late_se']:.4f} nats vs OU prediction {out['float']['late_predicted']:.4f} nats", flush=True)
    for i, (label, prof) in enumerate(grids.items()):
        runs = exact_isd(start, X, V, R, steps, prof, True, 10 + i, every)
        pr, pr_stat, _, _ = exact_predictions(start, X, V, prof, ks)
        d = runs - flt.mean(1, keepdims=True)
        late = d[half].mean(0)
        row = {"measured_excess_nats": d.mean(1).tolist(), "predicted_excess_nats": pr, "predicted_stationary_nats": pr_stat,
               "late_measured": float(late.mean()),
               "late_se": float(np.sqrt(late.var(ddof=1) / R + flt[half].mean(0).var(ddof=1) / R)),
               "late_predicted": float(np.mean(pr[half]))}
        out[label] = row
        print(f"  {label:<24} rounding excess over the float {row['late_measured']:.4f} +- {row['late_se']:.4f} nats vs "
              f"OU prediction {row['late_predicted']:.4f} (stationary Eq. (*): {pr_stat:.4f}) nats", flush=True)
    return out


#: Lava settings of the on-chip floor check: label -> (tag accumulator bits, lava_deployment.json curve or None)
LAVA_SETTINGS = {"Lava loihi2 (9 bits, shared)": (0, "Lava fixed_pt"),
                 "Lava 9 bits + 2-bit tag": (2, "Lava fixed_pt, 2-bit tag"),
                 "Lava loihi2_tag (9 bits + 4-bit tag)": (4, "Lava fixed_pt, 4-bit tag (loihi2_tag)")}
LAVA_FLOAT_CURVE = "Lava floating_pt"


def lava_floor(res, deployment_json, window_s, sweeps=50, remeasure=True):
    """The floor on Lava's emulator: the per-step rounding noise of on-chip updates measured with
    ``check-theory --engine lava`` (8 replicas x 16 windows of ``sweeps`` sweeps at the 400 s
    state of bas3), the stationary excess it predicts (Eq. (*)) and the closed form, against the
    plateau measured in ``lava_deployment.py``'s on-chip runs (mean KL over ``t >= window_s``
    minus ``floating_pt``'s).  ``remeasure=False`` keeps the noise measurements of ``res["lava"]``
    and only reads the plateaus again."""
    from neurocl.config import load_config
    from neurocl.engines.lava.fixed_point import isd_scaling
    from neurocl.experiments.check_theory_lava import check_theory_lava

    cfg = load_config("circuits/bas3.toml").replace(duration=400_000.0, seed=0)
    base = load_profile("loihi2_tag")
    ref = res["grids"]["loihi2 (9 bits, shared)"]
    curves = json.loads(Path(deployment_json).read_text())["curves"] if Path(deployment_json).is_file() else {}

    def plateau(name):
        t, kl = np.asarray(curves[name]["time_s"]), np.asarray(curves[name]["kl_nats"])
        return kl[t >= window_s].mean(0)      # per replica

    out = {"window_from_s": window_s, "sweeps_per_update": sweeps, "rows": {}}
    flt = plateau(LAVA_FLOAT_CURVE) if LAVA_FLOAT_CURVE in curves else None
    if flt is not None:
        out["float_window_kl_nats"] = float(flt.mean())
        out["float_window_kl_se"] = float(flt.std(ddof=1) / np.sqrt(len(flt)))
    for label, (m, curve) in LAVA_SETTINGS.items():
        t0 = time.time()
        prof = dataclasses.replace(base, name=label, accumulator_bits=m)
        sc = isd_scaling(ETA, DT, B, prof.weight_scale, accumulator_bits=m)
        if remeasure:
            (row,) = check_theory_lava(cfg, prof, n_states=1, replicas=8, windows=16, sweeps=sweeps, eta=ETA, dt=DT)
            noise_lava, noise_profile = row.noise_lava, row.noise_profile
        else:
            old = res["lava"]["rows"][label]
            noise_lava, noise_profile = old["noise_lava"], old["noise_profile"]
        per_step = (sc.eta * DT * sweeps) ** 2 / sweeps          # gradient units^2 per update -> net. units^2 per step
        cf = binary_floor(grid_step(prof), sc.eta, DT, sc.b, ref["coincidences_pos"], ref["coincidences_neg"],
                          accumulator_bits=m)
        r = {"accumulator_bits": m, "eta_effective": sc.eta, "fine_steps_per_coincidence": cf.f_pos,
             "noise_lava": noise_lava, "noise_profile": noise_profile,
             "trace_lava": noise_lava * per_step, "trace_profile": noise_profile * per_step,
             "predicted_excess_nats": stationary_excess_loss(noise_lava * per_step, sc.eta * DT),
             "predicted_excess_profile_nats": stationary_excess_loss(noise_profile * per_step, sc.eta * DT),
             "predicted_excess_binary_nats": cf.excess_nats, "curve": curve}
        if curve in curves and flt is not None:
            w = plateau(curve)
            r.update(window_kl_nats=float(w.mean()), window_kl_se=float(w.std(ddof=1) / np.sqrt(len(w))),
                     measured_excess_nats=float(w.mean() - flt.mean()),
                     measured_excess_se=float(np.sqrt(w.var(ddof=1) / len(w) + flt.var(ddof=1) / len(flt))),
                     replicas=len(w))
        out["rows"][label] = r
        meas = (f"measured plateau {r['window_kl_nats']:.3f} +- {r['window_kl_se']:.3f} nats, excess "
                f"{r['measured_excess_nats']:.3f} +- {r['measured_excess_se']:.3f}" if "window_kl_nats" in r
                else "no on-chip learning run")
        print(f"{label:<38} rounding noise Tr Cov (gradient units^2, {sweeps} sweeps): Lava {noise_lava:.4g}, profile "
              f"{noise_profile:.4g}; predicted excess {r['predicted_excess_nats']:.4f} nats (Eq. * from Lava's noise), "
              f"{cf.excess_nats:.4f} (closed form); {meas}  [{time.time() - t0:.0f} s]", flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/fixed_point_floor.png")
    ap.add_argument("--quick", action="store_true", help="short runs, 2 replicas, 3 settings (a smoke test)")
    ap.add_argument("--duration", type=float, default=250000.0, help="simulated ms per run")
    ap.add_argument("--window", type=float, default=150000.0, help="start (ms) of the plateau window")
    ap.add_argument("--replicas", type=int, default=4)
    ap.add_argument("--float-replicas", type=int, default=16)
    ap.add_argument("--settings", nargs="*", default=None, help="labels to run (default all)")
    ap.add_argument("--exact-steps", type=int, default=10000, help="steps of the exact-statistic check")
    ap.add_argument("--exact-replicas", type=int, default=6)
    ap.add_argument("--lava", action="store_true",
                    help="only the Lava floor check (on-chip noise + lava_deployment.json plateaus), merged into the JSON")
    ap.add_argument("--lava-plateaus-only", action="store_true",
                    help="with --lava: keep the saved on-chip noise measurements, read the plateaus again")
    ap.add_argument("--deployment-json", default="examples/lava_deployment.json")
    ap.add_argument("--replot", action="store_true", help="redraw from the saved numbers (<out>.json)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.replot:
        plot(json.loads(out.with_suffix(".json").read_text()), out)
        return
    if args.lava:
        res = json.loads(out.with_suffix(".json").read_text())
        res["lava"] = lava_floor(res, args.deployment_json, window_s=args.window / 1000,
                                 remeasure=not args.lava_plateaus_only)
        out.with_suffix(".json").write_text(json.dumps(res, indent=1))
        plot(res, out)
        print(f"wrote {out} and {out.with_suffix('.json')}")
        return
    if args.quick:
        args.duration, args.window, args.replicas, args.float_replicas = 20000.0, 10000.0, 2, 4
        args.exact_steps, args.exact_replicas = 400, 2
    labels = args.settings or (list(SETTINGS)[:2] + ["9 bits, deterministic"] if args.quick else list(SETTINGS))
    rng = np.random.default_rng(7)
    base = load_profile("loihi2")
    spec = spec_for(args.duration, args.replicas, 0)

    def window_mean(times, kl):
        sel = times >= args.window
        return kl[sel].mean(0)   # per replica, nats

    t = time.time()
    fspec = spec_for(args.duration, args.float_replicas, 1)
    ls = fspec.learners[0]
    ftraj = get_engine("numpy").run(fspec.circuit, ls.rule, ls.phases, make_task(fspec.circuit, fspec.data, fspec.simulation),
                                    fspec.simulation)
    fkl = np.asarray(ftraj.metrics["kl_nats"])
    from neurocl.data.bars_and_stripes import bars_and_stripes
    from neurocl.measure.exact import all_states

    X = np.unique((np.asarray(bars_and_stripes(3), float).reshape(-1, 9) > 0.5).astype(float), axis=0)
    V = all_states(9).astype(float)
    f_params = {k: v[:4] for k, v in ftraj.params.items()}        # the weights the OU prediction linearises at
    mid = int(round((args.window + args.duration) / 2 / DT))       # steps from the start to the window's middle
    f_win = window_mean(ftraj.times, fkl)
    res = {"setting": {"eta_per_ms": ETA, "dt_ms": DT, "b": B, "tau_n_ms": 0.01, "phase_mean_ms": 2.0,
                       "duration_ms": args.duration, "window_from_ms": args.window, "replicas": args.replicas},
           "float": {"times_ms": ftraj.times.tolist(), "kl_nats": fkl.tolist(),
                     "window_kl_nats": float(f_win.mean()), "window_kl_se": float(f_win.std(ddof=1) / np.sqrt(len(f_win)))},
           "grids": {}}
    print(f"float (ideal weights, {args.float_replicas} replicas): mean KL over t >= {args.window / 1000:.0f} s = "
          f"{f_win.mean():.3f} +- {f_win.std(ddof=1) / np.sqrt(len(f_win)):.3f} nats (s.e.)  [{time.time() - t:.0f} s]")
    for label in labels:
        t = time.time()
        prof = dataclasses.replace(base, name=label, **SETTINGS[label])
        traj, ups, w0 = run_setting(spec, prof, args.window, every=25)
        kl = np.asarray(traj.metrics["kl_nats"])
        win = window_mean(traj.times, kl)
        q = grid_step(prof)
        m = prof.accumulator_bits
        qf = q / 2**m
        trace_cf = rounding_noise_trace(ups.reshape((-1,) + ups.shape[2:]), qf, prof.rounding)   # per replica
        trace_mc, trace_mc_se = measured_trace(prof, ups, rng, 40 if args.quick else 150, 100)
        # b S+ = E[coincidences per step, positive phases], (1 - b) S- likewise (the sign of a
        # step's update is its phase's)
        sgn = np.sign(ups.reshape(len(ups), ups.shape[1], -1).sum(-1))
        coinc = (np.abs(ups) > 0).sum(axis=(2, 3))
        s_pos = float(np.mean(coinc * (sgn > 0))) / B
        s_neg = float(np.mean(coinc * (sgn < 0))) / (1 - B)
        cf = binary_floor(q, ETA, DT, B, s_pos, s_neg, prof.rounding, m)
        excess = win - f_win.mean()
        row = {"q_network": q, "accumulator_bits": m, "fine_step": qf, "f_pos": cf.f_pos,
               "trace_closed_form": trace_cf, "trace_monte_carlo": trace_mc, "trace_monte_carlo_se": trace_mc_se,
               "coincidences_pos": s_pos, "coincidences_neg": s_neg,
               "predicted_excess_nats": stationary_excess_loss(trace_mc, ETA * DT),
               "predicted_excess_binary_nats": cf.excess_nats, "frozen": cf.frozen,
               "window_kl_nats": float(win.mean()), "window_kl_se": float(win.std(ddof=1) / np.sqrt(len(win))),
               "measured_excess_nats": float(excess.mean()),
               "measured_excess_se": float(np.sqrt(win.var(ddof=1) / len(win) + f_win.var(ddof=1) / len(f_win))),
               "max_weight_change": float(np.max(np.abs(traj.params["W"] - w0))),
               "times_ms": traj.times.tolist(), "kl_nats": kl.tolist(), "wall_s": time.time() - t}
        if not cf.frozen:
            row["predicted_excess_ou_nats"], row["predicted_excess_ou_se"] = engine_ou_prediction(f_params, X, V, prof, mid)
        if cf.frozen:
            row["predicted_excess_nats"] = None   # no learning: the KL stays at its initial value
            row["initial_kl_nats"] = float(kl[0].mean())
        res["grids"][label] = row
        pe = row["predicted_excess_nats"]
        print(f"{label:<24} q = 1/{1 / qf:.0f} net. units, f+ = {cf.f_pos:.3f} steps/coincidence; rounding noise "
              f"Tr Sigma = {trace_mc:.3e} +- {trace_mc_se:.1e} (MC) / {trace_cf:.3e} (closed form) net.units^2/step; "
              f"predicted excess {'frozen' if pe is None else f'{pe:.3f}'} nats (Eq. *), "
              f"{row.get('predicted_excess_ou_nats', float('nan')):.3f} nats (OU, {mid} steps); measured window KL "
              f"{win.mean():.3f} +- {row['window_kl_se']:.3f}, excess {excess.mean():.3f} +- {row['measured_excess_se']:.3f} "
              f"nats  [{row['wall_s']:.0f} s]", flush=True)
    grids = {k: dataclasses.replace(base, name=k, **v) for k, v in SETTINGS.items() if k in labels and "determ" not in k}
    res["exact_statistic"] = exact_check(grids, args.exact_steps, args.exact_replicas, max(1, args.exact_steps // 40),
                                         2000 if args.quick else 20000)
    json_path = out.with_suffix(".json")
    json_path.write_text(json.dumps(res, indent=1))
    plot(res, out)
    print(f"wrote {out} and {json_path}")


def plot(res, out):
    from neurocl.plotting import new_figure, save

    fig, (ax1, ax2, ax3) = new_figure(3, 5.0, 4.0)
    ft = np.asarray(res["float"]["times_ms"]) / 1000
    fk = np.asarray(res["float"]["kl_nats"])
    ax1.plot(ft, fk.mean(1), color="k", lw=2, label="float (ideal weights)")
    for i, (label, row) in enumerate(res["grids"].items()):
        ax1.plot(np.asarray(row["times_ms"]) / 1000, np.asarray(row["kl_nats"]).mean(1), color=f"C{i}", label=label)
        pe = row["predicted_excess_nats"]
        if pe is not None:
            ax2.errorbar(pe, row["measured_excess_nats"], yerr=2 * row["measured_excess_se"], fmt="o", mfc="none",
                         color=f"C{i}", capsize=3)
            ax2.errorbar(row["predicted_excess_ou_nats"], row["measured_excess_nats"], yerr=2 * row["measured_excess_se"],
                         fmt="o", color=f"C{i}", capsize=3, label=label)
    ax1.axvline(res["setting"]["window_from_ms"] / 1000, color="0.5", ls=":", lw=1)
    ax1.set_xlabel("simulated time (s)")
    ax1.set_ylabel("KL(data || model) (nats, mean of replicas)")
    ax1.set_title("bas3 always-on ISD on weight grids")
    ax1.legend(fontsize=7)
    top = max([r["measured_excess_nats"] + 2 * r["measured_excess_se"] for r in res["grids"].values()] +
              [r["predicted_excess_nats"] or 0 for r in res["grids"].values()] + [0.1]) * 1.1
    for i, (label, row) in enumerate(res.get("lava", {}).get("rows", {}).items()):
        if "measured_excess_nats" in row:
            ax2.errorbar(row["predicted_excess_nats"], row["measured_excess_nats"], yerr=2 * row["measured_excess_se"],
                         fmt="D", color=("k", "0.35", "0.6")[i % 3], capsize=3,
                         label=f"{label} (on-chip noise)")
            top = max(top, (row["measured_excess_nats"] + 2 * row["measured_excess_se"]) * 1.1)
    ax2.plot([0, top], [0, top], color="0.4", ls="--", lw=1, label="measured = predicted")
    ax2.set_xlabel("predicted excess KL (nats): open Tr Sigma / (4 eta dt),\nfilled linear model at the float weights")
    ax2.set_ylabel("measured window KL - float (nats, +- 2 s.e.)")
    ax2.set_title("rounding floor: Lemma A.1 + OU")
    ax2.legend(fontsize=7)
    ex = res.get("exact_statistic")
    if ex:
        k = np.asarray(ex["steps"])
        for i, (label, row) in enumerate([("float", ex["float"])] + [(lab, ex[lab]) for lab in res["grids"] if lab in ex]):
            col = "k" if label == "float" else f"C{list(res['grids']).index(label)}"
            ax3.plot(k, row["measured_excess_nats"], color=col, lw=1, label=f"{label} (measured)" if i < 2 else None)
            ax3.plot(k, row["predicted_excess_nats"], color=col, lw=1.5, ls="--",
                     label="OU prediction (dashed)" if i == 0 else None)
        ax3.set_xlabel("steps from the near-minimum (dt = 1 ms)")
        ax3.set_ylabel("excess NLL (nats; float: over exact descent,\ngrids: over the float)")
        ax3.set_title("exact-statistic ISD (drift = exact gradient)")
        ax3.legend(fontsize=7)
    save(fig, out)


if __name__ == "__main__":
    main()
