"""Escape from the uninformative fixed point takes a time that grows like log N (paper 001).

From ``M = 0`` exactly the high-dimensional ODE of :mod:`neurocl.theory_two_branch` never
leaves its fixed point (the drift of ``M`` vanishes there), while a finite-``N`` run escapes:
the SGD noise gives ``M`` fluctuations of order ``N^-1/2``, which the linearised dynamics
``dM/dt = G M`` amplify like ``exp(lambda t)`` (``lambda`` the largest real part of the
eigenvalues of ``G``, :func:`~neurocl.theory_two_branch.linear_growth`, taken at the ``Q*`` the
ODE settles at with ``M = 0``).  The overlap reaches a fixed level ``m*`` at

    t_esc(N) = (1 / (2 lambda)) log N + const,

so the escape time against ``log N`` is a straight line of slope ``1 / (2 lambda)``: the second
prediction of the issue's point 1.  Simulation: online SGD of the two-branch tanh network (the
setting of ``two_branch_ode.py``) from ``M = 0``, ``Q = I`` at several ``N`` with several seeds;
``t_esc`` is the first recorded ``t`` (``t = samples / N``) at which ``max_ij |M_ij| >= m*``,
with ``m*`` half the overlap the ODE reaches from a small start.  Prints every number and saves
them beside the figure.

Run:  python examples/two_branch_escape.py [--Ns 250,500,1000,2000,4000,8000] [--seeds 10] [--t-end 15]
      [--replot]
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neurocl.atomic import write_text_atomic
from neurocl.circuits.two_branch import TwoBranch
from neurocl.engines.numpy.two_branch import simulate_online
from neurocl.plotting import new_figure, save
from neurocl.theory_two_branch import linear_growth, solve_ode

SETTING = dict(K=2, d1=2, activation="tanh", s=0.5, lam=0.5, mu=0.2, c_var=4.0, init_overlap=0.0, init_noise=0.0)
TAU = 1.0


def escape_times(M: np.ndarray, t: np.ndarray, level: float) -> np.ndarray:
    """First ``t`` with ``max_ij |M_ij| >= level`` per replica (``M``: (T, R, K, d1)); ``nan``
    where the level is never reached."""
    reached = np.abs(M).max(axis=(2, 3)) >= level                        # (T, R)
    first = reached.argmax(0)
    return np.where(reached.any(0), t[first], np.nan)


def fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares slope, intercept and the slope's standard error of ``y`` on ``x``."""
    A = np.stack([x, np.ones_like(x)], 1)
    coef, res, *_ = np.linalg.lstsq(A, y, rcond=None)
    dof = len(x) - 2
    sigma2 = float(((y - A @ coef) ** 2).sum() / dof) if dof > 0 else np.nan
    se = float(np.sqrt(sigma2 * np.linalg.inv(A.T @ A)[0, 0])) if dof > 0 else np.nan
    return float(coef[0]), float(coef[1]), se


