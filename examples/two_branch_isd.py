"""The always-on, phase-switching (ISD) version of two-branch learning (issue 14 point 5).

Each step is in a positive phase with probability ``b`` (it follows the attraction gradient
``G+`` weighted ``1/b``) or a negative phase (the decorrelation gradient ``G-`` weighted
``1/(1-b)``): the same expected update as online SGD (``G+ + G-``), with extra variance.
Setting: ``K = 2``, ``d1 = 2``, tanh, ``s = 0.5``, ``rho = 0``, ``lambda = 0.5``, ``mu = 0.2``,
``c_var = 4`` (the spec ``circuits/two_branch.toml``).

(a) At fixed ``W`` (``M_ij = 0.3``, ``Q = I``, ``N``): the moments ``M+ = E|G+|^2``, ``M- =
    E|G-|^2`` and means ``mu+ = E G+``, ``mu- = -E G-`` measured on one sample set give the
    predicted variance of the ISD estimator ``M+/b + M-/(1-b) - |mu+ - mu-|^2``; its variance is
    measured directly on an independent sample set with random phases (mean +- s.e.), for a grid
    of ``b``.  Gradient units: squared Frobenius norm of dL/dW.  Also the ``N -> infinity`` formula
    (:func:`neurocl.theory_two_branch.gradient_second_moment` with ``b``) and online SGD's variance.
(b) The variance-optimal ``b* = sqrt(M+) / (sqrt(M+) + sqrt(M-))`` from the measured moments
    against where the measured variance is smallest (grid argmin, and the argmin of the
    least-squares fit of ``a/b + c/(1-b) + d`` to the measured points).
(c) Final feature cosine (mean over features of the best unit's ``|M_ij| / sqrt(Q_ii)``) of ISD
    (``b``) and online SGD at equal samples (``t_end = t_tau / tau``) for several ``tau``: mean and
    seed standard deviation, ``N``, ``seeds`` runs each, and the ODE of both; "within the seed
    spread" = ``|mean_ISD - mean_SGD| <= sqrt(sd_ISD^2 + sd_SGD^2)``.
(d) Converged (``t tau`` up to 30, overlaps averaged over ``t tau`` in [20, 30]), for
    ``tau`` 0.5 ... 0.0625: the singular values of ``M`` (what the units learned of the feature
    subspace, rotation-invariant: Gaussian features have no preferred axes) and ``tr(Q - M M^T)``
    (weight norm outside the feature span) of ISD and online SGD, with the ODE of each.  The two
    have the same first-order drift; ISD's extra variance enters only the ``tau^2`` term of
    ``dQ/dt``, so its stationary state differs by ``O(tau)``: more norm outside the feature span
    and slightly smaller overlaps, both vanishing with ``tau``.

Prints every number and saves them to a JSON beside the figure.

Run:  python examples/two_branch_isd.py [--quick] [--out examples/two_branch_isd.png] [--replot]
"""

import argparse
import time

import matplotlib.ticker
import numpy as np

from neurocl.circuits.two_branch import TwoBranch, frame, output_errors, sample_features, sample_views
from neurocl.engines.numpy.two_branch import simulate_online
from neurocl.plotting import new_figure, save, saved_or_computed
from neurocl.theory_two_branch import draw_base, gradient_second_moment, solve_ode

SETTING = dict(K=2, d1=2, activation="tanh", s=0.5, rho=0.0, lam=0.5, mu=0.2, c_var=4.0, init_overlap=0.1,
               init_noise=0.1)
FULL = dict(N=1000, n=3000, bs=tuple(np.round(np.linspace(0.1, 0.9, 17), 3)), n_mc=50000, N_run=500, seeds=8,
            taus=(1.0, 0.5, 0.25, 0.125), t_tau=6.0, b_run=0.5, ode_mc=5000,
            long_taus=(0.5, 0.25, 0.125, 0.0625), long_t_tau=30.0, long_window=(20.0, 30.0), long_points=11)
QUICK = dict(N=300, n=300, bs=(0.2, 0.5, 0.8), n_mc=2000, N_run=200, seeds=2, taus=(1.0,), t_tau=1.0, b_run=0.5,
             ode_mc=500, long_taus=(0.5,), long_t_tau=2.0, long_window=(1.0, 2.0), long_points=3)


