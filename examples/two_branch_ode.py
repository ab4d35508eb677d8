"""Two-branch contrastive learning concentrates on its high-dimensional ODE (paper 001).

Online SGD of the two-branch tanh network on the sphere model (``K = 2`` units, ``d1 = 2``
Gaussian features, view noise ``s = 0.5``, ``lambda = 0.5``, ``mu = 0.2``, ``c_var = 4``, ``tau =
1``) from an initial overlap that does not depend on ``N``, at several ``N`` with several seeds,
against the ODE of :mod:`neurocl.theory_two_branch`.  Left: ``M_ij(t)`` (simulation mean +- one
standard deviation over seeds as bands, ODE as lines) at the largest ``N``.  Right: the sup-norm
error ``max_t max(max_ij |M_sim - M_ode|, max_ij |Q_sim - Q_ode|)`` of one run (averaged over
seeds; ``M`` and ``Q`` are dimensionless: ``M_ij`` the overlap of unit ``i``'s weights with
feature ``j`` in units of ``sqrt(N)``, ``Q_ij`` the weights' inner products over ``N``) against
``N`` on log-log axes with the fitted slope (theory: ``-1/2``).  Also printed: the error of the
seed mean and the finite-``N`` fluctuation alone (each seed against the seed mean).

Start (``--start distinct``, default): unit ``i`` prefers feature ``i mod d1`` (``M0 = 0.3 / (1 +
i // d1)`` there, ``0.05`` elsewhere, times ``sqrt(init_norm)``; ``Q0`` with diagonal ``init_norm``), so
the trajectory learns the features without passing near a saddle (with ``K > d1`` the units that
repeat a feature start weaker, so which one keeps it is decided by the start, not by the
fluctuations: from equal starts the ODE stays on the symmetric manifold, where both units
decay, while each finite-``N`` run breaks the tie).  ``--start random`` is ``TwoBranch.initial_overlaps`` (both units along
nearly the same direction): then the units must break a symmetry, which amplifies the
``O(N^-1/2)`` fluctuations by the saddle's growth factor (one run's error at ``N = 8000`` is 0.07
there, the seed mean's 0.03, while the ODE's own error is below 1e-3: the escape from such a
start is the separate prediction of ``examples/two_branch_escape.py``).  With Gaussian features
the learned state is a circle of fixed points (rotations in feature space), along which
fluctuations diffuse: the error grows slowly with ``t`` even after the features are learned.

The ODE's expectations are computed without Monte Carlo in the feature and noise variables
(:func:`~neurocl.theory_two_branch.quadrature_drift`: one ``A K``-dimensional Gaussian
expectation by ``2^m`` scrambled Sobol points); its accuracy is stated as the sup-norm
difference between two independent scramblings (``ode_quadrature_error``) and the step error
as the difference against RK4 with ``dt / 2`` (``ode_step_error``).

Run:  python examples/two_branch_ode.py [--out examples/two_branch_ode.png] [--Ns 250,500,1000,2000,4000,8000]
      [--seeds 10] [--t-end 10] [--sobol-m 16 | --n-mc 50000] [--dt 0.05] [--start distinct|random]
      [--K 2] [--d1 2] [--activation tanh] [--feature-law gaussian] [--tau 1] [--s 0.5] [--lam 0.5] [--mu 0.2]
      [--init-norm 1]
"""

import argparse
import time

import matplotlib.ticker
import numpy as np

from neurocl.circuits.two_branch import TwoBranch
from neurocl.engines.numpy.two_branch import simulate_online
from neurocl.plotting import new_figure, save_with_numbers
from neurocl.theory_two_branch import draw_base, sobol_rule, solve_ode, symmetrised

