"""View-noise correlation rho: gradient variance, overlap reached, and Lemma 2.1 (paper 001;
Lemma 2.1 of the ICLR 2023 paper ``papers/003_*``; issue 14 point 3).

Setting: two-branch tanh network, ``K = 2``, ``d1 = 2``, view noise ``s = 0.8``, ``lambda =
0.5``, ``mu = 0.2``, ``c_var = 4``, online SGD ``tau = 1`` (``t = samples / N``).

(a) Gradient variance at fixed ``W`` (``M_ij = 0.3``, ``Q = I``) against ``rho``: Monte Carlo
    ``E |G|_F^2`` of one sample's gradient ``G = N^-1/2 sum_k x^(k) e^(k)T`` (``N``, ``n_grad``
    samples, mean +- s.e.) against the derived limit ``tr sum_{kl} (1 + s^2 R_kl) E[e^(k) e^(l)T]``
    (:func:`neurocl.theory_two_branch.gradient_second_moment`; ``R_12 = rho``).  Gradient units:
    squared Frobenius norm of dL/dW (dimensionless loss).
(b) Overlap reached at ``t_end`` against ``rho``: feature cosine (mean over features of the best
    unit's ``|M_ij| / sqrt(Q_ii)``, dimensionless) of online SGD (``N``, ``seeds`` runs, mean +-
    s.e.) and of the ODE, from the same ``N``-independent start.
(c) Lemma 2.1 at the fixed ``W`` of (a), per ``rho``: predicted extra loss change of one SGD step
    over a true-gradient step, ``1/2 (sigma^2 / (N K)) Tr H tau^2`` (isotropic noise of the
    measured total variance ``sigma^2 = E |G - mean G|^2`` over the ``N K`` weights; ``Tr H``
    measured on the same samples), against the measured ``E_n L(W - tau G_n) - L(W - tau mean G)``
    (``L`` the expected loss, evaluated exactly through the overlaps ``(M', Q')`` of each stepped
    ``W``, :func:`neurocl.theory_two_branch.population_loss`, common random numbers; mean +- s.e.
    over the ``n_step`` samples).  Also the anisotropic form ``(tau^2 / 2N) tr[(sum (1 + s^2 R) E J
    + mu) C]`` that the ODE's second-order term implies (``C`` the measured K x K gradient
    covariance).  Loss units: the dimensionless loss of :mod:`neurocl.circuits.two_branch`.

Prints every number and saves them to a JSON beside the figure.

Run:  python examples/two_branch_noise.py [--quick] [--out examples/two_branch_noise.png]
"""

import argparse
import time

import numpy as np

from neurocl.circuits.two_branch import TwoBranch, frame, output_errors, overlaps, sample_features, sample_views
from neurocl.engines.numpy.two_branch import simulate_online
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.theory import predict_delta_loss
from neurocl.theory_two_branch import (draw_base, gradient_second_moment, jacobian_traces, population_loss,
                                       solve_ode)

SETTING = dict(K=2, d1=2, activation="tanh", s=0.8, lam=0.5, mu=0.2, c_var=4.0, init_overlap=0.1, init_noise=0.1)
TAU = 1.0
FULL = dict(N=1000, rhos_a=tuple(np.round(np.linspace(-1, 1, 9), 3)), n_grad=4000, n_mc=50000,
            rhos_b=(-1.0, -0.5, 0.0, 0.5, 1.0), seeds=8, t_end=5.0, ode_mc=10000, n_step=400, loss_mc=20000)
QUICK = dict(N=300, rhos_a=(-1.0, 0.0, 1.0), n_grad=500, n_mc=5000, rhos_b=(-1.0, 1.0), seeds=2, t_end=1.0,
             ode_mc=1000, n_step=40, loss_mc=2000)


def feature_cosine(M, Q):
    """Mean over features of the best unit's ``|M_ij| / sqrt(Q_ii)`` (last two axes ``K x d1``)."""
    norms = np.sqrt(np.diagonal(Q, axis1=-2, axis2=-1))
    return (np.abs(M) / norms[..., :, None]).max(-2).mean(-1)


def fixed_weights(m, rng):
    """A frame ``U`` and weights with ``M_ij = 0.3``, ``Q = I``."""
    M0 = np.full((m.K, m.d1), 0.3)
    Q0 = M0 @ M0.T + np.diag(1.0 - np.diag(M0 @ M0.T))
    U = frame(m.N, m.d1, rng)
    return U, m.init_weights(U, M0, Q0, rng), M0, Q0


