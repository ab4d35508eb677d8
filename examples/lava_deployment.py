"""Loihi emulator (gallery item 8): float vs ``fixed_pt`` deployment on Lava's ``Loihi2SimCfg``,
and the on-chip ISD learning curve.

Left: a bas3 RBM and a digits layered Hopfield network, each trained with ISD on the numpy
engine (``neurocl run``; results directories), deployed on the emulator with ``floating_pt``
and ``fixed_pt`` ProcessModels (8-bit weights on the ``loihi2`` profile's grid, integer state
and noise): bas3 KL of the emulator's samples (nats) and digits test accuracy (%), next to the
float model.  Right: on-chip always-on ISD (``LearningSparse`` + ``Loihi3FLearningRule``) on
bas3 in the emulator, ``fixed_pt`` on the ``loihi2`` profile (updates stochastically rounded
into the 9-bit weight), ``fixed_pt`` on the ``loihi2_tag`` profile (the synaptic tag as a 4-bit
error-feedback accumulator below the weight; ``--tag-seeds`` seeds of 4 replicas), the same
with a 2-bit tag (``loihi2_tag`` with ``accumulator_bits = 2``; the third grid of the floor check
in ``fixed_point_floor.py``) and
``floating_pt``, KL against simulated time (mean of the replicas, replicas as thin lines), with
the numpy engine's ISD on the same settings (full Gibbs sweeps, sampled hidden statistic) as
the reference, ideal and with the ``loihi2_tag`` profile.

Run:  python examples/lava_deployment.py [--out examples/lava_deployment.png] [--duration MS] [--replot]
      [--only NAME ...]
      (needs results/bas3 and results/digits from `make demo` and `make digits`; missing ones are
      skipped; the default 240 s of on-chip learning takes about 20 minutes per ProcessModel tag
      and seed unloaded; ``--only`` recomputes the named parts -- ``deploy``, ``fixed``, ``tag``,
      ``tag2``, ``float``, ``numpy``, ``numpy_tag`` -- and keeps the others from the saved JSON)
"""

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from neurocl.circuits import RBM
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task, get_engine
from neurocl.hardware import load_profile
from neurocl.measure.exact import rbm_kl
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD
from neurocl.plotting import new_figure, save, saved_or_computed