def feature_cosine(M, Q):
    norms = np.sqrt(np.diagonal(Q, axis1=-2, axis2=-1))
    return (np.abs(M) / norms[..., :, None]).max(-2).mean(-1)


def phase_gradients(m, U, W, n, rng):
    """Per-sample attraction and decorrelation gradients ``(n, N, K)`` at ``W``."""
    c = sample_features(m.feature_law, rng, (n, m.d1), m.c_var)
    X = sample_views(U, c, m.s, m.rho, m.views, rng)
    h = X @ W / np.sqrt(m.N)
    gp = np.einsum("nkx,nki->nxi", X, output_errors(h, m.activation, m.lam, "attract")) / np.sqrt(m.N)
    gm = np.einsum("nkx,nki->nxi", X, output_errors(h, m.activation, m.lam, "decorrelate")) / np.sqrt(m.N)
    return gp, gm


def total_var(g):
    d = g - g.mean(0)
    v = np.einsum("nxi,nxi->n", d, d) * len(g) / (len(g) - 1)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)))


def overlap_summary(M, Q):
    """Rotation-invariant summaries of ``(M, Q)`` (``(..., K, d1)``, ``(..., K, K)``): the
    singular values of ``M`` (descending; what the units learned of the feature subspace,
    whatever rotation of it they took) and ``tr(Q - M M^T)`` (squared weight norm outside the
    feature span, per ``N``)."""
    sv = np.linalg.svd(M, compute_uv=False)
    bulk = np.trace(Q - M @ np.swapaxes(M, -1, -2), axis1=-2, axis2=-1)
    return sv, bulk


def converged(cfg):
    """(d) ISD and online SGD run to convergence (``t tau`` up to ``long_t_tau``) at each
    ``tau`` in ``long_taus``: the overlaps averaged over the checkpoints in ``long_window`` (in
    ``t tau``) per seed, then mean and seed s.d.; the ODE of each (same start, ``ode_mc`` base
    samples shared by both, so the difference has less Monte Carlo noise) at the same
    checkpoints."""
    mr = TwoBranch(N=cfg["N_run"], **SETTING)
    M0r, Q0r = mr.initial_overlaps(np.random.default_rng(0))
    lo, hi = cfg["long_window"]
    base = draw_base(mr, cfg["ode_mc"], np.random.default_rng(7))
    print(f"(d) converged: overlaps averaged over t tau in [{lo:g}, {hi:g}], N = {mr.N}, {cfg['seeds']} seeds "
          f"(mean, seed sd) and ODE; singular values of M (dimensionless) and tr(Q - M M^T):")
    rows = []
    for tau in cfg["long_taus"]:
        t_eval = np.linspace(0.0, cfg["long_t_tau"], cfg["long_points"]) / tau
        win = (t_eval * tau >= lo - 1e-9) & (t_eval * tau <= hi + 1e-9)
        row = {"tau": tau, "t_end": float(t_eval[-1]), "samples": int(t_eval[-1] * mr.N), "window": [lo, hi]}
        for name, b in (("sgd", None), ("isd", cfg["b_run"])):
            sim = simulate_online(mr, tau, t_eval[-1], replicas=cfg["seeds"], seed=61, t_eval=t_eval, b=b, M0=M0r, Q0=Q0r)
            sv, bulk = overlap_summary(sim.M[win], sim.Q[win])             # (w, R, k), (w, R)
            sv, bulk = sv.mean(0), bulk.mean(0)                            # per seed
            ode = solve_ode(mr, M0r, Q0r, tau, t_eval[-1], dt=0.05 / tau, base=base, b=b, t_eval=t_eval)
            osv, obulk = overlap_summary(ode.M[win], ode.Q[win])
            row[name] = dict(sv=sv.mean(0).tolist(), sv_sd=sv.std(0, ddof=1).tolist(),
                             bulk=float(bulk.mean()), bulk_sd=float(bulk.std(ddof=1)),
                             ode_sv=osv.mean(0).tolist(), ode_bulk=float(obulk.mean()))
        gaps = np.abs(np.subtract(row["isd"]["sv"], row["sgd"]["sv"]))
        spread = np.hypot(row["isd"]["sv_sd"], row["sgd"]["sv_sd"])
        row.update(sv_gap=gaps.tolist(), sv_spread=spread.tolist(), sv_within_spread=bool((gaps <= spread).all()),
                   ode_sv_gap=np.abs(np.subtract(row["isd"]["ode_sv"], row["sgd"]["ode_sv"])).tolist(),
                   bulk_ratio=row["isd"]["bulk"] / row["sgd"]["bulk"], ode_bulk_ratio=row["isd"]["ode_bulk"] / row["sgd"]["ode_bulk"])
        rows.append(row)
        f = lambda v: "(" + ", ".join(f"{x:.3f}" for x in v) + ")"   # noqa: E731
        print(f"  tau = {tau:g} ({row['samples']} samples): singular values SGD {f(row['sgd']['sv'])} sd "
              f"{f(row['sgd']['sv_sd'])} (ODE {f(row['sgd']['ode_sv'])}), ISD {f(row['isd']['sv'])} sd "
              f"{f(row['isd']['sv_sd'])} (ODE {f(row['isd']['ode_sv'])}); gap {f(gaps)} vs spread {f(spread)}: "
              f"{'within' if row['sv_within_spread'] else 'NOT within'}; ODE gap {f(row['ode_sv_gap'])}")
        print(f"    tr(Q - M M^T): SGD {row['sgd']['bulk']:.3f} (sd {row['sgd']['bulk_sd']:.3f}, ODE "
              f"{row['sgd']['ode_bulk']:.3f}), ISD {row['isd']['bulk']:.3f} (sd {row['isd']['bulk_sd']:.3f}, ODE "
              f"{row['isd']['ode_bulk']:.3f}); ratio ISD/SGD {row['bulk_ratio']:.2f} (ODE {row['ode_bulk_ratio']:.2f})")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/two_branch_isd.png")
    ap.add_argument("--quick", action="store_true", help="small N and few samples (seconds; numbers not meaningful)")
    ap.add_argument("--replot", action="store_true", help="redraw from the saved numbers (<out>.json)")
    args = ap.parse_args(argv)
    out = saved_or_computed(args.out, args.replot, lambda: compute(args))
    plot(out, args.out)