def one_sample_gradients(m, U, W, n, rng):
    """Views ``X`` (n, A, N), errors ``e`` (n, A, K), gradients ``G_n`` (n, N, K) at ``W``."""
    c = sample_features(m.feature_law, rng, (n, m.d1), m.c_var)
    X = sample_views(U, c, m.s, m.rho, m.views, rng)
    h = X @ W / np.sqrt(m.N)
    e = output_errors(h, m.activation, m.lam)
    return X, h, e, np.einsum("nkx,nki->nxi", X, e) / np.sqrt(m.N)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/two_branch_noise.png")
    ap.add_argument("--quick", action="store_true", help="small N and few samples (seconds; numbers not meaningful)")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    t_start = time.time()
    N = cfg["N"]
    out = {"setting": SETTING, "tau": TAU, "quick": args.quick,
           "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}}

    # (a) + (c): fixed W, per rho -------------------------------------------------------------
    print(f"(a) gradient second moment E|G|_F^2 at fixed W (M_ij = 0.3, Q = I), N = {N}, {cfg['n_grad']} samples; "
          f"(c) Lemma 2.1, {cfg['n_step']} one-sample steps, tau = {TAU}")
    rows = []
    for rho in cfg["rhos_a"]:
        m = TwoBranch(N=N, rho=float(rho), **SETTING)
        rng = np.random.default_rng(100)
        U, W, M0, Q0 = fixed_weights(m, rng)
        X, h, e, G = one_sample_gradients(m, U, W, cfg["n_grad"], rng)
        g2 = np.einsum("nxi,nxi->n", G, G)
        theory = gradient_second_moment(m, M0, Q0, draw_base(m, cfg["n_mc"], np.random.default_rng(5)))
        # (c) Lemma 2.1 on the first n_step samples
        n = cfg["n_step"]
        Gs = G[:n] + m.mu * W[None] / N                                  # full per-sample gradient incl. decay
        gbar = Gs.mean(0)
        dev = Gs - gbar
        sigma2 = float(np.einsum("nxi,nxi->", dev, dev) / (n - 1))        # total variance, gradient units
        C = np.einsum("nxi,nxj->ij", dev, dev) / (n - 1)                  # K x K
        xx = np.einsum("nkx,nlx->nkl", X, X) / N                           # (n, A, A)
        Tj = jacobian_traces(h, m.activation, m.lam)                     # (n, A, A)
        trH = float(np.mean(np.sum(xx * Tj, (1, 2))) + m.K * m.mu)
        pred_iso = predict_delta_loss(gbar.ravel(), lambda v: v * trH / (N * m.K), np.zeros(N * m.K), sigma2, TAU,
                                      N=N * m.K, trace=trH)
        # anisotropic: per-unit curvature matrix H_K = sum_kl (x.x/N) E[J_kl] (K x K) + mu
        eps = 1e-5
        HK = np.zeros((m.K, m.K))
        for l in range(m.views):
            for j in range(m.K):
                hp, hm = h.copy(), h.copy()
                hp[:, l, j] += eps
                hm[:, l, j] -= eps
                dE = (output_errors(hp, m.activation, m.lam) - output_errors(hm, m.activation, m.lam)) / (2 * eps)
                HK[:, j] += np.mean(np.einsum("nk,nki->ni", xx[:, :, l], dE), 0)
        HK = 0.5 * (HK + HK.T) + m.mu * np.eye(m.K)
        pred_aniso = 0.5 * TAU ** 2 * float(np.sum(HK * C)) / N
        base = draw_base(m, cfg["loss_mc"], np.random.default_rng(6))
        Wbar = W - TAU * gbar
        Lbar = population_loss(m, *overlaps(Wbar, U), base)
        diffs = np.array([population_loss(m, *overlaps(W - TAU * Gs[i], U), base) - Lbar for i in range(n)])
        meas, meas_se = float(diffs.mean()), float(diffs.std(ddof=1) / np.sqrt(n))
        row = dict(rho=float(rho), grad2_mc=float(g2.mean()), grad2_se=float(g2.std(ddof=1) / np.sqrt(len(g2))),
                   grad2_theory=theory, sigma2=sigma2, trH=trH, lemma21_iso=pred_iso, lemma_aniso=pred_aniso,
                   measured=meas, measured_se=meas_se)
        rows.append(row)
        print(f"  rho = {rho:+.2f}: E|G|^2 MC {row['grad2_mc']:.4f} +- {row['grad2_se']:.4f}, limit formula "
              f"{theory:.4f} ({(row['grad2_mc'] - theory) / row['grad2_se']:+.1f} s.e.) | sigma^2 = {sigma2:.4f}, "
              f"Tr H = {trH:.4f}; extra loss per step: Lemma 2.1 {pred_iso:.3e}, anisotropic {pred_aniso:.3e}, "
              f"measured {meas:.3e} +- {meas_se:.1e}")
    out["fixed_W"] = rows

    # (b) overlap at fixed t ---------------------------------------------------------------------
    M0, Q0 = TwoBranch(N=N, **SETTING).initial_overlaps(np.random.default_rng(0))
    t = np.linspace(0.0, cfg["t_end"], 11)
    print(f"(b) feature cosine at t = {cfg['t_end']} (N = {N}, {cfg['seeds']} seeds, mean +- s.e.; ODE with "
          f"{cfg['ode_mc']} base samples):")
    reach = []
    for rho in cfg["rhos_b"]:
        m = TwoBranch(N=N, rho=float(rho), **SETTING)
        sim = simulate_online(m, TAU, cfg["t_end"], replicas=cfg["seeds"], seed=40, t_eval=t, M0=M0, Q0=Q0)
        cs = feature_cosine(sim.M, sim.Q)                                   # (T, R)
        ode = solve_ode(m, M0, Q0, TAU, cfg["t_end"], dt=0.05, n_mc=cfg["ode_mc"], t_eval=t)
        co = feature_cosine(ode.M, ode.Q)
        reach.append(dict(rho=float(rho), sim=float(cs[-1].mean()), sim_se=float(cs[-1].std(ddof=1) / np.sqrt(cs.shape[1])),
                          ode=float(co[-1]), sim_curve=cs.mean(1).tolist(), ode_curve=co.tolist()))
        print(f"  rho = {rho:+.2f}: simulation {reach[-1]['sim']:.3f} +- {reach[-1]['sim_se']:.3f}, ODE {co[-1]:.3f}")
    order_sim = [d["rho"] for d in sorted(reach, key=lambda d: -d["sim"])]
    order_ode = [d["rho"] for d in sorted(reach, key=lambda d: -d["ode"])]
    print(f"  rho ordered by overlap reached (highest first): simulation {order_sim}, ODE {order_ode}")
    out["overlap_at_t"] = dict(t=t.tolist(), rows=reach, order_sim=order_sim, order_ode=order_ode)
    out["wall_s"] = time.time() - t_start

    fig, axes = new_figure(3, 4.6, 3.8)
    r = np.array([d["rho"] for d in rows])
    axes[0].errorbar(r, [d["grad2_mc"] for d in rows], yerr=[3 * d["grad2_se"] for d in rows], fmt="o",
                     label=f"Monte Carlo, N = {N} (+- 3 s.e.)")
    axes[0].plot(r, [d["grad2_theory"] for d in rows], "k-", label="limit formula")
    axes[0].set_xlabel("view-noise correlation rho")
    axes[0].set_ylabel("E |G|_F^2 (gradient units)")
    axes[0].set_title("(a) gradient variance at fixed W")
    axes[0].legend(fontsize=7)
    for d in reach:
        line, = axes[1].plot(t, d["ode_curve"], label=f"rho = {d['rho']:+.1f} ODE")
        axes[1].plot(t, d["sim_curve"], "o", color=line.get_color(), ms=3)
    axes[1].set_xlabel("t = samples / N")
    axes[1].set_ylabel("feature cosine")
    axes[1].set_title("(b) overlap vs t (dots: simulation mean)")
    axes[1].legend(fontsize=7)
    axes[2].errorbar(r, [d["measured"] for d in rows], yerr=[3 * d["measured_se"] for d in rows], fmt="o",
                     label="measured (+- 3 s.e.)")
    axes[2].plot(r, [d["lemma21_iso"] for d in rows], "k-", label="Lemma 2.1 (isotropic)")
    axes[2].plot(r, [d["lemma_aniso"] for d in rows], "k--", label="anisotropic (ODE 2nd-order term)")
    axes[2].set_xlabel("view-noise correlation rho")
    axes[2].set_ylabel("extra loss per step vs true gradient")
    axes[2].set_title("(c) Lemma 2.1 with the measured variance")
    axes[2].legend(fontsize=7)
    print(f"wall time {out['wall_s']:.0f} s")
    save_with_numbers(fig, args.out, out)


if __name__ == "__main__":
    main()
