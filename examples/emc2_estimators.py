"""Bias and variance of negative estimators at fixed encoder parameters, and Lemma 2.1 (issue 15 point 2).

Setting: the first ``n`` training digits (scikit-learn 8x8, scaled to [0, 1]), two fixed
augmented views each (:mod:`neurocl.data.augment`: noise 0.1, pixel dropout 0.1, shifts of one
pixel), a single tanh layer 64 -> ``d_out`` with bias at its random initialisation (seed 0),
``beta = 5``.  ``L(w)`` is the global contrastive loss of the whole view table (nats) and ``g``
its exact gradient; ``H`` the exact Hessian by central differences of ``g`` (step 1e-5).

For each estimator (``exact``: exact negatives with mini-batch anchors; ``in_batch``;
``sogclr``; ``emc2``; ``isd`` with ``b_pos = 0.5``) and batch size ``b`` in {4, 16, 64, 256}:
stateful estimators are first run ``ceil(10 n / b)`` steps at the fixed ``w`` (warm-up), then
``R`` estimates ``g_hat_r`` are drawn.  Reported (all in units of ``dL/dw``, nats per unit
weight): the bias norm ``|g - mean g_hat|`` (raw, and debiased by subtracting the Monte Carlo
part ``tr Var / R`` from its square), the cosine of ``mean g_hat`` with ``g``, the mean cosine of a
single draw with ``g``, and the trace variance ``tr Var(g_hat) = sum_i var(g_hat_i)``.

Lemma 2.1 (``neurocl.theory.predict_delta_loss``): the expected extra loss change of one step
``w - eta g_hat`` over the true step ``w - eta g`` is ``eta <g, bias> + eta^2/2 [bias' H bias -
g' (H + H') bias + tr(H) sigma^2 / N]`` with ``bias = g - E g_hat`` and ``sigma^2 = tr Var``
(isotropic noise).  Measured: ``mean_r L(w - eta g_hat_r) - L(w - eta g)`` (nats), with its standard
error over draws; predicted with the measured bias and trace variance, both with the isotropic
noise term of the Lemma and with the general noise term ``eta^2/2 tr(H C)`` (Lemma A.1,
``predict_delta_loss_cov``, ``C`` the measured covariance); over estimators x batch sizes x two
step sizes ``eta = (0.03, 0.1) / lambda_max(H)``; R^2 = 1 - SS_res / SS_tot of measured against
predicted (and, as a baseline, of the first-order term ``eta <g, bias>`` alone).  Note: the
covariance form evaluated with the draws' own mean and covariance is exactly the second-order
Taylor expansion of the measured mean, so its R^2 measures where that expansion holds; the
isotropic form tests in addition the Lemma's isotropic-noise assumption.

Run:  python examples/emc2_estimators.py [--out examples/emc2_estimators.png] [--quick] [--n 300]
      [--draws 200] [--d-out 8]
"""

import argparse
import time

import numpy as np

from neurocl.engines.numpy.sample_contrastive import estimate_param_grad, exact_loss, fixed_setting
from neurocl.measure.estimator import estimator_statistics, r_squared
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.samplers import make_estimator
from neurocl.theory import predict_delta_loss, predict_delta_loss_cov

