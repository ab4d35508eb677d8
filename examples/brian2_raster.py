"""Brian2: spiking units that learn bas3 (gallery item 9).

The shipped spec ``bas3_spiking`` (``neurocl run bas3_spiking``): an RBM (9 visible, 16
hidden) learns 3x3 bars and stripes with always-on ISD (a three-factor rule on Brian2
``Synapses``) on the Brian2 engine, with neural-sampling spiking units (Buesing et al. 2011:
refractory period = rectangular PSP = ``tau = psp_steps * dt = 2 ms``), 5 seeds, 6,000 s
simulated.  The same spec runs on the numpy engine with Glauber units of ``tau_n = tau / 2 =
1 ms`` (equal mean on- and off-durations, ``2 tau_n``, at zero net input) as the reference at
equal simulated time.

Panels: the spike raster of replica 0 in the first and the last ``--record`` ms of learning
(positive phases, visible layer clamped, shaded); KL(data || model) against simulated time
for both unit types (5 seeds each and their mean); the receptive fields of the 16 hidden units
(each unit's 9 weights as a 3x3 image) of replica 0 at the end.  Printed and saved to the JSON
beside the figure: the KL at each checkpoint, the row/column structure of the weights (share
of ``sum_j ||w_j||^2`` in the span of the 3x3 row and column indicator images: dimension 5 of
9, so ~5/9 = 0.56 for unstructured weights and 1 for pure bars/stripes), firing rates, wall time.

Run:  python examples/brian2_raster.py [--out examples/brian2_raster.png] [--duration MS]
      [--record MS] [--target numpy|cython] [--replot]

(about 15 min of Brian2 and 3 min of numpy at the shipped 6,000 s; ``--duration 400 --target
numpy`` is the smoke test's quick run; ``--replot`` redraws from the JSON.)
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

SPEC = "bas3_spiking"


def structure_share(W: np.ndarray, side: int = 3) -> float:
    """Share of ``sum_j ||w_j||^2`` (``w_j = W[:, j]``, a ``side x side`` image) in the span of
    the row and column indicator images (dimension ``2 side - 1``); ``(2 side - 1) / side^2``
    for isotropic random weights, 1 for receptive fields made of bars and stripes."""
    basis = []
    for k in range(side):
        row, col = np.zeros((side, side)), np.zeros((side, side))
        row[k], col[:, k] = 1.0, 1.0
        basis += [row.ravel(), col.ravel()]
    Q, _ = np.linalg.qr(np.array(basis).T)
    Q = Q[:, : 2 * side - 1]                        # the 6 indicators span a 5-dim space
    W = np.asarray(W, dtype=float)
    return float(((Q.T @ W) ** 2).sum() / max((W ** 2).sum(), 1e-300))


def _raster_numbers(rec: dict) -> dict:
    """A recorded window as JSON numbers: times (ms), phase sign per step, spikes as (unit, step)."""
    out = {"t0_ms": float(rec["t_ms"][0]), "dt_ms": float(rec["t_ms"][1] - rec["t_ms"][0]),
           "z": np.asarray(rec["z"]).astype(int).tolist()}
    for layer in ("v", "h"):
        units, steps = np.nonzero(np.asarray(rec[layer]) > 0.5)
        out[layer] = {"n_units": int(np.shape(rec[layer])[0]), "spikes_unit_step": np.c_[units, steps].tolist()}
    return out


def _rate_hz(win: dict, layer: str, positive: bool) -> float:
    """Mean firing rate (spikes/s per unit) of ``layer`` in the window's positive or negative steps."""
    z = np.asarray(win["z"]) == (1 if positive else 0)
    if not z.any():
        return float("nan")
    sp = np.asarray(win[layer]["spikes_unit_step"], dtype=int).reshape(-1, 2)
    n = int(z[sp[:, 1]].sum()) if len(sp) else 0
    return n / (win[layer]["n_units"] * z.sum() * win["dt_ms"] / 1000.0)


def _glauber(config):
    """The spec on the numpy engine (Glauber units): KL per checkpoint and replica, final W; wall time (s)."""
    from neurocl.engines import get_engine
    from neurocl.experiments.tasks import make_task

    spec = next(s for s in config.learners if s.label == "isd")
    t0 = time.perf_counter()
    traj = get_engine("numpy").run(config.circuit, spec.rule, spec.phases, make_task(config.circuit, config.data),
                                   config.simulation)
    return {"kl_nats": np.asarray(traj.metrics["kl_nats"]), "W": np.asarray(traj.params["W"])}, time.perf_counter() - t0


