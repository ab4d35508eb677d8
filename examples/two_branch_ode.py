"""Two-branch contrastive learning concentrates on its high-dimensional ODE (paper 001).

Online SGD of the two-branch tanh network on the sphere model (``K = 2`` units, ``d1 = 2``
features, view noise ``s = 0.5``, ``lambda = 0.5``, ``mu = 0.2``, ``c_var = 4``, ``tau = 1``)
from an initial overlap that does not depend on ``N``, at several ``N`` with several seeds,
against the ODE of :mod:`neurocl.theory_two_branch`.  Left: ``M_ij(t)`` (simulation mean +-
one standard deviation over seeds as bands, ODE as lines) at the largest ``N``.  Right: the
sup-norm error ``max_t max_ij |M_sim - M_ode|`` (one seed's error, averaged over seeds;
also printed: the error of the seed mean, and the finite-``N`` fluctuation alone, each seed
against the seed mean;
overlaps are dimensionless cosines scaled by the weight norm) against ``N`` on log-log axes
with the fitted slope (theory: ``-1/2``).  Prints every number and saves them beside the figure.

The ODE's expectations are Monte Carlo over base samples that are :func:`symmetrised` by
default (every sign flip of each feature: the ODE's symmetry ``M_{:,j} -> -M_{:,j}`` holds
exactly, so Monte Carlo noise cannot break it); its accuracy is stated as the sup-norm
difference of ``M`` between two solutions with independent base samples (``ode_mc_error``) and
the step error as the difference against ``dt / 2`` (``ode_step_error``).

Run:  python examples/two_branch_ode.py [--out examples/two_branch_ode.png] [--Ns 250,500,1000,2000,4000,8000]
      [--seeds 10] [--t-end 5] [--n-mc 50000] [--dt 0.05] [--no-symmetrised]
"""

import argparse
import json
import time
from pathlib import Path

import matplotlib.ticker
import numpy as np

from neurocl.atomic import write_text_atomic
from neurocl.circuits.two_branch import TwoBranch
from neurocl.engines.numpy.two_branch import simulate_online
from neurocl.plotting import new_figure, save
from neurocl.theory_two_branch import draw_base, solve_ode, symmetrised

