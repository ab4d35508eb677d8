"""Two-branch contrastive learning concentrates on its high-dimensional ODE (paper 001).

Online SGD of the two-branch tanh network on the sphere model (``K = 2`` units, ``d1 = 2``
features, view noise ``s = 0.5``, ``lambda = 0.5``, ``mu = 0.2``, ``c_var = 4``, ``tau = 1``)
from an initial overlap that does not depend on ``N``, at several ``N`` with several seeds,
against the ODE of :mod:`neurocl.theory_two_branch`.  Left: ``M_ij(t)`` (simulation mean +-
one standard deviation over seeds as bands, ODE as lines) at the largest ``N``.  Right: the
sup-norm error ``max_t max_ij |M_sim - M_ode|`` (one seed's error, averaged over seeds;
overlaps are dimensionless cosines scaled by the weight norm) against ``N`` on log-log axes
with the fitted slope (theory: ``-1/2``).  Prints every number and saves them beside the figure.

Run:  python examples/two_branch_ode.py [--out examples/two_branch_ode.png] [--Ns 250,500,1000,2000,4000,8000]
      [--seeds 10] [--t-end 5]
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
from neurocl.theory_two_branch import solve_ode

SETTING = dict(K=2, d1=2, activation="tanh", s=0.5, lam=0.5, mu=0.2, c_var=4.0, init_overlap=0.1, init_noise=0.1)
TAU = 1.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/two_branch_ode.png")
    ap.add_argument("--Ns", default="250,500,1000,2000,4000,8000")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--t-end", type=float, default=5.0)
    ap.add_argument("--n-mc", type=int, default=20000, help="Monte Carlo base samples of the ODE")
    args = ap.parse_args(argv)
    Ns = [int(n) for n in args.Ns.split(",")]
    t = np.linspace(0.0, args.t_end, 21)
    M0, Q0 = TwoBranch(N=Ns[0], **SETTING).initial_overlaps(np.random.default_rng(0))
    t0 = time.time()
    ode = solve_ode(TwoBranch(N=Ns[0], **SETTING), M0, Q0, TAU, args.t_end, dt=0.02, n_mc=args.n_mc, t_eval=t)
    ode_b = solve_ode(TwoBranch(N=Ns[0], **SETTING), M0, Q0, TAU, args.t_end, dt=0.02, n_mc=args.n_mc, seed=1,
                      t_eval=t)
    mc = float(np.abs(ode.M - ode_b.M).max())
    print(f"ODE to t = {args.t_end:g}: {time.time() - t0:.1f} s; Monte Carlo error (two base-sample sets, "
          f"sup over t of |M|): {mc:.4f}")
    errors, sims = {}, {}
    for N in Ns:
        t0 = time.time()
        sim = simulate_online(TwoBranch(N=N, **SETTING), TAU, args.t_end, replicas=args.seeds, seed=N, t_eval=t,
                              M0=M0, Q0=Q0)
        err = np.abs(sim.M - ode.M[:, None]).max(axis=(0, 2, 3))            # per seed
        errors[N] = (float(err.mean()), float(err.std(ddof=1) / np.sqrt(len(err))))
        sims[N] = sim.M
        print(f"N = {N:>5}: sup-norm error of M {errors[N][0]:.4f} +- {errors[N][1]:.4f} (mean +- s.e. over "
              f"{args.seeds} seeds), {time.time() - t0:.0f} s")
    logN = np.log(Ns)
    slope = float(np.polyfit(logN, np.log([errors[n][0] for n in Ns]), 1)[0])
    print(f"fitted log-log slope of the error against N: {slope:.2f} (theory -0.5)")
    fig, axes = new_figure(2, 4.8, 3.8)
    big = Ns[-1]
    for i in range(SETTING["K"]):
        for j in range(SETTING["d1"]):
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
        {"setting": SETTING, "tau": TAU, "t_end": args.t_end, "seeds": args.seeds, "ode_mc_error": mc,
         "sup_error_mean_se": {str(n): errors[n] for n in Ns}, "slope": slope}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