SETTING = dict(K=2, d1=2, activation="tanh", s=0.5, lam=0.5, mu=0.2, c_var=4.0, init_overlap=0.1, init_noise=0.1)
TAU = 1.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/two_branch_ode.png")
    ap.add_argument("--Ns", default="250,500,1000,2000,4000,8000")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--t-end", type=float, default=10.0)
    ap.add_argument("--sobol-m", type=int, default=16, help="2^m scrambled Sobol points for the ODE's expectations")
    ap.add_argument("--n-mc", type=int, default=0,
                    help="> 0: Monte Carlo over this many symmetrised base draws instead (x 2^d1 copies)")
    ap.add_argument("--dt", type=float, default=0.05, help="RK4 step of the ODE (in t)")
    ap.add_argument("--start", choices=["distinct", "random"], default="distinct")
    ap.add_argument("--K", type=int, default=SETTING["K"], help="output units")
    ap.add_argument("--d1", type=int, default=SETTING["d1"], help="feature variables")
    ap.add_argument("--activation", default=SETTING["activation"], choices=["tanh", "erf", "relu", "linear"])
    ap.add_argument("--feature-law", default="gaussian")
    ap.add_argument("--tau", type=float, default=TAU, help="learning rate per sample")
    for name in ("s", "lam", "mu"):
        ap.add_argument(f"--{name}", type=float, default=SETTING[name])
    ap.add_argument("--init-norm", type=float, default=1.0, help="initial Q_ii")
    args = ap.parse_args(argv)
    Ns = [int(n) for n in args.Ns.split(",")]
    setting = dict(SETTING, K=args.K, d1=args.d1, activation=args.activation, mu=args.mu, s=args.s, lam=args.lam,
                   feature_law=args.feature_law, init_norm=args.init_norm,
                   init_overlap=SETTING["init_overlap"] * np.sqrt(args.init_norm),
                   init_noise=SETTING["init_noise"] * np.sqrt(args.init_norm))
    tau = args.tau
    n_steps = max(1, int(round(args.t_end / args.dt)))
    n_int = max(d for d in range(1, 41) if n_steps % d == 0)     # checkpoints on the RK4 grid (and dt / 2)
    t = np.linspace(0.0, args.t_end, n_int + 1)
    m0 = TwoBranch(N=Ns[0], **setting)
    if args.start == "random":
        M0, Q0 = m0.initial_overlaps(np.random.default_rng(0))
    else:
        units = np.arange(args.K)
        M0 = np.sqrt(args.init_norm) * np.where(np.arange(args.d1)[None, :] == (units % args.d1)[:, None],
                                                0.3 / (1 + units // args.d1)[:, None], 0.05)
        Q0 = M0 @ M0.T + np.diag(args.init_norm - (M0 * M0).sum(1))
    D = m0.views * m0.K

    def expectations(seed):
        if args.n_mc > 0:
            return dict(base=symmetrised(draw_base(m0, args.n_mc, np.random.default_rng(seed))))
        return dict(rule=sobol_rule(D, args.sobol_m, seed))

    t0 = time.time()
    ode = solve_ode(m0, M0, Q0, tau, args.t_end, dt=args.dt, t_eval=t, **expectations(0))
    ode_wall = time.time() - t0
    ode_b = solve_ode(m0, M0, Q0, tau, args.t_end, dt=args.dt, t_eval=t, **expectations(1))
    ode_h = solve_ode(m0, M0, Q0, tau, args.t_end, dt=args.dt / 2, t_eval=t, **expectations(0))
    how = (f"Monte Carlo over {args.n_mc} x 2^{args.d1} symmetrised base samples" if args.n_mc > 0
           else f"expectations by 2^{args.sobol_m} scrambled Sobol points")

    def sup(a, b):
        return float(max(np.abs(a.M - b.M).max(), np.abs(a.Q - b.Q).max()))

    qerr, step_err = sup(ode, ode_b), sup(ode, ode_h)
    print(f"ODE to t = {args.t_end:g} (RK4 dt = {args.dt:g}, {how}): "
          f"{ode_wall:.1f} s wall; quadrature error (two independent point sets, sup over t and entries of M and Q): "
          f"{qerr:.1e}; step error (dt vs dt/2, same points): {step_err:.1e}")
    print(f"ODE: M(0) = {np.round(M0, 3).tolist()}, M({args.t_end:g}) = {np.round(ode.M[-1], 3).tolist()}, "
          f"Q({args.t_end:g}) = {np.round(ode.Q[-1], 3).tolist()}")
    errors, errors_m, sims, bias, fluct = {}, {}, {}, {}, {}
    for N in Ns:
        t0 = time.time()
        sim = simulate_online(TwoBranch(N=N, **setting), tau, args.t_end, replicas=args.seeds, seed=N, t_eval=t,
                              M0=M0, Q0=Q0)
        errM = np.abs(sim.M - ode.M[:, None]).max(axis=(0, 2, 3))            # per seed
        err = np.maximum(errM, np.abs(sim.Q - ode.Q[:, None]).max(axis=(0, 2, 3)))
        R = sim.M.shape[1]
        errors[N] = (float(err.mean()), float(err.std(ddof=1) / np.sqrt(R)))
        errors_m[N] = (float(errM.mean()), float(errM.std(ddof=1) / np.sqrt(R)))
        sims[N] = sim.M
        bias[N] = float(max(np.abs(sim.M.mean(1) - ode.M).max(), np.abs(sim.Q.mean(1) - ode.Q).max()))
        # finite-N fluctuation alone: each seed against the seed mean
        fl = np.maximum(np.abs(sim.M - sim.M.mean(1, keepdims=True)).max(axis=(0, 2, 3)),
                        np.abs(sim.Q - sim.Q.mean(1, keepdims=True)).max(axis=(0, 2, 3))) * np.sqrt(R / (R - 1))
        fluct[N] = (float(fl.mean()), float(fl.std(ddof=1) / np.sqrt(R)))
        print(f"N = {N:>5}: sup-norm error of (M, Q) {errors[N][0]:.4f} +- {errors[N][1]:.4f} (one run; mean +- s.e. "
              f"over {R} seeds; of M alone {errors_m[N][0]:.4f}); of the seed mean {bias[N]:.4f}; fluctuation alone "
              f"(each seed against the seed mean, x sqrt(R/(R-1))) {fluct[N][0]:.4f} +- {fluct[N][1]:.4f}; "
              f"{time.time() - t0:.0f} s")
    logN = np.log(Ns)
    slope = float(np.polyfit(logN, np.log([errors[n][0] for n in Ns]), 1)[0])
    slope_mean = float(np.polyfit(logN, np.log([bias[n] for n in Ns]), 1)[0])
    print(f"fitted log-log slope of the error against N: {slope:.2f} (one run), {slope_mean:.2f} (seed mean); "
          f"theory -0.5")
    fig, axes = new_figure(2, 4.8, 3.8)
    big = Ns[-1]
    for i in range(setting["K"]):
        for j in range(setting["d1"]):
            m, sd = sims[big][:, :, i, j].mean(1), sims[big][:, :, i, j].std(1)
            line, = axes[0].plot(t, ode.M[:, i, j], label=f"M[{i},{j}] ODE")
            axes[0].fill_between(t, m - sd, m + sd, color=line.get_color(), alpha=0.25)
    axes[0].set_xlabel("t = samples / N")
    axes[0].set_ylabel("overlap M = W^T U / sqrt(N)")
    axes[0].set_title(f"N = {big}: simulation (bands: mean +- sd, {args.seeds} seeds) vs ODE")
    axes[0].legend(fontsize=7)
    e = np.array([errors[n][0] for n in Ns])
    axes[1].errorbar(Ns, e, yerr=[errors[n][1] for n in Ns], marker="o", label="one run vs ODE")
    axes[1].plot(Ns, [bias[n] for n in Ns], "s:", label=f"mean of {args.seeds} runs vs ODE")
    axes[1].plot(Ns, e[0] * (np.array(Ns) / Ns[0]) ** -0.5, "k--", label="N^-1/2")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xticks(Ns, [str(n) for n in Ns])
    axes[1].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[1].yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[1].set_xlabel("N (input dimension)")
    axes[1].set_ylabel("sup_t max_ij |(M, Q)_sim - (M, Q)_ode|")
    axes[1].set_title(f"fitted slope {slope:.2f}")
    axes[1].legend()
    save_with_numbers(fig, args.out,
        {"setting": setting, "tau": tau, "t_end": args.t_end, "seeds": args.seeds, "start": args.start,
         "M0": M0.tolist(), "Q0": Q0.tolist(), "ode_quadrature_error": qerr, "ode_step_error": step_err,
         "ode_dt": args.dt, "ode_expectations": how, "ode_wall_s": ode_wall,
         "ode_M_end": ode.M[-1].tolist(), "ode_Q_end": ode.Q[-1].tolist(),
         "error_definition": "sup over t in the grid and over entries of |M_sim - M_ode| and |Q_sim - Q_ode| "
                             "(dimensionless overlaps) of one run, mean and s.e. over seeds",
         "sup_error_mean_se": {str(n): errors[n] for n in Ns},
         "sup_error_M_mean_se": {str(n): errors_m[n] for n in Ns},
         "sup_error_of_seed_mean": {str(n): bias[n] for n in Ns},
         "sup_fluctuation_mean_se": {str(n): fluct[n] for n in Ns}, "slope": slope,
         "slope_seed_mean": slope_mean})


if __name__ == "__main__":
    main()
