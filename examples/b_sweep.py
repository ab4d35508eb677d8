"""Proportion of positive phases b (Williams et al. ICML 2023, "Mechanism 3"): final KL of
ISD on bas3 against b, with the estimator's trace variance predicted from the second moments
of the plasticity statistic and the variance-optimal b* = sqrt(M+)/(sqrt(M+)+sqrt(M-)).

Runs the sweep ``sweeps/b_sweep.toml`` (resumable; 6 values of b x 3 seeds) unless its results
exist, then plots.  M+ = E_data |f|^2 and M- = E_model |f|^2 (f the mean-field statistic
(v h^T, v, h), model expectations exact by enumeration) are measured at the final weights of
the b = 0.5 runs.

Run:  python examples/b_sweep.py [--out examples/b_sweep.png] [--duration MS] [--replot]
      (the numbers go to ``<out>.json``; ``--replot`` redraws the figure from it without running)
"""

import argparse
import csv
import dataclasses
from collections import defaultdict
from pathlib import Path

import numpy as np

from neurocl.numerics import sigmoid
from neurocl.data import bars_and_stripes
from neurocl.experiments.sweep import load_sweep, run_sweep
from neurocl.measure import all_states, rbm_visible_log_probs
from neurocl.plasticity import isd_trace_variance, optimal_b
from neurocl.plotting import new_figure, save, saved_or_computed

ROOT = Path(__file__).resolve().parent.parent


def second_moments(W, a, c, data):
    """(M+, M-, |mu+ - mu-|^2) of the mean-field statistic at weights (W, a, c)."""
    def stat(V):
        h = sigmoid(V @ W + c)
        return np.concatenate([(V[:, :, None] * h[:, None, :]).reshape(len(V), -1), V, h], 1)

    V = all_states(W.shape[0])
    p = np.exp(rbm_visible_log_probs(W, a, c, V))
    fm, fd = stat(V), stat(data)
    m_pos, m_neg = np.mean(np.sum(fd**2, 1)), p @ np.sum(fm**2, 1)
    return m_pos, m_neg, float(np.sum((fd.mean(0) - p @ fm) ** 2))


def compute(args):
    """Run (or resume) the sweep; final KL per b (mean, s.e., seeds) and the second moments, as plain data."""
    spec = load_sweep(ROOT / "sweeps" / "b_sweep.toml")
    if args.duration:
        spec = dataclasses.replace(spec, overrides={**spec.overrides, "simulation.duration": args.duration})
    out = Path(args.sweep_dir)
    run_sweep(spec, out, "local", progress=False)
    finals = defaultdict(list)
    last = {}
    with open(out / "results.csv") as fh:
        for row in csv.DictReader(fh):
            if row["learner"] != "isd":
                continue
            key = (row["run"], float(row["learners.isd.phases.b"]))
            t = float(row["time_ms"])
            if t >= last.get(key, (-1, None))[0]:
                last[key] = (t, float(row["kl_nats"]))
    for (run, b), (_, kl) in last.items():
        finals[b].append(kl)
    bs = sorted(finals)
    data = bars_and_stripes(3)
    moments = []
    for (run, b) in last:
        if abs(b - 0.5) < 1e-9:
            w = np.load(out / "runs" / run / "isd" / "weights.npz")
            moments.append(second_moments(w["W"], w["a"], w["c"], data))
    m_pos, m_neg, diff2 = (float(x) for x in np.mean(moments, 0))
    return {
        "b": [float(b) for b in bs],
        "final_kl_nats_mean": [float(np.mean(finals[b])) for b in bs],
        "final_kl_nats_se": [float(np.std(finals[b], ddof=1) / np.sqrt(len(finals[b]))) if len(finals[b]) > 1 else 0.0
                             for b in bs],
        "final_kl_nats_seeds": [sorted(float(k) for k in finals[b]) for b in bs],
        "duration_ms": float(spec.overrides.get("simulation.duration", 0.0)) or None,
        "m_pos": m_pos, "m_neg": m_neg, "mean_diff_sq": diff2,
        "b_star": float(optimal_b(m_pos, m_neg)),
    }


def plot(res, out_png):
    """The figure from the saved numbers; prints them (final KL per b in nats, M+, M-, b*)."""
    bs, mean, se = np.array(res["b"]), np.array(res["final_kl_nats_mean"]), np.array(res["final_kl_nats_se"])
    m_pos, m_neg, diff2, b_star = res["m_pos"], res["m_neg"], res["mean_diff_sq"], res["b_star"]
    n_seeds = len(res["final_kl_nats_seeds"][0])
    grid = np.linspace(0.05, 0.95, 91)
    fig, (ax1, ax2) = new_figure(2, 4.6, 3.6)
    ax1.errorbar(bs, mean, yerr=se, fmt="o-", color="C0", capsize=3, label=f"ISD, mean +- s.e. of {n_seeds} seeds")
    ax1.axvline(b_star, color="0.3", ls="--", lw=1, label=f"b* = {b_star:.2f}")
    ax1.set_xlabel("proportion of positive phases b")
    ax1.set_ylabel("final KL(data || model) (nats)")
    ax1.legend(fontsize=8)
    ax2.plot(grid, isd_trace_variance(m_pos, m_neg, diff2, grid), color="C3")
    ax2.axvline(b_star, color="0.3", ls="--", lw=1, label=f"b* = sqrt(M+)/(sqrt(M+)+sqrt(M-)) = {b_star:.2f}")
    ax2.set_xlabel("proportion of positive phases b")
    ax2.set_ylabel("tr Var of the single-phase estimate")
    ax2.set_yscale("log")
    ax2.legend(fontsize=8)
    save(fig, out_png)
    for b, m, s in zip(bs, mean, se):
        print(f"b = {b:.2f}: final KL {m:.3f} +- {s:.3f} nats")
    print(f"M+ = {m_pos:.2f}, M- = {m_neg:.2f} (squared norm of the statistic); b* = {b_star:.3f}")
    print(f"wrote {out_png}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/b_sweep.png")
    ap.add_argument("--sweep-dir", default="results/sweep-b")
    ap.add_argument("--duration", type=float, help="override simulation.duration (ms), e.g. for a quick look")
    ap.add_argument("--replot", action="store_true", help="redraw from the saved numbers (<out>.json)")
    args = ap.parse_args(argv)
    res = saved_or_computed(args.out, args.replot, lambda: compute(args))
    plot(res, args.out)


if __name__ == "__main__":
    main()