def compute(duration: float | None, record: float, target: str) -> dict:
    """Run the spec on Brian2 (spiking units) and on numpy (Glauber units); the numbers."""
    import neurocl
    from neurocl.engines import get_engine
    from neurocl.experiments.tasks import make_task

    config = neurocl.load_spec(SPEC)
    sim = config.simulation
    duration = sim.duration if duration is None else duration
    checkpoints = max(1, min(sim.checkpoints, int(duration // record) if record else sim.checkpoints))
    config = neurocl.load_spec(config, {"simulation.duration": duration, "simulation.checkpoints": checkpoints})
    sim, spec = config.simulation, next(s for s in config.learners if s.label == "isd")
    task = make_task(config.circuit, config.data)
    opts = {**config.engine_options, "target": target, "record": record}
    with ProcessPoolExecutor(1) as pool:      # the Glauber reference runs beside Brian2 (a second core)
        reference = pool.submit(_glauber, config)
        t0 = time.perf_counter()
        spiking = get_engine("brian2", **opts).run(config.circuit, spec.rule, spec.phases, task, sim, progress=True,
                                                   desc="brian2 spiking ISD")
        wall_b2 = time.perf_counter() - t0
        glauber, wall_np = reference.result()
    rng = np.random.default_rng([sim.seed, 0])
    W0 = config.circuit.init_params(rng, sim.replicas)["W"]
    return {
        "spec": SPEC, "duration_ms": duration, "dt_ms": sim.dt, "replicas": sim.replicas, "seed": sim.seed,
        "learning_rate_per_ms": spec.rule.learning_rate, "psp_steps": opts["psp_steps"],
        "psp_ms": opts["psp_steps"] * sim.dt, "tau_n_ms": config.circuit.tau_n,
        "times_ms": np.asarray(spiking.times).tolist(),
        "kl_nats_spiking": np.asarray(spiking.metrics["kl_nats"]).tolist(),
        "kl_nats_glauber": glauber["kl_nats"].tolist(),
        "structure_share_initial": [structure_share(w) for w in W0],
        "structure_share_spiking": [structure_share(w) for w in spiking.params["W"]],
        "structure_share_glauber": [structure_share(w) for w in glauber["W"]],
        "W_spiking_replica0": np.asarray(spiking.params["W"][0]).tolist(),
        "raster": {w: _raster_numbers(r) for w, r in spiking.info["raster"].items()},
        "wall_s_brian2_loaded": wall_b2, "wall_s_numpy_loaded": wall_np, "brian2_target": target,
    }


def _draw_raster(ax, win: dict, title: str) -> None:
    from neurocl.plotting import shade_phases

    t = np.arange(len(win["z"])) * win["dt_ms"]
    shade_phases(ax, t, win["z"])
    offset = 0
    for i, layer in enumerate(("v", "h")):
        sp = np.asarray(win[layer]["spikes_unit_step"], dtype=int).reshape(-1, 2)
        ax.scatter(t[sp[:, 1]], sp[:, 0] + offset, s=6, marker="|", color=f"C{i}",
                   label={"v": "visible spikes", "h": "hidden spikes"}[layer])
        offset += win[layer]["n_units"] + 1
    ax.set_xlabel(f"time since t = {win['t0_ms'] / 1000:g} s (ms)")
    ax.set_ylabel("unit (visible below, hidden above)")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7, framealpha=0.9)
    ax.grid(False)


def figure(numbers: dict, path) -> None:
    from neurocl.plotting import _plt, save_with_numbers

    windows = [w for w in ("start", "end") if w in numbers["raster"]]
    fig, grid = _plt().subplots(2, 2, figsize=(11.5, 8.0))
    axes = [grid[0, 0], grid[0, 1], grid[1, 0], grid[1, 1]]
    for ax, w in zip(axes, ("start", "end")):
        if w in windows:
            _draw_raster(ax, numbers["raster"][w], f"spiking units, {w} of learning (replica 0)")
        else:
            ax.set_axis_off()
    ax = axes[2]
    t_s = np.asarray(numbers["times_ms"]) / 1000.0
    for i, (key, label) in enumerate((("kl_nats_spiking", f"spiking (Brian2), PSP {numbers['psp_ms']:g} ms"),
                                      ("kl_nats_glauber", f"Glauber (numpy), tau_n {numbers['tau_n_ms']:g} ms"))):
        kl = np.asarray(numbers[key])
        ax.plot(t_s, kl, color=f"C{i}", lw=0.8, alpha=0.5)
        ax.plot(t_s, kl.mean(1), color=f"C{i}", lw=2, marker="o", ms=3, label=f"{label}: mean of {kl.shape[1]} seeds")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("KL(data || model) (nats)")
    ax.set_title("bas3, ISD: KL falling (thick: mean, thin: each seed)")
    ax.legend(fontsize=7)
    ax = axes[-1]
    W = np.asarray(numbers["W_spiking_replica0"])
    side, nh = 3, W.shape[1]
    cols = int(np.ceil(np.sqrt(nh)))
    rows = int(np.ceil(nh / cols))
    mosaic = np.full((rows * (side + 1) - 1, cols * (side + 1) - 1), np.nan)
    for j in range(nh):
        r, c = divmod(j, cols)
        mosaic[r * (side + 1): r * (side + 1) + side, c * (side + 1): c * (side + 1) + side] = W[:, j].reshape(side, side)
    lim = float(np.nanmax(np.abs(mosaic))) or 1.0
    im = ax.imshow(mosaic, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    share = numbers["structure_share_spiking"][0]
    ax.set_title(f"16 hidden units' 3x3 receptive fields, end (replica 0)\nrow/column share {share:.2f} "
                 f"(unstructured: 0.56)")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="weight to the hidden unit (dimensionless)")
    save_with_numbers(fig, path, numbers)


def report(numbers: dict) -> None:
    """Print the numbers, each with its unit or definition."""
    kls, klg = np.asarray(numbers["kl_nats_spiking"]), np.asarray(numbers["kl_nats_glauber"])
    n = kls.shape[1]
    print(f"bas3 ISD, {numbers['duration_ms'] / 1000:g} s simulated, dt {numbers['dt_ms']:g} ms, eta "
          f"{numbers['learning_rate_per_ms']:g} /ms, {n} seeds; spiking PSP = refractory = "
          f"{numbers['psp_ms']:g} ms, Glauber tau_n = {numbers['tau_n_ms']:g} ms")
    print("KL(data || model) (nats), mean of seeds, at t (s) = "
          + ", ".join(f"{t / 1000:g}" for t in numbers["times_ms"]))
    print("  spiking (Brian2): " + ", ".join(f"{k:.3f}" for k in kls.mean(1)))
    print("  Glauber (numpy):  " + ", ".join(f"{k:.3f}" for k in klg.mean(1)))
    print(f"final KL (nats) per seed: spiking {np.round(kls[-1], 3).tolist()}, Glauber {np.round(klg[-1], 3).tolist()}")
    print(f"final KL (nats), mean +- s.e. of {n} seeds: spiking {kls[-1].mean():.3f} +- "
          f"{kls[-1].std(ddof=1) / np.sqrt(n):.3f}, Glauber {klg[-1].mean():.3f} +- "
          f"{klg[-1].std(ddof=1) / np.sqrt(n):.3f}; difference {kls[-1].mean() - klg[-1].mean():+.3f}")
    for key, label in (("initial", "initial weights"), ("spiking", "spiking, end"), ("glauber", "Glauber, end")):
        print(f"row/column structure of the receptive fields (share of ||W||^2; 0.56 = unstructured), {label}: "
              f"mean of seeds {np.mean(numbers['structure_share_' + key]):.3f}")
    for w, win in numbers["raster"].items():
        print(f"firing rate (spikes/s per unit) in the {w} window: hidden {_rate_hz(win, 'h', True):.0f} (positive "
              f"phases) / {_rate_hz(win, 'h', False):.0f} (negative), visible {_rate_hz(win, 'v', False):.0f} (negative)")
    print(f"wall time (s, loaded machine): Brian2 {numbers['wall_s_brian2_loaded']:.0f} "
          f"({numbers['brian2_target']} target), numpy {numbers['wall_s_numpy_loaded']:.0f}")


def main(argv=None):
    from neurocl.plotting import saved_or_computed

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/brian2_raster.png")
    ap.add_argument("--duration", type=float, default=None, help="simulated ms of learning (default: the spec's)")
    ap.add_argument("--record", type=float, default=150.0, help="ms of raster at the start and at the end")
    ap.add_argument("--target", default="cython", choices=["numpy", "cython"], help="Brian2 code generation")
    ap.add_argument("--replot", action="store_true", help="redraw from the JSON beside --out (no simulation)")
    args = ap.parse_args(argv)
    numbers = saved_or_computed(args.out, args.replot, lambda: compute(args.duration, args.record, args.target))
    report(numbers)
    figure(numbers, args.out)


if __name__ == "__main__":
    main()
