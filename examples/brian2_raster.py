"""Brian2: spiking raster with phase shading during always-on learning (gallery item 9).

A bas3 RBM (9 visible, 16 hidden) learns with ISD on the Brian2 engine with neural-sampling
spiking units (Buesing et al. 2011: refractory spiking units, rectangular PSPs); the
positive phases (visible layer clamped to a bars-and-stripes pattern) are shaded.  Left: the
first ``--record`` ms of learning; middle: the last; right: the learned weights.

Run:  python examples/brian2_raster.py [--out examples/brian2_raster.png] [--duration MS] [--target numpy|cython]
"""

import argparse


from neurocl.circuits import RBM
from neurocl.data import bars_and_stripes
from neurocl.engines import Simulation, Task, get_engine
from neurocl.measure.exact import rbm_kl
from neurocl.phases import Exponential, StochasticPhases
from neurocl.plasticity import ISD
from neurocl.plotting import raster_figure


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="examples/brian2_raster.png")
    ap.add_argument("--duration", type=float, default=60000.0, help="simulated ms of learning")
    ap.add_argument("--record", type=float, default=150.0, help="ms of raster at the start and at the end")
    ap.add_argument("--target", default="cython", choices=["numpy", "cython"], help="Brian2 code generation")
    args = ap.parse_args(argv)
    data = bars_and_stripes(3)
    task = Task(clamp=data, evaluate=lambda p: {"kl_nats": [rbm_kl(p["W"][r], p["a"][r], p["c"][r], data)
                                                          for r in range(len(p["W"]))]})
    engine = get_engine("brian2", units="spiking", target=args.target, record=args.record)
    traj = engine.run(RBM(9, 16, init_scale=0.1), ISD(5e-4), StochasticPhases(0.5, Exponential(20.0)), task,
                      Simulation(dt=1.0, duration=args.duration, replicas=1, seed=0, checkpoints=4), progress=True,
                      desc="brian2 spiking ISD")
    raster_figure(traj.info["raster"], traj.params, "Brian2 spiking", args.out)
    kl = traj.metrics["kl_nats"][:, 0]
    print(f"KL(data || model) (nats) at t = {', '.join(f'{t:.0f}' for t in traj.times)} ms: "
          f"{', '.join(f'{k:.3f}' for k in kl)}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