def plot(out, path):
    """The figure of the saved numbers ``out`` (panels a-d)."""
    rows = out["fixed_W"]["rows"]
    bs, vs = np.array([r["b"] for r in rows]), np.array([r["measured"] for r in rows])
    v_sgd, b_star, runs = out["fixed_W"]["sgd_var"], out["fixed_W"]["b_star"], out["equal_samples"]
    fig, axes = new_figure(3, 4.8, 3.8)
    axes[0].errorbar(bs, vs, yerr=[3 * r["se"] for r in rows], fmt="o", label="measured ISD variance (+- 3 s.e.)")
    axes[0].plot(bs, [r["predicted"] for r in rows], "k-", label="M+/b + M-/(1-b) - |mu+ - mu-|^2")
    axes[0].axhline(v_sgd, color="gray", ls=":", label="online SGD variance")
    axes[0].axvline(b_star, color="k", ls="--", lw=0.8, label=f"b* = {b_star:.2f} (moments)")
    axes[0].set_xlabel("fraction of positive phases b")
    axes[0].set_ylabel("estimator variance (|dL/dW|_F^2)")
    axes[0].set_title(f"(a, b) fixed W, N = {out['config']['N']}")
    axes[0].legend(fontsize=7)
    taus = np.array([r["tau"] for r in runs])
    for name, color in (("sgd", "C1"), ("isd", "C0")):
        axes[1].errorbar(taus, [r[name]["mean"] for r in runs], yerr=[r[name]["sd"] for r in runs], fmt="o", color=color,
                         label=f"{name.upper()} simulation (+- seed sd)")
        axes[1].plot(taus, [r[name]["ode"] for r in runs], "-", color=color, label=f"{name.upper()} ODE")
    axes[1].set_xscale("log")
    axes[1].set_xticks(taus, [f"{v:g}" for v in taus])
    axes[1].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[1].set_xlabel("learning rate tau (samples = t_tau N / tau)")
    axes[1].set_ylabel("final feature cosine")
    axes[1].set_title("(c) equal samples")
    axes[1].legend(fontsize=7)
    conv = out["converged"]
    lt = np.array([r["tau"] for r in conv])
    for name, color in (("sgd", "C1"), ("isd", "C0")):
        axes[2].errorbar(lt, [r[name]["bulk"] for r in conv], yerr=[r[name]["bulk_sd"] for r in conv], fmt="s",
                         color=color, label=f"{name.upper()}: tr(Q - M M^T) (+- seed sd)")
        axes[2].plot(lt, [r[name]["ode_bulk"] for r in conv], "--", color=color, lw=1)
    axes[2].errorbar(lt, [r["sv_gap"][1] for r in conv], yerr=[r["sv_spread"][1] for r in conv], fmt="o", color="C2",
                     label="SGD - ISD, smaller singular value of M (+- spread)")
    axes[2].plot(lt, [r["ode_sv_gap"][1] for r in conv], "-", color="C2", lw=1)
    axes[2].errorbar(lt, [r["sv_gap"][0] for r in conv], yerr=[r["sv_spread"][0] for r in conv], fmt="^", color="C7",
                     label="|SGD - ISD|, larger singular value (+- spread)")
    axes[2].set_xscale("log")
    axes[2].set_yscale("log")
    axes[2].set_xticks(lt, [f"{v:g}" for v in lt])
    axes[2].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[2].set_xlabel("learning rate tau")
    axes[2].set_ylabel("overlaps (dimensionless)")
    axes[2].set_title(f"(d) converged (t tau from {conv[0]['window'][0]:g} to {conv[0]['window'][1]:g}); lines: ODE")
    axes[2].legend(fontsize=6)
    save(fig, path)
    print(f"wrote {path}")


