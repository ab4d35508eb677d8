"""alpha-ReQ against linear-probe accuracy over training and a sweep of the inverse temperature
(issue 15 point 4; paper 003 Part II, paper 002's setting).

Setting: the sample-contrastive circuit of ``circuits/emc2_digits.toml`` and
``circuits/emc2_mnist1d.toml`` (MLP encoder ``d_in``-128-32, tanh, EMC^2 negatives, batch 16,
learning rate 0.05 per step, the specs' views), trained for ``--steps`` SGD steps at each
inverse temperature ``beta`` in ``--betas`` (seed 0, the same initial encoder for every
``beta``).  At each checkpoint (step 0 included) on frozen features (the hidden layer, as the
run's table): the linear-probe test accuracy (logistic regression, fraction in [0, 1]) and
alpha-ReQ of the test features (:func:`neurocl.measure.alpha_req`: weighted least-squares slope
of ``log lambda_k`` against ``log k``, weights ``1/k``, ranks 4-100, window halved while the fit's
R^2 < 0.95; dimensionless) with its R^2.

Reported per dataset over all (beta, checkpoint) points: Pearson's r of accuracy with alpha
and with ``|alpha - 1|`` (Part II's claim: good representations lie in a band of alpha near 1,
so accuracy should fall with the distance from 1), a 95 % interval for r by Fisher's z
(``tanh(atanh r +- 1.96 / sqrt(n - 3))``; the points of one run are not independent, so the
interval is optimistic), Spearman's rank correlation, and the alpha of the most accurate
point.  The raw-input linear probe (pixels / signal samples) is the floor.

Run:  python examples/emc2_alpha_req.py [--out examples/emc2_alpha_req.png] [--quick]
      [--steps 1500] [--betas 1 2 5 10 20]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neurocl.atomic import write_text_atomic
from neurocl.circuits.sample_contrastive import SampleContrastive
from neurocl.engines.numpy.sample_contrastive import ContrastiveLearner
from neurocl.measure.alpha_req import alpha_req
from neurocl.measure.probe import linear_probe_accuracy
from neurocl.plotting import new_figure, save

#: the specs' circuits (circuits/emc2_*.toml)
SETUPS = {
    "digits": dict(d_in=64, view_shape=(8, 8), view_noise=0.1, view_dropout=0.1, view_shift=1),
    "mnist1d": dict(d_in=40, view_shape=(40,), view_noise=0.3, view_dropout=0.05, view_shift=12),
}


def load(name: str):
    if name == "digits":
        from neurocl.data.digits import load_digits_split

        return load_digits_split()
    from neurocl.data.mnist1d import load_mnist1d

    return load_mnist1d()


def pearson(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.corrcoef(a, b)[0, 1])


def spearman(a, b) -> float:
    rank = lambda v: np.argsort(np.argsort(v)).astype(float)   # noqa: E731 (no ties in continuous values)
    return pearson(rank(np.asarray(a)), rank(np.asarray(b)))


def fisher_ci(r: float, n: int):
    if n <= 3 or not np.isfinite(r):
        return [float("nan"), float("nan")]
    z, h = np.arctanh(np.clip(r, -0.999999, 0.999999)), 1.96 / np.sqrt(n - 3)
    return [float(np.tanh(z - h)), float(np.tanh(z + h))]


def train_points(name, beta, steps, checkpoints, hidden, data, seed=0):
    """(step, alpha, alpha_r2, probe_acc) at each checkpoint of one run."""
    x, y, xt, yt = data
    c = SampleContrastive(hidden=hidden, beta=beta, estimator="emc2", batch=16, **SETUPS[name])
    params = c.init_params(np.random.default_rng([seed, 0]), 1)
    learner = ContrastiveLearner(c, x, 0.05, params, seed)
    rows, done = [], 0
    for k in checkpoints:
        learner.advance(done, k - done)
        done = k
        w = params["w"][0]
        if not np.all(np.isfinite(w)):
            break
        f_tr, f_te = c.features(w, x), c.features(w, xt)
        a = alpha_req(f_te)
        rows.append({"step": int(k), "alpha": a.alpha, "alpha_r2": a.r2,
                     "probe_acc": linear_probe_accuracy(f_tr, y, f_te, yt)})
    return rows, learner.step_time / max(steps, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(Path(__file__).with_suffix(".png")))
    ap.add_argument("--quick", action="store_true", help="two betas, 60 steps, small encoder")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--betas", type=float, nargs="+", default=[1.0, 2.0, 5.0, 10.0, 20.0])
    args = ap.parse_args()
    steps, betas, hidden = args.steps, args.betas, 128
    if args.quick:
        steps, betas, hidden = 60, [2.0, 10.0], 32
    checkpoints = sorted({0, steps // 6, steps // 3, 2 * steps // 3, steps})
    t0 = time.time()
    result = {"setting": {"steps": steps, "betas": betas, "hidden": hidden, "estimator": "emc2", "batch": 16,
                          "learning_rate": 0.05, "checkpoints": checkpoints, "seed": 0, "quick": args.quick},
              "datasets": {}}
    fig, axes = new_figure(2, width=4.6)
    for ax, name in zip(axes, SETUPS):
        data = load(name)
        raw = linear_probe_accuracy(data[0], data[1], data[2], data[3])
        runs, pts = {}, []
        for beta in betas:
            rows, step_s = train_points(name, beta, steps, checkpoints, hidden, data)
            runs[f"{beta:g}"] = {"points": rows, "wall_s_per_step": step_s}
            pts += [(beta, r) for r in rows if np.isfinite(r["alpha"])]
            print(f"{name} beta = {beta:g}: " + ", ".join(
                f"step {r['step']}: alpha {r['alpha']:.3f} (R^2 {r['alpha_r2']:.3f}), probe {r['probe_acc']:.3f}"
                for r in rows))
        alpha = np.array([r["alpha"] for _, r in pts])
        acc = np.array([r["probe_acc"] for _, r in pts])
        n = len(pts)
        r_alpha, r_dist = pearson(alpha, acc), pearson(np.abs(alpha - 1.0), acc)
        best = int(np.argmax(acc))
        summary = {"n_points": n, "raw_probe_acc": raw,
                   "pearson_alpha_acc": r_alpha, "pearson_alpha_acc_ci95": fisher_ci(r_alpha, n),
                   "spearman_alpha_acc": spearman(alpha, acc),
                   "pearson_absdist1_acc": r_dist, "pearson_absdist1_acc_ci95": fisher_ci(r_dist, n),
                   "best_probe_acc": float(acc[best]), "alpha_at_best": float(alpha[best]),
                   "beta_at_best": pts[best][0], "alpha_range": [float(alpha.min()), float(alpha.max())]}
        result["datasets"][name] = {"runs": runs, "summary": summary}
        print(f"{name}: {n} points; raw-input probe {raw:.3f} (fraction); Pearson r(alpha, probe acc) = {r_alpha:+.2f} "
              f"(95 % CI {summary['pearson_alpha_acc_ci95'][0]:+.2f} .. {summary['pearson_alpha_acc_ci95'][1]:+.2f}), "
              f"Spearman {summary['spearman_alpha_acc']:+.2f}; r(|alpha - 1|, acc) = {r_dist:+.2f}; best probe "
              f"{acc[best]:.3f} at alpha {alpha[best]:.3f} (beta {pts[best][0]:g}); alpha range "
              f"{alpha.min():.2f} .. {alpha.max():.2f}")
        cmap = __import__("matplotlib").colormaps["viridis"]
        for i, beta in enumerate(betas):
            rows = [r for b, r in pts if b == beta]
            col = cmap(i / max(len(betas) - 1, 1))
            ax.plot([r["alpha"] for r in rows], [r["probe_acc"] for r in rows], "-", color=col, lw=0.8, alpha=0.6)
            ax.scatter([r["alpha"] for r in rows], [r["probe_acc"] for r in rows], color=col, label=f"beta = {beta:g}",
                       s=[12 + 30 * r["step"] / max(steps, 1) for r in rows], zorder=3)
        ax.axhline(raw, color="0.4", ls="--", lw=1, label="raw-input probe")
        ax.axvline(1.0, color="0.6", ls=":", lw=1)
        ax.set_xlabel("alpha-ReQ (eigenspectrum decay exponent)")
        ax.set_ylabel("linear-probe test accuracy (fraction)")
        ax.set_title(f"{name}: r(alpha, acc) = {r_alpha:+.2f}, r(|alpha-1|, acc) = {r_dist:+.2f}", fontsize=9)
        ax.legend(fontsize=7, loc="best")
    result["wall_s"] = time.time() - t0
    save(fig, args.out)
    out_json = Path(args.out).with_suffix(".json")
    write_text_atomic(out_json, json.dumps(result, indent=1, default=float))
    print(f"wall time {result['wall_s']:.1f} s; wrote {args.out} and {out_json} (marker size: checkpoint step)")


if __name__ == "__main__":
    main()
