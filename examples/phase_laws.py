"""Phase-length robustness (Williams et al. ICML 2023, "Mechanism 2"): ISD on bas3 with fixed,
exponential, gamma (shape 4) and uniform ([0, 2 tau]) phase lengths of equal mean 10 ms; KL
against simulated time, mean +- s.e. over 5 seeds (TwoPhase with alternating 10 ms phases for
reference).  Uses the sweep ``sweeps/phase_laws.toml`` (resumable).

Run:  python examples/phase_laws.py [--out examples/phase_laws.png] [--duration MS]
      (the numbers go to ``<out>.json``: KL in nats, times in ms)
"""

import argparse
import csv
import dataclasses
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from neurocl.experiments.sweep import load_sweep, run_sweep
from neurocl.plotting import new_figure, plot_curves, save_with_numbers

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/phase_laws.png")
    ap.add_argument("--sweep-dir", default="results/sweep-phase-laws")
    ap.add_argument("--duration", type=float)
    args = ap.parse_args(argv)
    spec = load_sweep(ROOT / "sweeps" / "phase_laws.toml")
    if args.duration:
        spec = dataclasses.replace(spec, overrides={**spec.overrides, "simulation.duration": args.duration})
    run_sweep(spec, args.sweep_dir, "local", progress=False)
    series = defaultdict(dict)
    with open(Path(args.sweep_dir) / "results.csv") as fh:
        for row in csv.DictReader(fh):
            law = json.loads(row["learners.isd.phases.length"])["law"]
            label = f"ISD, {law}" if row["learner"] == "isd" else "TwoPhase, alternating"
            series[label].setdefault(float(row["time_ms"]), {})[int(row["replica"])] = float(row["kl_nats"])
    curves = {}
    for label, by_t in series.items():
        t = np.array(sorted(by_t))
        curves[label] = (t, np.array([[by_t[x][r] for r in sorted(by_t[x])] for x in t]))
    fig, (ax,) = new_figure(1, 5.5, 4.0)
    plot_curves(ax, curves, "kl_nats")
    ax.set_title("bas3: phase-length laws with mean 10 ms")
    numbers = {"duration_ms": float(spec.overrides.get("simulation.duration", 0.0)) or None, "learners": {}}
    for label, (t, m) in curves.items():
        se = m.std(axis=1, ddof=1) / np.sqrt(m.shape[1]) if m.shape[1] > 1 else np.zeros(len(t))
        print(f"{label}: final KL {m[-1].mean():.3f} +- {se[-1]:.3f} nats")
        numbers["learners"][label] = {"time_ms": t.tolist(), "kl_nats_mean": m.mean(1).tolist(), "kl_nats_se": se.tolist(),
                                      "final_kl_nats_mean": float(m[-1].mean()), "final_kl_nats_se": float(se[-1]),
                                      "final_kl_nats_replicas": m[-1].tolist()}
    save_with_numbers(fig, args.out, numbers)


if __name__ == "__main__":
    main()