def compute(args) -> dict:
    cfg = QUICK if args.quick else FULL
    t_start = time.time()
    out = {"setting": SETTING, "quick": args.quick,
           "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}}

    # (a) fixed W --------------------------------------------------------------------------------
    m = TwoBranch(N=cfg["N"], **SETTING)
    rng = np.random.default_rng(50)
    M0 = np.full((m.K, m.d1), 0.3)
    Q0 = M0 @ M0.T + np.diag(1.0 - np.diag(M0 @ M0.T))
    U = frame(m.N, m.d1, rng)
    W = m.init_weights(U, M0, Q0, rng)
    gp, gm = phase_gradients(m, U, W, cfg["n"], rng)                      # set A: the moments
    Mp, Mm = float(np.einsum("nxi,nxi->", gp, gp) / len(gp)), float(np.einsum("nxi,nxi->", gm, gm) / len(gm))
    mean_sq = float(np.sum((gp.mean(0) + gm.mean(0)) ** 2))               # |mu+ - mu-|^2, mu- = -E G-
    b_star = float(np.sqrt(Mp) / (np.sqrt(Mp) + np.sqrt(Mm)))
    gp2, gm2 = phase_gradients(m, U, W, cfg["n"], rng)                    # set B: direct measurement
    v_sgd, v_sgd_se = total_var(gp2 + gm2)
    base = draw_base(m, cfg["n_mc"], np.random.default_rng(5))
    print(f"(a) fixed W (M_ij = 0.3, Q = I), N = {m.N}, {cfg['n']} + {cfg['n']} samples; gradient units: |dL/dW|_F^2")
    print(f"  M+ = {Mp:.4f}, M- = {Mm:.4f}, |mu+ - mu-|^2 = {mean_sq:.2e}; online SGD variance {v_sgd:.4f} +- "
          f"{v_sgd_se:.4f}")
    rows = []
    for b in cfg["bs"]:
        pos = np.random.default_rng([51, int(b * 1000)]).random(len(gp2)) < b
        g = np.where(pos[:, None, None], gp2 / b, gm2 / (1 - b))
        v, se = total_var(g)
        pred = Mp / b + Mm / (1 - b) - mean_sq
        lim = gradient_second_moment(m, M0, Q0, base, b=float(b))
        rows.append(dict(b=float(b), measured=v, se=se, predicted=pred, limit=lim, extra_over_sgd=v - v_sgd))
        print(f"  b = {b:.2f}: ISD variance measured {v:.4f} +- {se:.4f}, M+/b + M-/(1-b) - |mu+ - mu-|^2 = "
              f"{pred:.4f} ({(v - pred) / se:+.1f} s.e.), N -> inf formula {lim:.4f}; extra over SGD {v - v_sgd:.4f}")
    bs = np.array([r["b"] for r in rows])
    vs = np.array([r["measured"] for r in rows])
    A = np.stack([1 / bs, 1 / (1 - bs), np.ones_like(bs)], 1)
    coef = np.linalg.lstsq(A / np.array([r["se"] for r in rows])[:, None], vs / np.array([r["se"] for r in rows]),
                           rcond=None)[0]
    b_fit = float(np.sqrt(max(coef[0], 0)) / (np.sqrt(max(coef[0], 0)) + np.sqrt(max(coef[1], 1e-300))))
    b_grid = float(bs[np.argmin(vs)])
    print(f"(b) variance-optimal b from the measured moments b* = {b_star:.3f}; measured variance smallest at "
          f"b = {b_grid:.3f} (grid of {len(bs)}), fitted a/b + c/(1-b) + d minimum at b = {b_fit:.3f}")
    out["fixed_W"] = dict(M_plus=Mp, M_minus=Mm, mean_sq=mean_sq, sgd_var=v_sgd, sgd_var_se=v_sgd_se, rows=rows,
                          b_star=b_star, b_grid_argmin=b_grid, b_fit_argmin=b_fit)

    out["converged"] = converged(cfg)

    # (c) ISD vs SGD at equal samples --------------------------------------------------------------
    print(f"(c) final feature cosine at equal samples (t_end = {cfg['t_tau']} / tau), N = {cfg['N_run']}, "
          f"{cfg['seeds']} seeds, ISD b = {cfg['b_run']} (mean, seed sd), ODE:")
    mr = TwoBranch(N=cfg["N_run"], **SETTING)
    M0r, Q0r = mr.initial_overlaps(np.random.default_rng(0))
    runs = []
    for tau in cfg["taus"]:
        t_end = cfg["t_tau"] / tau
        res = {}
        for name, b in (("sgd", None), ("isd", cfg["b_run"])):
            sim = simulate_online(mr, tau, t_end, replicas=cfg["seeds"], seed=60, t_eval=[0.0, t_end], b=b, M0=M0r, Q0=Q0r)
            cs = feature_cosine(sim.M[-1], sim.Q[-1])
            ode = solve_ode(mr, M0r, Q0r, tau, t_end, dt=min(0.1, 0.1 / tau), n_mc=cfg["ode_mc"], b=b, t_eval=[t_end])
            res[name] = dict(mean=float(cs.mean()), sd=float(cs.std(ddof=1)), ode=float(feature_cosine(ode.M[-1], ode.Q[-1])))
        gap = abs(res["isd"]["mean"] - res["sgd"]["mean"])
        spread = float(np.hypot(res["isd"]["sd"], res["sgd"]["sd"]))
        runs.append(dict(tau=tau, t_end=t_end, samples=int(t_end * mr.N), **res, gap=gap, spread=spread,
                         within_spread=bool(gap <= spread)))
        print(f"  tau = {tau:.3f} ({int(t_end * mr.N)} samples): SGD {res['sgd']['mean']:.3f} (sd {res['sgd']['sd']:.3f}, "
              f"ODE {res['sgd']['ode']:.3f}), ISD {res['isd']['mean']:.3f} (sd {res['isd']['sd']:.3f}, ODE "
              f"{res['isd']['ode']:.3f}); gap {gap:.3f} vs spread {spread:.3f}: "
              f"{'within' if gap <= spread else 'NOT within'}")
    out["equal_samples"] = runs
    out["wall_s"] = time.time() - t_start

    print(f"wall time {out['wall_s']:.0f} s")
    return out


if __name__ == "__main__":
    main()