def compute(args, saved=None):
    """Deployment rows and learning curves (KL per checkpoint and replica; for several seeds the
    seeds' replicas side by side), as plain data.  With ``args.only``, the other parts come from
    ``saved`` (the previous JSON)."""
    from neurocl.experiments.deploy import deploy_run

    saved = saved or {}
    only = set(args.only or ())
    rows = [] if not only or "deploy" in only else list(saved.get("rows", []))
    for run in ("bas3", "digits") if not only or "deploy" in only else ():
        d = Path(args.results) / run
        if not (d / "config.toml").is_file():
            print(f"skipping {d}: no saved run")
            continue
        for tag in ("floating_pt", "fixed_pt"):
            for r in deploy_run(d, "lava", tag, "isd", args.sweeps):
                rows.append({"run": run, "tag": tag, "metric": r["metric"], "unit": r["unit"],
                             "emulator": float(r["emulator"]), "float": float(r["float"])})
                print(f"{run} {tag}: {r['metric']} = {r['emulator']:.4g} {r['unit']} (float model {r['float']:.4g})")
    data = bars_and_stripes(3)
    task = Task(clamp=data, evaluate=lambda p: {"kl_nats": [rbm_kl(p["W"][r], p["a"][r], p["c"][r], data)
                                                          for r in range(len(p["W"]))]})
    phases = StochasticPhases(0.5, Exponential(args.phase_mean))

    def sim(seed):
        return Simulation(dt=1.0, duration=args.duration, replicas=4, seed=seed, checkpoints=12)

    def lava(tag, profile, seed):
        # fixed_pt runs on a profile's learning grid (its weight_scale, its tag accumulator); floating_pt on ideal weights
        if args.chunk:
            return lava_chunked(tag, profile, seed)
        return get_engine("lava", tag=tag).run(RBM(9, 16, init_scale=0.1), ISD(args.eta), phases, task, sim(seed),
                                               progress=True, desc=f"on-chip ISD ({tag}, seed {seed})", profile=profile)

    def lava_chunked(tag, profile, seed):
        """The same run as engine runs of ``args.chunk`` ms, each from the previous one's parameters
        (a run stopped early keeps its checkpoints; the tag, under half a weight step, restarts at
        0); chunk 0 draws the initial parameters of ``seed``, chunk i > 0 samples with seed
        1000 seed + i.  Returns an object with ``times`` (ms) and ``metrics["kl_nats"]``."""
        from types import SimpleNamespace

        params, times, kls, i = None, [], [], 0
        while not times or times[-1] < args.duration:
            tr = get_engine("lava", tag=tag).run(
                RBM(9, 16, init_scale=0.1), ISD(args.eta), phases, task,
                Simulation(dt=1.0, duration=args.chunk, replicas=4, seed=seed if i == 0 else 1000 * seed + i,
                           checkpoints=1), params=params, profile=profile)
            kl = np.asarray(tr.metrics["kl_nats"])
            if i == 0:
                times, kls = [0.0], [kl[0]]
            params = {k: np.array(v) for k, v in tr.params.items()}
            i += 1
            times.append(i * args.chunk)
            kls.append(kl[-1])
            print(f"{tag} seed {seed}: t = {times[-1] / 1000:.0f} s, KL {kl[-1].mean():.3f} nats (mean of replicas)", flush=True)
        keep = [j for j, t in enumerate(times) if round(t / (args.duration / 12)) * (args.duration / 12) == t]
        return SimpleNamespace(times=np.asarray(times)[keep], metrics={"kl_nats": np.asarray(kls)[keep]})

    def numpy(profile, seed):
        # the reference: numpy engine, one full Gibbs sweep per dt (tau_n << dt), sampled hidden statistic
        return get_engine("numpy").run(RBM(9, 16, init_scale=0.1, tau_n=0.01), ISD(args.eta, mean_field=False),
                                       phases, task, sim(seed), profile=profile)

    tag_seeds = [int(s) for s in args.tag_seeds.split(",")]
    tag2 = dataclasses.replace(load_profile("loihi2_tag"), name="loihi2_tag, 2-bit", accumulator_bits=2)
    parts = {"fixed": ("Lava fixed_pt", lambda: [lava("fixed_pt", load_profile("loihi2"), 0)]),
             "tag": (TAG_CURVE, lambda: [lava("fixed_pt", load_profile("loihi2_tag"), s) for s in tag_seeds]),
             "tag2": (TAG2_CURVE, lambda: [lava("fixed_pt", tag2, s) for s in tag_seeds]),
             "float": ("Lava floating_pt", lambda: [lava("floating_pt", None, 0)]),
             "numpy": ("numpy engine", lambda: [numpy(None, 0)]),
             "numpy_tag": (NUMPY_TAG_CURVE, lambda: [numpy(load_profile("loihi2_tag"), s) for s in tag_seeds])}
    curves = dict(saved.get("curves", {}))
    for key, (name, run) in parts.items():
        if only and key not in only:
            continue
        trs = run()
        curves[name] = {"time_s": (trs[0].times / 1000).tolist(),
                        "kl_nats": np.concatenate([np.asarray(tr.metrics["kl_nats"]) for tr in trs], 1).tolist()}
        if key in ("tag", "tag2", "numpy_tag"):
            curves[name]["seeds"] = tag_seeds
    return {"rows": rows, "curves": curves, "eta": args.eta, "phase_mean": args.phase_mean}


TAG_CURVE = "Lava fixed_pt, 4-bit tag (loihi2_tag)"
TAG2_CURVE = "Lava fixed_pt, 2-bit tag"
NUMPY_TAG_CURVE = "numpy engine, loihi2_tag"
PARTS = ("deploy", "fixed", "tag", "tag2", "float", "numpy", "numpy_tag")