ESTIMATORS = {"exact": {}, "in_batch": {}, "sogclr": {"gamma": 0.9}, "emc2": {"burn_in": 0.5},
              "isd": {"b_pos": 0.5}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/emc2_estimators.png")
    ap.add_argument("--n", type=int, default=300, help="training digits in the view table")
    ap.add_argument("--d-out", type=int, default=8)
    ap.add_argument("--beta", type=float, default=5.0)
    ap.add_argument("--draws", type=int, default=200, help="R estimates per estimator and batch size")
    ap.add_argument("--batches", default="4,16,64,256")
    ap.add_argument("--etas", default="0.03,0.1", help="step sizes in units of 1 / lambda_max(H)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="n = 40, d_out = 3, 12 draws, batches 4,16 (seconds)")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.d_out, args.draws, args.batches = 40, 3, 12, "4,16"
    batches = [int(b) for b in args.batches.split(",") if int(b) <= args.n]
    t0 = time.time()
    rng = np.random.default_rng(args.seed)
    fs = fixed_setting(args.n, args.d_out, args.beta, rng)
    X, enc, w, L0, g, H, lam = fs.X, fs.enc, fs.w, fs.L0, fs.g, fs.H, fs.lam
    N = enc.n_params
    etas = [float(s) / lam[-1] for s in args.etas.split(",")]
    print(f"n = {args.n} digits (2n = {2 * args.n} views), N = {N} weights, beta = {args.beta}: L(w) = {L0:.4f} nats, "
          f"|g| = {np.linalg.norm(g):.4f}; Hessian eigenvalues in [{lam[0]:.3f}, {lam[-1]:.3f}], tr H = {lam.sum():.3f} "
          f"(nats per squared weight); step sizes eta = {', '.join(f'{e:.4g}' for e in etas)}  ({time.time() - t0:.1f} s)")
    L_true = {eta: exact_loss(enc, w - eta * g, X, args.beta) for eta in etas}
    rows = []
    for name, params in ESTIMATORS.items():
        for b in batches:
            est = make_estimator(name, **params)
            state = est.init_state(args.n)
            ts = time.time()
            if state is not None:
                for _ in range(int(np.ceil(10 * args.n / b))):
                    estimate_param_grad(enc, w, X, rng.choice(args.n, b, replace=False), est, state, args.beta, rng)
            G = np.array([estimate_param_grad(enc, w, X, rng.choice(args.n, b, replace=False), est, state, args.beta, rng)
                          for _ in range(args.draws)])
            bias, C, st = estimator_statistics(G, g)
            trvar, cos_mean = st["trace_var"], st["cos_mean"]
            cos_draw = float(np.mean(G @ g / (np.linalg.norm(G, axis=1) * np.linalg.norm(g) + 1e-300)))
            row = dict(estimator=name, batch=b, bias_norm=st["bias_norm"], bias_norm_debiased=st["bias_norm_debiased"],
                       cos_mean=cos_mean, cos_draw=cos_draw, trace_var=trvar, lemma=[])
            for eta in etas:
                dl = np.array([exact_loss(enc, w - eta * gr, X, args.beta) for gr in G]) - L_true[eta]
                row["lemma"].append(dict(eta=eta, measured=float(dl.mean()), se=float(dl.std(ddof=1) / np.sqrt(len(dl))),
                                         predicted_first_order=float(eta * (g @ bias)),
                                         predicted_iso=predict_delta_loss(g, H, bias, trvar, eta),
                                         predicted_cov=predict_delta_loss_cov(g, H, bias, C, eta)))
            rows.append(row)
            lm = "; ".join(f"eta {e['eta']:.3g}: measured {e['measured']:+.3e} +- {e['se']:.1e}, predicted "
                           f"{e['predicted_iso']:+.3e} (isotropic) / {e['predicted_cov']:+.3e} (cov)" for e in row["lemma"])
            print(f"{name:>8} b = {b:>3}: |bias| = {row['bias_norm']:.4f} (debiased {row['bias_norm_debiased']:.4f}), "
                  f"cos(mean, g) = {cos_mean:.3f}, mean cos(draw, g) = {cos_draw:.3f}, tr Var = {trvar:.4f}  "
                  f"[{time.time() - ts:.1f} s]\n          extra loss change (nats) {lm}")
    meas = np.array([e["measured"] for r in rows for e in r["lemma"]])
    iso = np.array([e["predicted_iso"] for r in rows for e in r["lemma"]])
    cov = np.array([e["predicted_cov"] for r in rows for e in r["lemma"]])
    first = np.array([e["predicted_first_order"] for r in rows for e in r["lemma"]])
    summary = dict(r2_isotropic=r_squared(meas, iso), r2_cov=r_squared(meas, cov), r2_first_order_only=r_squared(meas, first),
                   points=int(meas.size))
    for k, eta in enumerate(etas):
        sel = np.array([e["eta"] == eta for r in rows for e in r["lemma"]])
        summary[f"r2_cov_eta{k}"] = r_squared(meas[sel], cov[sel])
        summary[f"r2_isotropic_eta{k}"] = r_squared(meas[sel], iso[sel])
    print(f"Lemma 2.1 over {meas.size} points (estimators x batch sizes x step sizes): R^2 = {summary['r2_isotropic']:.3f} "
          f"with the isotropic noise term, {summary['r2_cov']:.3f} with the measured covariance (Lemma A.1); "
          f"first-order term eta <g, bias> alone: {summary['r2_first_order_only']:.3f}")
    for k, eta in enumerate(etas):
        print(f"   eta = {eta:.4g}: R^2 isotropic {summary[f'r2_isotropic_eta{k}']:.3f}, covariance {summary[f'r2_cov_eta{k}']:.3f}")

    fig, ax = new_figure(3, width=4.4)
    for j, name in enumerate(ESTIMATORS):
        rs = [r for r in rows if r["estimator"] == name]
        bs = [r["batch"] for r in rs]
        ax[0].loglog(bs, [r["bias_norm"] for r in rs], "o-", color=f"C{j}", label=name)
        ax[0].loglog(bs, [np.sqrt(r["trace_var"] / args.draws) for r in rs], ":", color=f"C{j}", lw=0.8)
        ax[1].loglog(bs, [r["trace_var"] for r in rs], "o-", color=f"C{j}", label=name)
    ax[0].set(xlabel="batch size b", ylabel="|g - mean g_hat|", title="bias (dotted: Monte Carlo floor sqrt(trVar/R))")
    ax[1].set(xlabel="batch size b", ylabel="tr Var(g_hat)", title="trace variance")
    lim = [min(meas.min(), cov.min(), iso.min()), max(meas.max(), cov.max(), iso.max())]
    ax[2].plot(lim, lim, "k-", lw=0.8)
    ax[2].plot(iso, meas, "o", ms=4, mfc="none", label=f"isotropic R^2={summary['r2_isotropic']:.2f}")
    ax[2].plot(cov, meas, "x", ms=4, label=f"covariance R^2={summary['r2_cov']:.2f}")
    ax[2].set(xlabel="predicted extra loss change (nats)", ylabel="measured (nats)", title="Lemma 2.1, one step")
    ax[0].legend(fontsize=7)
    ax[2].legend(fontsize=7)
    res = dict(setting=dict(n=args.n, d_out=args.d_out, n_params=N, beta=args.beta, draws=args.draws, batches=batches,
                            etas=etas, seed=args.seed, loss=L0, grad_norm=float(np.linalg.norm(g)),
                            hessian_eig_min=float(lam[0]), hessian_eig_max=float(lam[-1]), hessian_trace=float(lam.sum())),
               units="gradients: nats per unit weight; losses: nats", rows=rows, summary=summary,
               wall_s=time.time() - t0)
    save_with_numbers(fig, args.out, res)
    print(f"wall time {res['wall_s']:.1f} s")


if __name__ == "__main__":
    main()