def plot(res: dict, out: str) -> None:
    """The figure from the saved numbers (``--replot`` redraws it without simulating)."""
    Ns = res["Ns"]
    esc = {n: np.array([np.nan if v is None else v for v in res["escape_times"][str(n)]]) for n in Ns}
    slope, icpt, se, pred = res["fitted_slope"], res["fitted_intercept"], res["fitted_slope_se"], res["predicted_slope"]
    fig, axes = new_figure(1, 5.2, 3.8)
    ax = axes[0]
    for n in Ns:
        ok = esc[n][np.isfinite(esc[n])]
        ax.plot(np.full(len(ok), np.log(n)), ok, ".", color="0.6")
    ax.plot(np.log(Ns), [np.nanmean(esc[n]) for n in Ns], "o", label="simulation (mean over seeds; dots: seeds)")
    xs = np.log(np.array([Ns[0], Ns[-1]], float))
    ax.plot(xs, slope * xs + icpt, "-", label=f"fit: slope {slope:.2f} +- {se:.2f}")
    x = np.concatenate([np.full(np.isfinite(esc[n]).sum(), np.log(n)) for n in Ns])
    y = np.concatenate([esc[n][np.isfinite(esc[n])] for n in Ns])
    ax.plot(xs, pred * xs + float(np.mean(y - pred * x)), "k--", label=f"theory: slope 1/(2 lambda) = {pred:.2f}")
    ax.set_xticks(np.log(Ns), [str(n) for n in Ns])
    ax.set_xlabel("N (input dimension, log scale)")
    ax.set_ylabel("escape time (t = samples / N)")
    ax.set_title(f"time to max|M| = {res['escape_level']:.2f} from M = 0 vs log N")
    ax.legend(fontsize=7)
    save(fig, out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/two_branch_escape.png")
    ap.add_argument("--Ns", default="250,500,1000,2000,4000,8000")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--t-end", type=float, default=15.0)
    ap.add_argument("--n-mc", type=int, default=200000, help="Monte Carlo samples of the growth rate (per set)")
    ap.add_argument("--replot", action="store_true", help="redraw the figure from the saved JSON (no simulation)")
    args = ap.parse_args(argv)
    if args.replot:
        plot(json.loads(Path(args.out).with_suffix(".json").read_text()), args.out)
        print(f"wrote {args.out}")
        return
    Ns = [int(n) for n in args.Ns.split(",")]
    model = TwoBranch(N=Ns[0], **SETTING)
    M0, Q0 = model.initial_overlaps(np.random.default_rng(0))          # M0 = 0, Q0 = I
    lin = [linear_growth(model, TAU, n_mc=args.n_mc, seed=seed) for seed in (0, 1)]
    Qstar, lam_a, lam_b = lin[0].Q, lin[0].rate, lin[1].rate
    lam, lam_err = 0.5 * (lam_a + lam_b), 0.5 * abs(lam_a - lam_b)     # two independent Monte Carlo sets
    print(f"uninformative fixed point (M = 0): Q* diag {np.diag(Qstar).round(4)}")
    print(f"growth rate lambda at the fixed point: {lam:.4f} +- {lam_err:.4f} per unit t (mean and half-difference "
          f"of two Monte Carlo sets of {args.n_mc}); predicted slope of t_esc against log N: 1/(2 lambda) = "
          f"{0.5 / lam:.3f} +- {0.5 * lam_err / lam ** 2:.3f}")
    # the overlap a learned feature reaches: the ODE from a small start
    learned = solve_ode(model, M0 + 1e-2, Q0, TAU, args.t_end, dt=0.05, n_mc=min(args.n_mc, 20000), t_eval=[args.t_end])
    level = 0.5 * float(np.abs(learned.M[-1]).max())
    print(f"escape level m* = half the ODE's final max |M_ij| from M = 0.01: {level:.3f}")
    t = np.linspace(0.0, args.t_end, int(round(args.t_end / 0.1)) + 1)
    esc = {}
    for N in Ns:
        t0 = time.time()
        sim = simulate_online(TwoBranch(N=N, **SETTING), TAU, args.t_end, replicas=args.seeds, seed=N, t_eval=t,
                              M0=M0, Q0=Q0)
        te = escape_times(sim.M, sim.t, level)
        esc[N] = te
        ok = te[np.isfinite(te)]
        print(f"N = {N:>5}: escape time {ok.mean():.2f} +- {ok.std(ddof=1) / np.sqrt(len(ok)) if len(ok) > 1 else 0:.2f} "
              f"(mean +- s.e., t units) over {len(ok)}/{args.seeds} seeds that escaped by t = {args.t_end:g}; "
              f"{time.time() - t0:.0f} s")
    x = np.concatenate([np.full(np.isfinite(esc[n]).sum(), np.log(n)) for n in Ns])
    y = np.concatenate([esc[n][np.isfinite(esc[n])] for n in Ns])
    slope, icpt, se = fit_line(x, y)
    print(f"fitted slope of t_esc against log N: {slope:.3f} +- {se:.3f} (s.e.); predicted 1/(2 lambda) = "
          f"{0.5 / lam:.3f}; ratio {slope * 2 * lam:.2f}")
    result = {"setting": SETTING, "tau": TAU, "t_end": args.t_end, "seeds": args.seeds, "Ns": Ns,
              "Q_fixed_point": Qstar.tolist(), "growth_rate": lam, "growth_rate_mc_sets": [lam_a, lam_b],
              "n_mc": args.n_mc, "escape_level": level,
              "escape_times": {str(n): [None if not np.isfinite(v) else float(v) for v in esc[n]] for n in Ns},
              "fitted_slope": slope, "fitted_slope_se": se, "fitted_intercept": icpt, "predicted_slope": 0.5 / lam,
              "predicted_slope_mc_error": 0.5 * lam_err / lam ** 2,
              "units": "t = samples / N; overlaps M = W^T U / sqrt(N) dimensionless; lambda per unit t"}
    write_text_atomic(Path(args.out).with_suffix(".json"), json.dumps(result, indent=1))
    plot(result, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
