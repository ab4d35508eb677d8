"""Learnability from an uninformative start depends only on the second moment of the features;
which feature is selected depends on the higher moments (paper 001, issue 14 point 2).

Setting: the two-branch tanh network on the sphere model, ``K = 2`` units, ``d1 = 2`` features,
view noise ``s = 0.5`` (``rho = 0``), ``lambda = 0.5``, ``mu = 0.2``, feature variance
``c_var = 4``, online SGD with ``tau = 1`` (``t = samples / N``).

(a) Growth rate of ``|M|`` at the uninformative fixed point ``(M = 0, Q*)``, for four feature
    laws of equal variance and fourth moments 3 (gaussian), 1 (rademacher), 9/5 (uniform), 15
    (sparse Bernoulli(0.2)-Gaussian).  Theory: the ODE linearised at ``M = 0``
    (:func:`neurocl.theory_two_branch.linear_growth`; law-independent by the derivation).
    Simulation: ``R`` runs at ``N`` from ``M0 = eps I`` (``Q0 = Q* + M0 M0^T``; ``eps`` scaled by
    ``sqrt(tr Q* / K)`` when that is below 1, at least ``eps0``: with a small background the
    units are nearly linear, the rate is a near-cancellation ``2 c_var E[sigma' sigma'] - mu``
    and its ``O(|M|^2)`` corrections are large); the projection
    ``p(t) = <M(t), M0> / |M0|`` averaged over runs grows like ``exp(rate t)``; the rate is the
    least-squares slope of ``log mean p`` on ``t`` in ``[0, min(t_fit, 1.5 / predicted rate)]``
    (at most 1.5 e-foldings, so ``|M|`` stays small; s.e. by bootstrap over runs),
    compared with the same fit of the linearised ODE's ``p(t)``.  Measured from ``eps`` and
    ``2 eps`` and extrapolated to ``M -> 0`` (``(4 r(eps) - r(2 eps)) / 3``): at finite ``|M|``
    the rate has ``O(|M|^2)`` corrections that depend on the fourth moment (the sparse law's is
    15), the same terms that decide selection in (c).
(b) The learning / no-learning threshold in the weight decay ``mu``: the linearised rate
    against ``mu`` (theory curve; its zero ``mu_c`` by Brent's method) and the simulated rates
    (same measurement as (a), gaussian law); the simulated threshold is the linear
    interpolation of the rate's sign change.
(c) Selection: one unit (``K = 1``), two features of equal variance with laws ``(gaussian, X)``
    compete; from ``M = 0`` (``Q0 = Q*``) every run escapes in a random direction (finite-``N``
    noise) and ends on one feature (the larger ``|M|`` at ``t_sel``).  ``P(X)`` over ``R_sel``
    seeds (binomial s.e.) against the ODE's basin fraction
    (:func:`neurocl.theory_two_branch.selection_basin`: fraction of escape angles whose ODE
    solution ends on ``X``).  ``X = gaussian`` is the symmetric control (``P = 1/2``).

Overlaps are dimensionless (``M = W^T U / sqrt(N)``); rates are per unit ``t``.
Prints every number and saves them to a JSON beside the figure.

Run:  python examples/two_branch_features.py [--quick] [--out examples/two_branch_features.png]
"""

import argparse
import time
from dataclasses import replace

import numpy as np
from scipy.linalg import expm

from neurocl.circuits.two_branch import TwoBranch
from neurocl.engines.numpy.two_branch import simulate_online
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.theory_two_branch import fixed_point_q, learning_threshold, linear_growth, selection_basin

SETTING = dict(K=2, d1=2, activation="tanh", s=0.5, rho=0.0, lam=0.5, mu=0.2, c_var=4.0)
TAU = 1.0
LAWS = ("gaussian", "rademacher", "uniform", "sparse")
FULL = dict(N=1000, R=96, eps=0.02, eps0=0.003, t_fit=2.0, mus=(0.2, 2.0, 4.0, 6.0, 7.0, 7.5, 8.5, 10.0), R_mu=64,
            N_sel=500, R_sel=64, t_sel=12.0, n_mc=200000, sel_mc=5000, sel_iters=5)
