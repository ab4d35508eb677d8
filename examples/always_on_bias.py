"""Bias of always-on learning against the mean phase length and the learning rate
(Williams et al. ICML 2023: bias O(eta s / tau) + O(eta^2 tau), i.e. a relative bias
O(s / tau) + O(eta tau) per unit of learning).

bas3 RBM from moderately trained weights (a short ideal ISD run, weights scaled by 0.6 so the
gradient is not ~0); for each mean phase length tau and learning rate eta, ``R`` replicas
learn with ISD (b = 0.5, exponential phases) for ``T`` ms; their mean end point is compared
with the exact gradient flow over the same window (``neurocl.experiments.always_on_bias``).
Dotted lines: slopes -1 (mixing term s/tau) and +1 (eta tau term); grey band: Monte Carlo
noise floor (2 s.e.).

Run:  python examples/always_on_bias.py [--out examples/always_on_bias.png] [--replicas R] [--window MS]
"""

import argparse

import numpy as np

from neurocl.circuits import RBM
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task, get_engine
from neurocl.experiments.always_on_bias import always_on_bias
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD
from neurocl.plotting import new_figure, save


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/always_on_bias.png")
    ap.add_argument("--replicas", type=int, default=256)
    ap.add_argument("--window", type=float, default=20000.0, help="learning window T (ms)")
    ap.add_argument("--taus", default="1,2,4,8,16,32,64")
    ap.add_argument("--etas", default="1e-4,1e-3")
    args = ap.parse_args(argv)
    data = bars_and_stripes(3)
    rbm = RBM(9, 16, init_scale=0.1)
    pre = get_engine("numpy").run(rbm, ISD(1e-4), StochasticPhases(0.5, Exponential(10.0)),
                                  Task(clamp=data, evaluate=lambda p: {}),
                                  Simulation(dt=2.0, duration=4_000_000.0, replicas=1, checkpoints=1))
    p0 = {k: 0.6 * v[0] for k, v in pre.params.items()}
    taus = [float(x) for x in args.taus.split(",")]
    etas = [float(x) for x in args.etas.split(",")]
    fig, (ax,) = new_figure(1, 5.4, 4.0)
    for i, eta in enumerate(etas):
        est = [always_on_bias(rbm, data, p0, eta, tau, args.window, args.replicas, seed=i) for tau in taus]
        rb = np.array([e.relative_bias for e in est])
        se = np.array([e.se for e in est])
        ax.plot(taus, rb, "o-", color=f"C{i}", label=f"eta = {eta:g} /ms")
        ax.fill_between(taus, 0, 2 * se, color=f"C{i}", alpha=0.12, lw=0)
        for e in est:
            print(f"eta = {eta:g} /ms, tau = {e.tau:g} ms: relative bias {e.relative_bias:.3f} "
                  f"(noise floor s.e. {e.se:.3f})")
    t = np.array(taus)
    ax.plot(t, 0.1 * t[0] / t, ":", color="0.3", label="slope -1 (s / tau)")
    ax.plot(t, 0.05 * t / t[-1] * 4, "--", color="0.3", label="slope +1 (eta tau)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("mean phase length tau (ms)")
    ax.set_ylabel("relative bias |E[ISD] - gradient flow| / (eta T |g|)")
    ax.set_title(f"bas3, {args.replicas} replicas, window {args.window / 1000:g} s")
    ax.legend(fontsize=7)
    save(fig, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