def plot(res, out):
    fig, (ax0, ax1, ax2) = new_figure(3, 3.6, 3.8)
    for ax, run in ((ax0, "bas3"), (ax1, "digits")):
        sel = [r for r in res["rows"] if r["run"] == run]
        for i, r in enumerate(sel):
            ax.bar(i, r["emulator"], color="C0" if r["tag"] == "floating_pt" else "C1", width=0.6)
            ax.text(i, r["emulator"], f"{r['emulator']:.3g}", ha="center", va="bottom", fontsize=8)
            print(f"{run} {r['tag']}: {r['metric']} = {r['emulator']:.4g} {r['unit']} (float model {r['float']:.4g})")
        if sel:
            ax.axhline(sel[0]["float"], color="k", lw=1.2, label=f"float model ({sel[0]['float']:.3g})")
            ax.set_xticks(range(len(sel)), [r["tag"] for r in sel], fontsize=8)
            ax.set_ylabel(f"{sel[0]['metric']} ({sel[0]['unit']})")
            # bars start at 0 (a cut axis would make a 0.5-point difference look large); headroom for the legend
            ax.set_ylim(0, 1.3 * max(max(r["emulator"] for r in sel), sel[0]["float"]))
            ax.legend(fontsize=7, loc="upper center")
        ax.set_title(f"{run} deployed on the emulator", fontsize=9)
    colors = {"Lava fixed_pt": "C1", "Lava floating_pt": "C0", "numpy engine": "0.3", TAG_CURVE: "C2",
              NUMPY_TAG_CURVE: "C2", TAG2_CURVE: "C3"}
    for name, c in res["curves"].items():
        t, kl = np.asarray(c["time_s"]), np.asarray(c["kl_nats"])
        color, ls = colors.get(name, "C4"), ":" if name == NUMPY_TAG_CURVE else "-"
        if name != NUMPY_TAG_CURVE:
            ax2.plot(t, kl, color=color, lw=0.6, alpha=0.3)
        ax2.plot(t, kl.mean(1), color=color, lw=2, ls=ls, label=name + (f" (seed{'s' if len(c['seeds']) > 1 else ''} "
                                                         f"{', '.join(map(str, c['seeds']))})" if "seeds" in c else ""))
        print(f"{name}: KL (nats) at t = {t[-1]:.0f} s: mean {kl[-1].mean():.3f} (replicas "
              f"{', '.join(f'{k:.2f}' for k in kl[-1])}); best mean {kl.mean(1).min():.3f} at "
              f"t = {t[kl.mean(1).argmin()]:.0f} s; start {kl[0].mean():.3f}")
        if "seeds" in c:
            per_seed = kl.reshape(len(kl), len(c["seeds"]), -1).mean(2)        # (checkpoints, seeds)
            late = t >= 160
            print(f"  per seed (4 replicas each), KL at t = {t[-1]:.0f} s: "
                  f"{', '.join(f'{k:.3f}' for k in per_seed[-1])}; mean over t >= 160 s: "
                  f"{', '.join(f'{k:.3f}' for k in per_seed[late].mean(0))} (seeds {c['seeds']})")
    ax2.axhline(3.60, color="0.5", ls=":", label="uniform model (3.60 nats)")
    ax2.axhline(1.0, color="0.5", ls="--", lw=0.8, label="1 nat")
    ax2.set_xlabel("simulated time (s)")
    ax2.set_ylabel("KL(data || model) (nats)")
    ax2.set_title(f"bas3 on-chip ISD\n(eta = {res['eta']:g} /ms, phases ~ Exp({res['phase_mean']:g} ms))", fontsize=9)
    ax2.legend(fontsize=6, loc="upper right")
    save(fig, out)
    print(f"wrote {out}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/lava_deployment.png")
    ap.add_argument("--results", default="results", help="folder holding bas3/ and digits/ from neurocl run")
    ap.add_argument("--duration", type=float, default=240000.0, help="simulated ms of on-chip learning")
    ap.add_argument("--eta", type=float, default=1e-3, help="on-chip learning rate (ms^-1)")
    ap.add_argument("--phase-mean", type=float, default=2.0, help="mean phase length (ms, exponential)")
    ap.add_argument("--sweeps", type=int, default=10000, help="Gibbs sweeps per chain for the bas3 sample KL")
    ap.add_argument("--tag-seeds", default="0,1,2", help="seeds of the loihi2_tag runs (comma-separated)")
    ap.add_argument("--chunk", type=float, default=0.0,
                    help="run the Lava learning in engine runs of this many ms (0: one run; see lava_chunked)")
    ap.add_argument("--only", nargs="+", choices=PARTS, help="recompute these parts, keep the others from the JSON")
    ap.add_argument("--replot", action="store_true", help="redraw from the saved numbers (<out>.json)")
    args = ap.parse_args(argv)
    saved = {}
    if args.only:
        from neurocl.plotting import numbers_path

        path = numbers_path(args.out)
        saved = json.loads(path.read_text()) if path.is_file() else {}
    res = saved_or_computed(args.out, args.replot, lambda: compute(args, saved))
    plot(res, args.out)


if __name__ == "__main__":
    main()