SETTING = dict(K=2, d1=2, activation="tanh", s=0.5, lam=0.5, mu=0.2, c_var=4.0, init_overlap=0.1, init_noise=0.1)
TAU = 1.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/two_branch_ode.png")
    ap.add_argument("--Ns", default="250,500,1000,2000,4000,8000")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--t-end", type=float, default=5.0)
    ap.add_argument("--n-mc", type=int, default=50000, help="Monte Carlo base samples of the ODE (before symmetrising)")
    ap.add_argument("--dt", type=float, default=0.05, help="RK4 step of the ODE (in t)")
    ap.add_argument("--K", type=int, default=SETTING["K"], help="output units")
    ap.add_argument("--d1", type=int, default=SETTING["d1"], help="feature variables")
    ap.add_argument("--activation", default=SETTING["activation"], choices=["tanh", "erf", "relu", "linear"])
    ap.add_argument("--mu", type=float, default=SETTING["mu"], help="weight decay")
    ap.add_argument("--symmetrised", action=argparse.BooleanOptionalAction, default=True,
                    help="symmetrised base samples (2^d1 sign copies; default on)")
    args = ap.parse_args(argv)
    Ns = [int(n) for n in args.Ns.split(",")]
    setting = dict(SETTING, K=args.K, d1=args.d1, activation=args.activation, mu=args.mu)
    t = np.linspace(0.0, args.t_end, 21)
    M0, Q0 = TwoBranch(N=Ns[0], **setting).initial_overlaps(np.random.default_rng(0))
    t0 = time.time()
    m0 = TwoBranch(N=Ns[0], **setting)

    def base(seed):
        b = draw_base(m0, args.n_mc, np.random.default_rng(seed))
        return symmetrised(b) if args.symmetrised else b

    b0 = base(0)
    ode = solve_ode(m0, M0, Q0, TAU, args.t_end, dt=args.dt, base=b0, t_eval=t)
    ode_wall = time.time() - t0
    ode_b = solve_ode(m0, M0, Q0, TAU, args.t_end, dt=args.dt, base=base(1), t_eval=t)
    ode_h = solve_ode(m0, M0, Q0, TAU, args.t_end, dt=args.dt / 2, base=b0, t_eval=t)
    mc = float(np.abs(ode.M - ode_b.M).max())
    step_err = float(np.abs(ode.M - ode_h.M).max())
    n_base = len(b0.c)
    print(f"ODE to t = {args.t_end:g} (RK4 dt = {args.dt:g}, {n_base} base samples"
          f"{' symmetrised' if args.symmetrised else ''}): {ode_wall:.1f} s wall; Monte Carlo error (two independent "
          f"base-sample sets, sup over t and entries of |M_a - M_b|): {mc:.4f}; step error (dt vs dt/2, same samples): "
          f"{step_err:.2e}")
    errors, sims, bias, fluct = {}, {}, {}, {}
    for N in Ns:
        t0 = time.time()
        sim = simulate_online(TwoBranch(N=N, **setting), TAU, args.t_end, replicas=args.seeds, seed=N, t_eval=t,
                              M0=M0, Q0=Q0)
        err = np.abs(sim.M - ode.M[:, None]).max(axis=(0, 2, 3))            # per seed
        errors[N] = (float(err.mean()), float(err.std(ddof=1) / np.sqrt(len(err))))
        sims[N] = sim.M
        bias[N] = float(np.abs(sim.M.mean(1) - ode.M).max())                  # error of the seed mean
        R = sim.M.shape[1]                  # finite-N fluctuation alone: each seed against the seed mean
        fl = np.abs(sim.M - sim.M.mean(1, keepdims=True)).max(axis=(0, 2, 3)) * np.sqrt(R / (R - 1))
        fluct[N] = (float(fl.mean()), float(fl.std(ddof=1) / np.sqrt(R)))
        print(f"N = {N:>5}: sup-norm error of M {errors[N][0]:.4f} +- {errors[N][1]:.4f} (mean +- s.e. over "
              f"{args.seeds} seeds); of the seed mean {bias[N]:.4f}; fluctuation alone (each seed against the seed mean, "
              f"x sqrt(R/(R-1))) {fluct[N][0]:.4f} +- {fluct[N][1]:.4f}; {time.time() - t0:.0f} s")
    logN = np.log(Ns)
    slope = float(np.polyfit(logN, np.log([errors[n][0] for n in Ns]), 1)[0])
    print(f"fitted log-log slope of the error against N: {slope:.2f} (theory -0.5)")
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
    axes[1].errorbar(Ns, e, yerr=[errors[n][1] for n in Ns], marker="o", label="simulation vs ODE")
    axes[1].plot(Ns, e[0] * (np.array(Ns) / Ns[0]) ** -0.5, "k--", label="N^-1/2")
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_xticks(Ns, [str(n) for n in Ns])
    axes[1].xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[1].yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[1].set_xlabel("N (input dimension)")
    axes[1].set_ylabel("sup_t max_ij |M_sim - M_ode|")
    axes[1].set_title(f"fitted slope {slope:.2f}")
    axes[1].legend()
    save(fig, args.out)
    write_text_atomic(Path(args.out).with_suffix(".json"), json.dumps(
        {"setting": setting, "tau": TAU, "t_end": args.t_end, "seeds": args.seeds, "ode_mc_error": mc,
         "ode_step_error": step_err, "ode_dt": args.dt, "ode_base_samples": n_base, "symmetrised": args.symmetrised,
         "ode_wall_s": ode_wall,
         "sup_error_mean_se": {str(n): errors[n] for n in Ns},
         "sup_error_of_seed_mean": {str(n): bias[n] for n in Ns},
         "sup_fluctuation_mean_se": {str(n): fluct[n] for n in Ns}, "slope": slope}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
