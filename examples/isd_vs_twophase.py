"""ISD against TwoPhase on bas3 and bas4 (Williams et al. ICML 2023, Fig. "RBM on
Bars-and-Stripes"): exact KL(data || model) against simulated time, mean +- s.e. over 5 seeds,
both learners at the same learning rate, phase mean and simulated time (the shipped specs).

Runs ``circuits/bas3.toml`` and ``circuits/bas4.toml`` (about 1.5 and 4.5 minutes on 2 cores)
unless their results directories exist, then plots both panels.

Run:  python examples/isd_vs_twophase.py [--out examples/isd_vs_twophase.png] [--duration MS]
      (the numbers go to ``<out>.json``: KL in nats, times in ms)
"""

import argparse
from pathlib import Path

import numpy as np

from neurocl.config import load_config
from neurocl.experiments.run import read_metrics_csv, run
from neurocl.plotting import new_figure, plot_curves, save_with_numbers

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/isd_vs_twophase.png")
    ap.add_argument("--results", default="results", help="folder holding bas3/ and bas4/ results")
    ap.add_argument("--duration", type=float, help="override the specs' simulated time (ms), for a quick look")
    args = ap.parse_args(argv)
    fig, axes = new_figure(2, 4.8, 3.8)
    numbers = {}
    for ax, name in zip(axes, ("bas3", "bas4")):
        cfg = load_config(ROOT / "circuits" / f"{name}.toml").replace(duration=args.duration)
        out = Path(args.results) / (name if args.duration is None else f"{name}-{args.duration:g}ms")
        if not all((out / s.label / "metrics.csv").is_file() for s in cfg.learners):
            run(cfg, out, progress=False, echo=None)
        curves = {}
        for spec in cfg.learners:
            t, m = read_metrics_csv(out / spec.label / "metrics.csv")
            curves[spec.label] = (t, m["kl_nats"])
        n_patterns = 2 ** (cfg.data.size + 1) - 2
        ref = float(np.log(2**cfg.circuit.n_visible / n_patterns))
        plot_curves(ax, curves, "kl_nats", ref, f"uniform model ({ref:.2f} nats)")
        ax.set_title(f"{name}: RBM {cfg.circuit.n_visible}-{cfg.circuit.n_hidden}")
        numbers[name] = {"results": str(out), "uniform_kl_nats": ref, "learners": {}}
        for label, (t, m) in curves.items():
            se = m.std(axis=1, ddof=1) / np.sqrt(m.shape[1]) if m.shape[1] > 1 else np.zeros(len(t))
            print(f"{name} {label}: final KL {m[-1].mean():.3f} +- {se[-1]:.3f} nats at {t[-1] / 1000:g} s simulated")
            numbers[name]["learners"][label] = {
                "time_ms": t.tolist(), "kl_nats_mean": m.mean(1).tolist(), "kl_nats_se": se.tolist(),
                "final_kl_nats_mean": float(m[-1].mean()), "final_kl_nats_se": float(se[-1]),
                "final_kl_nats_replicas": m[-1].tolist()}
    save_with_numbers(fig, args.out, numbers)


if __name__ == "__main__":
    main()
