"""More views per sample (paper 003 Part III; issue 14 point 4).

Loss for ``A`` views: the two-view loss averaged over the ``A (A - 1)`` ordered view pairs
(:mod:`neurocl.circuits.two_branch`); the views' noises are independent (``rho = 0``) with
level ``s = 1``.  ``K = 2``, ``d1 = 2``, tanh, ``lambda = 0.5``, ``mu = 0.2``, ``c_var = 4``,
online SGD ``tau = 1``.

(a) Samples needed to reach a target feature cosine (mean over features of the best unit's
    ``|M_ij| / sqrt(Q_ii)``, dimensionless) for ``A`` in {2, 4, 8}: the ODE's first crossing
    time ``t*`` times ``N`` against the simulation's (per seed, linear interpolation between
    recorded times; mean +- s.e. over seeds).  Fresh samples each step.
(b) A finite training set reused over epochs (engine keyword ``train_size``: the inputs' ``c``
    and background fixed, view noise fresh at every draw): ``A = 4`` on ``P/2`` stored inputs
    against ``A = 2`` on ``P``, the same number of steps; final feature cosine, mean +- s.e.,
    and the measured gap.
(c) Decorrelation strength ``lambda`` and how many distinct features the ``K = 4`` units take
    (``d1 = 4``, ``A = 2``, view noise ``s = 0.5``, from a random ``N``-independent start): a
    feature counts as taken when some unit's cosine with it exceeds ``0.5`` and it is that unit's
    best feature; simulation (mean over seeds) and ODE.

Prints every number and saves them to a JSON beside the figure.

Run:  python examples/two_branch_views.py [--quick] [--out examples/two_branch_views.png]
"""

import argparse
import inspect
import time

import numpy as np

from neurocl.circuits.two_branch import TwoBranch
from neurocl.engines.numpy.two_branch import simulate_online
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.theory_two_branch import solve_ode

SETTING = dict(K=2, d1=2, activation="tanh", s=1.0, rho=0.0, lam=0.5, mu=0.2, c_var=4.0, init_overlap=0.1,
               init_noise=0.1)
TAU = 1.0
FULL = dict(N=500, seeds=8, views=(2, 4, 8), target=0.35, t_end=10.0, ode_mc=20000, ode_mc_lam=5000, train_P=1000, t_train=8.0,
            lams=(0.0, 0.05, 0.2, 0.5, 1.0), t_lam=20.0, seeds_lam=8)
QUICK = dict(N=200, seeds=2, views=(2, 4), target=0.3, t_end=1.0, ode_mc=300, ode_mc_lam=300, train_P=200, t_train=1.0,
             lams=(0.0, 2.0), t_lam=1.0, seeds_lam=2)


def feature_cosine(M, Q):
    norms = np.sqrt(np.diagonal(Q, axis1=-2, axis2=-1))
    return (np.abs(M) / norms[..., :, None]).max(-2).mean(-1)


def distinct_features(M, Q, threshold=0.5):
    """Number of features that are some unit's best feature with cosine > ``threshold`` (last two
    axes ``K x d1``)."""
    cos = np.abs(M) / np.sqrt(np.diagonal(Q, axis1=-2, axis2=-1))[..., :, None]
    best = cos.argmax(-1)                                                   # (..., K)
    ok = cos.max(-1) > threshold
    d1 = M.shape[-1]
    taken = np.zeros(best.shape[:-1] + (d1,), bool)
    for j in range(d1):
        taken[..., j] = np.any((best == j) & ok, axis=-1)
    return taken.sum(-1)


