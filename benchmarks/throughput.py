"""`throughput` workload: RBM 784 x 500, continuous-time Glauber dynamics, stochastic phases
(b = 0.3, exponential lengths, mean 10 ms), ISD always-on plasticity every step, float32.

Figure of merit: synapse-steps per second = synapses x integration steps x replicas / wall s.
Data: 1000 random binary 784-pixel patterns with 13 % of pixels on (MNIST-like sparsity;
generated, no download).  tau_n = 1 ms.  Each peer runs in its own subprocess so that its
peak memory is its own; JIT/compile time is excluded from the timing and reported apart.

Run:  make bench      (or: python benchmarks/throughput.py [--steps N] [--dt MS])
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

NV, NH = 784, 500
SYN = NV * NH


def _data(rng):
    return (rng.random((1000, NV)) < 0.13).astype(np.float32)


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peer_neurocl(steps, dt, replicas):
    from neurocl.circuits import RBM
    from neurocl.engines import Simulation, Task, get_engine
    from neurocl.phases import Exponential, StochasticPhases
    from neurocl.plasticity import ISD

    rng = np.random.default_rng(0)
    task = Task(clamp=_data(rng), evaluate=lambda p: {})
    rbm = RBM(NV, NH, tau_n=1.0, init_scale=0.01)
    phases = StochasticPhases(0.3, Exponential(10.0))
    eng = get_engine("numpy")
    t0 = time.perf_counter()  # JIT warm-up (cached on disk after the first run)
    eng.run(rbm, ISD(1e-4), phases, task, Simulation(dt=dt, duration=20 * dt, replicas=replicas,
                                                      checkpoints=1, dtype="float32"))
    compile_s = time.perf_counter() - t0
    base = _rss_mb()
    sim = Simulation(dt=dt, duration=steps * dt, replicas=replicas, checkpoints=1, dtype="float32")
    t0 = time.perf_counter()
    eng.run(rbm, ISD(1e-4), phases, task, sim)
    wall = time.perf_counter() - t0
    return {"rate": SYN * steps * replicas / wall, "wall_s": wall, "compile_s": compile_s,
            "rss_increase_mb": _rss_mb() - base, "state_mb": replicas * (SYN + 2 * (NV + NH)) * 4 / 2**20}


def peer_numpy(steps, dt, replicas=1):
    """The obvious vectorised loop: fields by matrix-vector products (hidden field, visible
    field, and the hidden mean field for the statistic) and a rank-1 update per step."""
    from neurocl.engines import Simulation
    from neurocl.engines.numpy import phase_table
    from neurocl.phases import Exponential, StochasticPhases

    rng = np.random.default_rng(0)
    data = _data(rng)
    b = 0.3
    sim = Simulation(dt=dt, duration=steps * dt, replicas=1)
    pos_t, _, fresh_t = phase_table(StochasticPhases(b, Exponential(10.0)), sim, rng)
    W = (0.01 * rng.standard_normal((NV, NH))).astype(np.float32)
    a = np.zeros(NV, np.float32)
    c = np.zeros(NH, np.float32)
    v = (rng.random(NV) < 0.5).astype(np.float32)
    h = (rng.random(NH) < 0.5).astype(np.float32)
    p = np.float32(1 - np.exp(-dt))
    eta_dt = np.float32(1e-4 * dt)
    sig = lambda x: 0.5 * (1 + np.tanh(0.5 * x))  # noqa: E731
    base = _rss_mb()
    t0 = time.perf_counter()
    for k in range(steps):
        pos = pos_t[0, k]
        if fresh_t[0, k]:
            v = data[rng.integers(len(data))].copy()
        U = rng.random(NV + NH, dtype=np.float32)
        uh = v @ W + c
        upd = U[:NH] < p
        h = np.where(upd, (U[:NH] < p * sig(uh)).astype(np.float32), h)
        if not pos:
            uv = W @ h + a
            upd = U[NH:] < p
            v = np.where(upd, (U[NH:] < p * sig(uv)).astype(np.float32), v)
        hm = sig(v @ W + c)
        coef = eta_dt * (1 / b if pos else -1 / (1 - b))
        W += coef * np.outer(v, hm)
        a += coef * v
        c += coef * hm
    wall = time.perf_counter() - t0
    return {"rate": SYN * steps / wall, "wall_s": wall, "compile_s": 0.0, "rss_increase_mb": _rss_mb() - base,
            "state_mb": (SYN + 2 * (NV + NH)) * 4 / 2**20}


PEERS = {"neurocl": lambda s, dt: peer_neurocl(s, dt, 1), "neurocl16": lambda s, dt: peer_neurocl(s, dt, 16),
         "numpy": peer_numpy}
NOT_RUN = {
    "brian2": "Brian2 peer not written yet (issue 6 open): needs the same network as Brian2 NeuronGroups/Synapses",
    "lava": "Lava peer not written yet (issue 6 open): needs LearningDense 784x500 on Loihi2SimCfg floating_pt",
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=10000, help="integration steps per peer")
    ap.add_argument("--dt", type=float, default=0.1, help="integration step (ms); tau_n = 1 ms")
    ap.add_argument("--peer", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.peer:  # child process: run one peer, print JSON
        steps = args.steps // 4 if args.peer == "neurocl16" else args.steps
        print(json.dumps(PEERS[args.peer](steps, args.dt)))
        return
    print(f"throughput workload: RBM {NV} x {NH} ({SYN} synapses), dt = {args.dt} ms, tau_n = 1 ms, "
          f"b = 0.3, exponential phases (mean 10 ms), ISD every step, float32; {args.steps} steps per peer "
          f"(neurocl16: {args.steps // 4} steps x 16 replicas)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
          f"{platform.python_version()}, numpy {np.__version__}")
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    results = {}
    for name in PEERS:
        out = subprocess.run([sys.executable, __file__, "--peer", name, "--steps", str(args.steps), "--dt",
                              str(args.dt)], capture_output=True, text=True)
        if out.returncode != 0:
            results[name] = None
            print(f"{name}: nan ({out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'})")
            continue
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    ref = results["neurocl"]["rate"] if results.get("neurocl") else float("nan")
    print(f"{'peer':<10} {'synapse-steps/s':>16} {'x neurocl':>10} {'wall (s)':>9} {'compile (s)':>12} "
          f"{'peak RSS increase (MiB)':>24} {'weights+state (MiB)':>20}")
    for name, r in results.items():
        if r is None:
            continue
        print(f"{name:<10} {r['rate']:>16.3e} {r['rate'] / ref:>10.2f} {r['wall_s']:>9.2f} {r['compile_s']:>12.2f} "
              f"{r['rss_increase_mb']:>24.1f} {r['state_mb']:>20.2f}")
    for name, why in NOT_RUN.items():
        print(f"{name}: nan ({why})")
    fmt = lambda n: f"{results[n]['rate']:.3e}" if results.get(n) else "nan"  # noqa: E731
    print(f"throughput: neurocl={fmt('neurocl')} neurocl16={fmt('neurocl16')} numpy={fmt('numpy')} "
          f"brian2=nan lava=nan synapse-steps/s")


if __name__ == "__main__":
    main()
