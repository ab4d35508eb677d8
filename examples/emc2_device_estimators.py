"""Device bias and variance of one encoder update on hardware profiles, added to the negative
estimators' in the check of Lemma 2.1 (issue 15 point 5, extending ``emc2_estimators.py``).

Setting (that of ``emc2_estimators.py``): the first ``n`` training digits, two fixed views each,
a single tanh layer 64 -> ``d_out`` at its random initialisation ``w`` (seed 0), ``beta = 5``,
``L(w)`` the global contrastive loss of the whole view table (nats), ``g`` its exact gradient,
``H`` its Hessian (central differences of ``g``), step sizes ``eta = (0.03, 0.1) / lambda_max(H)``.

Hardware (:class:`neurocl.hardware.device.SynapseArray`, as the sample-contrastive runner uses
it): one chip per profile (device-to-device draws from seed 6) whose stored weights are set to
``w`` before every draw; the network reads the weights through the device (``w_read``: read
noise, quantisation), the estimator's gradient ``g_hat`` is taken at ``w_read`` and
``-eta g_hat`` is requested from the devices (pulses with stochastic rounding, asymmetry, soft
bounds, cycle-to-cycle noise); ``w_next`` are the stored weights after the update (network
units).  The effective gradient of the step is ``g_eff = (w - w_next) / eta``.  Profiles: the
shipped ``rram_hfo2`` and ``loihi2`` (``weight_scale = 8`` network units per device unit, set
for the RBMs) and the same with ``weight_scale = 1`` (``@ws1``; the encoder's weights are ~0.1).

Three measurements per profile, each over ``R`` draws, all in nats per unit weight:

* ``device update``: ``g_hat = g`` (the exact gradient, no read): bias ``|g - mean g_eff|``
  (``bias_norm_debiased``: its square less the Monte Carlo part ``tr Var / R``)
  and ``tr Var(g_eff)`` of the devices' write alone (depends on ``eta``: a pulse is a fixed
  step, so the rounding variance of ``g_eff`` grows as ``1 / eta``);
* ``read``: the exact gradient at the read weights, ``g(w_read)``: bias and trace variance that
  read noise and quantisation put into the gradient;
* ``total``: estimator (``in_batch``, ``emc2``) x batch size with both: bias, trace variance and
  the Lemma 2.1 check (measured extra loss change ``mean L(w_next) - L(w - eta g)`` against
  ``eta <g, bias> + eta^2/2 [bias' H bias - g'(H + H') bias + tr(H C)]`` with the measured
  bias and covariance ``C`` of ``g_eff``; and with the isotropic noise term ``tr(H) tr(C) / N``).
  Also reported: ``tr Var`` of the total against the sum of the estimator's (ideal profile),
  the device update's and the read's (additive if the three noises are independent).

Run:  python examples/emc2_device_estimators.py [--out examples/emc2_device_estimators.png] [--quick]
      [--n 300] [--draws 100] [--batches 4,16,64]
"""

import argparse
import copy
import dataclasses
import time

import numpy as np

from neurocl.engines.numpy.sample_contrastive import estimate_param_grad, exact_loss, fixed_setting
from neurocl.hardware import load_profile
from neurocl.hardware.device import SynapseArray
from neurocl.measure.estimator import estimator_statistics, r_squared
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.samplers import make_estimator
from neurocl.theory import predict_delta_loss, predict_delta_loss_cov

ESTIMATORS = {"in_batch": {}, "emc2": {"burn_in": 0.5}}


def profiles():
    out = {"ideal": None}
    for name in ("rram_hfo2", "loihi2"):
        p = load_profile(name)
        out[name] = p
        out[f"{name}@ws1"] = dataclasses.replace(p, weight_scale=1.0)
    return out