def crossing(t, y, target):
    """First time ``y`` reaches ``target`` (linear interpolation); ``nan`` if never."""
    above = np.nonzero(y >= target)[0]
    if not len(above):
        return float("nan")
    i = above[0]
    if i == 0:
        return float(t[0])
    return float(t[i - 1] + (target - y[i - 1]) * (t[i] - t[i - 1]) / (y[i] - y[i - 1]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/two_branch_views.png")
    ap.add_argument("--quick", action="store_true", help="small N and few seeds (seconds; numbers not meaningful)")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    t_start = time.time()
    N = cfg["N"]
    out = {"setting": SETTING, "tau": TAU, "quick": args.quick,
           "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()}}
    M0, Q0 = TwoBranch(N=N, **SETTING).initial_overlaps(np.random.default_rng(0))
    t = np.linspace(0.0, cfg["t_end"], 41)

    # (a) samples to a target overlap -------------------------------------------------------------
    print(f"(a) samples to reach feature cosine {cfg['target']} (N = {N}, {cfg['seeds']} seeds, fresh samples):")
    rows, curves = [], {}
    for A in cfg["views"]:
        m = TwoBranch(N=N, views=A, **SETTING)
        sim = simulate_online(m, TAU, cfg["t_end"], replicas=cfg["seeds"], seed=70, t_eval=t, M0=M0, Q0=Q0)
        cs = feature_cosine(sim.M, sim.Q)                                    # (T, R)
        t = sim.t                                                            # the times the engine recorded
        ts = np.array([crossing(t, cs[:, r], cfg["target"]) for r in range(cs.shape[1])])
        ode = solve_ode(m, M0, Q0, TAU, cfg["t_end"], dt=min(0.05, cfg["t_end"] / 80), n_mc=cfg["ode_mc"], t_eval=t)
        co = feature_cosine(ode.M, ode.Q)
        t_ode = crossing(t, co, cfg["target"])
        ok = np.isfinite(ts)
        row = dict(views=A, samples_ode=t_ode * N, samples_sim=float(np.mean(ts[ok]) * N) if ok.any() else None,
                   samples_sim_se=float(np.std(ts[ok], ddof=1) / np.sqrt(ok.sum()) * N) if ok.sum() > 1 else None,
                   reached=int(ok.sum()))
        rows.append(row)
        curves[A] = dict(t=t.tolist(), sim=cs.mean(1).tolist(), ode=co.tolist())
        sim_txt = "not reached" if row["samples_sim"] is None else \
            f"{row['samples_sim']:.0f} +- {row['samples_sim_se'] or 0:.0f}"
        print(f"  A = {A}: ODE {t_ode * N:.0f} samples, simulation {sim_txt} samples "
              f"({ok.sum()}/{len(ts)} seeds reached it)")
    out["samples_to_target"] = dict(rows=rows, curves={str(k): v for k, v in curves.items()})

    # (b) finite training set ------------------------------------------------------------------------
    if "train_size" in inspect.signature(simulate_online).parameters:
        P = cfg["train_P"]
        res = {}
        for A, size in ((2, P), (4, P // 2)):
            m = TwoBranch(N=N, views=A, **SETTING)
            sim = simulate_online(m, TAU, cfg["t_train"], replicas=cfg["seeds"], seed=80, t_eval=[0.0, cfg["t_train"]],
                                  M0=M0, Q0=Q0, train_size=size)
            cs = feature_cosine(sim.M[-1], sim.Q[-1])
            res[A] = dict(train_size=size, mean=float(cs.mean()), se=float(cs.std(ddof=1) / np.sqrt(len(cs))))
        gap = res[4]["mean"] - res[2]["mean"]
        gap_se = float(np.hypot(res[4]["se"], res[2]["se"]))
        print(f"(b) finite training set, {int(cfg['t_train'] * N)} steps: A = 2 on {P} inputs {res[2]['mean']:.3f} +- "
              f"{res[2]['se']:.3f}, A = 4 on {P // 2} inputs {res[4]['mean']:.3f} +- {res[4]['se']:.3f} (feature "
              f"cosine); gap (A=4 minus A=2) {gap:+.3f} +- {gap_se:.3f}")
        out["finite_training_set"] = dict(**{f"A{k}": v for k, v in res.items()}, gap=gap, gap_se=gap_se)
    else:
        print("(b) skipped: this engine's simulate_online has no train_size keyword")
        out["finite_training_set"] = None

    # (c) lambda and distinct features -----------------------------------------------------------
    print(f"(c) distinct features taken by K = 4 units (d1 = 4, A = 2, s = 0.5) at t = {cfg['t_lam']} "
          f"({cfg['seeds_lam']} seeds, N = {N}):")
    lam_rows = []
    base4 = dict(SETTING, K=4, d1=4, s=0.5, init_overlap=0.0, init_noise=0.1)
    M4, Q4 = TwoBranch(N=N, **base4).initial_overlaps(np.random.default_rng(1))
    for lam in cfg["lams"]:
        m = TwoBranch(N=N, **dict(base4, lam=lam))
        sim = simulate_online(m, TAU, cfg["t_lam"], replicas=cfg["seeds_lam"], seed=90, t_eval=[0.0, cfg["t_lam"]],
                              M0=M4, Q0=Q4)
        k_sim = distinct_features(sim.M[-1], sim.Q[-1])
        ode = solve_ode(m, M4, Q4, TAU, cfg["t_lam"], dt=0.1, n_mc=cfg["ode_mc_lam"], t_eval=[cfg["t_lam"]])
        k_ode = int(distinct_features(ode.M[-1], ode.Q[-1]))
        lam_rows.append(dict(lam=lam, distinct_sim_mean=float(k_sim.mean()), distinct_sim=k_sim.tolist(),
                             distinct_ode=k_ode, cosine_sim=float(feature_cosine(sim.M[-1], sim.Q[-1]).mean())))
        print(f"  lambda = {lam:4.2f}: simulation {k_sim.mean():.2f} distinct features (per seed {k_sim.tolist()}), "
              f"ODE {k_ode}; mean feature cosine {lam_rows[-1]['cosine_sim']:.3f}")
    out["lambda"] = lam_rows
    out["wall_s"] = time.time() - t_start

    fig, axes = new_figure(3, 4.6, 3.8)
    for A in cfg["views"]:
        line, = axes[0].plot(curves[A]["t"], curves[A]["ode"], label=f"A = {A} ODE")
        axes[0].plot(curves[A]["t"], curves[A]["sim"], "o", ms=3, color=line.get_color())
    axes[0].axhline(cfg["target"], color="gray", ls=":")
    axes[0].set_xlabel("t = samples / N")
    axes[0].set_ylabel("feature cosine")
    axes[0].set_title(f"(a) N = {N} (dots: simulation mean)")
    axes[0].legend(fontsize=7)
    vs = [r["views"] for r in rows]
    axes[1].plot(vs, [r["samples_ode"] for r in rows], "k-o", label="ODE")
    axes[1].errorbar(vs, [r["samples_sim"] if r["samples_sim"] is not None else np.nan for r in rows],
                     yerr=[r["samples_sim_se"] or 0 for r in rows], fmt="s", label="simulation (+- s.e.)")
    axes[1].set_xscale("log", base=2)
    axes[1].set_xlabel("views A")
    axes[1].set_ylabel(f"samples to feature cosine {cfg['target']}")
    axes[1].set_title("(a) samples needed vs views")
    axes[1].legend(fontsize=7)
    lams = [r["lam"] for r in lam_rows]
    x = np.arange(len(lams))
    axes[2].bar(x - 0.18, [r["distinct_sim_mean"] for r in lam_rows], 0.36, label="simulation (seed mean)")
    axes[2].bar(x + 0.18, [r["distinct_ode"] for r in lam_rows], 0.36, label="ODE")
    axes[2].set_xticks(x, [f"{v:g}" for v in lams])
    axes[2].set_xlabel("decorrelation strength lambda")
    axes[2].set_ylabel("distinct features taken (of 4)")
    axes[2].set_title("(c) K = 4 units")
    axes[2].legend(fontsize=7)
    print(f"wall time {out['wall_s']:.0f} s")
    save_with_numbers(fig, args.out, out)


if __name__ == "__main__":
    main()