QUICK = dict(N=300, R=16, eps=0.05, eps0=0.005, t_fit=1.0, mus=(0.2, 7.0, 9.0), R_mu=8,
             N_sel=200, R_sel=8, t_sel=6.0, n_mc=4000, sel_mc=300, sel_iters=1)


def fitted_rate(t, p):
    """Least-squares slope of ``log p`` on ``t`` (per unit t)."""
    return float(np.polyfit(t, np.log(np.abs(p)), 1)[0])


def measure_rate(model, lg, cfg, seed):
    """Simulated growth rate of the run-averaged projection ``p(t)`` from ``M0 = eps I`` at
    ``Q*`` (module docstring (a)); returns ``(rate, s.e., predicted rate of the linearised ODE)``."""
    K, d1 = model.K, model.d1
    # at Q* = 0 (W = 0) the SGD noise scales with |M| too: start much closer to M = 0 (the
    # rate's O(|M|^2) corrections are 8 c_var-fold there and the threshold is a near-cancellation)
    # with a small Q* the tanh units are nearly linear and the rate is again a near-cancellation
    # (8 c_var E[sigma' sigma'] - mu): scale the start with the background's size, sqrt(tr Q* / K)
    q = np.trace(lg.Q) / K
    M0 = (cfg["eps"] * min(1.0, np.sqrt(q)) if q > 1e-6 else cfg["eps0"]) * np.eye(K, d1)
    M0 = max(M0[0, 0], cfg["eps0"]) * np.eye(K, d1)
    Q0 = lg.Q + M0 @ M0.T
    # fit window: at most cfg t_fit and at most 1.5 e-foldings of the predicted growth (beyond
    # that |M| leaves the linear regime and the fitted slope underestimates the rate)
    t_fit = min(cfg["t_fit"], 1.5 / max(abs(lg.rate), 1e-9))
    t = np.linspace(0.0, t_fit, 9)
    sim = simulate_online(model, TAU, t_fit, replicas=cfg["R"], seed=seed, t_eval=t, M0=M0, Q0=Q0)
    t = sim.t
    p = np.einsum("trij,ij->tr", sim.M, M0) / np.linalg.norm(M0)                 # (T, R)
    rate = fitted_rate(t, p.mean(1))
    rng = np.random.default_rng(seed)
    boot = [fitted_rate(t, p[:, rng.integers(0, p.shape[1], p.shape[1])].mean(1)) for _ in range(300)]
    pred_p = [np.sum(M0 * (expm(lg.G * tt) @ M0)) / np.linalg.norm(M0) for tt in t]
    return rate, float(np.std(boot, ddof=1)), fitted_rate(t, np.array(pred_p))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/two_branch_features.png")
    ap.add_argument("--quick", action="store_true", help="small N and few seeds (seconds; numbers not meaningful)")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    t_start = time.time()
    out = {"setting": SETTING, "tau": TAU, "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
           "quick": args.quick}

    # (a) growth rate per law --------------------------------------------------------------
    print(f"(a) growth rate of |M| at (M = 0, Q*), per unit t; simulation N = {cfg['N']}, {cfg['R']} runs, "
          f"M0 = {cfg['eps']} I (times sqrt(tr Q*/K) if < 1, at least {cfg['eps0']} I), fit on t in [0, {cfg['t_fit']}]")
    growth = {}
    for law in LAWS:
        m = TwoBranch(N=cfg["N"], feature_law=law, **SETTING)
        lg = linear_growth(m, TAU, n_mc=cfg["n_mc"])
        lg1 = linear_growth(m, TAU, n_mc=cfg["n_mc"], seed=1)
        # two starting sizes eps and 2 eps: the rate's O(|M|^2) corrections (which depend on the
        # fourth moment: that is what selects features) are removed by extrapolating to M -> 0
        r1, se1, pred = measure_rate(m, lg, cfg, seed=11)
        r2, se2, _ = measure_rate(m, lg, dict(cfg, eps=2 * cfg["eps"]), seed=12)
        rate, se = (4 * r1 - r2) / 3, float(np.hypot(4 * se1, se2) / 3)
        z = (rate - pred) / se
        growth[law] = dict(ode_rate=lg.rate, ode_mc_error=abs(lg.rate - lg1.rate), ode_projection_rate=pred,
                           sim_rate=rate, sim_se=se, z=z, sim_rate_eps=r1, sim_se_eps=se1, sim_rate_2eps=r2,
                           sim_se_2eps=se2, Q_star=lg.Q.tolist())
        print(f"  {law:>10}: linearised ODE top rate {lg.rate:.4f} (MC error {abs(lg.rate - lg1.rate):.4f}), "
              f"projection rate {pred:.4f}; simulated from eps: {r1:.4f} +- {se1:.4f}, from 2 eps: {r2:.4f} +- "
              f"{se2:.4f}, extrapolated to M -> 0: {rate:.4f} +- {se:.4f} (s.e.); (sim - ODE)/s.e. = {z:+.2f}")
    rates = np.array([growth[k]["sim_rate"] for k in LAWS])
    ses = np.array([growth[k]["sim_se"] for k in LAWS])
    pair_z = max(abs(rates[i] - rates[j]) / np.hypot(ses[i], ses[j]) for i in range(4) for j in range(i + 1, 4))
    out["growth"] = growth
    out["growth_max_pairwise_z"] = float(pair_z)
    out["growth_all_within_3se_of_ode"] = bool(all(abs(growth[k]["z"]) < 3 for k in LAWS))
    print(f"  largest pairwise |difference| / s.e. between laws: {pair_z:.2f}; all within 3 s.e. of the "
          f"linearisation: {out['growth_all_within_3se_of_ode']}")

    # (b) threshold in mu ------------------------------------------------------------------
    base_m = TwoBranch(N=cfg["N"], **SETTING)
    mu_c = learning_threshold(base_m, TAU, "mu", 4.0, 12.0, n_mc=min(cfg["n_mc"], 20000), xtol=1e-3 if not args.quick else 0.1)
    mu_grid = np.linspace(0.0, 11.0, 12 if not args.quick else 3)
    ode_curve = [linear_growth(replace(base_m, mu=float(mu)), TAU, n_mc=min(cfg["n_mc"], 20000)).rate for mu in mu_grid]
    sim_mu = []
    print(f"(b) threshold in mu: linearised rate crosses 0 at mu_c = {mu_c:.3f} (dimensionless weight decay); "
          f"simulated rates (N = {cfg['N']}, {cfg['R_mu']} runs):")
    for mu in cfg["mus"]:
        m = replace(base_m, mu=float(mu))
        lg = linear_growth(m, TAU, n_mc=min(cfg["n_mc"], 20000))
        rate, se, pred = measure_rate(m, lg, dict(cfg, R=cfg["R_mu"]), seed=21)
        sim_mu.append(dict(mu=mu, sim_rate=rate, sim_se=se, ode_projection_rate=pred, Q_star_trace=float(np.trace(lg.Q))))
        print(f"  mu = {mu:5.2f}: simulated {rate:+.3f} +- {se:.3f}, linearised ODE {pred:+.3f} (tr Q* = "
              f"{np.trace(lg.Q):.3f})")
    r = np.array([d["sim_rate"] for d in sim_mu])
    mus = np.array(cfg["mus"], float)
    cross = np.nonzero((r[:-1] > 0) & (r[1:] <= 0))[0]
    mu_c_sim = float(mus[cross[0]] + r[cross[0]] * (mus[cross[0] + 1] - mus[cross[0]]) / (r[cross[0]] - r[cross[0] + 1])) \
        if len(cross) else None
    print(f"  simulated threshold (sign change, linear interpolation): "
          f"{'none in the grid' if mu_c_sim is None else f'{mu_c_sim:.3f}'}; linearisation {mu_c:.3f}")
    out["threshold"] = dict(mu_c_ode=mu_c, mu_c_sim=mu_c_sim, sim=sim_mu, ode_mu_grid=mu_grid.tolist(),
                            ode_rate_curve=ode_curve)

    # (c) selection -------------------------------------------------------------------------
    print(f"(c) selection, K = 1 unit, features (gaussian, X) of variance {SETTING['c_var']}, from M = 0; "
          f"simulation N = {cfg['N_sel']}, {cfg['R_sel']} seeds, winner at t = {cfg['t_sel']}:")
    sel = {}
    for law in LAWS:
        m = TwoBranch(N=cfg["N_sel"], **dict(SETTING, K=1, feature_law=f"gaussian,{law}"))
        p_ode, theta = selection_basin(m, TAU, cfg["t_sel"], n_mc=cfg["sel_mc"], iters=cfg["sel_iters"], dt=0.2)
        Q = fixed_point_q(m, TAU, n_mc=cfg["sel_mc"] * 4)
        sim = simulate_online(m, TAU, cfg["t_sel"], replicas=cfg["R_sel"], seed=31, t_eval=[0.0, cfg["t_sel"]],
                              M0=np.zeros((1, 2)), Q0=Q)
        a = np.abs(sim.M[-1, :, 0])
        won = a[:, 1] > a[:, 0]
        p = float(won.mean())
        se = float(np.sqrt(max(p * (1 - p), 1.0 / cfg["R_sel"]) / cfg["R_sel"]))
        sel[law] = dict(p_sim=p, p_se=se, p_ode=p_ode, theta_star=theta, final_max_abs_M_mean=float(a.max(1).mean()))
        print(f"  X = {law:>10}: P(unit selects X) simulated {p:.3f} +- {se:.3f} (binomial s.e.), ODE basin "
              f"fraction {p_ode:.3f} (boundary angle {np.degrees(theta):.1f} deg); mean final max|M| {a.max(1).mean():.2f}")
    out["selection"] = sel
    out["wall_s"] = time.time() - t_start

    fig, axes = new_figure(3, 4.6, 3.8)
    x = np.arange(4)
    axes[0].errorbar(x, rates, yerr=3 * ses, fmt="o", label="simulation (+- 3 s.e.)")
    axes[0].plot(x, [growth[k]["ode_projection_rate"] for k in LAWS], "k_", ms=20, mew=2, label="linearised ODE")
    axes[0].set_xticks(x, [f"{k}\nE c^4/c_var^2={q}" for k, q in zip(LAWS, ("3", "1", "1.8", "15"))], fontsize=7)
    axes[0].set_ylabel("growth rate of |M| (per unit t)")
    axes[0].set_title("(a) same variance, different 4th moments")
    axes[0].legend(fontsize=7)
    axes[1].plot(mu_grid, ode_curve, "k-", label="linearised ODE")
    axes[1].errorbar(mus, r, yerr=3 * np.array([d["sim_se"] for d in sim_mu]), fmt="o", label="simulation (+- 3 s.e.)")
    axes[1].axhline(0, color="gray", lw=0.8)
    axes[1].axvline(mu_c, color="k", ls="--", lw=0.8, label=f"mu_c = {mu_c:.2f}")
    axes[1].set_xlabel("weight decay mu")
    axes[1].set_ylabel("growth rate at M = 0 (per unit t)")
    axes[1].set_title("(b) learn (rate > 0) / not learn")
    axes[1].legend(fontsize=7)
    axes[2].bar(x - 0.18, [sel[k]["p_sim"] for k in LAWS], 0.36, yerr=[sel[k]["p_se"] for k in LAWS],
                label=f"simulation ({cfg['R_sel']} seeds, +- s.e.)")
    axes[2].bar(x + 0.18, [sel[k]["p_ode"] for k in LAWS], 0.36, label="ODE basin fraction")
    axes[2].axhline(0.5, color="gray", lw=0.8)
    axes[2].set_xticks(x, [f"gauss vs\n{k}" for k in LAWS], fontsize=7)
    axes[2].set_ylabel("P(unit selects feature X)")
    axes[2].set_title("(c) selection depends on higher moments")
    axes[2].legend(fontsize=7)
    print(f"wall time {out['wall_s']:.0f} s")
    save_with_numbers(fig, args.out, out)


if __name__ == "__main__":
    main()
