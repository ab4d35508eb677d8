"""`two_branch_speed` workload (issue 14, "Speed"): online SGD of the two-branch network on the
sphere model, one fresh sample per step, exact (each step sees the weights of the previous).

Model: ``TwoBranch(N=8000, K=4, d1=3, views=2)`` (tanh, s = 0.5, rho = 0, lambda = 1,
mu = 0.5, Gaussian features of variance 4), ``tau = 1`` per step, ``t = steps / N``.

Peers, in the same run:

* ``engine``: :func:`neurocl.engines.numpy.two_branch.simulate_online` (numba kernels:
  ``A N`` normals per sample from a ziggurat, views mixed per coordinate with the exact
  ``span(U)`` replacement, the per-sample update along contiguous rows; chunks of each block
  of samples drawn in parallel threads).
* ``plain``: the straightforward vectorised numpy loop of the same update: per sample
  ``x = U c + (I - U U^T) g``, views ``x + s L xi`` from ``Generator.standard_normal``
  (``(1 + A) N`` normals), ``h = X W / sqrt(N)``, ``e = output_errors(h)``,
  ``W <- (1 - tau mu / N) W - tau / sqrt(N) X^T e`` (BLAS limited to one thread: its
  small products are faster so, and its idle BLAS threads would spin).

Figure of merit: samples per second (wall clock) = samples / wall s, the median over
alternating rounds of the two peers (the machine's load changes; both see the same), and CPU
microseconds per sample (all threads).  Also: the wall time of
the full ``N = 8000, K = 4, t = 20`` run (160,000 samples) on the engine, and (``--ode``) the
wall time of :func:`neurocl.theory_two_branch.solve_ode` to ``t = 20`` with its expectations
by quadrature (``2^14`` scrambled Sobol points in the 8-dimensional Gaussian of the
pre-activations, :func:`~neurocl.theory_two_branch.quadrature_drift`) and adaptive steps
(``rtol = 1e-6``), and for comparison at its Monte Carlo defaults (RK4, ``dt = 0.05``, 20,000
base samples, numba drift kernel); (``--ode-accuracy``) the quadrature solution's step error
(against ``rtol = 1e-8``) and quadrature error (against a second scrambling), and the Monte
Carlo solution's error (against a second base-sample set).  numba compile/cache-load time is
excluded (a warm-up run first) and reported apart.

Run:  python benchmarks/two_branch_speed.py [--t-end 20] [--rounds 3] [--plain-samples 1000]
      [--ode [--ode-accuracy] [--sobol-m 14]]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np


def _machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numba

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return (f"{platform.machine()} '{model}', {os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
            f"load average (1 min) {load[0]:.2f}")


def plain_loop(model, tau: float, n_samples: int, seed: int = 0) -> float:
    """The straightforward per-sample numpy loop; returns the wall seconds of ``n_samples``."""
    from neurocl.circuits.two_branch import frame, output_errors, sample_features, view_noise_factor

    rng = np.random.default_rng(seed)
    N, d1, A = model.N, model.d1, model.views
    U = frame(N, d1, rng)
    M0, Q0 = model.initial_overlaps(rng)
    W = model.init_weights(U, M0, Q0, rng)
    L = view_noise_factor(A, model.rho)
    scale, decay = tau / np.sqrt(N), 1.0 - tau * model.mu / N
    from threadpoolctl import threadpool_limits

    limits = threadpool_limits(1, "blas")     # its small products run faster without BLAS threads
    t0 = time.perf_counter()
    for _ in range(n_samples):
        c = sample_features(model.feature_law, rng, d1, model.c_var)
        g = rng.standard_normal(N)
        x = g + U @ (c - U.T @ g)
        X = x + model.s * (L @ rng.standard_normal((A, N)))                          # (A, N)
        e = output_errors(X @ W / np.sqrt(N), model.activation, model.lam)         # (A, K)
        W *= decay
        W -= scale * (X.T @ e)
    wall = time.perf_counter() - t0
    limits.restore_original_limits()
    return wall


def engine_run(model, tau: float, t_end: float, seed: int = 0, block: int = 64) -> float:
    """Wall seconds of :func:`simulate_online` for ``t_end * N`` samples (one replica)."""
    from neurocl.engines.numpy.two_branch import simulate_online

    t0 = time.perf_counter()
    simulate_online(model, tau, t_end, replicas=1, seed=seed, t_eval=[t_end], block=block)
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--N", type=int, default=8000)
    ap.add_argument("--K", type=int, default=4)
    ap.add_argument("--t-end", type=float, default=20.0, help="engine run length in t = steps / N")
    ap.add_argument("--plain-samples", type=int, default=1000, help="samples per round on the plain loop")
    ap.add_argument("--rounds", type=int, default=3, help="alternating engine/plain rounds for samples/s")
    ap.add_argument("--block", type=int, default=64, help="engine samples per block")
    ap.add_argument("--ode", action="store_true", help="also time solve_ode to t_end at its defaults")
    ap.add_argument("--ode-accuracy", action="store_true", help="with --ode: also its step error (rtol 1e-8) and "
                    "quadrature error (second scrambling), and the Monte Carlo path's error (second base-sample set)")
    ap.add_argument("--sobol-m", type=int, default=14, help="with --ode: 2^m Sobol points of the quadrature")
    args = ap.parse_args(argv)

    from neurocl.circuits.two_branch import TwoBranch

    model = TwoBranch(N=args.N, K=args.K, d1=3)
    tau = 1.0
    print(f"two_branch_speed workload: N = {model.N}, K = {model.K}, d1 = {model.d1}, A = {model.views} views, "
          f"{model.activation}, s = {model.s:g}, rho = {model.rho:g}, lambda = {model.lam:g}, mu = {model.mu:g}, "
          f"tau = {tau:g}; exact online SGD, one fresh sample per step")
    print(f"machine: {_machine()}")
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")

    t0 = time.perf_counter()
    engine_run(TwoBranch(N=200, K=args.K, d1=3), tau, 1.0)                     # compile or load the kernels
    compile_s = time.perf_counter() - t0

    # samples/s: alternating rounds (engine t = 1, i.e. N samples; plain loop --plain-samples),
    # so both peers see the same machine load; medians over rounds
    rounds = []
    for _ in range(args.rounds):
        c0 = time.process_time()
        w_e = engine_run(model, tau, 1.0, block=args.block)
        c_e = time.process_time() - c0
        c0 = time.process_time()
        w_p = plain_loop(model, tau, args.plain_samples)
        c_p = time.process_time() - c0
        rounds.append((model.N / w_e, args.plain_samples / w_p, c_e / model.N * 1e6, c_p / args.plain_samples * 1e6))
    r = np.array(rounds)
    rate_engine, rate_plain = np.median(r[:, 0]), np.median(r[:, 1])
    ratio = np.median(r[:, 0] / r[:, 1])
    print(f"samples/s, median of {args.rounds} alternating rounds (engine: {model.N} samples = t 1; plain: "
          f"{args.plain_samples} samples per round)")
    print(f"{'peer':<8} {'samples/s (wall)':>17} {'CPU us/sample':>14} {'x plain':>8}")
    print(f"{'engine':<8} {rate_engine:>17.0f} {np.median(r[:, 2]):>14.1f} {ratio:>8.2f}")
    print(f"{'plain':<8} {rate_plain:>17.0f} {np.median(r[:, 3]):>14.1f} {1.0:>8.2f}")
    print(f"per round (engine, plain samples/s): {', '.join(f'({a:.0f}, {b:.0f})' for a, b in r[:, :2])}")
    print(f"numba compile / cache load (excluded): {compile_s:.1f} s")

    n_engine = int(round(args.t_end * model.N))
    c0 = time.process_time()
    wall_engine = engine_run(model, tau, args.t_end, block=args.block)
    cpu_engine = time.process_time() - c0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"engine: N = {model.N}, K = {model.K}, t = {args.t_end:g} ({n_engine} samples): {wall_engine:.2f} s wall "
          f"(target < 10 s); CPU {cpu_engine:.2f} s (all threads); load average after: {load:.2f}")
    ode_note = ""
    if args.ode:
        from neurocl.theory_two_branch import sobol_rule, solve_ode

        M0, Q0 = model.initial_overlaps(np.random.default_rng(0))
        t_chk = np.linspace(0.0, args.t_end, 41)
        D = model.views * model.K
        quad = dict(rule=sobol_rule(D, args.sobol_m, 0), rtol=1e-6)
        solve_ode(TwoBranch(N=200, K=args.K, d1=3), M0, Q0, tau, 0.1, **quad)      # compile or load the kernels
        t0, c0 = time.perf_counter(), time.process_time()
        ref = solve_ode(model, M0, Q0, tau, args.t_end, t_eval=t_chk, **quad)
        wall_ode, cpu_ode = time.perf_counter() - t0, time.process_time() - c0
        print(f"solve_ode to t = {args.t_end:g}, quadrature (2^{args.sobol_m} scrambled Sobol points in the "
              f"{D}-dimensional Gaussian of the pre-activations) and adaptive steps (rtol 1e-6): {wall_ode:.2f} s wall "
              f"(target < 30 s), CPU {cpu_ode:.2f} s")
        t0 = time.perf_counter()
        mc = solve_ode(model, M0, Q0, tau, args.t_end, t_eval=t_chk)
        wall_mc = time.perf_counter() - t0
        print(f"solve_ode to t = {args.t_end:g}, Monte Carlo (20,000 base samples, RK4 dt = 0.05, numba drift): "
              f"{wall_mc:.2f} s wall")
        if args.ode_accuracy:
            sup = lambda a, b: max(np.abs(a.M - b.M).max(), np.abs(a.Q - b.Q).max())  # noqa: E731
            fine = solve_ode(model, M0, Q0, tau, args.t_end, t_eval=t_chk, rule=quad["rule"], rtol=1e-8)
            other = solve_ode(model, M0, Q0, tau, args.t_end, t_eval=t_chk, rule=sobol_rule(D, args.sobol_m, 1),
                              rtol=1e-6)
            mc1 = solve_ode(model, M0, Q0, tau, args.t_end, seed=1, t_eval=t_chk)
            print(f"  accuracy (sup over t in [0, {args.t_end:g}] and entries of |M|, |Q|): quadrature: step error "
                  f"(rtol 1e-6 vs 1e-8) {sup(ref, fine):.1e}, quadrature error (scramblings 0 vs 1) "
                  f"{sup(ref, other):.1e}; Monte Carlo: error (base-sample seeds 0 vs 1) {sup(mc, mc1):.3f}; "
                  f"this start (M0 = {model.init_overlap:g} + {model.init_noise:g} N(0, 1)) is nearly symmetric "
                  f"(Gaussian features: the ODE is invariant under rotations of feature space and permutations of "
                  f"units), so small errors in the drift decide which unit learns which direction")
        ode_note = f", ode_t{args.t_end:g}_wall={wall_ode:.2f}s"
    print(f"two_branch_speed: engine={rate_engine:.0f} plain={rate_plain:.0f} samples/s, "
          f"speed-up={ratio:.2f}x, t{args.t_end:g}_wall={wall_engine:.2f}s{ode_note}")


if __name__ == "__main__":
    main()