class Chip:
    """A :class:`SynapseArray` whose stored weights are reset to ``w`` before each update."""

    def __init__(self, profile, w, seed):
        self.profile, self.w = profile, w
        self.sa = SynapseArray(profile, w, np.random.default_rng([seed, 6]))

    def step(self, grad_at, eta):
        """``(w_read, w_next)``: one read, the gradient ``grad_at(w_read)``, one requested update."""
        sa = self.sa
        sa.reset_to(self.w)
        w_read = sa.read()
        sa.request(-eta * grad_at(w_read), 1.0)
        return w_read, self.profile.weight_scale * sa.stored


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/emc2_device_estimators.png")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--d-out", type=int, default=8)
    ap.add_argument("--beta", type=float, default=5.0)
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--batches", default="4,16,64")
    ap.add_argument("--etas", default="0.03,0.1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="n = 40, d_out = 3, 10 draws, batch 16")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.d_out, args.draws, args.batches = 40, 3, 10, "16"
    batches = [int(b) for b in args.batches.split(",") if int(b) <= args.n]
    t0 = time.time()
    rng = np.random.default_rng(args.seed)
    fs = fixed_setting(args.n, args.d_out, args.beta, rng)
    X, enc, w, L0, g, H, lam, grad = fs.X, fs.enc, fs.w, fs.L0, fs.g, fs.H, fs.lam, fs.grad
    N = enc.n_params
    etas = [float(s) / lam[-1] for s in args.etas.split(",")]
    print(f"n = {args.n} digits, N = {N} weights (|w| rms {np.sqrt(np.mean(w ** 2)):.3f}), beta = {args.beta}: "
          f"L(w) = {L0:.4f} nats, |g| = {np.linalg.norm(g):.4f} nats per unit weight; eta = "
          f"{', '.join(f'{e:.4g}' for e in etas)} ({time.time() - t0:.1f} s)")
    L_true = {eta: exact_loss(enc, w - eta * g, X, args.beta) for eta in etas}
    profs = profiles()
    chips = {name: Chip(p, w, args.seed) for name, p in profs.items() if p is not None}
    device_rows, read_rows = [], []
    for name, chip in chips.items():
        Gr = np.array([chip.step(np.zeros_like, 0.0)[0] for _ in range(args.draws)])
        Gread = np.array([grad(v) for v in Gr])
        _, _, s = estimator_statistics(Gread, g)
        s.update(profile=name, read_error_rms=float(np.sqrt(np.mean((Gr - w) ** 2))))
        read_rows.append(s)
        for eta in etas:
            Ge = np.array([(w - chip.step(lambda v: g, eta)[1]) / eta for _ in range(args.draws)])
            _, _, s = estimator_statistics(Ge, g)
            s.update(profile=name, eta=eta)
            device_rows.append(s)
        dv = [r for r in device_rows if r["profile"] == name]
        print(f"{name:>14}: read: weight error rms {read_rows[-1]['read_error_rms']:.4f} (network units), gradient "
              f"|bias| {read_rows[-1]['bias_norm']:.4f}, tr Var {read_rows[-1]['trace_var']:.4f}; device update: "
              + "; ".join(f"eta {r['eta']:.3g}: |bias| {r['bias_norm']:.4f} (debiased {r['bias_norm_debiased']:.4f}), tr Var {r['trace_var']:.4g}, "
                          f"cos(mean, g) {r['cos_mean']:.3f}" for r in dv))
    rows = []
    for est_name, params in ESTIMATORS.items():
        for b in batches:
            est = make_estimator(est_name, **params)
            state0 = est.init_state(args.n)
            if state0 is not None:
                for _ in range(int(np.ceil(10 * args.n / b))):
                    estimate_param_grad(enc, w, X, rng.choice(args.n, b, replace=False), est, state0, args.beta, rng)
            for name, prof in profs.items():
                state = copy.deepcopy(state0)
                draw_rng = np.random.default_rng([args.seed, 7, b])

                def g_hat(v):
                    return estimate_param_grad(enc, v, X, draw_rng.choice(args.n, b, replace=False), est, state,
                                               args.beta, draw_rng)

                for eta in etas:
                    if prof is None:
                        W_next = np.array([w - eta * g_hat(w) for _ in range(args.draws)])
                    else:
                        W_next = np.array([chips[name].step(g_hat, eta)[1] for _ in range(args.draws)])
                    G = (w - W_next) / eta
                    bias, C, s = estimator_statistics(G, g)
                    dl = np.array([exact_loss(enc, v, X, args.beta) for v in W_next]) - L_true[eta]
                    s.update(estimator=est_name, batch=b, profile=name, eta=eta, measured=float(dl.mean()),
                             se=float(dl.std(ddof=1) / np.sqrt(len(dl))), predicted_first_order=float(eta * (g @ bias)),
                             predicted_iso=predict_delta_loss(g, H, bias, float(np.trace(C)), eta),
                             predicted_cov=predict_delta_loss_cov(g, H, bias, C, eta))
                    rows.append(s)
            for eta in etas:
                base = next(r for r in rows if r["estimator"] == est_name and r["batch"] == b and r["profile"] == "ideal"
                            and r["eta"] == eta)
                for r in rows:
                    if r["estimator"] == est_name and r["batch"] == b and r["eta"] == eta and r["profile"] != "ideal":
                        dev = next(d for d in device_rows if d["profile"] == r["profile"] and d["eta"] == eta)
                        rd = next(d for d in read_rows if d["profile"] == r["profile"])
                        r["trace_var_sum_of_parts"] = base["trace_var"] + dev["trace_var"] + rd["trace_var"]
            for r in [r for r in rows if r["estimator"] == est_name and r["batch"] == b]:
                print(f"{est_name:>8} b = {b:>3} {r['profile']:>14} eta {r['eta']:.3g}: |bias| {r['bias_norm']:.4f} "
                      f"(debiased {r['bias_norm_debiased']:.4f}), "
                      f"tr Var {r['trace_var']:.4g}" + (f" (sum of estimator + device + read: "
                                                        f"{r['trace_var_sum_of_parts']:.4g})" if "trace_var_sum_of_parts"
                                                       in r else "") +
                      f"; extra loss change measured {r['measured']:+.3e} +- {r['se']:.1e} nats, predicted "
                      f"{r['predicted_cov']:+.3e} (cov) / {r['predicted_iso']:+.3e} (isotropic)")
    meas = np.array([r["measured"] for r in rows])
    cov = np.array([r["predicted_cov"] for r in rows])
    iso = np.array([r["predicted_iso"] for r in rows])
    dev_sel = np.array([r["profile"] != "ideal" for r in rows])
    summary = dict(points=int(meas.size), r2_cov=r_squared(meas, cov), r2_isotropic=r_squared(meas, iso),
                   r2_cov_device_rows=r_squared(meas[dev_sel], cov[dev_sel]),
                   r2_isotropic_device_rows=r_squared(meas[dev_sel], iso[dev_sel]))
    print(f"Lemma 2.1 over {meas.size} points (estimators x batches x profiles x step sizes): R^2 = {summary['r2_cov']:.3f} "
          f"with the measured covariance, {summary['r2_isotropic']:.3f} isotropic; device rows only "
          f"({int(dev_sel.sum())}): {summary['r2_cov_device_rows']:.3f} / {summary['r2_isotropic_device_rows']:.3f}")

    fig, ax = new_figure(3, width=4.4)
    names = list(profs)
    for j, name in enumerate(names):
        for k, eta in enumerate(etas):
            rs = [r for r in rows if r["profile"] == name and r["eta"] == eta and r["estimator"] == "emc2"]
            ax[0].loglog([r["batch"] for r in rs], [r["trace_var"] for r in rs], "o-" if k == 0 else "s:",
                         color=f"C{j}", label=f"{name}, eta{k}" if True else None, ms=4)
    ax[0].set(xlabel="batch size b", ylabel="tr Var(g_eff)", title="EMC^2 through the device: trace variance")
    ax[0].set_xticks(batches, [str(b) for b in batches])
    ax[0].minorticks_off()
    ax[0].legend(fontsize=6)
    x_pos = np.arange(len(chips))
    for k, eta in enumerate(etas):
        ax[1].bar(x_pos + 0.4 * k, [next(d["bias_norm_debiased"] for d in device_rows if d["profile"] == n and d["eta"] == eta)
                                    for n in chips], 0.4, label=f"device update, eta{k}")
    ax[1].plot(x_pos + 0.2, [r["bias_norm_debiased"] for r in read_rows], "kD", label="read (gradient at w_read)")
    ax[1].axhline(np.linalg.norm(g), color="0.4", ls="--", lw=1, label="|g|")
    ax[1].set_xticks(x_pos + 0.2, list(chips), rotation=20, fontsize=7)
    ax[1].set(ylabel="debiased |bias| (nats per unit weight)", title="device bias, exact gradient requested")
    ax[1].set_yscale("log")
    ax[1].legend(fontsize=6)
    lim = [min(meas.min(), cov.min()), max(meas.max(), cov.max())]
    ax[2].plot(lim, lim, "k-", lw=0.8)
    ax[2].plot(cov[~dev_sel], meas[~dev_sel], "o", ms=4, mfc="none", label="ideal")
    ax[2].plot(cov[dev_sel], meas[dev_sel], "x", ms=4, label=f"devices (R^2 {summary['r2_cov_device_rows']:.2f})")
    ax[2].set(xlabel="predicted extra loss change (nats)", ylabel="measured (nats)", title="Lemma 2.1 (covariance form)")
    ax[2].legend(fontsize=7)
    res = dict(setting=dict(n=args.n, d_out=args.d_out, n_params=N, beta=args.beta, draws=args.draws, batches=batches,
                            etas=etas, seed=args.seed, loss=L0, grad_norm=float(np.linalg.norm(g)),
                            hessian_eig_max=float(lam[-1]), profiles=list(profs)),
               units="gradients: nats per unit weight; losses: nats; weights: network units",
               read_rows=read_rows, device_rows=device_rows, rows=rows, summary=summary, wall_s=time.time() - t0)
    save_with_numbers(fig, args.out, res)
    print(f"wall time {res['wall_s']:.1f} s")


if __name__ == "__main__":
    main()
