"""Learning curves of the five negative estimators at small and large batch (issue 15 point 3;
paper 002's claim: at small batch EMC^2 approaches the exact-loss run while in-batch SimCLR
falls behind).

Setting: the sample-contrastive circuits of ``circuits/emc2_digits.toml`` and
``circuits/emc2_mnist1d.toml`` (MLP encoder ``d_in``-128-32, tanh, inverse temperature
``beta`` = 5, SGD at ``--lr`` per step, the specs' views) with ``fixed_views``: the ``2n``-view
table is drawn once and kept, so that every estimator follows a stochastic gradient of one
finite-sum global contrastive loss ``L`` (paper 002's small SGD run, its code's ``--finite_aug
--n_aug 2``), and ``exact`` is SGD on ``L`` with the exact softmax over all negatives.  For each
dataset, batch size ``b`` in ``--batches`` and estimator (``exact``, ``in_batch``, ``sogclr``,
``emc2``, ``isd``), ``--seeds`` seeds (seed ``s``: the same initial encoder for every estimator
and batch), each run accesses the same number of samples (``--samples``; steps = samples / b).
At each checkpoint: linear-probe and 1-NN test accuracy (fractions in [0, 1]) on the frozen
hidden layer, alpha-ReQ of the test features, and ``L`` in nats on the training table itself
(the loss every estimator estimates the gradient of).  Reported: mean and standard error over
seeds; the final loss per estimator and the paired differences (same seed, same initial
encoder) ``L(emc2) - L(exact)`` and ``L(emc2) - L(in_batch)``, in nats, with standard errors
over seeds; the raw-input linear probe as the floor.

Run:  python examples/emc2_learning.py [--out examples/emc2_learning.png] [--quick]
      [--datasets digits mnist1d] [--batches 4 16 64] [--seeds 5] [--samples digits=12000 mnist1d=4000]
      [--checkpoints 4] [--lr 0.05] [--cache PATH]

``--cache PATH`` keeps finished runs in a JSON file (a killed run resumes there);
``--only-cached`` summarises what the cache holds (each panel states its number of seeds: the
same seeds for every estimator of a cell).  The shipped figure comes from one cache filled on a
loaded 2-core machine (the per-step times it prints are wall times under that load): digits
with ``--datasets digits --batches 4 16 64 --seeds 5 --cache C`` (batches 4 and 16 partly from
an earlier 3-seed fill of the same cache, same settings), MNIST-1D with ``--datasets mnist1d
--batches 16 64 4 --seeds 3 --cache C`` and then ``--seeds 5`` (one exact MNIST-1D step took
about 0.2-0.25 s of wall time), then ``--only-cached --datasets digits mnist1d --batches 4 16 64 --seeds 5
--cache C``.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neurocl.atomic import write_text_atomic
from neurocl.circuits.sample_contrastive import SampleContrastive
from neurocl.engines.numpy.sample_contrastive import ContrastiveLearner
from neurocl.measure.probe import linear_probe_accuracy
from neurocl.plotting import save_with_numbers

ESTIMATORS = ("exact", "in_batch", "sogclr", "emc2", "isd")
COLORS = {"exact": "k", "in_batch": "tab:red", "sogclr": "tab:orange", "emc2": "tab:blue", "isd": "tab:green"}
#: the specs' circuits (circuits/emc2_*.toml), with the view table drawn once
SETUPS = {
    "digits": dict(d_in=64, view_shape=(8, 8), view_noise=0.1, view_dropout=0.1, view_shift=1),
    "mnist1d": dict(d_in=40, view_shape=(40,), view_noise=0.3, view_dropout=0.05, view_shift=12),
}
SAMPLES = {"digits": 12000, "mnist1d": 4000}
METRICS = ("probe_acc", "knn1_acc", "alpha_req", "loss_nats")


def load(name: str):
    if name == "digits":
        from neurocl.data.digits import load_digits_split

        return load_digits_split()
    from neurocl.data.mnist1d import load_mnist1d

    return load_mnist1d()


def one_run(name, data, estimator, batch, seed, samples, checkpoints, lr, hidden, setup):
    """Metrics at ``checkpoints + 1`` evenly spaced sample counts (0 included) of one run."""
    from types import SimpleNamespace

    x, y, xt, yt = data
    c = SampleContrastive(hidden=hidden, estimator=estimator, batch=batch, fixed_views=True, **setup)
    task = c.task(SimpleNamespace(x=x, y=y, x_test=xt, y_test=yt))
    params = c.init_params(np.random.default_rng([seed, 0]), 1)
    learner = ContrastiveLearner(c, x, lr, params, seed)
    steps = max(1, int(round(samples / batch)))
    marks = sorted({int(round(steps * k / checkpoints)) for k in range(checkpoints + 1)})
    rows, done = [], 0
    for k in marks:
        learner.advance(done, k - done)
        done = k
        if not np.all(np.isfinite(params["w"])):
            break
        m = task.evaluate(params)
        rows.append({"step": k, "samples": k * batch, **{key: float(m[key][0]) for key in METRICS}})
    return {"rows": rows, "steps": steps, "wall_s_per_step": learner.step_time / steps}


def mean_se(v):
    v = np.asarray(v, dtype=float)
    return float(v.mean()), (float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(Path(__file__).with_suffix(".png")))
    ap.add_argument("--quick", action="store_true", help="digits only, batch 4, 2 seeds, 160 samples, one checkpoint, small encoder")
    ap.add_argument("--datasets", nargs="+", default=list(SETUPS), choices=list(SETUPS))
    ap.add_argument("--batches", type=int, nargs="+", default=[4, 16, 64])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--samples", nargs="+", default=[], help="NAME=COUNT: samples accessed per run (default "
                    + ", ".join(f"{k}={v}" for k, v in SAMPLES.items()) + ")")
    ap.add_argument("--checkpoints", type=int, default=4)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--estimators", nargs="+", default=list(ESTIMATORS), choices=list(ESTIMATORS))
    ap.add_argument("--cache", default=None, help="JSON file keeping finished runs (resume)")
    ap.add_argument("--only-cached", action="store_true",
                    help="compute nothing: summarise the runs in --cache (cells with fewer seeds say so)")
    args = ap.parse_args()
    samples = dict(SAMPLES)
    for item in args.samples:
        k, v = item.split("=")
        samples[k] = int(v)
    datasets, batches, seeds, hidden, checkpoints = args.datasets, args.batches, args.seeds, args.hidden, args.checkpoints
    if args.quick:
        datasets, batches, seeds, hidden, checkpoints = ["digits"], [4], 2, 16, 1
        samples = {"digits": 160}
    cache = {}
    if args.cache and Path(args.cache).exists():
        cache = json.loads(Path(args.cache).read_text())
    t0 = time.time()
    result = {"setting": {"datasets": datasets, "batches": batches, "seeds": seeds, "estimators": args.estimators,
                          "samples_accessed": {d: samples[d] for d in datasets}, "checkpoints": checkpoints,
                          "learning_rate": args.lr, "beta": 5.0, "hidden": hidden, "fixed_views": True,
                          "quick": args.quick, "only_cached": args.only_cached},
              "datasets": {}}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ncol = len(datasets) * len(batches)
    fig, axes = plt.subplots(4, ncol, figsize=(3.3 * ncol, 11.0), squeeze=False)
    col = 0
    for name in datasets:
        data = load(name)
        raw = linear_probe_accuracy(data[0], data[1], data[2], data[3])
        ds = {"raw_probe_acc": raw, "batches": {}}
        print(f"{name}: raw-input linear probe {raw:.3f} (test accuracy, fraction)")
        for b in batches:
            runs = {}
            for est in args.estimators:
                runs[est] = []
                for s in range(seeds):
                    key = f"{name}|{b}|{est}|{s}|{samples[name]}|{checkpoints}|{args.lr}|{hidden}"
                    if key not in cache and args.only_cached:
                        continue
                    if key not in cache:
                        cache[key] = one_run(name, data, est, b, s, samples[name], checkpoints, args.lr, hidden,
                                             SETUPS[name])
                        if args.cache:
                            write_text_atomic(args.cache, json.dumps(cache))
                    runs[est].append(cache[key])
            runs = {est: rr for est, rr in runs.items() if rr}
            if not runs:
                continue
            n_seeds = min(len(rr) for rr in runs.values())
            runs = {est: rr[:n_seeds] for est, rr in runs.items()}    # paired: the same seeds for every estimator
            summ = {}
            for est, rr in runs.items():
                n_ok = min(len(r["rows"]) for r in rr)
                curves = {m: [mean_se([r["rows"][i][m] for r in rr]) for i in range(n_ok)] for m in METRICS}
                summ[est] = {"samples": [rr[0]["rows"][i]["samples"] for i in range(n_ok)],
                             **{m: [c[0] for c in curves[m]] for m in METRICS},
                             **{m + "_se": [c[1] for c in curves[m]] for m in METRICS},
                             "final": {m: dict(zip(("mean", "se"), curves[m][-1])) for m in METRICS},
                             "wall_s_per_step": mean_se([r["wall_s_per_step"] for r in rr])[0],
                             "diverged_runs": sum(len(r["rows"]) < checkpoints + 1 for r in rr)}
            if "exact" in runs:                   # paired (same seed) loss gap to the exact run, per checkpoint
                for est, rr in runs.items():
                    n_ok = min(len(summ[est]["samples"]), len(summ["exact"]["samples"]))
                    gaps = [mean_se([a["rows"][i]["loss_nats"] - e["rows"][i]["loss_nats"] for a, e in zip(rr, runs["exact"])])
                            for i in range(n_ok)]
                    summ[est]["loss_minus_exact_nats"] = [g[0] for g in gaps]
                    summ[est]["loss_minus_exact_nats_se"] = [g[1] for g in gaps]
            diffs = {}
            for ref in ("exact", "in_batch"):
                if "emc2" in runs and ref in runs:
                    d = [a["rows"][-1]["loss_nats"] - r["rows"][-1]["loss_nats"] for a, r in zip(runs["emc2"], runs[ref])]
                    diffs[f"loss_emc2_minus_{ref}_nats"] = dict(zip(("mean", "se"), mean_se(d)))
                    p = [a["rows"][-1]["probe_acc"] - r["rows"][-1]["probe_acc"] for a, r in zip(runs["emc2"], runs[ref])]
                    diffs[f"probe_emc2_minus_{ref}"] = dict(zip(("mean", "se"), mean_se(p)))
            if "in_batch" in runs and "exact" in runs:
                d = [a["rows"][-1]["loss_nats"] - r["rows"][-1]["loss_nats"] for a, r in zip(runs["in_batch"], runs["exact"])]
                diffs["loss_in_batch_minus_exact_nats"] = dict(zip(("mean", "se"), mean_se(d)))
            ds["batches"][str(b)] = {"estimators": summ, "paired_differences": diffs, "seeds": n_seeds}
            for est, sm in summ.items():
                f = sm["final"]
                print(f"{name} batch {b:3d} {est:>8}: after {sm['samples'][-1]} samples accessed: loss "
                      f"{f['loss_nats']['mean']:.3f} +- {f['loss_nats']['se']:.3f} nats, probe "
                      f"{f['probe_acc']['mean']:.3f} +- {f['probe_acc']['se']:.3f}, 1-NN {f['knn1_acc']['mean']:.3f} +- "
                      f"{f['knn1_acc']['se']:.3f} (fractions), alpha-ReQ {f['alpha_req']['mean']:.2f}; "
                      f"{1e3 * sm['wall_s_per_step']:.2f} ms per step (loaded)")
            for k, v in diffs.items():
                unit = " nats" if k.endswith("nats") else " (fraction)"
                print(f"{name} batch {b:3d} paired {k}: {v['mean']:+.4f} +- {v['se']:.4f}{unit} (mean +- s.e. over {n_seeds} seeds)")
            for row, (metric, label) in enumerate((("probe_acc", "linear probe (fraction)"),
                                                   ("knn1_acc", "1-NN accuracy (fraction)"),
                                                   ("loss_nats", "global loss L (nats)"),
                                                   ("loss_minus_exact_nats", "L - L(exact), paired (nats)"))):
                ax = axes[row, col]
                for est, sm in summ.items():
                    if metric not in sm:
                        continue
                    m, se = np.array(sm[metric]), np.array(sm[metric + "_se"])
                    t = sm["samples"][:m.size]
                    ax.plot(t, m, "-o", ms=2.5, color=COLORS[est], label=est, lw=1.2)
                    ax.fill_between(t, m - se, m + se, color=COLORS[est], alpha=0.2, lw=0)
                if metric == "probe_acc":
                    ax.axhline(raw, color="0.4", ls="--", lw=1, label="raw-input probe")
                ax.set_xlabel("samples accessed")
                ax.set_ylabel(label)
                if row == 0:
                    ax.set_title(f"{name}, batch {b} ({n_seeds} seeds)", fontsize=9)
                if row == 0 and col == 0:
                    ax.legend(fontsize=6, loc="best")
            col += 1
        result["datasets"][name] = ds
    result["wall_s"] = time.time() - t0
    fig.tight_layout()
    save_with_numbers(fig, args.out, result)
    print(f"wall time {result['wall_s']:.1f} s (loaded machine; cached runs not recomputed)")


if __name__ == "__main__":
    main()
